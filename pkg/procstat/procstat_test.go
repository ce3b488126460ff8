package procstat

import (
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"
)

func TestParseCountsFieldsAfterOddCommandNames(t *testing.T) {
	// Fields 3 to 22: state S, session 42, utime 150, stime 25, start 987654.
	tail := " 1 1 42 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 1 0 987654 12345 100"
	for _, tc := range []struct {
		name, stat string
		exited     bool
	}{
		{"plain", "7 (etcd) S" + tail, false},
		{"spaces and parens in comm", "7 (a) b (c) S" + tail, false},
		{"zombie", "7 (kube-apiserver) Z" + tail, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.stat))
			if err != nil {
				t.Fatal(err)
			}
			if s.Session != 42 || s.StartTime != 987654 || s.CPU() != 1750*time.Millisecond || s.Exited() != tc.exited {
				t.Fatalf("got %+v (CPU %s)", s, s.CPU())
			}
		})
	}
	for _, bad := range []string{"garbage", "7 (etcd) S 1 2", "7 (etcd) S" + " 1 1 x 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 1 0 987654 12345 100"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("malformed stat accepted: %q", bad)
		}
	}
}

func TestReadThisProcess(t *testing.T) {
	s, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.StartTime == 0 || s.Exited() {
		t.Errorf("this process: %+v", s)
	}
	if _, err := Read(-1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no such process: %v, want fs.ErrNotExist", err)
	}
}
