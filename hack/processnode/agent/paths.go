package agent

import (
	"cmp"
	"slices"
	"strings"
)

// Mount is a container path and the directory or file of this machine that
// stands for it.
type Mount struct {
	ContainerPath string
	HostPath      string
}

// PathRewriter replaces container paths by host paths inside strings
// (command, args, env values).
type PathRewriter struct{ mounts []Mount }

// NewPathRewriter orders mounts longest container path first, so that
// /etc/kubernetes/pki wins over /etc/kubernetes. The root "/" is never
// rewritten.
func NewPathRewriter(mounts []Mount) PathRewriter {
	var ms []Mount
	for _, m := range mounts {
		p := strings.TrimRight(m.ContainerPath, "/")
		if p == "" {
			continue
		}
		ms = append(ms, Mount{ContainerPath: p, HostPath: strings.TrimRight(m.HostPath, "/")})
	}
	slices.SortStableFunc(ms, func(a, b Mount) int { return cmp.Compare(len(b.ContainerPath), len(a.ContainerPath)) })
	return PathRewriter{mounts: ms}
}

// Rewrite replaces every occurrence of a mount path that stands as a path of
// its own: it starts the string or follows a character that cannot be part
// of a path (such as "=", "," or ":"), and it ends the string or is followed
// by "/" or such a character. "/data" is rewritten in "--dir=/data/x" but
// not in "/database" nor in "/srv/data".
func (r PathRewriter) Rewrite(s string) string {
	if len(r.mounts) == 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '/' && (i == 0 || !isPathChar(s[i-1])) {
			if m, ok := r.match(s[i:]); ok {
				b.WriteString(m.HostPath)
				i += len(m.ContainerPath)
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func (r PathRewriter) match(s string) (Mount, bool) {
	for _, m := range r.mounts {
		if !strings.HasPrefix(s, m.ContainerPath) {
			continue
		}
		rest := s[len(m.ContainerPath):]
		if rest == "" || rest[0] == '/' || !isPathChar(rest[0]) {
			return m, true
		}
	}
	return Mount{}, false
}

func isPathChar(c byte) bool {
	return c == '/' || c == '.' || c == '-' || c == '_' || c == '~' || c == '+' ||
		('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}
