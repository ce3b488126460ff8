package harness

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Alive says whether pid runs; a zombie (dead, not yet reaped by whoever
// inherited it after its parent was killed) does not count.
func Alive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	rest := stat[strings.LastIndexByte(string(stat), ')')+1:]
	fields := strings.Fields(string(rest))
	return len(fields) > 0 && fields[0] != "Z"
}
