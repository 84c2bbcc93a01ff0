package lab

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	tests := []Message{
		&Session{ID: "4f1c9a"},
		&Session{},
		&Handshake{
			Request:  []byte("GET /ws/lab?session=1 HTTP/1.1\r\nHost: x\r\n\r\n"),
			Rebuilt:  true,
			Key:      "dGhlIHNhbXBsZSBub25jZQ==",
			KeyGUID:  "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
			SHA1:     bytes.Repeat([]byte{0xb3}, 20),
			Accept:   "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
			Response: []byte("HTTP/1.1 101 Switching Protocols\r\n\r\n"),
		},
		&Frame{Seq: 1, Sent: false, Micros: 1234567, Header: []byte{0x81, 0x85, 1, 2, 3, 4}, Payload: []byte("hello")},
		&Frame{Seq: 300, Sent: true, Header: []byte{0x89, 0x00}},
		&Note{Text: "the browser closed the connection: 1000"},
		&Fragment{N: 3, Text: "héllo"},
		&Ping{},
		&Close{Code: 4001, Reason: "bye"},
		&Violate{Rule: RuleRsv},
	}
	for _, m := range tests {
		b := Append(nil, m)
		if b[0] != Version || Kind(b[1]) != m.Kind() {
			t.Errorf("%T: envelope % x", m, b[:2])
		}
		got, err := Decode(b)
		if err != nil {
			t.Errorf("Decode(Append(%#v)): %v", m, err)
			continue
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("round trip of %T:\n got %#v\nwant %#v", m, got, m)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string // in the error text
	}{
		{"empty", nil, "at least 2 bytes"},
		{"version only", []byte{Version}, "at least 2 bytes"},
		{"other version", []byte{2, byte(KindNote), 0}, "version 2"},
		{"unknown kind", []byte{Version, 99}, "unknown kind 99"},
		{"truncated string", []byte{Version, byte(KindNote), 5, 'a'}, "exceeds the 1 bytes left"},
		{"huge length", []byte{Version, byte(KindNote), 0xff, 0xff, 0xff, 0xff, 0x0f}, "exceeds the 0 bytes left"},
		{"bad UTF-8", []byte{Version, byte(KindNote), 1, 0xff}, "not valid UTF-8"},
		{"non-minimal number", []byte{Version, byte(KindFragment), 0x83, 0x00, 0}, "not minimally encoded"},
		{"number cut", []byte{Version, byte(KindFragment), 0x83}, "ends inside a number"},
		{"overflow", []byte{Version, byte(KindFragment), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0}, "overflows"},
		{"bad boolean", []byte{Version, byte(KindFrame), 1, 2, 0, 0, 0}, "boolean byte is 2"},
		{"close code too big", []byte{Version, byte(KindClose), 0x80, 0x80, 0x04, 0}, "does not fit in 16 bits"},
		{"trailing bytes", []byte{Version, byte(KindPing), 0, 'x'}, "2 bytes after the last field"},
		{"rule missing", []byte{Version, byte(KindViolate)}, "ends before the rule"},
		{"frame cut", []byte{Version, byte(KindFrame), 1, 0}, "ends inside a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(tt.in)
			if err == nil {
				t.Fatalf("Decode(% x) = %#v, want an error", tt.in, m)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func TestDecodeCopies(t *testing.T) {
	b := Append(nil, &Frame{Seq: 1, Header: []byte{0x82, 0x01}, Payload: []byte{7}})
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0
	}
	f := m.(*Frame)
	if !bytes.Equal(f.Header, []byte{0x82, 0x01}) || !bytes.Equal(f.Payload, []byte{7}) {
		t.Errorf("the decoded frame changed with its input: %#v", f)
	}
}

func TestRuleNames(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules {
		s := r.String()
		if s == "unknown rule" || seen[s] {
			t.Errorf("rule %d is named %q", r, s)
		}
		seen[s] = true
	}
	if Rule(0).String() != "unknown rule" {
		t.Errorf("Rule(0) = %q", Rule(0).String())
	}
}
