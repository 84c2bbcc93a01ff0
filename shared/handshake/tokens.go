package handshake

import (
	"strconv"
	"strings"
)

// This file parses the comma-separated header lists used by the handshake
// (RFC 7230 §7 and RFC 6455 §9.1): Connection, Upgrade,
// Sec-WebSocket-Protocol and Sec-WebSocket-Extensions.

// HasToken reports whether any of the header values, each a comma-separated
// list, holds token, compared without regard to ASCII case. Connection and
// Upgrade are matched this way.
func HasToken(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			if asciiEqualFold(strings.Trim(elem, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// asciiEqualFold reports whether s and t are equal when ASCII letters are
// compared without regard to case. Header tokens are ASCII and compared this
// way (RFC 6455 §4.2.1); strings.EqualFold would also match non-ASCII
// characters such as U+017F LATIN SMALL LETTER LONG S and U+212A KELVIN SIGN
// against ASCII letters.
func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// ParseTokens returns the elements of the comma-separated token lists in
// values, in order, skipping empty elements. An element that is not a single
// token, such as "a b" or "a;b", is an error.
func ParseTokens(values []string) ([]string, error) {
	var tokens []string
	for _, v := range values {
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			elem = strings.Trim(elem, " \t")
			if elem == "" {
				continue
			}
			if !IsToken(elem) {
				return nil, &ListError{Value: elem, Msg: "is not a token"}
			}
			tokens = append(tokens, elem)
		}
	}
	return tokens, nil
}

// An Extension is one element of a Sec-WebSocket-Extensions list: a name
// with its parameters, such as permessage-deflate; client_max_window_bits.
type Extension struct {
	Name   string
	Params []Param
}

// A Param is an extension parameter. Value is empty for a parameter given
// without one; a quoted value is stored without its quotes and escapes.
type Param struct {
	Name  string
	Value string
}

// String formats e as it appears in a Sec-WebSocket-Extensions header.
func (e Extension) String() string {
	var b strings.Builder
	b.WriteString(e.Name)
	for _, p := range e.Params {
		b.WriteString("; ")
		b.WriteString(p.Name)
		if p.Value != "" {
			b.WriteByte('=')
			b.WriteString(p.Value)
		}
	}
	return b.String()
}

// A ListError describes a malformed element of a header list.
type ListError struct {
	Value string // the part of the header at fault
	Msg   string
}

func (e *ListError) Error() string {
	return "handshake: header list element " + strconv.Quote(e.Value) + " " + e.Msg
}

// ParseExtensions parses Sec-WebSocket-Extensions header values:
//
//	extension-list = 1#extension
//	extension      = token *( ";" param )
//	param          = token [ "=" ( token / quoted-string ) ]
//
// A quoted value must itself be a token once unquoted (RFC 6455 §9.1).
// Empty list elements are skipped.
func ParseExtensions(values []string) ([]Extension, error) {
	var exts []Extension
	for _, v := range values {
		s := scanner{s: v}
		for {
			s.skipSpace()
			if s.done() {
				break
			}
			if s.peek() == ',' {
				s.i++
				continue
			}
			ext, err := s.extension()
			if err != nil {
				return nil, err
			}
			exts = append(exts, ext)
		}
	}
	return exts, nil
}

// scanner walks one header value.
type scanner struct {
	s string
	i int
}

func (s *scanner) done() bool { return s.i >= len(s.s) }
func (s *scanner) peek() byte { return s.s[s.i] }

func (s *scanner) skipSpace() {
	for !s.done() && (s.peek() == ' ' || s.peek() == '\t') {
		s.i++
	}
}

func (s *scanner) fail(msg string) error {
	return &ListError{Value: s.s, Msg: msg + " at offset " + strconv.Itoa(s.i)}
}

func (s *scanner) token() string {
	start := s.i
	for !s.done() && isTokenChar(s.peek()) {
		s.i++
	}
	return s.s[start:s.i]
}

// extension reads one list element and the comma after it, if any.
func (s *scanner) extension() (Extension, error) {
	ext := Extension{Name: s.token()}
	if ext.Name == "" {
		return ext, s.fail("has no extension name")
	}
	for {
		s.skipSpace()
		if s.done() {
			return ext, nil
		}
		switch s.peek() {
		case ',':
			s.i++
			return ext, nil
		case ';':
			s.i++
			p, err := s.param()
			if err != nil {
				return ext, err
			}
			ext.Params = append(ext.Params, p)
		default:
			return ext, s.fail("has an unexpected character")
		}
	}
}

func (s *scanner) param() (Param, error) {
	s.skipSpace()
	p := Param{Name: s.token()}
	if p.Name == "" {
		return p, s.fail("has no parameter name")
	}
	s.skipSpace()
	if s.done() || s.peek() != '=' {
		return p, nil
	}
	s.i++
	s.skipSpace()
	if !s.done() && s.peek() == '"' {
		v, err := s.quoted()
		if err != nil {
			return p, err
		}
		if !IsToken(v) {
			return p, s.fail("has a quoted value that is not a token")
		}
		p.Value = v
		return p, nil
	}
	if p.Value = s.token(); p.Value == "" {
		return p, s.fail("has no parameter value")
	}
	return p, nil
}

// quoted reads a quoted-string and returns its content without escapes.
func (s *scanner) quoted() (string, error) {
	s.i++ // opening quote
	var b []byte
	for !s.done() {
		c := s.peek()
		s.i++
		switch {
		case c == '"':
			return string(b), nil
		case c == '\\' && !s.done():
			b = append(b, s.peek())
			s.i++
		default:
			b = append(b, c)
		}
	}
	return "", s.fail("has an unterminated quoted string")
}

// isTokenChar reports whether c may appear in an RFC 7230 token.
func isTokenChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, rune(c))
}

// IsToken reports whether s is an RFC 7230 token, as subprotocol names,
// extension names and header names must be.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}
