package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// hexBytes decodes hex digits written with optional spaces, as the RFC
// prints frames: "81 05 48 65".
func hexBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

var rfcKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// The examples of RFC 6455 §5.7, split into header and payload.
var rfcFrames = []struct {
	name    string
	frame   string // whole frame in hex
	header  Header
	size    int    // header size
	payload string // unmasked payload; "" when the frame is too long to list
}{
	{
		name:    "unmasked text Hello",
		frame:   "81 05 48 65 6c 6c 6f",
		header:  Header{Fin: true, Opcode: OpText, Length: 5},
		size:    2,
		payload: "Hello",
	},
	{
		name:    "masked text Hello",
		frame:   "81 85 37 fa 21 3d 7f 9f 4d 51 58",
		header:  Header{Fin: true, Opcode: OpText, Masked: true, Mask: rfcKey, Length: 5},
		size:    6,
		payload: "Hello",
	},
	{
		name:    "fragmented text, first frame Hel",
		frame:   "01 03 48 65 6c",
		header:  Header{Fin: false, Opcode: OpText, Length: 3},
		size:    2,
		payload: "Hel",
	},
	{
		name:    "fragmented text, continuation lo",
		frame:   "80 02 6c 6f",
		header:  Header{Fin: true, Opcode: OpContinuation, Length: 2},
		size:    2,
		payload: "lo",
	},
	{
		name:    "unmasked ping Hello",
		frame:   "89 05 48 65 6c 6c 6f",
		header:  Header{Fin: true, Opcode: OpPing, Length: 5},
		size:    2,
		payload: "Hello",
	},
	{
		name:    "masked pong Hello",
		frame:   "8a 85 37 fa 21 3d 7f 9f 4d 51 58",
		header:  Header{Fin: true, Opcode: OpPong, Masked: true, Mask: rfcKey, Length: 5},
		size:    6,
		payload: "Hello",
	},
	{
		name:   "256 bytes binary, unmasked",
		frame:  "82 7e 01 00",
		header: Header{Fin: true, Opcode: OpBinary, Length: 256},
		size:   4,
	},
	{
		name:   "64KiB binary, unmasked",
		frame:  "82 7f 00 00 00 00 00 01 00 00",
		header: Header{Fin: true, Opcode: OpBinary, Length: 65536},
		size:   10,
	},
}

func TestParseHeaderRFCExamples(t *testing.T) {
	for _, tc := range rfcFrames {
		t.Run(tc.name, func(t *testing.T) {
			frame := hexBytes(t, tc.frame)
			h, n, err := ParseHeader(frame)
			if err != nil {
				t.Fatalf("ParseHeader: %v", err)
			}
			if h != tc.header {
				t.Errorf("header = %+v, want %+v", h, tc.header)
			}
			if n != tc.size {
				t.Errorf("size = %d, want %d", n, tc.size)
			}
			if got := h.Size(); got != tc.size {
				t.Errorf("Header.Size() = %d, want %d", got, tc.size)
			}
			if got := HeaderSize(frame[0], frame[1]); got != tc.size {
				t.Errorf("HeaderSize = %d, want %d", got, tc.size)
			}
			// The RFC uses the shortest encodings, so AppendHeader must
			// reproduce its bytes exactly.
			if got := AppendHeader(nil, h); !bytes.Equal(got, frame[:tc.size]) {
				t.Errorf("AppendHeader = % x, want % x", got, frame[:tc.size])
			}
			if tc.payload == "" {
				return
			}
			payload := bytes.Clone(frame[n:])
			if int64(len(payload)) != h.Length {
				t.Fatalf("payload has %d bytes, header says %d", len(payload), h.Length)
			}
			if h.Masked {
				Mask(h.Mask, 0, payload)
			}
			if string(payload) != tc.payload {
				t.Errorf("payload = %q, want %q", payload, tc.payload)
			}
		})
	}
}

// lengthEncodings lists payload lengths with the second and following bytes
// of an unmasked header that carries them in the shortest form.
var lengthEncodings = []struct {
	length int64
	enc    string
}{
	{0, "00"},
	{1, "01"},
	{125, "7d"},
	{126, "7e 00 7e"},
	{127, "7e 00 7f"},
	{256, "7e 01 00"},
	{65535, "7e ff ff"},
	{65536, "7f 00 00 00 00 00 01 00 00"},
	{1 << 32, "7f 00 00 00 01 00 00 00 00"},
	{1<<63 - 1, "7f 7f ff ff ff ff ff ff ff"},
}

// encodedHeader returns the expected encoding of a FIN binary frame header
// with the given length encoding, masked with rfcKey if masked is set.
func encodedHeader(t testing.TB, enc string, masked bool) []byte {
	b := append([]byte{0x82}, hexBytes(t, enc)...)
	if masked {
		b[1] |= 0x80
		b = append(b, rfcKey[:]...)
	}
	return b
}

func TestLengthEncodings(t *testing.T) {
	for _, tc := range lengthEncodings {
		for _, masked := range []bool{false, true} {
			h := Header{Fin: true, Opcode: OpBinary, Length: tc.length, Masked: masked}
			if masked {
				h.Mask = rfcKey
			}
			want := encodedHeader(t, tc.enc, masked)

			got := AppendHeader(nil, h)
			if !bytes.Equal(got, want) {
				t.Errorf("length %d masked=%v: AppendHeader = % x, want % x", tc.length, masked, got, want)
			}
			if h.Size() != len(want) {
				t.Errorf("length %d masked=%v: Size() = %d, want %d", tc.length, masked, h.Size(), len(want))
			}
			if n := HeaderSize(want[0], want[1]); n != len(want) {
				t.Errorf("length %d masked=%v: HeaderSize = %d, want %d", tc.length, masked, n, len(want))
			}
			parsed, n, err := ParseHeader(want)
			if err != nil {
				t.Errorf("length %d masked=%v: ParseHeader: %v", tc.length, masked, err)
				continue
			}
			if parsed != h || n != len(want) {
				t.Errorf("length %d masked=%v: ParseHeader = %+v, %d; want %+v, %d", tc.length, masked, parsed, n, h, len(want))
			}
		}
	}
}

func TestParseHeaderNonMinimalLength(t *testing.T) {
	// ParseHeader accepts lengths that a shorter form could have carried.
	tests := []struct {
		frame  string
		length int64
		size   int
	}{
		{"82 7e 00 00", 0, 4},
		{"82 7e 00 05", 5, 4},
		{"82 7e 00 7d", 125, 4},
		{"82 7f 00 00 00 00 00 00 00 05", 5, 10},
		{"82 7f 00 00 00 00 00 00 00 7e", 126, 10},
		{"82 7f 00 00 00 00 00 00 ff ff", 65535, 10},
		{"82 ff 00 00 00 00 00 00 ff ff 01 02 03 04", 65535, 14},
	}
	for _, tc := range tests {
		h, n, err := ParseHeader(hexBytes(t, tc.frame))
		if err != nil {
			t.Errorf("%s: %v", tc.frame, err)
			continue
		}
		if h.Length != tc.length || n != tc.size {
			t.Errorf("%s: length %d, size %d; want %d, %d", tc.frame, h.Length, n, tc.length, tc.size)
		}
	}
}

func TestParseHeaderLengthOverflow(t *testing.T) {
	for _, frame := range []string{
		"82 7f 80 00 00 00 00 00 00 00",
		"82 7f 80 00 00 00 00 00 00 01",
		"82 7f ff ff ff ff ff ff ff ff",
		"82 7f c0 00 00 00 00 00 00 00",
		"02 ff 80 00 00 00 00 00 00 00 37 fa 21 3d",
		"82 7f 80 00 00 00 00 00 00 00 ff ff", // trailing payload bytes
	} {
		h, n, err := ParseHeader(hexBytes(t, frame))
		if err != ErrLengthOverflow {
			t.Errorf("%s: err = %v, want ErrLengthOverflow", frame, err)
		}
		if h != (Header{}) || n != 0 {
			t.Errorf("%s: got %+v, %d with the error; want zero values", frame, h, n)
		}
	}
	var werr *Error
	if !errors.As(ErrLengthOverflow, &werr) || werr.Code != StatusProtocolError {
		t.Errorf("ErrLengthOverflow is not an *Error with status 1002: %#v", ErrLengthOverflow)
	}

	// The largest allowed length is just below the overflow.
	h, _, err := ParseHeader(hexBytes(t, "82 7f 7f ff ff ff ff ff ff ff"))
	if err != nil || h.Length != 1<<63-1 {
		t.Errorf("2^63-1: length %d, err %v", h.Length, err)
	}
}

func TestParseHeaderShort(t *testing.T) {
	frames := []string{
		"81 05",
		"81 85 37 fa 21 3d",
		"82 7e 01 00",
		"82 fe 01 00 37 fa 21 3d",
		"82 7f 00 00 00 00 00 01 00 00",
		"82 ff 00 00 00 00 00 01 00 00 37 fa 21 3d",
		// The length is checked only once the whole header is there.
		"82 7f 80 00 00 00 00 00 00 00",
	}
	for _, frame := range frames {
		b := hexBytes(t, frame)
		for i := 0; i < len(b); i++ {
			h, n, err := ParseHeader(b[:i])
			if err != ErrShortHeader {
				t.Errorf("%s cut to %d bytes: err = %v, want ErrShortHeader", frame, i, err)
			}
			if h != (Header{}) || n != 0 {
				t.Errorf("%s cut to %d bytes: got %+v, %d with the error", frame, i, h, n)
			}
		}
	}
	if _, _, err := ParseHeader(nil); err != ErrShortHeader {
		t.Errorf("nil buffer: err = %v, want ErrShortHeader", err)
	}
}

func TestParseHeaderIgnoresFollowingBytes(t *testing.T) {
	for _, tc := range lengthEncodings {
		for _, masked := range []bool{false, true} {
			want := encodedHeader(t, tc.enc, masked)
			b := append(bytes.Clone(want), 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8, 0xf7, 0xf6, 0xf5, 0xf4, 0xf3, 0xf2)
			h, n, err := ParseHeader(b)
			if err != nil || n != len(want) || h.Length != tc.length || h.Masked != masked {
				t.Errorf("length %d masked=%v with trailing bytes: %+v, %d, %v", tc.length, masked, h, n, err)
			}
		}
	}
}

func TestParseHeaderFirstByte(t *testing.T) {
	for b0 := 0; b0 < 256; b0++ {
		frame := []byte{byte(b0), 0x00}
		h, n, err := ParseHeader(frame)
		if err != nil || n != 2 {
			t.Fatalf("%02x 00: n=%d err=%v", b0, n, err)
		}
		want := Header{
			Fin:    b0&0x80 != 0,
			Rsv:    byte(b0) & 0x70,
			Opcode: Opcode(b0 & 0x0f),
		}
		if h != want {
			t.Errorf("%02x 00: got %+v, want %+v", b0, h, want)
		}
		if got := AppendHeader(nil, h); !bytes.Equal(got, frame) {
			t.Errorf("%02x 00: AppendHeader = % x", b0, got)
		}
	}
	// Each reserved bit on its own.
	for _, tc := range []struct {
		b0  byte
		rsv byte
	}{{0xc1, Rsv1}, {0xa1, Rsv2}, {0x91, Rsv3}, {0xf1, Rsv1 | Rsv2 | Rsv3}} {
		h, _, _ := ParseHeader([]byte{tc.b0, 0})
		if h.Rsv != tc.rsv || !h.Fin || h.Opcode != OpText {
			t.Errorf("%02x: %+v, want Rsv %02x", tc.b0, h, tc.rsv)
		}
	}
}

func TestParseHeaderMaskKey(t *testing.T) {
	h, n, err := ParseHeader(hexBytes(t, "82 80 01 02 03 04"))
	if err != nil || n != 6 || !h.Masked || h.Mask != [4]byte{1, 2, 3, 4} || h.Length != 0 {
		t.Fatalf("got %+v, %d, %v", h, n, err)
	}
	// Without the mask bit, the bytes after the header are not a key.
	h, n, err = ParseHeader(hexBytes(t, "82 00 01 02 03 04"))
	if err != nil || n != 2 || h.Masked || h.Mask != [4]byte{} {
		t.Fatalf("got %+v, %d, %v", h, n, err)
	}
}

func TestHeaderSize(t *testing.T) {
	tests := []struct {
		b1   byte
		size int
	}{
		{0x00, 2}, {0x01, 2}, {0x7d, 2}, {0x7e, 4}, {0x7f, 10},
		{0x80, 6}, {0x81, 6}, {0xfd, 6}, {0xfe, 8}, {0xff, 14},
	}
	for _, tc := range tests {
		for b0 := 0; b0 < 256; b0++ {
			if got := HeaderSize(byte(b0), tc.b1); got != tc.size {
				t.Errorf("HeaderSize(%02x, %02x) = %d, want %d", b0, tc.b1, got, tc.size)
			}
		}
	}
	for b1 := 0; b1 < 256; b1++ {
		if n := HeaderSize(0x82, byte(b1)); n < 2 || n > MaxHeaderSize {
			t.Errorf("HeaderSize(82, %02x) = %d, out of range", b1, n)
		}
	}
}

func TestAppendHeaderSizeAgree(t *testing.T) {
	lengths := []int64{0, 1, 124, 125, 126, 127, 1000, 65534, 65535, 65536, 65537, 1 << 31, 1 << 40, 1<<63 - 1}
	prefix := []byte("prefix")
	for _, l := range lengths {
		for _, masked := range []bool{false, true} {
			for _, op := range []Opcode{OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong} {
				h := Header{Fin: l%2 == 0, Rsv: Rsv1, Opcode: op, Masked: masked, Length: l}
				if masked {
					h.Mask = [4]byte{0xde, 0xad, 0xbe, 0xef}
				}
				dst := AppendHeader(bytes.Clone(prefix), h)
				if !bytes.HasPrefix(dst, prefix) {
					t.Fatalf("%+v: AppendHeader changed the prefix: % x", h, dst)
				}
				enc := dst[len(prefix):]
				if len(enc) != h.Size() {
					t.Errorf("%+v: wrote %d bytes, Size() = %d", h, len(enc), h.Size())
				}
				if n := HeaderSize(enc[0], enc[1]); n != len(enc) {
					t.Errorf("%+v: HeaderSize = %d, wrote %d", h, n, len(enc))
				}
				back, n, err := ParseHeader(enc)
				if err != nil || back != h || n != len(enc) {
					t.Errorf("%+v: parsed back as %+v, %d, %v", h, back, n, err)
				}
			}
		}
	}
}

func TestAppendHeaderKeepsFieldsInTheirBits(t *testing.T) {
	// Bits outside a field's range must not leak into other fields.
	h := Header{Fin: false, Rsv: 0x8f | Rsv2, Opcode: 0xf1, Length: 3}
	got := AppendHeader(nil, h)
	if want := []byte{0x21, 0x03}; !bytes.Equal(got, want) {
		t.Errorf("AppendHeader = % x, want % x", got, want)
	}
}

func TestReadHeader(t *testing.T) {
	for _, tc := range rfcFrames {
		frame := hexBytes(t, tc.frame)
		for _, oneByte := range []bool{false, true} {
			br := bytes.NewReader(frame)
			var r io.Reader = br
			if oneByte {
				r = iotest.OneByteReader(br)
			}
			h, err := ReadHeader(r)
			if err != nil || h != tc.header {
				t.Errorf("%s: ReadHeader = %+v, %v; want %+v", tc.name, h, err, tc.header)
			}
			// ReadHeader must leave the payload unread.
			if rest := br.Len(); rest != len(frame)-tc.size {
				t.Errorf("%s: %d bytes left unread, want %d", tc.name, rest, len(frame)-tc.size)
			}
		}
	}
}

func TestReadHeaderErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  error
	}{
		{"empty", "", io.EOF},
		{"one byte", "81", io.ErrUnexpectedEOF},
		{"missing 16-bit length", "82 7e", io.ErrUnexpectedEOF},
		{"half a 16-bit length", "82 7e 01", io.ErrUnexpectedEOF},
		{"missing 64-bit length", "82 7f 00 00 00", io.ErrUnexpectedEOF},
		{"missing mask", "81 85 37 fa 21", io.ErrUnexpectedEOF},
		{"overflow", "82 7f 80 00 00 00 00 00 00 00", ErrLengthOverflow},
	}
	for _, tc := range tests {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(hexBytes(t, tc.input))
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			_, err := ReadHeader(r)
			if err != tc.want {
				t.Errorf("%s (one byte at a time: %v): err = %v, want %v", tc.name, oneByte, err, tc.want)
			}
		}
	}

	// Errors other than EOF come back as they are.
	boom := errors.New("boom")
	if _, err := ReadHeader(iotest.ErrReader(boom)); err != boom {
		t.Errorf("failing reader: err = %v, want %v", err, boom)
	}
	r := io.MultiReader(bytes.NewReader([]byte{0x82, 0x7e}), iotest.ErrReader(boom))
	if _, err := ReadHeader(r); err != boom {
		t.Errorf("reader failing after 2 bytes: err = %v, want %v", err, boom)
	}
}

func TestHeaderCheck(t *testing.T) {
	masked := func(h Header) Header {
		h.Masked = true
		h.Mask = rfcKey
		return h
	}
	type checkCase struct {
		name       string
		h          Header
		allowedRsv byte
		fromClient bool
		want       error
	}
	text := Header{Fin: true, Opcode: OpText, Length: 5}
	tests := []checkCase{
		{"server text", text, 0, false, nil},
		{"client text", masked(text), 0, true, nil},
		{"client binary, long", masked(Header{Fin: true, Opcode: OpBinary, Length: 1<<63 - 1}), 0, true, nil},
		{"server continuation", Header{Fin: true, Opcode: OpContinuation, Length: 1000}, 0, false, nil},
		{"fragmented text", Header{Opcode: OpText, Length: 1000}, 0, false, nil},
		{"fragmented continuation", Header{Opcode: OpContinuation}, 0, false, nil},

		{"unmasked client frame", text, 0, true, ErrUnmasked},
		{"unmasked client ping", Header{Fin: true, Opcode: OpPing}, 0, true, ErrUnmasked},
		{"masked server frame", masked(text), 0, false, ErrMasked},
		{"masked server close", masked(Header{Fin: true, Opcode: OpClose, Length: 2}), 0, false, ErrMasked},

		{"rsv1 not negotiated", Header{Fin: true, Rsv: Rsv1, Opcode: OpText}, 0, false, ErrReservedBits},
		{"rsv2 not negotiated", Header{Fin: true, Rsv: Rsv2, Opcode: OpText}, 0, false, ErrReservedBits},
		{"rsv3 not negotiated", Header{Fin: true, Rsv: Rsv3, Opcode: OpText}, 0, false, ErrReservedBits},
		{"all rsv not negotiated", Header{Fin: true, Rsv: Rsv1 | Rsv2 | Rsv3, Opcode: OpText}, 0, false, ErrReservedBits},
		{"rsv1 negotiated", Header{Fin: true, Rsv: Rsv1, Opcode: OpText}, Rsv1, false, nil},
		{"rsv1 negotiated, client", masked(Header{Fin: true, Rsv: Rsv1, Opcode: OpBinary}), Rsv1, true, nil},
		{"rsv1 negotiated, unused", text, Rsv1, false, nil},
		{"rsv2 with only rsv1 negotiated", Header{Fin: true, Rsv: Rsv2, Opcode: OpText}, Rsv1, false, ErrReservedBits},
		{"rsv1+rsv3 with only rsv1 negotiated", Header{Fin: true, Rsv: Rsv1 | Rsv3, Opcode: OpText}, Rsv1, false, ErrReservedBits},
		{"rsv1+rsv3 with both negotiated", Header{Fin: true, Rsv: Rsv1 | Rsv3, Opcode: OpText}, Rsv1 | Rsv3, false, nil},
		{"all rsv negotiated", Header{Fin: true, Rsv: Rsv1 | Rsv2 | Rsv3, Opcode: OpText}, Rsv1 | Rsv2 | Rsv3, false, nil},
		{"rsv1 negotiated, first fragment", Header{Rsv: Rsv1, Opcode: OpBinary, Length: 10}, Rsv1, false, nil},

		// A negotiated bit marks the first frame of a message only.
		{"rsv1 negotiated, continuation", Header{Rsv: Rsv1, Opcode: OpContinuation}, Rsv1, false, ErrRsvContinuation},
		{"rsv1 negotiated, final continuation", masked(Header{Fin: true, Rsv: Rsv1, Opcode: OpContinuation}), Rsv1, true, ErrRsvContinuation},
		{"rsv1 negotiated, ping", Header{Fin: true, Rsv: Rsv1, Opcode: OpPing}, Rsv1, false, ErrRsvControl},
		{"rsv1 negotiated, pong", Header{Fin: true, Rsv: Rsv1, Opcode: OpPong}, Rsv1, false, ErrRsvControl},
		{"rsv1 negotiated, close", masked(Header{Fin: true, Rsv: Rsv1, Opcode: OpClose, Length: 2}), Rsv1, true, ErrRsvControl},
		{"rsv2 on a continuation, only rsv1 negotiated", Header{Rsv: Rsv2, Opcode: OpContinuation}, Rsv1, false, ErrReservedBits},
		{"rsv1 on a ping, not negotiated", Header{Fin: true, Rsv: Rsv1, Opcode: OpPing}, 0, false, ErrReservedBits},

		{"close 125 bytes", Header{Fin: true, Opcode: OpClose, Length: 125}, 0, false, nil},
		{"ping 125 bytes", Header{Fin: true, Opcode: OpPing, Length: 125}, 0, false, nil},
		{"pong 0 bytes", Header{Fin: true, Opcode: OpPong}, 0, false, nil},
		{"close 126 bytes", Header{Fin: true, Opcode: OpClose, Length: 126}, 0, false, ErrControlTooLong},
		{"ping 126 bytes", Header{Fin: true, Opcode: OpPing, Length: 126}, 0, false, ErrControlTooLong},
		{"pong 65536 bytes, client", masked(Header{Fin: true, Opcode: OpPong, Length: 65536}), 0, true, ErrControlTooLong},
		{"ping 2^63-1 bytes", Header{Fin: true, Opcode: OpPing, Length: 1<<63 - 1}, 0, false, ErrControlTooLong},
		{"text 126 bytes", Header{Fin: true, Opcode: OpText, Length: 126}, 0, false, nil},

		{"fragmented close", Header{Opcode: OpClose, Length: 2}, 0, false, ErrControlFragmented},
		{"fragmented ping", Header{Opcode: OpPing}, 0, false, ErrControlFragmented},
		{"fragmented pong, client", masked(Header{Opcode: OpPong, Length: 125}), 0, true, ErrControlFragmented},
	}
	for op := Opcode(0); op < 16; op++ {
		var want error
		if op >= 3 && op <= 7 || op >= 0xb {
			want = ErrReservedOpcode
		}
		h := Header{Fin: true, Opcode: op}
		tests = append(tests,
			checkCase{"server opcode " + op.String(), h, 0, false, want},
			checkCase{"client opcode " + op.String(), masked(h), Rsv1, true, want},
		)
	}
	for _, tc := range tests {
		if got := tc.h.Check(tc.allowedRsv, tc.fromClient); got != tc.want {
			t.Errorf("%s: Check(%02x, %v) = %v, want %v", tc.name, tc.allowedRsv, tc.fromClient, got, tc.want)
		}
	}
}

func TestHeaderCheckSeveralViolations(t *testing.T) {
	// The order in which Check tests the rules is not specified, but it must
	// report one of the rules that the header breaks.
	tests := []struct {
		h          Header
		fromClient bool
		want       []error
	}{
		{Header{Opcode: 0x3, Rsv: Rsv2}, true, []error{ErrReservedOpcode, ErrReservedBits, ErrUnmasked}},
		{Header{Opcode: OpPing, Length: 200, Masked: true}, false, []error{ErrMasked, ErrControlTooLong, ErrControlFragmented}},
		{Header{Opcode: OpClose, Length: 126, Masked: true}, true, []error{ErrControlTooLong, ErrControlFragmented}},
		{Header{Opcode: 0xb, Length: 126}, false, []error{ErrReservedOpcode, ErrControlTooLong, ErrControlFragmented}},
	}
	for _, tc := range tests {
		got := tc.h.Check(0, tc.fromClient)
		found := false
		for _, w := range tc.want {
			found = found || got == w
		}
		if !found {
			t.Errorf("%+v fromClient=%v: Check = %v, want one of %v", tc.h, tc.fromClient, got, tc.want)
		}
	}
}

func TestCheckErrorsCloseWithProtocolError(t *testing.T) {
	for _, err := range []error{
		ErrReservedOpcode, ErrReservedBits, ErrUnmasked, ErrMasked,
		ErrControlTooLong, ErrControlFragmented, ErrUnexpectedContinue,
		ErrUnfinishedMessage, ErrLengthOverflow, ErrRsvContinuation, ErrRsvControl,
	} {
		var e *Error
		if !errors.As(err, &e) || e.Code != StatusProtocolError {
			t.Errorf("%v: not an *Error with status 1002", err)
		}
		if !strings.HasPrefix(err.Error(), "websocket: ") || len(err.Error()) <= len("websocket: ") {
			t.Errorf("%q: unexpected message form", err.Error())
		}
	}
}

func TestOpcode(t *testing.T) {
	tests := []struct {
		op       Opcode
		control  bool
		reserved bool
		name     string
	}{
		{0x0, false, false, "continuation"},
		{0x1, false, false, "text"},
		{0x2, false, false, "binary"},
		{0x3, false, true, "reserved 0x3"},
		{0x4, false, true, "reserved 0x4"},
		{0x5, false, true, "reserved 0x5"},
		{0x6, false, true, "reserved 0x6"},
		{0x7, false, true, "reserved 0x7"},
		{0x8, true, false, "close"},
		{0x9, true, false, "ping"},
		{0xa, true, false, "pong"},
		{0xb, true, true, "reserved 0xb"},
		{0xc, true, true, "reserved 0xc"},
		{0xd, true, true, "reserved 0xd"},
		{0xe, true, true, "reserved 0xe"},
		{0xf, true, true, "reserved 0xf"},
	}
	for _, tc := range tests {
		if got := tc.op.IsControl(); got != tc.control {
			t.Errorf("%#x IsControl = %v", byte(tc.op), got)
		}
		if got := tc.op.IsReserved(); got != tc.reserved {
			t.Errorf("%#x IsReserved = %v", byte(tc.op), got)
		}
		if got := tc.op.String(); got != tc.name {
			t.Errorf("%#x String = %q, want %q", byte(tc.op), got, tc.name)
		}
	}
}

func TestParseHeaderAllocs(t *testing.T) {
	frames := [][]byte{
		hexBytes(t, "81 05"),
		hexBytes(t, "81 85 37 fa 21 3d"),
		hexBytes(t, "82 ff 00 00 00 00 00 01 00 00 37 fa 21 3d"),
	}
	var sink int64
	allocs := testing.AllocsPerRun(1000, func() {
		for _, f := range frames {
			h, _, _ := ParseHeader(f)
			sink += h.Length
		}
	})
	if allocs != 0 {
		t.Errorf("ParseHeader allocates %v times per run, want 0", allocs)
	}
	_ = sink
}

func TestAppendHeaderAllocs(t *testing.T) {
	headers := []Header{
		{Fin: true, Opcode: OpText, Length: 5},
		{Fin: true, Opcode: OpBinary, Length: 256, Masked: true, Mask: rfcKey},
		{Fin: true, Opcode: OpBinary, Length: 1 << 40, Masked: true, Mask: rfcKey},
	}
	buf := make([]byte, 0, MaxHeaderSize)
	allocs := testing.AllocsPerRun(1000, func() {
		for _, h := range headers {
			buf = AppendHeader(buf[:0], h)
		}
	})
	if allocs != 0 {
		t.Errorf("AppendHeader into a buffer with room allocates %v times per run, want 0", allocs)
	}
	if cap(buf) != MaxHeaderSize {
		t.Errorf("AppendHeader grew a buffer that had room: cap %d", cap(buf))
	}
}

func BenchmarkParseHeader(b *testing.B) {
	for _, bc := range []struct {
		name  string
		frame string
	}{
		{"2B", "81 05"},
		{"6B-masked", "81 85 37 fa 21 3d"},
		{"14B-masked", "82 ff 00 00 00 00 00 01 00 00 37 fa 21 3d"},
	} {
		frame := hexBytes(b, bc.frame)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var sink int64
			for b.Loop() {
				h, n, err := ParseHeader(frame)
				if err != nil {
					b.Fatal(err)
				}
				sink += h.Length + int64(n)
			}
			_ = sink
		})
	}
}

func BenchmarkAppendHeader(b *testing.B) {
	for _, bc := range []struct {
		name string
		h    Header
	}{
		{"2B", Header{Fin: true, Opcode: OpText, Length: 5}},
		{"6B-masked", Header{Fin: true, Opcode: OpText, Length: 5, Masked: true, Mask: rfcKey}},
		{"14B-masked", Header{Fin: true, Opcode: OpBinary, Length: 65536, Masked: true, Mask: rfcKey}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, MaxHeaderSize)
			for b.Loop() {
				buf = AppendHeader(buf[:0], bc.h)
			}
			if len(buf) != bc.h.Size() {
				b.Fatalf("wrote %d bytes, want %d", len(buf), bc.h.Size())
			}
		})
	}
}
