package message

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// The field encoders. Numbers use encoding/binary's varints, which are
// minimal by construction.

// appendString is kept out of line: inlined at each of its call sites (16
// when this was measured), it made the browser module 14 KB larger, to save a call of a few
// nanoseconds.
//
//go:noinline
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

// A decodeError is a decoding failure described in full, wrapping one of
// ErrVersion, ErrUnknownKind or ErrMalformed.
type decodeError struct {
	msg string
	err error
}

func (e *decodeError) Error() string { return e.msg }
func (e *decodeError) Unwrap() error { return e.err }

// A reader decodes the fields of one message. The first error sticks: after
// it, every read returns a zero value, so a payload's decoder reads all its
// fields and the caller checks err once.
type reader struct {
	b       []byte // the whole message
	s       string // b as a string, from which decoded strings are sliced
	off     int    // offset in b of the next field
	kind    Kind   // the message's kind, for error messages
	version byte   // the message's protocol version: which fields it has
	list    string // the list being read, for error messages; "" outside lists
	item    int    // the index of the list item being read
	err     error
}

// fail records that the field at offset at is malformed, unless an earlier
// error is already recorded. field is empty for the message as a whole.
func (r *reader) fail(at int, field, what string) {
	if r.err != nil {
		return
	}
	name := r.kind.String()
	if r.list != "" {
		name += "." + r.list + "[" + strconv.Itoa(r.item) + "]"
	}
	if field != "" {
		name += "." + field
	}
	r.err = &decodeError{"message: " + name + " at byte " + strconv.Itoa(at) + ": " + what, ErrMalformed}
}

// uvarint reads an unsigned varint, which must be minimally encoded: a
// varint longer than one byte whose last byte is 0 has a shorter form.
func (r *reader) uvarint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b[r.off:])
	switch {
	case n == 0:
		r.fail(r.off, field, "input is truncated")
		return 0
	case n < 0:
		r.fail(r.off, field, "varint overflows 64 bits")
		return 0
	case n > 1 && r.b[r.off+n-1] == 0:
		r.fail(r.off, field, "varint is not minimally encoded")
		return 0
	}
	r.off += n
	return x
}

// varint reads a zigzag-encoded signed varint, as binary.AppendVarint
// writes it.
func (r *reader) varint(field string) int64 {
	u := r.uvarint(field)
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// uint16 reads an unsigned varint that must fit in 16 bits.
func (r *reader) uint16(field string) uint16 {
	at := r.off
	x := r.uvarint(field)
	if x > 0xffff {
		r.fail(at, field, strconv.FormatUint(x, 10)+" does not fit in 16 bits")
		return 0
	}
	return uint16(x)
}

// bool reads one byte, which must be 0 or 1.
func (r *reader) bool(field string) bool {
	if r.err != nil {
		return false
	}
	if r.off >= len(r.b) {
		r.fail(r.off, field, "input is truncated")
		return false
	}
	c := r.b[r.off]
	if c > 1 {
		r.fail(r.off, field, "boolean byte is "+strconv.Itoa(int(c))+", not 0 or 1")
		return false
	}
	r.off++
	return c == 1
}

// string reads a length-prefixed UTF-8 string. It allocates nothing: the
// result is a slice of r.s.
func (r *reader) string(field string) string {
	at := r.off
	n := r.uvarint(field)
	if r.err != nil {
		return ""
	}
	if rest := len(r.b) - r.off; n > uint64(rest) {
		r.fail(at, field, "length "+strconv.FormatUint(n, 10)+" exceeds the "+nbytes(rest)+" left")
		return ""
	}
	if n == 0 {
		return ""
	}
	s := r.s[r.off : r.off+int(n)]
	if !utf8.ValidString(s) {
		r.fail(at, field, "string is not valid UTF-8")
		return ""
	}
	r.off += int(n)
	return s
}

// count reads the item count of a list whose items take at least minSize
// bytes each, and checks that the rest of the input can hold that many, so
// that the caller may allocate for them: a corrupt count fails here, before
// any allocation.
func (r *reader) count(field string, minSize int) int {
	at := r.off
	n := r.uvarint(field)
	if r.err != nil {
		return 0
	}
	if rest := len(r.b) - r.off; n > uint64(rest/minSize) {
		r.fail(at, field, "count "+strconv.FormatUint(n, 10)+" exceeds what the "+nbytes(rest)+" left can hold")
		return 0
	}
	return int(n)
}

// nbytes returns "1 byte" or "n bytes".
func nbytes(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return strconv.Itoa(n) + " bytes"
}
