package message

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode checks that Decode never panics, that whatever it accepts
// is encoded back to the very same bytes in the version it came in, and
// that what it refuses is refused with one of its three errors. Seeds that the fuzzer found worth
// keeping are in testdata/fuzz/FuzzDecode; run it with
//
//	go test ./shared/message -run '^$' -fuzz '^FuzzDecode$' -fuzztime 60s
func FuzzDecode(f *testing.F) {
	for _, tc := range samples {
		if b := Append(nil, tc.m); len(b) <= 512 {
			f.Add(b)
		}
		if tc.m.Kind() == KindAck {
			continue // not in version 1
		}
		if b := AppendVersion(nil, 1, tc.m); len(b) <= 512 {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"",
		"01",
		"02 06",
		"01 0b",
		"01 07 00 00 80 80 80 80 80 20",
		"01 08 00 02 01 61 01 ff",
		"01 05 00 00 80 00",
		"01 0a 80 80 04 00 00",
		"01 01 00 00 02 00",
		"01 02 01 61 00",
		"01 0b 00 00 00",
		"02 03 02 67 6f 02 68 69",
		"02 0b 00 80 00 00",
	} {
		f.Add(hexBytes(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := bytes.Clone(data)
		m, err := Decode(data)
		if !bytes.Equal(in, data) {
			t.Fatalf("Decode modified its input")
		}
		if err != nil {
			if m != nil {
				t.Fatalf("Decode returned %#v with error %v", m, err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrUnknownKind) {
				t.Fatalf("error %v wraps none of the package's errors", err)
			}
			if !strings.HasPrefix(err.Error(), "message: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			return
		}

		v := data[0]
		if m.Kind() != Kind(data[1]) || v < MinVersion || v > Version {
			t.Fatalf("% x decoded as a %v", data, m.Kind())
		}
		checkStrings(t, m)
		out := AppendVersion(nil, v, m)
		if !bytes.Equal(out, data) {
			t.Fatalf("Decode(% x) = %#v, which AppendVersion(%d) encodes as % x", data, m, v, out)
		}
		if v < Version && !reflect.DeepEqual(m, inVersion(m, v)) {
			t.Fatalf("Decode(% x) = %#v, with fields version %d lacks", data, m, v)
		}
		again, err := Decode(out)
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("second Decode = %#v, %v; want %#v", again, err, m)
		}
	})
}

// checkStrings checks that every string of m is UTF-8 and that a
// History's items carry its room.
func checkStrings(t *testing.T, m Message) {
	t.Helper()
	var strs []string
	switch m := m.(type) {
	case *Join:
		strs = []string{m.Room, m.Nick, m.Token}
	case *Leave:
		strs = []string{m.Room}
	case *Send:
		strs = []string{m.Room, m.Text}
	case *Typing:
		strs = []string{m.Room, m.Nick}
	case *Joined:
		strs = []string{m.Room, m.Nick, m.Token}
	case *Chat:
		strs = []string{m.Room, m.Nick, m.Text}
	case *History:
		strs = []string{m.Room}
		for _, c := range m.Messages {
			if c.Room != m.Room {
				t.Fatalf("History item in room %q, History in %q", c.Room, m.Room)
			}
			strs = append(strs, c.Nick, c.Text)
		}
	case *Presence:
		strs = append([]string{m.Room}, m.Nicks...)
	case *PresenceChange:
		strs = []string{m.Room, m.Nick}
	case *Error:
		strs = []string{m.Room, m.Text}
	case *Ack:
		strs = []string{m.Room}
	default:
		t.Fatalf("Decode returned a %T", m)
	}
	for _, s := range strs {
		if !utf8.ValidString(s) {
			t.Fatalf("decoded string %q is not UTF-8", s)
		}
	}
}
