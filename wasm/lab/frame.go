package lab

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"duplex/shared/wire"
)

// This file turns frames into what the page shows of them: the fields of
// the bit diagram, hex, readable text and one-line previews. It is plain
// Go, so its tests run anywhere. (Hex is written by hand: encoding/hex
// would bring fmt into the wasm module.)

// rowBits is the width of the bit diagram, as in RFC 6455 §5.2.
const rowBits = 32

// diagramPayload is how many payload bytes the bit diagram shows after
// the header; the hex views show the rest.
const diagramPayload = 4

// A field is a run of a frame's bits with one meaning, as RFC 6455 §5.2
// draws them.
type field struct {
	Key   string // for the data-field attribute: "fin", "opcode", …
	Name  string // as the RFC labels it
	Value string // what the bits say, in words
	Bits  string // the bits, as '0' and '1'
}

// frameFields lays out a frame: the fields of its header (h, parsed from
// header) and then its first payload bytes, as on the wire.
func frameFields(header []byte, h wire.Header, payload []byte) []field {
	bits := func(from, n int) string { return bitString(header, from, n) }
	fields := []field{
		{"fin", "FIN", choose(h.Fin, "final", "more follow"), bits(0, 1)},
		{"rsv1", "RSV1", choose(h.Rsv&wire.Rsv1 != 0, "set!", ""), bits(1, 1)},
		{"rsv2", "RSV2", choose(h.Rsv&wire.Rsv2 != 0, "set!", ""), bits(2, 1)},
		{"rsv3", "RSV3", choose(h.Rsv&wire.Rsv3 != 0, "set!", ""), bits(3, 1)},
		{"opcode", "opcode", opcodeHex(h.Opcode) + " " + h.Opcode.String(), bits(4, 4)},
		{"mask", "MASK", choose(h.Masked, "masked", "not masked"), bits(8, 1)},
	}
	len7 := header[1] & 0x7f
	next := 16
	switch len7 {
	case 126:
		fields = append(fields,
			field{"len", "payload len", "126: 16 bits follow", bits(9, 7)},
			field{"extlen", "extended payload length (16)", strconv.FormatInt(h.Length, 10), bits(16, 16)})
		next = 32
	case 127:
		fields = append(fields,
			field{"len", "payload len", "127: 64 bits follow", bits(9, 7)},
			field{"extlen", "extended payload length (64)", strconv.FormatInt(h.Length, 10), bits(16, 64)})
		next = 80
	default:
		fields = append(fields, field{"len", "payload len", strconv.Itoa(int(len7)), bits(9, 7)})
	}
	if h.Masked {
		fields = append(fields, field{"key", "masking key", spacedHex(h.Mask[:]), bits(next, 32)})
	}
	for i, c := range payload[:min(len(payload), diagramPayload)] {
		fields = append(fields, payloadField(h, i, c))
	}
	return fields
}

// payloadField is payload byte i, c as on the wire; for a masked frame its
// value shows the unmasking: the byte XOR the key's byte i mod 4.
func payloadField(h wire.Header, i int, c byte) field {
	f := field{Key: "payload", Name: "payload[" + strconv.Itoa(i) + "]", Bits: bitString([]byte{c}, 0, 8)}
	if !h.Masked {
		f.Value = hexByte(c) + char(c)
		return f
	}
	k := h.Mask[i%4]
	f.Value = hexByte(c) + " ⊕ " + hexByte(k) + " = " + hexByte(c^k) + char(c^k)
	return f
}

// bitString returns n bits of b from bit from on, most significant first,
// as the RFC numbers them; bits past the end of b are left out.
func bitString(b []byte, from, n int) string {
	var s strings.Builder
	for i := from; i < from+n && i/8 < len(b); i++ {
		s.WriteByte('0' + b[i/8]>>(7-i%8)&1)
	}
	return s.String()
}

// A segment is the part of a field that falls in one 32-bit row of the
// diagram: a field such as the 64-bit length spans rows.
type segment struct {
	Field *field
	Bits  string
	Cont  bool // the field began on an earlier row
}

// segments cuts fields at the diagram's row boundaries.
func segments(fields []field) []segment {
	var segs []segment
	col := 0
	for i := range fields {
		f := &fields[i]
		for bits, cont := f.Bits, false; bits != ""; cont = true {
			n := min(len(bits), rowBits-col)
			segs = append(segs, segment{Field: f, Bits: bits[:n], Cont: cont})
			bits, col = bits[n:], (col+n)%rowBits
		}
	}
	return segs
}

// lengthEncoding names how a header encodes its payload length: in the
// 7-bit field itself, or in the 16- or 64-bit extension that follows.
func lengthEncoding(header []byte) string {
	switch header[1] & 0x7f {
	case 126:
		return "16-bit"
	case 127:
		return "64-bit"
	}
	return "7-bit"
}

// unmasked returns a copy of payload, unmasked if the header says it is
// masked.
func unmasked(h wire.Header, payload []byte) []byte {
	plain := append([]byte(nil), payload...)
	if h.Masked {
		wire.Mask(h.Mask, 0, plain)
	}
	return plain
}

// previewBytes is how much of a payload a frame's line in the list shows.
const previewBytes = 24

// preview says in a few words what an unmasked payload holds: a close
// frame's code and reason, the start of a text or continuation frame's
// text, or the first bytes of the others in hex.
func preview(op wire.Opcode, plain []byte) string {
	switch {
	case op == wire.OpClose:
		code, reason, err := wire.ParseClose(plain)
		switch {
		case err != nil:
			return "malformed: " + describeErr(err)
		case code == wire.StatusNoStatusReceived:
			return "no code"
		}
		return strconv.Itoa(int(code)) + " " + strconv.Quote(reason)
	case len(plain) == 0:
		return ""
	case op == wire.OpText || op == wire.OpContinuation:
		return strconv.Quote(string(plain[:min(len(plain), previewBytes)])) + ellipsis(len(plain) > previewBytes)
	}
	return spacedHex(plain[:min(len(plain), previewBytes/3)]) + ellipsis(len(plain) > previewBytes/3)
}

// describeErr is a wire error's message without the package's prefix.
func describeErr(err error) string {
	if we, ok := err.(*wire.Error); ok {
		return we.Msg
	}
	return err.Error()
}

func ellipsis(more bool) string { return choose(more, "…", "") }

// composeFrame builds the frame the compose box describes: a header with
// op, fin and, if masked, the masking key keyHex (8 hex digits), and then
// payload, masked with that key. It returns the header's size.
func composeFrame(op wire.Opcode, fin, masked bool, keyHex string, payload []byte) (frame []byte, h wire.Header, headerSize int, err error) {
	h = wire.Header{Fin: fin, Opcode: op, Masked: masked, Length: int64(len(payload))}
	if masked {
		if h.Mask, err = parseKey(keyHex); err != nil {
			return nil, h, 0, err
		}
	}
	frame = wire.AppendHeader(nil, h)
	headerSize = len(frame)
	frame = append(frame, payload...)
	if masked {
		wire.Mask(h.Mask, 0, frame[headerSize:])
	}
	return frame, h, headerSize, nil
}

// parseKey reads a masking key written as 8 hex digits.
func parseKey(s string) ([4]byte, error) {
	n, err := strconv.ParseUint(s, 16, 32)
	if err != nil || len(s) != 8 {
		return [4]byte{}, errors.New("a masking key is 4 bytes: 8 hex digits, such as 37fa213d")
	}
	return [4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, nil
}

// spacedHex writes b as hex bytes with spaces between: "81 82 37".
func spacedHex(b []byte) string {
	var s strings.Builder
	s.Grow(3 * len(b))
	for i, c := range b {
		if i > 0 {
			s.WriteByte(' ')
		}
		s.WriteString(hexByte(c))
	}
	return s.String()
}

// hexString writes b as hex with no spaces: "37fa213d".
func hexString(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		s.WriteString(hexByte(c))
	}
	return s.String()
}

// opcodeHex writes an opcode as RFC 6455 does: 0x1, 0xA.
func opcodeHex(op wire.Opcode) string {
	return "0x" + "0123456789ABCDEF"[op&0xf:][:1]
}

func hexByte(c byte) string {
	return hexDigits[c>>4:][:1] + hexDigits[c&0xf:][:1]
}

const hexDigits = "0123456789abcdef"

// char shows c after its hex value if it is printable ASCII.
func char(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return ""
	}
	return " " + strconv.QuoteRune(rune(c))
}

// readable shows b as text: UTF-8 as it is, other bytes (such as those of
// a masked payload) as Latin-1, and control characters as middle dots, so
// the text lines up with the hex when it is ASCII.
func readable(b []byte) string {
	var s strings.Builder
	valid := utf8.Valid(b)
	for len(b) > 0 {
		r, n := rune(b[0]), 1
		if valid {
			r, n = utf8.DecodeRune(b)
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			r = '·'
		}
		s.WriteRune(r)
		b = b[n:]
	}
	return s.String()
}

// millis writes a time in microseconds as milliseconds with 3 decimals.
func millis(micros uint64) string {
	frac := strconv.FormatUint(micros%1000, 10)
	return strconv.FormatUint(micros/1000, 10) + "." + strings.Repeat("0", 3-len(frac)) + frac + " ms"
}

func choose(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}
