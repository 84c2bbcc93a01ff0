package wire

import (
	"bytes"
	"strconv"
	"testing"
)

// maskBytewise is the RFC's definition of masking, one byte at a time.
func maskBytewise(key [4]byte, pos int, b []byte) {
	for i := range b {
		b[i] ^= key[(pos+i)%4]
	}
}

func TestMaskMatchesDefinition(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	src := make([]byte, 300)
	for i := range src {
		src[i] = byte(i * 7)
	}
	for n := 0; n <= len(src); n++ {
		for pos := 0; pos < 4; pos++ {
			want := bytes.Clone(src[:n])
			maskBytewise(key, pos, want)
			got := bytes.Clone(src[:n])
			if next := Mask(key, pos, got); next != (pos+n)%4 {
				t.Fatalf("n=%d pos=%d: next position %d, want %d", n, pos, next, (pos+n)%4)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("n=%d pos=%d: got % x, want % x", n, pos, got, want)
			}
		}
	}
}

func TestMaskInChunksEqualsWhole(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	src := []byte("Hello, WebSocket! This payload arrives in pieces of odd sizes.")
	whole := bytes.Clone(src)
	Mask(key, 0, whole)
	for _, chunk := range []int{1, 2, 3, 5, 7, 13, 17, 33} {
		got := bytes.Clone(src)
		pos := 0
		for i := 0; i < len(got); i += chunk {
			pos = Mask(key, pos, got[i:min(i+chunk, len(got))])
		}
		if !bytes.Equal(got, whole) {
			t.Errorf("chunks of %d: got % x, want % x", chunk, got, whole)
		}
	}
}

func TestMaskRFCExample(t *testing.T) {
	// RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
	b := []byte("Hello")
	Mask([4]byte{0x37, 0xfa, 0x21, 0x3d}, 0, b)
	if want := []byte{0x7f, 0x9f, 0x4d, 0x51, 0x58}; !bytes.Equal(b, want) {
		t.Fatalf("got % x, want % x", b, want)
	}
}

// BenchmarkMask compares masking with a plain copy of the same size, so the
// ratio of their throughputs can be read from one run.
func BenchmarkMask(b *testing.B) {
	for _, size := range []int{16, 1024, 64 << 10} {
		buf := make([]byte, size)
		dst := make([]byte, size)
		b.Run("mask/"+sizeName(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				Mask([4]byte{1, 2, 3, 4}, 1, buf)
			}
		})
		b.Run("copy/"+sizeName(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				copy(dst, buf)
			}
		})
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}
