package harness

import (
	"os"
	"path/filepath"
	"testing"
)

func TestScanLogsFindsKeysAndTokensOnly(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("logs/clean.log", "I1201 Starting hikube-apiserver etcd=[https://127.0.0.1:2379]\nnode web-abcde joined\n"+
		`"key":"/registry/events/default/process-geneva.187d1f2a3b4c5d6e"`+"\n")
	write("clusters/t/c/logs/kube-apiserver.log", "ok\nkey -----BEGIN EC PRIVATE KEY-----\n")
	write("logs/controller.log", "created token abcdef.0123456789abcdef for node\n")
	write("logs/sa.log", "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlc2ln\n")
	write("pki/ca.key", "-----BEGIN EC PRIVATE KEY-----\n") // not a log: keys belong in files
	got, err := ScanLogs(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		filepath.Join(dir, "clusters/t/c/logs/kube-apiserver.log"): "PEM block",
		filepath.Join(dir, "logs/controller.log"):                  "bootstrap token",
		filepath.Join(dir, "logs/sa.log"):                          "service-account token",
	}
	if len(got) != len(want) {
		t.Fatalf("findings %v, want one in each of %v", got, want)
	}
	for _, f := range got {
		if want[f.File] != f.What {
			t.Errorf("finding %v, want %q in that file", f, want[f.File])
		}
	}
}
