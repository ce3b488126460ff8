package local

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hikube/hikube/pkg/atomicfile"
	"github.com/hikube/hikube/pkg/process"
	"github.com/hikube/hikube/pkg/procstat"
)

// procRecord is the pid file of one process: enough to find it again after a
// controller restart and to tell it from a process that got the same PID
// later (the start time in clock ticks since boot never repeats for a PID).
type procRecord struct {
	Name      string    `json:"name"`
	PID       int       `json:"pid"`
	StartTime uint64    `json:"startTime"` // field 22 of /proc/<pid>/stat
	Binary    string    `json:"binary"`
	Exe       string    `json:"exe,omitempty"` // /proc/<pid>/exe at start: Binary with symlinks resolved
	Minor     string    `json:"minor,omitempty"`
	Spec      string    `json:"spec"` // hash of binary and arguments: a change means restart
	StartedAt time.Time `json:"startedAt"`
	// StopRequested is when the provider sent SIGTERM to replace or remove
	// the process; its end is then no failure to report.
	StopRequested time.Time `json:"stopRequested,omitzero"`
}

// procInfo is what /proc says about a PID.
type procInfo struct {
	startTime uint64
	session   int
	exe       string
	zombie    bool
}

// readProc reads /proc/<pid>; ok is false when there is no such process.
func readProc(pid int) (procInfo, bool) {
	st, err := procstat.Read(pid)
	if err != nil {
		return procInfo{}, false
	}
	info := procInfo{startTime: st.StartTime, session: st.Session, zombie: st.Exited()}
	exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe"))
	if err == nil {
		// A binary rebuilt under a running process shows as "<path> (deleted)".
		info.exe = strings.TrimSuffix(exe, " (deleted)")
	}
	return info, true
}

// sameProcess decides whether the live process info is the one rec describes:
// same start time and, when /proc tells, the same binary. A zombie counts as
// dead.
func sameProcess(rec procRecord, info procInfo, ok bool) bool {
	if !ok || info.zombie || info.startTime != rec.StartTime {
		return false
	}
	want := rec.Exe
	if want == "" {
		want = rec.Binary
	}
	return info.exe == "" || info.exe == want
}

// alive reports whether the process of rec still runs.
func alive(rec procRecord) bool {
	info, ok := readProc(rec.PID)
	return sameProcess(rec, info, ok)
}

// specHash identifies what a process runs; a different hash means the
// process must be restarted.
func specHash(binary string, args []string) string {
	h := sha256.New()
	h.Write([]byte(binary))
	for _, a := range args {
		h.Write([]byte{0})
		h.Write([]byte(a))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// exitInfo is how a child of this controller ended.
type exitInfo struct {
	at     time.Time
	status string
}

// exits remembers how the children this controller started ended (reaping
// them), so a status can say "exited at 15:04:05 (signal: killed)". Adopted
// processes are not our children; their end is only noticed.
type exits struct {
	mu sync.Mutex
	m  map[int]exitInfo
}

func (e *exits) record(pid int, err error) {
	status := "exit status 0"
	if err != nil {
		status = err.Error()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[int]exitInfo{}
	}
	now := time.Now()
	// Ends nobody asked about (processes stopped on purpose) are dropped
	// after a while.
	for p, x := range e.m {
		if now.Sub(x.at) > time.Hour {
			delete(e.m, p)
		}
	}
	e.m[pid] = exitInfo{at: now, status: status}
}

func (e *exits) take(pid int) (exitInfo, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[pid]
	delete(e.m, pid)
	return x, ok
}

// startDetached starts binary with args detached from us (its own session,
// no controlling terminal, no parent-death signal: it outlives a controller
// restart), appending stdout and stderr to logPath, and returns its record.
// How the child ends is recorded in ex. A positive nice lowers its CPU
// priority (process.Options.Nice); priorityErr says why it could not, while
// the process runs anyway.
func startDetached(name, binary string, args, env []string, logPath, minor string, nice int, ex *exits) (rec procRecord, priorityErr error, err error) {
	proc, err := process.Start(process.Options{
		Name: name, Binary: binary, Args: args, Env: env, LogPath: logPath,
		Dir: filepath.Dir(filepath.Dir(logPath)), Detached: true, Nice: nice,
	})
	if err != nil {
		return procRecord{}, nil, err
	}
	pid := proc.PID()
	go func() { ex.record(pid, proc.Err()) }()
	info, ok := readProc(pid)
	if !ok {
		// It died at once; the record still names it, so the next look finds
		// it dead and says so.
		info = procInfo{}
	}
	return procRecord{
		Name: name, PID: pid, StartTime: info.startTime, Binary: binary, Exe: info.exe, Minor: minor,
		Spec: specHash(binary, args), StartedAt: time.Now(),
	}, proc.PriorityErr(), nil
}

// A procRecord is a process.Handle: it signals and reports the end of the
// process only while the record still names it (same start time and
// executable), so a recycled PID is never signalled.
var _ process.Handle = procRecord{}

// Signal sends sig to the process group of the recorded process, if it still
// runs.
func (r procRecord) Signal(sig syscall.Signal) error {
	if !alive(r) {
		return nil
	}
	if err := process.SignalGroup(r.PID, sig); err != nil {
		return fmt.Errorf("%s: %w", r.Name, err)
	}
	return nil
}

// Exited reports whether the recorded process is gone.
func (r procRecord) Exited() bool { return !alive(r) }

func (r procRecord) String() string { return fmt.Sprintf("%s (pid %d)", r.Name, r.PID) }

// handles turns records into what process.Stop takes.
func handles(recs []procRecord) []process.Handle {
	hs := make([]process.Handle, len(recs))
	for i, r := range recs {
		hs[i] = r
	}
	return hs
}

// stopProcesses sends SIGTERM to every live process of recs, waits up to
// grace for them to end, then SIGKILLs the rest and waits for them.
func stopProcesses(recs []procRecord, grace time.Duration) error {
	return process.Stop(grace, handles(recs)...)
}

// pidFile is where the record of a process lives.
func pidFile(dir, name string) string { return filepath.Join(dir, "run", name+".json") }

func writeRecord(dir string, rec procRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return atomicfile.Write(pidFile(dir, rec.Name), data, 0o600)
}

// readRecords returns the pid files of a cluster directory by name.
func readRecords(dir string) (map[string]procRecord, error) {
	entries, err := os.ReadDir(filepath.Join(dir, "run"))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]procRecord{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading pid files: %w", err)
	}
	recs := map[string]procRecord{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, "run", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading pid file: %w", err)
		}
		var r procRecord
		if err := json.Unmarshal(data, &r); err != nil || r.PID <= 0 {
			// A torn pid file names no process we could safely signal.
			continue
		}
		recs[r.Name] = r
	}
	return recs, nil
}

func removeRecord(dir, name string) error {
	if err := os.Remove(pidFile(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing pid file of %s: %w", name, err)
	}
	return nil
}

// strays finds processes whose command line names a path inside dir but that
// are not in known: started by a controller that died before writing their
// pid file. Every component gets a path under its cluster directory on its
// command line and leads its own session, so these are ours; a shell
// command looking at a log there (tail -f) leads no session and is spared.
func strays(dir string, known map[int]bool) []procRecord {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	prefix := filepath.Clean(dir) + string(filepath.Separator)
	var out []procRecord
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || known[pid] || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(prefix)) {
			continue
		}
		info, ok := readProc(pid)
		if !ok || info.zombie || info.session != pid {
			continue
		}
		out = append(out, procRecord{Name: "stray", PID: pid, StartTime: info.startTime, Binary: info.exe, Exe: info.exe})
	}
	return out
}
