package hixie

import (
	"bufio"
	"bytes"
	"testing"
	"unicode/utf8"
)

// FuzzReadText checks the draft-76 text frame reader on any bytes: it never
// panics, never returns more than its limit, and accepts a frame only if its
// text is UTF-8 up to the first 0xFF, which it consumes and no more.
func FuzzReadText(f *testing.F) {
	f.Add([]byte("hello\xffrest"), uint16(16))
	f.Add([]byte("no end"), uint16(100))
	f.Add([]byte("caf\xe9\xff"), uint16(16))
	f.Add(bytes.Repeat([]byte("x"), 5000), uint16(4096))
	f.Fuzz(func(t *testing.T, in []byte, limit uint16) {
		br := bufio.NewReaderSize(bytes.NewReader(in), 16) // small, so that frames span reads
		text, err := readText(br, nil, int(limit))
		if len(text) > int(limit) {
			t.Fatalf("returned %d bytes, over the limit of %d", len(text), limit)
		}
		if err != nil {
			return
		}
		end := bytes.IndexByte(in, frameEnd)
		if end < 0 || !bytes.Equal(text, in[:end]) || !utf8.Valid(text) {
			t.Fatalf("accepted %q from %q", text, in)
		}
		if rest := br.Buffered(); len(in)-end-1 < rest {
			t.Fatalf("consumed past the frame's end")
		}
		next, _ := br.Peek(1)
		if end+1 < len(in) && !bytes.Equal(next, in[end+1:end+2]) {
			t.Fatalf("the next byte is %q, want %q", next, in[end+1:end+2])
		}
	})
}
