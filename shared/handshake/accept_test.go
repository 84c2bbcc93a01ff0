package handshake

import (
	"crypto/sha1"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestAcceptKey(t *testing.T) {
	tests := []struct{ key, accept string }{
		// RFC 6455 §1.3 and §4.2.2.
		{"dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		// The example of the handshake article on Wikipedia.
		{"x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk="},
	}
	for _, tc := range tests {
		if got := AcceptKey(tc.key); got != tc.accept {
			t.Errorf("AcceptKey(%q) = %q, want %q", tc.key, got, tc.accept)
		}
	}
	if KeyGUID != "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" {
		t.Errorf("KeyGUID = %q", KeyGUID)
	}
}

func TestAcceptKeyAnyLength(t *testing.T) {
	// AcceptKey hashes whatever it is given, including keys longer than its
	// stack buffer.
	for _, n := range []int{0, 1, 23, 24, 25, 63, 64, 65, 100, 1000} {
		key := strings.Repeat("k", n)
		sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		want := base64.StdEncoding.EncodeToString(sum[:])
		if got := AcceptKey(key); got != want {
			t.Errorf("AcceptKey of %d bytes = %q, want %q", n, got, want)
		}
		if len(AcceptKey(key)) != 28 {
			t.Errorf("AcceptKey of %d bytes has length %d", n, len(AcceptKey(key)))
		}
	}
}

func TestValidKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"dGhlIHNhbXBsZSBub25jZQ==", true},
		{"x3JJHMbDL1EzLkh9GBhXDw==", true},
		{"AAAAAAAAAAAAAAAAAAAAAA==", true},
		{"/////////////////////w==", true},
		{"+/+/+/+/+/+/+/+/+/+/+w==", true},

		// Wrong length.
		{"", false},
		{"dGhlIHNhbXBsZSBub25jZQ=", false},
		{"dGhlIHNhbXBsZSBub25jZQ", false},
		{"dGhlIHNhbXBsZSBub25jZQ===", false},
		{"dGhlIHNhbXBsZSBub25jZQ==A", false},
		{" dGhlIHNhbXBsZSBub25jZQ==", false},
		{"dGhlIHNhbXBsZSBub25jZQ== ", false},
		{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", false}, // 32 bytes

		// Not base64.
		{"dGhlIHNhbXBsZSBub25jZ!==", false},
		{"dGhlIHNhbXBs ZSBub25jZQ=", false},
		{"dGhlIHNhbXBsZSBub25jZQ\x00\x00", false},
		{"-_-_-_-_-_-_-_-_-_-_-w==", false}, // URL alphabet
		{"dGhlIHNhbXBsZSBub25jZQ\r\n", false},
		{"dGhlIHNhbXBsZSBub25jZ\u00e9=", false}, // 24 bytes, one of them non-ASCII

		// 24 characters that decode to other than 16 bytes.
		{"dGhlIHNhbXBsZSBub25jZQAA", false}, // 18 bytes
		{"dGhlIHNhbXBsZSBub25jZQA=", false}, // 17 bytes

		// Padding misuse.
		{"dGhlIHNhbXBsZSBub25jZR==", false}, // non-zero bits in the last character
		{"dGhlIHNhbXBsZSBub25jZQ=A", false},
		{"dGhlIHNhbXBsZSBub25j==ZQ", false},
		{"dGhlIHNhbXBsZSBub25jZ===", false},
		{"========================", false},
		{"==dGhlIHNhbXBsZSBub25jZQ", false},
	}
	for _, tc := range tests {
		if got := ValidKey(tc.key); got != tc.want {
			t.Errorf("ValidKey(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
}

func TestValidKeyRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		n := rng.IntN(24)
		raw := make([]byte, n)
		for j := range raw {
			raw[j] = byte(rng.Uint32())
		}
		key := base64.StdEncoding.EncodeToString(raw)
		if got := ValidKey(key); got != (n == 16) {
			t.Fatalf("ValidKey(%q), encoding %d bytes = %v", key, n, got)
		}
		if n == 16 {
			// Any change to the last significant character's padding bits
			// breaks the strict encoding.
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
			last := strings.IndexByte(alphabet, key[21])
			for low := 1; low < 16; low++ {
				bad := key[:21] + string(alphabet[last|low]) + "=="
				if ValidKey(bad) {
					t.Fatalf("ValidKey(%q) = true; the padding bits are not zero", bad)
				}
			}
		}
	}
}
