// Package procstat reads the fields of /proc/<pid>/stat that hikube uses: a
// process's state, session, CPU time and start time (which, with the pid,
// tells a process from a later one that reused its pid).
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Stat is what Read and Parse return.
type Stat struct {
	// State is field 3: R, S, D, Z (zombie), X (dead), …
	State string
	// Session is field 6.
	Session int
	// UserTicks and SystemTicks are fields 14 and 15 (utime, stime), in
	// clock ticks.
	UserTicks, SystemTicks uint64
	// StartTime is field 22, in clock ticks since boot.
	StartTime uint64
}

// clockTick is Linux's USER_HZ, the unit of the stat file's times: 100 on
// every architecture Go supports.
const clockTick = 10 * time.Millisecond

// CPU is the CPU time (user and system) the process has used.
func (s Stat) CPU() time.Duration {
	return time.Duration(s.UserTicks+s.SystemTicks) * clockTick
}

// Exited is a zombie or dead process: it has stopped, whatever its pid
// still shows.
func (s Stat) Exited() bool { return s.State == "Z" || s.State == "X" }

// Read reads /proc/<pid>/stat; the error is fs.ErrNotExist's when there is
// no such process.
func Read(pid int) (Stat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	return Parse(data)
}

// Parse parses the contents of a stat file. The command name (field 2) may
// hold spaces and parentheses, so the fields are counted from its last ')'.
func Parse(data []byte) (Stat, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return Stat{}, fmt.Errorf("malformed stat %q", data)
	}
	// fields[0] is field 3.
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return Stat{}, fmt.Errorf("short stat %q", data)
	}
	s := Stat{State: fields[0]}
	var err error
	if s.Session, err = strconv.Atoi(fields[3]); err != nil {
		return Stat{}, fmt.Errorf("session in stat: %w", err)
	}
	if s.UserTicks, err = strconv.ParseUint(fields[11], 10, 64); err != nil {
		return Stat{}, fmt.Errorf("utime in stat: %w", err)
	}
	if s.SystemTicks, err = strconv.ParseUint(fields[12], 10, 64); err != nil {
		return Stat{}, fmt.Errorf("stime in stat: %w", err)
	}
	if s.StartTime, err = strconv.ParseUint(fields[19], 10, 64); err != nil {
		return Stat{}, fmt.Errorf("start time in stat: %w", err)
	}
	return s, nil
}
