package chatclient

// The helpers below do what package slices, strings.ToLower and
// strings.TrimSpace would, for a fraction of the size of the browser's
// module: those add 50 KB, with the Unicode tables they need.

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// without returns list without s, reusing its array: assign the result to
// the list.
func without(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	clear(list[len(out):])
	return out
}

// insertSorted inserts s into the sorted list, keeping it sorted.
func insertSorted(list []string, s string) []string {
	i := len(list)
	for i > 0 && list[i-1] > s {
		i--
	}
	list = append(list, "")
	copy(list[i+1:], list[i:])
	list[i] = s
	return list
}

// asciiLower lowercases the ASCII letters of s, which is all a room name
// may have.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// trimSpace returns s without the ASCII spaces, tabs and line breaks around
// it: what a text box's value may have that a nickname or room name may
// not.
func trimSpace(s string) string {
	for s != "" && isSpace(s[0]) {
		s = s[1:]
	}
	for s != "" && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// Blank reports whether s is empty or holds only ASCII spaces, tabs and
// line breaks: a text box the user has emptied.
func Blank(s string) bool { return trimSpace(s) == "" }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
