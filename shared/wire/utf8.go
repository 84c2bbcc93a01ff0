package wire

import "unicode/utf8"

// A UTF8Validator checks text that arrives in pieces, such as the fragments
// of a text message, without keeping more than the last incomplete
// character. Unlike a check of the whole text at the end, it tells as soon as
// a piece makes the text impossible to complete as valid UTF-8. The zero
// value is ready to use.
type UTF8Validator struct {
	partial [utf8.UTFMax]byte // the incomplete character at the end so far
	n       int               // bytes of it in partial
	invalid bool
}

// Write appends p to the text seen so far and reports whether that text is
// still a valid UTF-8 prefix. Once it returns false it keeps returning false
// until Reset.
func (v *UTF8Validator) Write(p []byte) bool {
	if v.invalid {
		return false
	}
	// Finish the character left incomplete by the previous piece.
	for v.n > 0 && len(p) > 0 {
		v.partial[v.n] = p[0]
		v.n++
		p = p[1:]
		if !validPrefix(v.partial[:v.n]) {
			v.invalid = true
			return false
		}
		if v.n == seqLen(v.partial[0]) {
			v.n = 0
		}
	}
	if len(p) == 0 {
		return true
	}
	// Split off an incomplete character at the end, if any, then let the
	// standard library check the rest at full speed.
	tail := incompleteTail(p)
	if !utf8.Valid(p[:len(p)-tail]) || !validPrefix(p[len(p)-tail:]) {
		v.invalid = true
		return false
	}
	v.n = copy(v.partial[:], p[len(p)-tail:])
	return true
}

// Complete reports whether the text seen so far is valid UTF-8 that ends on
// a character boundary.
func (v *UTF8Validator) Complete() bool { return !v.invalid && v.n == 0 }

// Reset forgets the text seen so far, to check a new one.
func (v *UTF8Validator) Reset() { *v = UTF8Validator{} }

// seqLen returns the length of the UTF-8 sequence that lead starts, or 0 if
// lead cannot start one (RFC 3629 §4).
func seqLen(lead byte) int {
	switch {
	case lead < 0x80:
		return 1
	case lead >= 0xc2 && lead <= 0xdf:
		return 2
	case lead >= 0xe0 && lead <= 0xef:
		return 3
	case lead >= 0xf0 && lead <= 0xf4:
		return 4
	}
	return 0
}

// incompleteTail returns how many bytes at the end of p begin a multi-byte
// character that p does not finish: 0 to 3.
func incompleteTail(p []byte) int {
	for back := 1; back <= utf8.UTFMax-1 && back <= len(p); back++ {
		b := p[len(p)-back]
		if b&0xc0 == 0x80 { // continuation byte: keep looking for the lead
			continue
		}
		if n := seqLen(b); n > back {
			return back
		}
		return 0
	}
	return 0
}

// validPrefix reports whether b, which holds at most one character, is that
// character or the beginning of it: a valid lead byte followed by
// continuation bytes in the ranges RFC 3629 allows after that lead.
func validPrefix(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	n := seqLen(b[0])
	if n == 0 || len(b) > n {
		return false
	}
	for i := 1; i < len(b); i++ {
		lo, hi := byte(0x80), byte(0xbf)
		if i == 1 {
			switch b[0] {
			case 0xe0: // no overlong 3-byte forms
				lo = 0xa0
			case 0xed: // no surrogates
				hi = 0x9f
			case 0xf0: // no overlong 4-byte forms
				lo = 0x90
			case 0xf4: // nothing above U+10FFFF
				hi = 0x8f
			}
		}
		if b[i] < lo || b[i] > hi {
			return false
		}
	}
	return true
}
