package agent

import "strings"

// Expand replaces $(VAR) references in input as the kubelet does for command,
// args and env values: a defined variable is replaced, an undefined one is
// left as written, "$$" is an escaped "$", and anything else after "$" is
// kept.
func Expand(input string, lookup func(string) (string, bool)) string {
	var buf strings.Builder
	checkpoint := 0
	for cursor := 0; cursor < len(input); cursor++ {
		if input[cursor] != '$' || cursor+1 >= len(input) {
			continue
		}
		buf.WriteString(input[checkpoint:cursor])
		read, isVar, advance := readVariable(input[cursor+1:])
		switch {
		case !isVar:
			buf.WriteString(read)
		default:
			if v, ok := lookup(read); ok {
				buf.WriteString(v)
			} else {
				buf.WriteString("$(" + read + ")")
			}
		}
		cursor += advance
		checkpoint = cursor + 1
	}
	return buf.String() + input[checkpoint:]
}

// readVariable reads what follows a "$": the name of a $(NAME) reference, or
// the literal text to keep, and how many bytes it consumed.
func readVariable(s string) (read string, isVar bool, advance int) {
	switch s[0] {
	case '$':
		return "$", false, 1
	case '(':
		for i := 1; i < len(s); i++ {
			if s[i] == ')' {
				return s[1:i], true, i + 1
			}
		}
		return "$(", false, 1
	default:
		return "$" + s[:1], false, 1
	}
}

// MapLookup is a lookup over a map, for Expand.
func MapLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}
