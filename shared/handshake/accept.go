package handshake

import (
	"crypto/sha1"
	"encoding/base64"
)

// KeyGUID is the fixed string a server appends to the client's
// Sec-WebSocket-Key before hashing it (RFC 6455 §1.3).
const KeyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value that answers the client's
// Sec-WebSocket-Key: the base64 encoding of SHA-1(key + KeyGUID).
func AcceptKey(key string) string {
	var buf [64 + len(KeyGUID)]byte
	sum := sha1.Sum(append(append(buf[:0], key...), KeyGUID...))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// ValidKey reports whether key is a valid Sec-WebSocket-Key: the base64
// encoding of exactly 16 bytes.
func ValidKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	var buf [18]byte
	n, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(key))
	return err == nil && n == 16
}
