package agent

import "testing"

func TestExpand(t *testing.T) {
	vars := map[string]string{"POD_IP": "10.1.0.2", "NAME": "etcd-0", "EMPTY": ""}
	for _, tc := range []struct{ in, want string }{
		{"--advertise-address=$(POD_IP)", "--advertise-address=10.1.0.2"},
		{"http://$(NAME).etcd:2380,$(NAME)", "http://etcd-0.etcd:2380,etcd-0"},
		{"$(MISSING) stays", "$(MISSING) stays"},
		{"escaped $$(POD_IP)", "escaped $(POD_IP)"},
		{"$$", "$"},
		{"a$b", "a$b"},
		{"unterminated $(POD_IP", "unterminated $(POD_IP"},
		{"trailing $", "trailing $"},
		{"empty=$(EMPTY).", "empty=."},
		{"", ""},
	} {
		if got := Expand(tc.in, MapLookup(vars)); got != tc.want {
			t.Errorf("Expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
