package streamwire

import (
	"bytes"
	"errors"
	"testing"
)

// Fuzz targets for the package; run one with, for example,
//
//	go test ./shared/streamwire -run '^$' -fuzz '^FuzzParse$' -fuzztime 1m

// FuzzParse checks that Parse never panics, never reads past b, and that
// what it accepts encodes back to the same bytes: every frame has one
// encoding.
func FuzzParse(f *testing.F) {
	for _, seed := range [][]byte{
		{1, 1, 2, 'h', 'i'},
		{2, 0x80, 0x01, 0},
		{8, 2, 2, 0x03, 0xe8},
		{9, 0, 0},
		{10, 0xff, 0x01, 0},
		{16, 0, 1, 'x', 1, 2, 3},
		{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0},
		{2, 5, 0xff, 0xff, 0x03},
	} {
		f.Add(seed, 64)
	}
	f.Fuzz(func(t *testing.T, b []byte, limit int) {
		limit = limit % (1 << 16)
		for off := 0; off < len(b); {
			fr, n, err := Parse(b[off:], limit)
			if err != nil {
				if n != 0 {
					t.Fatalf("error %v with length %d", err, n)
				}
				var tl *TooLargeError
				if errors.As(err, &tl) && tl.Size <= uint64(max(limit, 0)) {
					t.Fatalf("%v, for a payload of %d within the limit %d", err, tl.Size, limit)
				}
				return
			}
			if n <= 0 || n > len(b)-off || len(fr.Payload) > max(limit, 0) {
				t.Fatalf("Parse returned length %d of %d, payload %d (limit %d)", n, len(b)-off, len(fr.Payload), limit)
			}
			if again := AppendFrame(nil, fr); !bytes.Equal(again, b[off:off+n]) {
				t.Fatalf("% x parsed as %+v, which encodes as % x", b[off:off+n], fr, again)
			}
			off += n
		}
	})
}

// FuzzHello checks that Parse never panics, and that what it
// accepts encodes and decodes to the same Hello.
func FuzzHello(f *testing.F) {
	ok, _ := (&Hello{Session: "a.b", Subprotocol: "echo", ReadLimit: 1 << 20, MaxPost: 1 << 20, Window: 1 << 20}).Append(nil)
	f.Add(ok)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x40, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Hello
		if err := h.Parse(b); err != nil {
			return
		}
		enc, err := h.Append(nil)
		if err != nil {
			t.Fatalf("%+v decoded but does not encode: %v", h, err)
		}
		var again Hello
		if err := again.Parse(enc); err != nil || again != h {
			t.Fatalf("%+v encodes as % x, which decodes as %+v, %v", h, enc, again, err)
		}
	})
}
