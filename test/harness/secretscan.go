package harness

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// secretPatterns are what must never appear in a log of the platform: PEM
// blocks (keys, and certificates, which a log has no reason to print either),
// kubeadm bootstrap tokens and service-account JWTs.
var secretPatterns = map[string]*regexp.Regexp{
	"PEM block": regexp.MustCompile(`-----BEGIN [A-Z0-9 ]+-----`),
	// Not the tail of a longer name: an Event of the node process-geneva
	// is process-geneva.<16 hex digits>, which etcd logs when slow.
	"bootstrap token":       regexp.MustCompile(`(?:^|[^a-z0-9-])[a-z0-9]{6}\.[a-z0-9]{16}\b`),
	"service-account token": regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`),
}

// Finding is one secret-looking string in a log.
type Finding struct {
	File string
	Line int
	What string
}

func (f Finding) String() string { return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.What) }

// ScanLogs reads every *.log file under dir and reports each line that holds
// something secretPatterns match. Lines are not echoed: they hold the secret.
func ScanLogs(dir string) ([]Finding, error) {
	var out []Finding
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".log") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for n := 1; sc.Scan(); n++ {
			for what, re := range secretPatterns {
				if re.Match(sc.Bytes()) {
					out = append(out, Finding{File: path, Line: n, What: what})
				}
			}
		}
		return sc.Err()
	})
	if err != nil {
		return out, fmt.Errorf("scanning the logs under %s: %w", dir, err)
	}
	return out, nil
}
