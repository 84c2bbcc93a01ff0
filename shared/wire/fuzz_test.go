package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for the package. Seeds that the fuzzer found worth keeping
// are in testdata/fuzz/<FuzzName>; run one target with, for example,
//
//	go test ./shared/wire -run '^$' -fuzz '^FuzzParseHeader$' -fuzztime 30s

func FuzzParseHeader(f *testing.F) {
	for _, frame := range []string{
		"",
		"81",
		"81 05 48 65 6c 6c 6f",
		"81 85 37 fa 21 3d 7f 9f 4d 51 58",
		"01 03 48 65 6c",
		"80 02 6c 6f",
		"89 05 48 65 6c 6c 6f",
		"8a 85 37 fa 21 3d",
		"82 7e 01 00",
		"82 7e 00 05",
		"82 7f 00 00 00 00 00 01 00 00",
		"82 7f 00 00 00 00 00 00 00 05",
		"82 7f 7f ff ff ff ff ff ff ff",
		"82 7f 80 00 00 00 00 00 00 00",
		"82 ff ff ff ff ff ff ff ff ff 01 02 03 04",
		"82 ff 00 00 00 00 00 01 00 00 37 fa",
		"f3 7d",
		"0f fe 00",
	} {
		f.Add(hexBytes(f, frame))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, n, err := ParseHeader(data)
		if err != nil {
			if h != (Header{}) || n != 0 {
				t.Fatalf("error %v with header %+v, size %d", err, h, n)
			}
			switch err {
			case ErrShortHeader:
				if len(data) >= 2 && len(data) >= HeaderSize(data[0], data[1]) {
					t.Fatalf("ErrShortHeader for a complete header: % x", data)
				}
			case ErrLengthOverflow:
				if data[1]&0x7f != 127 || data[2]&0x80 == 0 {
					t.Fatalf("ErrLengthOverflow for % x", data)
				}
			default:
				t.Fatalf("unexpected error %v", err)
			}
			return
		}

		if n != HeaderSize(data[0], data[1]) || n > len(data) {
			t.Fatalf("size %d, HeaderSize %d, input %d bytes", n, HeaderSize(data[0], data[1]), len(data))
		}
		if h.Length < 0 {
			t.Fatalf("negative length %d", h.Length)
		}
		if h.Fin != (data[0]&0x80 != 0) || h.Rsv != data[0]&0x70 || h.Opcode != Opcode(data[0]&0x0f) || h.Masked != (data[1]&0x80 != 0) {
			t.Fatalf("% x parsed as %+v", data[:n], h)
		}
		if h.Masked && !bytes.Equal(h.Mask[:], data[n-4:n]) {
			t.Fatalf("mask %x, want the last four header bytes % x", h.Mask, data[n-4:n])
		}
		if !h.Masked && h.Mask != [4]byte{} {
			t.Fatalf("unmasked header with a mask %x", h.Mask)
		}

		// Re-encoding gives the shortest form, which parses to the same
		// header, and the same bytes if the input was in that form too.
		enc := AppendHeader(nil, h)
		if len(enc) != h.Size() || len(enc) > n {
			t.Fatalf("AppendHeader wrote %d bytes, Size %d, parsed %d", len(enc), h.Size(), n)
		}
		h2, n2, err := ParseHeader(enc)
		if err != nil || h2 != h || n2 != len(enc) {
			t.Fatalf("re-parse of % x: %+v, %d, %v; want %+v", enc, h2, n2, err, h)
		}
		l7 := data[1] & 0x7f
		minimal := l7 < 126 || l7 == 126 && h.Length > 125 || l7 == 127 && h.Length > 0xffff
		if minimal != bytes.Equal(enc, data[:n]) {
			t.Fatalf("minimal=%v but AppendHeader = % x for input % x", minimal, enc, data[:n])
		}

		// ReadHeader agrees and stops at the end of the header.
		r := bytes.NewReader(data)
		h3, err := ReadHeader(r)
		if err != nil || h3 != h || r.Len() != len(data)-n {
			t.Fatalf("ReadHeader = %+v, %v with %d bytes left; want %+v, %d left", h3, err, r.Len(), h, len(data)-n)
		}

		for _, rsv := range []byte{0, Rsv1, Rsv1 | Rsv2 | Rsv3} {
			for _, fromClient := range []bool{false, true} {
				if err := h.Check(rsv, fromClient); err != nil {
					var e *Error
					if !errors.As(err, &e) || e.Code != StatusProtocolError {
						t.Fatalf("Check returned %v", err)
					}
				}
			}
		}
	})
}

func FuzzMask(f *testing.F) {
	f.Add(uint32(0x3d21fa37), uint16(0), []byte("Hello"), []byte{})
	f.Add(uint32(0x04030201), uint16(1), []byte("Hello, WebSocket! This payload arrives in pieces."), []byte{1, 2, 3, 5, 7, 13})
	f.Add(uint32(0xffffffff), uint16(3), bytes.Repeat([]byte{0xaa}, 100), []byte{16, 32, 31, 0, 8})
	f.Add(uint32(0), uint16(65535), bytes.Repeat([]byte{0x55}, 300), []byte{33, 64, 1})
	f.Add(uint32(0x12345678), uint16(2), []byte{}, []byte{0})
	f.Fuzz(func(t *testing.T, key uint32, pos16 uint16, data, cuts []byte) {
		k := [4]byte{byte(key), byte(key >> 8), byte(key >> 16), byte(key >> 24)}
		pos := int(pos16)

		want := bytes.Clone(data)
		maskBytewise(k, pos, want)

		whole := bytes.Clone(data)
		next := Mask(k, pos, whole)
		if next != (pos+len(data))%4 {
			t.Fatalf("Mask returned %d, want %d", next, (pos+len(data))%4)
		}
		if !bytes.Equal(whole, want) {
			t.Fatalf("Mask(%x, %d) = % x, want % x", k, pos, whole, want)
		}

		// Masking in chunks whose sizes come from cuts, then the rest.
		chunked := bytes.Clone(data)
		p, i := pos, 0
		for _, c := range cuts {
			end := min(i+int(c), len(chunked))
			p = Mask(k, p, chunked[i:end])
			i = end
		}
		p = Mask(k, p, chunked[i:])
		if p != next || !bytes.Equal(chunked, whole) {
			t.Fatalf("chunks %v: % x, position %d; want % x, %d", cuts, chunked, p, whole, next)
		}

		// Masking is its own inverse.
		Mask(k, pos, whole)
		if !bytes.Equal(whole, data) {
			t.Fatalf("masking twice gave % x, want % x", whole, data)
		}
	})
}

func FuzzUTF8Validator(f *testing.F) {
	for _, tc := range utf8Cases {
		f.Add(tc.in, uint16(len(tc.in)/2))
	}
	f.Add([]byte("κόσμε"), uint16(3))
	f.Add([]byte("𝄞𝄞𝄞"), uint16(5))
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		i := int(split) % (len(data) + 1)
		valid := utf8.Valid(data)
		failAt := firstImpossible(data)
		okUpTo := func(end int) bool { return failAt < 0 || end <= failAt }

		var v UTF8Validator
		if got := v.Write(data); got != (failAt < 0) || v.Complete() != valid {
			t.Fatalf("whole: Write = %v, Complete = %v; want %v, %v", got, v.Complete(), failAt < 0, valid)
		}

		v.Reset()
		if got := v.Write(data[:i]); got != okUpTo(i) {
			t.Fatalf("split at %d: first Write = %v, want %v", i, got, okUpTo(i))
		}
		if got := v.Complete(); got != utf8.Valid(data[:i]) {
			t.Fatalf("split at %d: Complete after first piece = %v", i, got)
		}
		if got := v.Write(data[i:]); got != (failAt < 0) || v.Complete() != valid {
			t.Fatalf("split at %d: second Write = %v, Complete = %v; want %v, %v", i, got, v.Complete(), failAt < 0, valid)
		}

		v.Reset()
		for k := range data {
			if got := v.Write(data[k : k+1]); got != okUpTo(k+1) {
				t.Fatalf("byte by byte: Write of byte %d (%02x) = %v, want %v", k, data[k], got, okUpTo(k+1))
			}
		}
		if v.Complete() != valid {
			t.Fatalf("byte by byte: Complete = %v, want %v", v.Complete(), valid)
		}
	})
}

func FuzzParseClose(f *testing.F) {
	for _, p := range [][]byte{
		nil,
		{0x03},
		{0x03, 0xe8},
		[]byte("\x03\xe8bye"),
		[]byte("\x0f\xa0κόσμε"),
		{0x03, 0xed},
		{0x03, 0xee, 'x'},
		{0x03, 0xf7},
		{0x00, 0x00},
		{0xff, 0xff},
		{0x03, 0xe8, 0xff},
		{0x03, 0xe8, 0xed, 0xa0, 0x80},
		{0x03, 0xe8, 0xe2, 0x82},
		append([]byte{0x03, 0xe8}, strings.Repeat("r", 123)...),
		append([]byte{0x03, 0xe8}, strings.Repeat("r", 124)...),
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClose(p)
		if err != nil {
			switch err {
			case ErrCloseTooShort:
				if len(p) != 1 {
					t.Fatalf("ErrCloseTooShort for %d bytes", len(p))
				}
			case ErrCloseCode:
				if len(p) < 2 || code != StatusCode(binary.BigEndian.Uint16(p)) || code.ValidOnWire() {
					t.Fatalf("ErrCloseCode for % x with code %d", p, code)
				}
			case ErrCloseReasonUTF8:
				if !code.ValidOnWire() || utf8.Valid(p[2:]) {
					t.Fatalf("ErrCloseReasonUTF8 for % x", p)
				}
			default:
				t.Fatalf("unexpected error %v", err)
			}
			if reason != "" {
				t.Fatalf("reason %q with error %v", reason, err)
			}
			return
		}

		if len(p) == 0 {
			if code != StatusNoStatusReceived || reason != "" {
				t.Fatalf("empty payload: %d %q", code, reason)
			}
			return
		}
		if !code.ValidOnWire() || code != StatusCode(binary.BigEndian.Uint16(p)) || reason != string(p[2:]) {
			t.Fatalf("ParseClose(% x) = %d, %q", p, code, reason)
		}
		out, err := AppendClose(nil, code, reason)
		if len(reason) > MaxCloseReason {
			// Too long for a control frame: ParseClose leaves that check
			// to the frame header, AppendClose refuses to build it.
			if err == nil {
				t.Fatalf("AppendClose accepted a %d-byte reason", len(reason))
			}
			return
		}
		if err != nil || !bytes.Equal(out, p) {
			t.Fatalf("AppendClose(%d, %q) = % x, %v; want % x", code, reason, out, err, p)
		}
	})
}
