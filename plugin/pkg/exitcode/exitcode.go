// Package exitcode maps every failure of kubectl-hikube to one documented exit
// code and one clear error line, so that scripts can tell "not found" from
// "forbidden" from "timed out" without parsing messages. The table is printed
// by `kubectl hikube --help` and documented in docs/plugin.md.
package exitcode

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Exit codes. They never change meaning once released.
const (
	OK        = 0
	Failure   = 1 // anything else: network, server failure, a declined confirmation
	Usage     = 2 // bad flags, arguments or specs, refused before anything is sent
	NotFound  = 3 // the cluster, node group, add-on or context does not exist
	Forbidden = 4 // RBAC, authentication, quota or GPU capacity refused the request
	Conflict  = 5 // already exists, or changed concurrently
	Timeout   = 6 // --wait/--timeout ran out, or the server timed out
	Invalid   = 7 // the server refused the object with field errors (HTTP 422)
)

// Table is the exit-code table as printed in --help.
const Table = `Exit codes:
  0  success
  1  other failure (network, server error, confirmation declined)
  2  usage: bad flag, argument, --node-group/--gpu spec or input checked before sending;
     confirmation needed but no TTY (pass --yes)
  3  not found (cluster, node group, add-on, context)
  4  forbidden or unauthorized (RBAC, quota, GPU capacity)
  5  conflict (already exists, concurrent change)
  6  timeout (--wait/--timeout ran out)
  7  invalid: the server refused the object (field errors)`

// Error carries an exit code with its message.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New returns an error with code and a formatted message.
func New(code int, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// Wrap gives err an exit code; nil stays nil.
func Wrap(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// UsageErrorf is a usage error (exit 2).
func UsageErrorf(format string, args ...any) error { return New(Usage, format, args...) }

// Code returns the exit code of err.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return codeOfReason(status.Status())
	}
	if errors.Is(err, context.DeadlineExceeded) || wait.Interrupted(err) {
		return Timeout
	}
	return Failure
}

func codeOfReason(s metav1.Status) int {
	switch s.Reason {
	case metav1.StatusReasonNotFound:
		return NotFound
	case metav1.StatusReasonForbidden, metav1.StatusReasonUnauthorized:
		return Forbidden
	case metav1.StatusReasonAlreadyExists, metav1.StatusReasonConflict:
		return Conflict
	case metav1.StatusReasonTimeout, metav1.StatusReasonServerTimeout:
		return Timeout
	case metav1.StatusReasonInvalid:
		return Invalid
	}
	switch s.Code {
	case 404:
		return NotFound
	case 401, 403:
		return Forbidden
	case 409:
		return Conflict
	case 422:
		return Invalid
	case 504:
		return Timeout
	}
	return Failure
}

// Message is the one line printed for err: the server's message, with the
// field path of every cause the message does not already name.
func Message(err error) string {
	if err == nil {
		return ""
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		s := status.Status()
		msg := err.Error()
		if s.Details != nil {
			var extra []string
			for _, c := range s.Details.Causes {
				if c.Field != "" && !strings.Contains(msg, c.Field) {
					extra = append(extra, c.Field+": "+c.Message)
				}
			}
			if len(extra) > 0 {
				msg += ": " + strings.Join(extra, "; ")
			}
		}
		return oneLine(msg)
	}
	return oneLine(err.Error())
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\n", "; ")
	return s
}
