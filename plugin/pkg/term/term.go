// Package term decides how kubectl-hikube talks to a terminal: whether a
// stream is a TTY, whether colour is allowed (never when NO_COLOR is set or
// the stream is not a TTY), and the one confirmation prompt.
package term

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	xterm "golang.org/x/term"
)

// IsTerminal says whether r or w is an interactive terminal.
func IsTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && xterm.IsTerminal(int(file.Fd()))
}

// ColorEnabled says whether w may receive ANSI colours.
func ColorEnabled(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	if os.Getenv("TERM") == "dumb" {
		return false
	}
	return IsTerminal(w)
}

// Confirm asks question on out and reads the answer from in: the expected
// word (such as the cluster name) or "yes" confirms.
func Confirm(in io.Reader, out io.Writer, question, expected string) (bool, error) {
	fmt.Fprintf(out, "%s ", question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("reading the confirmation: %w", err)
	}
	answer := strings.TrimSpace(line)
	return answer == expected || (expected == "" && (answer == "y" || answer == "yes")), nil
}
