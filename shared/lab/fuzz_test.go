package lab

import (
	"bytes"
	"testing"
)

// FuzzDecode checks that Decode never panics and that what it accepts is
// the one encoding of the message it returns: encoding it again gives the
// input back.
func FuzzDecode(f *testing.F) {
	for _, m := range []Message{
		&Session{ID: "abc"},
		&Handshake{Request: []byte("GET / HTTP/1.1\r\n\r\n"), Key: "k", SHA1: make([]byte, 20)},
		&Frame{Seq: 2, Sent: true, Micros: 99, Header: []byte{0x81, 0x05}, Payload: []byte("hello")},
		&Note{Text: "n"},
		&Fragment{N: 3, Text: "abc"},
		&Ping{},
		&Close{Code: 4001, Reason: "bye"},
		&Violate{Rule: RuleUTF8},
	} {
		f.Add(Append(nil, m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		if again := Append(nil, m); !bytes.Equal(again, b) {
			t.Fatalf("Decode(% x) = %#v, which encodes as % x", b, m, again)
		}
	})
}
