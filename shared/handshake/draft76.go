package handshake

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"math"
)

// This file is history: the opening handshake of draft-ietf-hybi-
// thewebsocketprotocol-00, better known as draft-hixie-thewebsocketprotocol-76
// ("hixie-76"), which browsers shipped in 2010 before RFC 6455 replaced it
// in 2011. It is kept so that a page can show the computation step by step
// and explain why the protocol was abandoned; Duplex's real server never
// uses it.
//
// The client sent two keys, Sec-WebSocket-Key1 and Sec-WebSocket-Key2, each
// a number multiplied by a count of spaces and then scattered with spaces
// and random non-digit characters, and eight random bytes (key3) after the
// headers, as a request body that no Content-Length announced. The server
// took each key's digits as a number, divided it by the key's spaces, wrote
// both quotients as 32-bit big-endian integers followed by key3, and
// answered with the MD5 of those 16 bytes, after the headers of its 101
// response.
//
// Why it was replaced:
//
//   - No masking. Frames went over the wire exactly as the page wrote them,
//     so a script could choose the bytes a transparent proxy or cache saw
//     and make them look like an HTTP request; in late 2010 researchers
//     showed that proxies which did not understand the Upgrade could be
//     made to cache an attacker's response for another host, and Firefox
//     and Opera disabled WebSockets until a fix. RFC 6455 masks every
//     client frame with a fresh random key the page cannot predict.
//   - Proxies. Key3 was a body without a Content-Length and the response
//     had 16 bytes after its headers: intermediaries that understood HTTP
//     dropped or held back those bytes, so the handshake stalled behind
//     them. RFC 6455 has no body at all; its answer, Sec-WebSocket-Accept,
//     is a header.
//   - No close codes and few frame types. A text frame was 0x00, UTF-8,
//     0xFF; the only control frame was the closing 0xFF 0x00, with no
//     status code or reason, no ping or pong, and binary frames were never
//     specified in practice. RFC 6455 has opcodes, close codes (1000,
//     1001, ...) with reasons, ping and pong, binary messages, fragmentation
//     and extensions.
//   - The keys were an obscure way to prove the server understood
//     WebSockets; RFC 6455 replaced them with one base64 nonce and SHA-1
//     (AcceptKey).

// Draft76Steps records each step of the draft-76 handshake computation, in
// order, from the two keys and key3 to the response.
type Draft76Steps struct {
	// Digits1 and Digits2 are the numbers formed by the decimal digits of
	// Sec-WebSocket-Key1 and Sec-WebSocket-Key2, all other characters
	// ignored.
	Digits1, Digits2 uint64
	// Spaces1 and Spaces2 count the spaces (U+0020 only) in each key.
	Spaces1, Spaces2 int
	// Part1 and Part2 are Digits1/Spaces1 and Digits2/Spaces2; both
	// divisions are exact and their quotients fit in 32 bits.
	Part1, Part2 uint32
	// Challenge is Part1 and Part2 as 32-bit big-endian integers followed
	// by the 8 bytes of key3.
	Challenge [16]byte
	// Response is the MD5 digest of Challenge: the 16 bytes the server
	// sends after the headers of its 101 response.
	Response [16]byte
}

// Draft76KeyError reports a Sec-WebSocket-Key1 or Sec-WebSocket-Key2 that
// a draft-76 server must reject.
type Draft76KeyError struct {
	Key    string // "Sec-WebSocket-Key1" or "Sec-WebSocket-Key2"
	Reason string
}

func (e *Draft76KeyError) Error() string {
	return "handshake: draft-76 " + e.Key + ": " + e.Reason
}

// Draft76 computes the draft-76 handshake response to the keys key1 and
// key2 (the values of Sec-WebSocket-Key1 and Sec-WebSocket-Key2) and key3
// (the 8 bytes that follow the request headers), recording each step.
//
// It returns a *Draft76KeyError if a key has no digits, if its digits do
// not fit in 64 bits, if it has no spaces, if its number is not a multiple
// of its spaces, or if the quotient does not fit in 32 bits. The draft
// required the server to abort the connection in all those cases (the
// first two were not spelled out, but neither names a number). The other
// fields of the returned Draft76Steps then hold the steps completed before
// the failure.
func Draft76(key1, key2 string, key3 [8]byte) (Draft76Steps, error) {
	var s Draft76Steps
	var err error
	if s.Digits1, s.Spaces1, s.Part1, err = draft76Key("Sec-WebSocket-Key1", key1); err != nil {
		return s, err
	}
	if s.Digits2, s.Spaces2, s.Part2, err = draft76Key("Sec-WebSocket-Key2", key2); err != nil {
		return s, err
	}
	binary.BigEndian.PutUint32(s.Challenge[0:4], s.Part1)
	binary.BigEndian.PutUint32(s.Challenge[4:8], s.Part2)
	copy(s.Challenge[8:], key3[:])
	s.Response = md5.Sum(s.Challenge[:])
	return s, nil
}

// draft76Key returns the number formed by key's digits, the count of its
// spaces and their quotient, or an error naming the header name.
func draft76Key(name, key string) (digits uint64, spaces int, part uint32, err error) {
	fail := func(format string, args ...any) error {
		return &Draft76KeyError{Key: name, Reason: fmt.Sprintf(format, args...)}
	}
	seen := false
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case c == ' ':
			spaces++
		case '0' <= c && c <= '9':
			seen = true
			d := uint64(c - '0')
			if digits > (math.MaxUint64-d)/10 {
				return 0, 0, 0, fail("its digits form a number over 64 bits")
			}
			digits = digits*10 + d
		}
	}
	switch {
	case !seen:
		return 0, spaces, 0, fail("has no digits")
	case spaces == 0:
		return digits, 0, 0, fail("has no spaces to divide %d by", digits)
	case digits%uint64(spaces) != 0:
		return digits, spaces, 0, fail("%d is not a multiple of its %d spaces", digits, spaces)
	}
	q := digits / uint64(spaces)
	if q > math.MaxUint32 {
		return digits, spaces, 0, fail("%d / %d spaces = %d does not fit in 32 bits", digits, spaces, q)
	}
	return digits, spaces, uint32(q), nil
}
