package lab

import (
	"encoding/binary"
	"errors"
	"strconv"
	"unicode/utf8"
)

// ErrMalformed is wrapped by every error Decode returns.
var ErrMalformed = errors.New("lab: malformed message")

// Append appends the encoding of m to dst.
func Append(dst []byte, m Message) []byte {
	dst = append(dst, Version, byte(m.Kind()))
	return m.appendFields(dst)
}

// Decode decodes the one message in b and returns it as a pointer to its
// type, such as *Frame. Its byte slices are copies: Decode does not retain
// b. A length is checked against the bytes left before anything is
// allocated for it.
func Decode(b []byte) (Message, error) {
	switch {
	case len(b) < 2:
		return nil, malformed("a message has at least 2 bytes, got " + strconv.Itoa(len(b)))
	case b[0] != Version:
		return nil, malformed("version " + strconv.Itoa(int(b[0])) + ", want " + strconv.Itoa(Version))
	}
	m := newMessage(Kind(b[1]))
	if m == nil {
		return nil, malformed("unknown kind " + strconv.Itoa(int(b[1])))
	}
	r := &reader{b: b, off: 2}
	m.readFields(r)
	if r.err == nil && r.off != len(b) {
		r.fail(strconv.Itoa(len(b)-r.off) + " bytes after the last field")
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

func malformed(what string) error {
	return &decodeError{"lab: " + what}
}

// A decodeError says what is wrong with a message; it wraps ErrMalformed.
type decodeError struct{ msg string }

func (e *decodeError) Error() string { return e.msg }
func (e *decodeError) Unwrap() error { return ErrMalformed }

func appendBytes(dst, p []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(p)))
	return append(dst, p...)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// A reader reads the fields of one message. Its first error sticks: after
// it every read returns a zero value, so a message reads all its fields and
// Decode checks once.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = malformed("at byte " + strconv.Itoa(r.off) + ": " + what)
	}
}

// uint reads a minimally encoded uvarint.
func (r *reader) uint() uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b[r.off:])
	switch {
	case n == 0:
		r.fail("input ends inside a number")
	case n < 0:
		r.fail("number overflows 64 bits")
	case n > 1 && r.b[r.off+n-1] == 0:
		r.fail("number is not minimally encoded")
	default:
		r.off += n
		return x
	}
	return 0
}

// bytes reads a length-prefixed byte string into a new slice; an empty one
// is nil.
func (r *reader) bytes() []byte {
	n := r.uint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail("length " + strconv.FormatUint(n, 10) + " exceeds the " + strconv.Itoa(len(r.b)-r.off) + " bytes left")
		return nil
	}
	if n == 0 {
		return nil
	}
	p := make([]byte, n)
	r.off += copy(p, r.b[r.off:])
	return p
}

// string reads a length-prefixed UTF-8 string.
func (r *reader) string() string {
	at := r.off
	p := r.bytes()
	if r.err == nil && !utf8.Valid(p) {
		r.off = at
		r.fail("string is not valid UTF-8")
		return ""
	}
	return string(p)
}

func (r *reader) bool() bool {
	if r.err != nil {
		return false
	}
	if r.off == len(r.b) {
		r.fail("input ends before a boolean")
		return false
	}
	c := r.b[r.off]
	if c > 1 {
		r.fail("boolean byte is " + strconv.Itoa(int(c)) + ", not 0 or 1")
		return false
	}
	r.off++
	return c == 1
}

func (m *Session) appendFields(dst []byte) []byte { return appendString(dst, m.ID) }
func (m *Session) readFields(r *reader)           { m.ID = r.string() }

func (m *Handshake) appendFields(dst []byte) []byte {
	dst = appendBytes(dst, m.Request)
	dst = appendBool(dst, m.Rebuilt)
	dst = appendString(dst, m.Key)
	dst = appendString(dst, m.KeyGUID)
	dst = appendBytes(dst, m.SHA1)
	dst = appendString(dst, m.Accept)
	return appendBytes(dst, m.Response)
}

func (m *Handshake) readFields(r *reader) {
	m.Request = r.bytes()
	m.Rebuilt = r.bool()
	m.Key = r.string()
	m.KeyGUID = r.string()
	m.SHA1 = r.bytes()
	m.Accept = r.string()
	m.Response = r.bytes()
}

func (m *Frame) appendFields(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, m.Seq)
	dst = appendBool(dst, m.Sent)
	dst = binary.AppendUvarint(dst, m.Micros)
	dst = appendBytes(dst, m.Header)
	return appendBytes(dst, m.Payload)
}

func (m *Frame) readFields(r *reader) {
	m.Seq = r.uint()
	m.Sent = r.bool()
	m.Micros = r.uint()
	m.Header = r.bytes()
	m.Payload = r.bytes()
}

func (m *Note) appendFields(dst []byte) []byte { return appendString(dst, m.Text) }
func (m *Note) readFields(r *reader)           { m.Text = r.string() }

func (m *Fragment) appendFields(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, m.N)
	return appendString(dst, m.Text)
}

func (m *Fragment) readFields(r *reader) {
	m.N = r.uint()
	m.Text = r.string()
}

func (m *Ping) appendFields(dst []byte) []byte { return dst }
func (m *Ping) readFields(r *reader)           {}

func (m *Close) appendFields(dst []byte) []byte {
	return appendString(binary.AppendUvarint(dst, uint64(m.Code)), m.Reason)
}

func (m *Close) readFields(r *reader) {
	code := r.uint()
	if code > 0xffff {
		r.fail("close code " + strconv.FormatUint(code, 10) + " does not fit in 16 bits")
	}
	m.Code = uint16(code)
	m.Reason = r.string()
}

func (m *Violate) appendFields(dst []byte) []byte { return append(dst, byte(m.Rule)) }

func (m *Violate) readFields(r *reader) {
	if r.err != nil {
		return
	}
	if r.off == len(r.b) {
		r.fail("input ends before the rule")
		return
	}
	m.Rule = Rule(r.b[r.off])
	r.off++
}
