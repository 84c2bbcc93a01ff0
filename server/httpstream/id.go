package httpstream

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
)

// A session id is the instance that owns the session, a dot, and a secret:
// 16 bytes from crypto/rand (128 bits), base64url-encoded without padding.
// The instance lets any instance pass a request to the owner (Forwarder);
// the secret makes the id unguessable.
const (
	secretBytes    = 16
	secretLen      = 22 // base64url of 16 bytes, unpadded
	maxInstanceLen = 32
	instanceBytes  = 6 // a random instance name: 8 characters
)

// newInstance returns a random name for an instance that has no
// Forwarder to name it.
func newInstance() string { return random(instanceBytes) }

// newID returns a new session id owned by instance.
func newID(instance string) string { return instance + "." + random(secretBytes) }

// random returns n bytes from crypto/rand, base64url-encoded.
func random(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand's documentation)
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseID checks that id is a well-formed session id, and returns its
// instance.
func parseID(id string) (instance string, ok bool) {
	instance, secret, ok := strings.Cut(id, ".")
	if !ok || !ValidInstance(instance) || len(secret) != secretLen {
		return "", false
	}
	for i := 0; i < len(secret); i++ {
		if !isNameByte(secret[i]) {
			return "", false
		}
	}
	// The last character holds 2 bits of the secret and 4 of padding,
	// which must be zero for the encoding to be the one newID makes.
	if strings.IndexByte("AQgw", secret[secretLen-1]) < 0 {
		return "", false
	}
	return instance, true
}

// ValidInstance reports whether name may name an instance in session ids:
// 1 to 32 of the characters of base64url (letters, digits, - and _), so
// that it is also one token of a NATS subject.
func ValidInstance(name string) bool {
	if len(name) == 0 || len(name) > maxInstanceLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i]) {
			return false
		}
	}
	return true
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
