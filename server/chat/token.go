package chat

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
)

// Resume tokens. The Joined a client gets carries a token, a secret it
// sends back with its next Join of the room (version 2 of the protocol).
// The token's owner — a hash of it, which the server stores, while the
// token itself is never stored — holds the client's nickname claim and
// names its messages for de-duplication. So a client that comes back with
// its token gets its nickname back, however its last connection ended,
// and the messages it sends again are stored once; and nobody else,
// without the token, can do either in its name.
//
// A client may present a token the server did not issue: it is then the
// owner of whatever that token hashes to, which is as good as a new one.

// Bounds on a token presented in a Join.
const (
	minToken = 16
	maxToken = 64
)

// newToken returns a new token: 26 characters from crypto/rand, 130 bits.
func newToken() string { return rand.Text() }

// validToken reports whether a client may present s as its token: 16 to
// 64 ASCII letters, digits, '-' and '_'.
func validToken(s string) bool {
	if len(s) < minToken || len(s) > maxToken {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// ownerOf returns the owner of token: 16 characters of its SHA-256.
func ownerOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// msgID returns the de-duplication name of a message the owner sent with
// the client's ID id, or "" for id 0 (a version 1 client's), which is not
// de-duplicated.
func msgID(owner string, id uint64) string {
	if id == 0 {
		return ""
	}
	return owner + "." + strconv.FormatUint(id, 36)
}
