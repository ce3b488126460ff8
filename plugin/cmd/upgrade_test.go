package cmd

import (
	"testing"

	"github.com/hikube/hikube/plugin/pkg/exitcode"
)

func TestUpgradeTargetGoesOneMinorUp(t *testing.T) {
	for _, tc := range []struct {
		current, asked, want string
		code                 int
	}{
		{"v1.36", "", "v1.37", 0},
		{"v1.37", "", "", 0},
		{"v1.35", "1.36", "v1.36", 0},
		{"v1.35", "v1.37", "", exitcode.Usage},
		{"v1.36", "v1.35", "", exitcode.Usage},
		{"v1.36", "v1.36", "", exitcode.Usage},
		{"v1.36", "v2.0", "", exitcode.Usage},
	} {
		got, err := upgradeTarget(tc.current, tc.asked)
		if got != tc.want || exitcode.Code(err) != tc.code {
			t.Errorf("upgradeTarget(%s, %q) = %q, %v; want %q, exit %d", tc.current, tc.asked, got, err, tc.want, tc.code)
		}
	}
}
