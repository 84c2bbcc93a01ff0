package lab

import (
	"bytes"
	"strings"
	"testing"

	"duplex/shared/wire"
)

// The examples of RFC 6455 §5.7, built as the compose box builds them.
func TestComposeFrameRFCExamples(t *testing.T) {
	for _, tt := range []struct {
		name    string
		op      wire.Opcode
		fin     bool
		masked  bool
		payload []byte
		want    []byte
	}{
		{"unmasked Hello", wire.OpText, true, false, []byte("Hello"),
			[]byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"masked Hello", wire.OpText, true, true, []byte("Hello"),
			[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{"masked Hi", wire.OpText, true, true, []byte("Hi"),
			[]byte{0x81, 0x82, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x93}},
		{"first fragment", wire.OpText, false, false, []byte("Hel"),
			[]byte{0x01, 0x03, 0x48, 0x65, 0x6c}},
		{"256 bytes binary", wire.OpBinary, true, false, make([]byte, 256),
			append([]byte{0x82, 0x7e, 0x01, 0x00}, make([]byte, 256)...)},
	} {
		frame, h, n, err := composeFrame(tt.op, tt.fin, tt.masked, "37fa213d", tt.payload)
		if err != nil || !bytes.Equal(frame, tt.want) {
			t.Errorf("%s: % x, %v; want % x", tt.name, frame, err, tt.want)
			continue
		}
		if n != h.Size() || h.Length != int64(len(tt.payload)) {
			t.Errorf("%s: header size %d, length %d; want %d, %d", tt.name, n, h.Length, h.Size(), len(tt.payload))
		}
	}
}

func TestParseKey(t *testing.T) {
	if key, err := parseKey("37FA213d"); err != nil || key != [4]byte{0x37, 0xfa, 0x21, 0x3d} {
		t.Errorf("parseKey(37FA213d) = % x, %v", key, err)
	}
	for _, bad := range []string{"", "37fa21", "37fa213d00", "37fa21zz", "+7fa213d", "-7fa213d"} {
		if _, err := parseKey(bad); err == nil {
			t.Errorf("parseKey(%q) accepts it", bad)
		}
	}
}

// keysAndBits returns the fields' keys and the bits of all of them.
func keysAndBits(fields []field) (keys []string, bits string) {
	for _, f := range fields {
		keys = append(keys, f.Key)
		bits += f.Bits
	}
	return keys, bits
}

func TestFrameFields(t *testing.T) {
	for _, tt := range []struct {
		name     string
		payload  int
		masked   bool
		wantKeys string
		extBits  int
	}{
		{"7-bit length, masked", 5, true, "fin rsv1 rsv2 rsv3 opcode mask len key payload payload payload payload", 0},
		{"16-bit length", 300, false, "fin rsv1 rsv2 rsv3 opcode mask len extlen payload payload payload payload", 16},
		{"64-bit length, masked", 70000, true, "fin rsv1 rsv2 rsv3 opcode mask len extlen key payload payload payload payload", 64},
		{"empty", 0, false, "fin rsv1 rsv2 rsv3 opcode mask len", 0},
	} {
		frame, h, n, err := composeFrame(wire.OpBinary, true, tt.masked, "37fa213d", bytes.Repeat([]byte("x"), tt.payload))
		if err != nil {
			t.Fatal(err)
		}
		fields := frameFields(frame[:n], h, frame[n:])
		keys, bits := keysAndBits(fields)
		if got := strings.Join(keys, " "); got != tt.wantKeys {
			t.Errorf("%s: fields %s, want %s", tt.name, got, tt.wantKeys)
		}
		// The fields are the frame's bits, in order, without a gap.
		shown := n + min(tt.payload, diagramPayload)
		if want := bitString(frame, 0, 8*shown); bits != want {
			t.Errorf("%s: the fields' bits are\n%s, want\n%s", tt.name, bits, want)
		}
		for _, f := range fields {
			if f.Key == "extlen" && len(f.Bits) != tt.extBits {
				t.Errorf("%s: the extended length has %d bits, want %d", tt.name, len(f.Bits), tt.extBits)
			}
		}
		if got, want := lengthEncoding(frame[:n]), map[int]string{0: "7-bit", 16: "16-bit", 64: "64-bit"}[tt.extBits]; got != want {
			t.Errorf("%s: lengthEncoding = %s, want %s", tt.name, got, want)
		}
	}
}

// A masked payload byte shows how it unmasks: 'H' ^ 0x37 = 0x7f.
func TestPayloadFieldShowsUnmasking(t *testing.T) {
	frame, h, n, _ := composeFrame(wire.OpText, true, true, "37fa213d", []byte("Hi"))
	fields := frameFields(frame[:n], h, frame[n:])
	if got, want := fields[len(fields)-2].Value, "7f ⊕ 37 = 48 'H'"; got != want {
		t.Errorf("payload[0] reads %q, want %q", got, want)
	}
	if got, want := fields[len(fields)-1].Value, "93 ⊕ fa = 69 'i'"; got != want {
		t.Errorf("payload[1] reads %q, want %q", got, want)
	}
}

// Segments never cross a row of 32 bits, and add up to their fields.
func TestSegments(t *testing.T) {
	frame, h, n, _ := composeFrame(wire.OpBinary, true, true, "37fa213d", make([]byte, 70000))
	fields := frameFields(frame[:n], h, frame[n:])
	col, total := 0, 0
	var extlen []int
	for _, s := range segments(fields) {
		if col+len(s.Bits) > rowBits {
			t.Fatalf("a segment of %s crosses a row at column %d", s.Field.Name, col)
		}
		if s.Field.Key == "extlen" {
			extlen = append(extlen, len(s.Bits))
		}
		col = (col + len(s.Bits)) % rowBits
		total += len(s.Bits)
	}
	if _, bits := keysAndBits(fields); total != len(bits) {
		t.Errorf("the segments have %d bits, the fields %d", total, len(bits))
	}
	// The 64-bit length starts at bit 16: 16 bits in the first row, 32 in
	// the second, 16 in the third.
	if len(extlen) != 3 || extlen[0] != 16 || extlen[1] != 32 || extlen[2] != 16 {
		t.Errorf("the 64-bit length is cut into %v", extlen)
	}
}

func TestPreview(t *testing.T) {
	closing, _ := wire.AppendClose(nil, 4001, "bye")
	for _, tt := range []struct {
		op    wire.Opcode
		plain string
		want  string
	}{
		{wire.OpText, "hello", `"hello"`},
		{wire.OpText, strings.Repeat("a", 30), `"` + strings.Repeat("a", previewBytes) + `"…`},
		{wire.OpContinuation, "frames", `"frames"`},
		{wire.OpClose, string(closing), `4001 "bye"`},
		{wire.OpClose, "", "no code"},
		{wire.OpClose, "\x03", "malformed: " + wire.ErrCloseTooShort.Msg},
		{wire.OpBinary, "\x00\x01\x02", "00 01 02"},
		{wire.OpPing, "\x00\x00\x00\x00\x00\x00\x00\x00\x01", "00 00 00 00 00 00 00 00…"},
		{wire.OpPong, "", ""},
	} {
		if got := preview(tt.op, []byte(tt.plain)); got != tt.want {
			t.Errorf("preview(%v, %q) = %q, want %q", tt.op, tt.plain, got, tt.want)
		}
	}
}

func TestReadable(t *testing.T) {
	for in, want := range map[string]string{
		"hello":        "hello",
		"Grüße":        "Grüße",
		"a\x00b\nc":    "a·b·c",
		"\x7f\x9f\x4d": "··M", // not UTF-8, so Latin-1, in which 0x9f is a control too
	} {
		if got := readable([]byte(in)); got != want {
			t.Errorf("readable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMillis(t *testing.T) {
	for us, want := range map[uint64]string{0: "0.000 ms", 5: "0.005 ms", 59985: "59.985 ms", 1234567: "1234.567 ms"} {
		if got := millis(us); got != want {
			t.Errorf("millis(%d) = %q, want %q", us, got, want)
		}
	}
}

func TestUnmasked(t *testing.T) {
	masked := []byte{0x7f, 0x9f, 0x4d, 0x51, 0x58} // "Hello" under the RFC's key 37 fa 21 3d
	h := wire.Header{Masked: true, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}}
	if got := string(unmasked(h, masked)); got != "Hello" {
		t.Errorf("unmasked = %q, want Hello", got)
	}
	if masked[0] != 0x7f {
		t.Error("unmasked changed its input")
	}
	if got := string(unmasked(wire.Header{}, []byte("plain"))); got != "plain" {
		t.Errorf("unmasked of an unmasked frame = %q", got)
	}
}

func TestHexString(t *testing.T) {
	if got := hexString([]byte{0x37, 0xfa, 0x21, 0x3d}); got != "37fa213d" {
		t.Errorf("hexString = %q, want 37fa213d", got)
	}
	if got := hexString(nil); got != "" {
		t.Errorf("hexString(nil) = %q", got)
	}
}
