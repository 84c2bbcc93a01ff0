package message

import (
	"bytes"
	"encoding"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func hexBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// The interfaces the browser's WriteValue and ReadValue take.
var (
	_ encoding.BinaryAppender    = Envelope{}
	_ encoding.BinaryUnmarshaler = (*Envelope)(nil)
	_ error                      = (*Error)(nil)
)

var (
	maxRoom = strings.Repeat("r", MaxRoom)
	maxNick = strings.Repeat("ü", MaxNick)
	maxText = strings.Repeat("€", MaxText/3) + "xy"
	// A timestamp of 2023-11-14, in Unix milliseconds.
	someTime int64 = 1_700_000_000_000
)

// samples holds messages of every kind, with empty and largest fields,
// non-ASCII text and extreme numbers. Lists are nil when empty, as Decode
// returns them, and History items carry their History's room.
var samples = []struct {
	name string
	m    Message
}{
	{"join", &Join{Room: "go", Nick: "ann"}},
	{"join resume", &Join{Room: "go", Nick: "ann", Resume: true, After: 41}},
	{"join empty", &Join{}},
	{"join max", &Join{Room: maxRoom, Nick: maxNick, Resume: true, After: math.MaxUint64, Token: strings.Repeat("t", 64)}},
	{"join token", &Join{Room: "go", Nick: "ann", Resume: true, After: 7, Token: "dG9rZW4"}},
	{"leave", &Leave{Room: "go"}},
	{"leave empty", &Leave{}},
	{"send", &Send{Room: "go", Text: "hello, world"}},
	{"send empty", &Send{}},
	{"send max", &Send{Room: maxRoom, Text: maxText, ID: math.MaxUint64}},
	{"send id", &Send{Room: "go", Text: "hi", ID: 300}},
	{"send unicode", &Send{Room: "général", Text: "κόσμε 🌍 字\n\ttab"}},
	{"send NUL", &Send{Room: "go", Text: "a\x00b"}},
	{"typing", &Typing{Room: "go", Active: true}},
	{"typing relayed", &Typing{Room: "go", Nick: "ann", Active: false}},
	{"typing empty", &Typing{}},
	{"joined", &Joined{Room: "go", Nick: "ann-2", LastSeq: 1234}},
	{"joined empty", &Joined{}},
	{"joined max", &Joined{Room: maxRoom, Nick: maxNick, LastSeq: math.MaxUint64, Token: strings.Repeat("t", 64)}},
	{"joined token", &Joined{Room: "go", Nick: "ann", LastSeq: 3, Token: "dG9rZW4"}},
	{"chat", &Chat{Room: "go", Seq: 1, Time: someTime, Nick: "ann", Text: "hi"}},
	{"chat empty", &Chat{}},
	{"chat negative time", &Chat{Room: "go", Seq: 2, Time: -1, Nick: "bob", Text: "before 1970"}},
	{"chat min time", &Chat{Room: "go", Seq: math.MaxUint64, Time: math.MinInt64, Nick: "b", Text: "t"}},
	{"chat max", &Chat{Room: maxRoom, Seq: math.MaxUint64, Time: math.MaxInt64, Nick: maxNick, Text: maxText, ID: math.MaxUint64}},
	{"chat id", &Chat{Room: "go", Seq: 5, Time: someTime, Nick: "ann", Text: "hi", ID: 1}},
	{"history", &History{Room: "go", Messages: []Chat{
		{Room: "go", Seq: 7, Time: someTime, Nick: "ann", Text: "hi"},
		{Room: "go", Seq: 8, Time: someTime + 1500, Nick: "bob", Text: "hé", ID: 99},
	}}},
	{"history reset", &History{Room: "go", Reset: true, Messages: []Chat{
		{Room: "go", Seq: 1, Time: someTime, Nick: "ann", Text: "first"},
	}}},
	{"history empty", &History{}},
	{"history empty reset", &History{Room: "go", Reset: true}},
	{"history empty items", &History{Room: "go", Messages: []Chat{{Room: "go"}, {Room: "go"}, {Room: "go"}}}},
	{"history large", &History{Room: maxRoom, Messages: manyChats(maxRoom, 200)}},
	{"presence", &Presence{Room: "go", Nicks: []string{"ann", "bob", "Zoë", "山田"}}},
	{"presence empty", &Presence{}},
	{"presence empty nicks", &Presence{Room: "go", Nicks: []string{"", ""}}},
	{"presence change joined", &PresenceChange{Room: "go", Nick: "ann", Joined: true}},
	{"presence change left", &PresenceChange{Room: "go", Nick: "ann"}},
	{"presence change empty", &PresenceChange{}},
	{"error", &Error{Code: CodeRateLimited, Room: "go", Text: "slow down"}},
	{"error empty", &Error{}},
	{"error max code", &Error{Code: math.MaxUint16, Text: "from the future"}},
	{"error id", &Error{Code: CodeRateLimited, Room: "go", Text: "slow down", ID: 12}},
	{"ack", &Ack{Room: "go", ID: 12, Seq: 300}},
	{"ack empty", &Ack{}},
	{"ack max", &Ack{Room: maxRoom, ID: math.MaxUint64, Seq: math.MaxUint64}},
}

// inVersion returns m as a peer of version v receives it: without the
// fields that v lacks, and with History items carrying the History's room.
func inVersion(m Message, v byte) Message {
	if v >= 2 {
		return m
	}
	switch m := m.(type) {
	case *Join:
		c := *m
		c.Token = ""
		return &c
	case *Send:
		c := *m
		c.ID = 0
		return &c
	case *Joined:
		c := *m
		c.Token = ""
		return &c
	case *Chat:
		c := *m
		c.ID = 0
		return &c
	case *History:
		c := *m
		if m.Messages != nil {
			c.Messages = make([]Chat, len(m.Messages))
			for i, item := range m.Messages {
				item.ID = 0
				c.Messages[i] = item
			}
		}
		return &c
	case *Error:
		c := *m
		c.ID = 0
		return &c
	}
	return m
}

func manyChats(room string, n int) []Chat {
	cs := make([]Chat, n)
	for i := range cs {
		cs[i] = Chat{Room: room, Seq: uint64(1000 + i), Time: someTime + int64(i)*250, Nick: "nick" + strings.Repeat("x", i%20), Text: strings.Repeat("word ", i%8)}
	}
	return cs
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range samples {
		if tc.m.Kind() != KindAck {
			t.Run(tc.name+"/v1", func(t *testing.T) {
				b := AppendVersion(nil, 1, tc.m)
				if b[0] != 1 || Kind(b[1]) != tc.m.Kind() {
					t.Fatalf("envelope % x, want 01 %02x", b[:2], byte(tc.m.Kind()))
				}
				got, err := Decode(b)
				if err != nil {
					t.Fatalf("Decode(% x): %v", b, err)
				}
				if want := inVersion(tc.m, 1); !reflect.DeepEqual(got, want) {
					t.Fatalf("Decode(AppendVersion(1, %#v)) = %#v, want %#v", tc.m, got, want)
				}
				if again := AppendVersion(nil, 1, got); !bytes.Equal(again, b) {
					t.Fatalf("encoded again as % x, want % x", again, b)
				}
			})
		}
		t.Run(tc.name, func(t *testing.T) {
			b := Append(nil, tc.m)
			if b[0] != Version || Kind(b[1]) != tc.m.Kind() {
				t.Fatalf("envelope % x, want %02x %02x", b[:2], Version, byte(tc.m.Kind()))
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(% x): %v", b, err)
			}
			if !reflect.DeepEqual(got, tc.m) {
				t.Fatalf("Decode(Append(%#v)) = %#v", tc.m, got)
			}

			// Append appends, and its result does not depend on dst.
			prefix := []byte("prefix")
			b2 := Append(prefix, tc.m)
			if !bytes.Equal(b2[:len(prefix)], []byte("prefix")) || !bytes.Equal(b2[len(prefix):], b) {
				t.Fatalf("Append after a prefix = % x, want prefix then % x", b2, b)
			}

			// The Envelope agrees with Append and Decode.
			b3, err := Envelope{Message: tc.m}.AppendBinary(nil)
			if err != nil || !bytes.Equal(b3, b) {
				t.Fatalf("AppendBinary = % x, %v; want % x", b3, err, b)
			}
			var env Envelope
			if err := env.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(env.Message, tc.m) {
				t.Fatalf("UnmarshalBinary = %#v, %v", env.Message, err)
			}
		})
	}
}

func TestEveryKindHasASample(t *testing.T) {
	seen := map[Kind]bool{}
	for _, tc := range samples {
		seen[tc.m.Kind()] = true
	}
	for k := Kind(0); k < 255; k++ {
		m := newMessage(k)
		if m == nil {
			if k >= KindJoin && k <= KindAck {
				t.Errorf("newMessage(%d) = nil", k)
			}
			continue
		}
		if m.Kind() != k {
			t.Errorf("newMessage(%d).Kind() = %d", k, m.Kind())
		}
		if !seen[k] {
			t.Errorf("no sample of kind %v", k)
		}
	}
}

// The encoding pinned byte by byte, written out by hand: a change here is a
// change of the protocol, which needs a new Version. Version 1 stays as it
// was, for the clients that speak it.
func TestWireFormat(t *testing.T) {
	tests := []struct {
		m    Message
		want string
	}{
		{&Join{Room: "a", Nick: "b", Resume: true, After: 128, Token: "t"},
			"02 01  01 61  01 62  01  80 01  01 74"},
		{&Join{}, "02 01  00  00  00  00  00"},
		{&Leave{Room: "go"}, "02 02  02 67 6f"},
		{&Send{Room: "go", Text: "hi", ID: 300}, "02 03  02 67 6f  02 68 69  ac 02"},
		{&Typing{Room: "go", Active: true}, "02 04  02 67 6f  00  01"},
		{&Joined{Room: "go", Nick: "ann", LastSeq: 300, Token: "t"}, "02 05  02 67 6f  03 61 6e 6e  ac 02  01 74"},
		{&Chat{Room: "go", Seq: 300, Time: someTime, Nick: "ann", Text: "hé", ID: 5},
			"02 06  02 67 6f  ac 02  80 a0 ab fe f9 62  03 61 6e 6e  03 68 c3 a9  05"},
		{&History{Room: "go", Reset: true, Messages: []Chat{
			{Seq: 1, Time: 2, Nick: "a", Text: "x", ID: 7},
			{Seq: 2, Time: -2, Nick: "b", Text: ""},
		}}, "02 07  02 67 6f  01  02  01 04 01 61 01 78 07  02 03 01 62 00 00"},
		{&Error{Code: CodeTooLong, Text: "x", ID: 1}, "02 0a  04  00  01 78  01"},
		{&Ack{Room: "go", ID: 300, Seq: 1}, "02 0b  02 67 6f  ac 02  01"},
	}
	for _, tc := range tests {
		want := hexBytes(t, tc.want)
		if got := Append(nil, tc.m); !bytes.Equal(got, want) {
			t.Errorf("Append(%#v) =\n% x, want\n% x", tc.m, got, want)
		}
	}

	v1 := []struct {
		m    Message
		want string
	}{
		{&Join{Room: "a", Nick: "b", Resume: true, After: 128},
			"01 01  01 61  01 62  01  80 01"},
		{&Join{}, "01 01  00  00  00  00"},
		{&Leave{Room: "go"}, "01 02  02 67 6f"},
		{&Send{Room: "go", Text: "hi"}, "01 03  02 67 6f  02 68 69"},
		{&Typing{Room: "go", Active: true}, "01 04  02 67 6f  00  01"},
		{&Joined{Room: "go", Nick: "ann", LastSeq: 300}, "01 05  02 67 6f  03 61 6e 6e  ac 02"},
		{&Chat{Room: "go", Seq: 300, Time: someTime, Nick: "ann", Text: "hé"},
			"01 06  02 67 6f  ac 02  80 a0 ab fe f9 62  03 61 6e 6e  03 68 c3 a9"},
		{&Chat{Time: -1}, "01 06  00  00  01  00  00"},
		{&History{Room: "go", Reset: true, Messages: []Chat{
			{Seq: 1, Time: 2, Nick: "a", Text: "x"},
			{Seq: 2, Time: -2, Nick: "b", Text: ""},
		}}, "01 07  02 67 6f  01  02  01 04 01 61 01 78  02 03 01 62 00"},
		{&Presence{Room: "go", Nicks: []string{"ann", "bob"}}, "01 08  02 67 6f  02  03 61 6e 6e  03 62 6f 62"},
		{&PresenceChange{Room: "go", Nick: "ann", Joined: true}, "01 09  02 67 6f  03 61 6e 6e  01"},
		{&Error{Code: CodeTooLong, Text: "x"}, "01 0a  04  00  01 78"},
		{&Error{Code: 65535}, "01 0a  ff ff 03  00  00"},
		// What version 1 lacks is left out.
		{&Send{Room: "go", Text: "hi", ID: 300}, "01 03  02 67 6f  02 68 69"},
		{&Joined{Room: "go", Nick: "ann", LastSeq: 300, Token: "secret"}, "01 05  02 67 6f  03 61 6e 6e  ac 02"},
	}
	for _, tc := range v1 {
		want := hexBytes(t, tc.want)
		if got := AppendVersion(nil, 1, tc.m); !bytes.Equal(got, want) {
			t.Errorf("AppendVersion(1, %#v) =\n% x, want\n% x", tc.m, got, want)
		}
	}
}

// AppendVersion refuses what it cannot write.
func TestAppendVersionPanics(t *testing.T) {
	for _, tc := range []struct {
		v byte
		m Message
	}{{0, &Leave{}}, {3, &Leave{}}, {1, &Ack{}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AppendVersion(%d, %T) did not panic", tc.v, tc.m)
				}
			}()
			AppendVersion(nil, tc.v, tc.m)
		}()
	}
}

func TestSubprotocolVersion(t *testing.T) {
	for name, want := range map[string]byte{Subprotocol: 2, SubprotocolV1: 1, "duplex-chat.v3": 0, "": 0, "echo": 0} {
		if got := SubprotocolVersion(name); got != want {
			t.Errorf("SubprotocolVersion(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestHistoryItemsTakeTheHistorysRoom(t *testing.T) {
	h := &History{Room: "go", Messages: []Chat{{Room: "elsewhere", Seq: 1, Nick: "a", Text: "b"}, {Seq: 2}}}
	b := Append(nil, h)
	if want := Append(nil, &History{Room: "go", Messages: []Chat{{Seq: 1, Nick: "a", Text: "b"}, {Seq: 2}}}); !bytes.Equal(b, want) {
		t.Fatalf("items' rooms changed the encoding: % x, want % x", b, want)
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range m.(*History).Messages {
		if c.Room != "go" {
			t.Errorf("item %d has room %q, want %q", i, c.Room, "go")
		}
	}
}

func TestEmptyListsDecodeAsNil(t *testing.T) {
	for _, m := range []Message{&History{Room: "go", Messages: []Chat{}}, &Presence{Room: "go", Nicks: []string{}}} {
		got, err := Decode(Append(nil, m))
		if err != nil {
			t.Fatal(err)
		}
		switch got := got.(type) {
		case *History:
			if got.Messages != nil {
				t.Errorf("History.Messages = %#v, want nil", got.Messages)
			}
		case *Presence:
			if got.Nicks != nil {
				t.Errorf("Presence.Nicks = %#v, want nil", got.Nicks)
			}
		}
	}
}

// Every proper prefix of a valid message is an error, never a panic or a
// shorter message, in either version.
func TestDecodeTruncated(t *testing.T) {
	for _, tc := range samples {
		b := Append(nil, tc.m)
		for i := range len(b) {
			m, err := Decode(b[:i:i])
			if err == nil || m != nil {
				t.Fatalf("%s: Decode of the first %d of %d bytes = %#v, %v", tc.name, i, len(b), m, err)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: Decode of the first %d bytes: %v, want ErrMalformed", tc.name, i, err)
			}
		}
		if tc.m.Kind() == KindAck {
			continue
		}
		b = AppendVersion(nil, 1, tc.m)
		for i := range len(b) {
			m, err := Decode(b[:i:i])
			if err == nil || m != nil {
				t.Fatalf("%s: Decode of the first %d of %d bytes = %#v, %v", tc.name, i, len(b), m, err)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: Decode of the first %d bytes: %v, want ErrMalformed", tc.name, i, err)
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		is    error
		msg   string
	}{
		{"empty", "", ErrMalformed, "message: empty input"},
		{"version only", "01", ErrMalformed, "message: input ends after the version byte"},
		{"version 3", "03 06", ErrVersion, "message: protocol version 3 received, this side speaks versions 1 to 2"},
		{"version 0", "00", ErrVersion, "message: protocol version 0 received, this side speaks versions 1 to 2"},
		{"version 255 with payload", "ff 01 00 00 00 00", ErrVersion, "protocol version 255 received"},
		{"kind 0", "01 00", ErrUnknownKind, "message: unknown kind 0 in version 1"},
		{"Ack in version 1", "01 0b 00 00 00", ErrUnknownKind, "message: unknown kind 11 in version 1"},
		{"kind 12", "02 0c 00", ErrUnknownKind, "message: unknown kind 12 in version 2"},
		{"kind 255", "02 ff", ErrUnknownKind, "message: unknown kind 255"},
		{"version 2 without the ID", "02 03 02 67 6f 02 68 69", ErrMalformed, "message: Send.ID at byte 8: input is truncated"},
		{"version 1 with an ID", "01 03 02 67 6f 02 68 69 01", ErrMalformed, "message: Send at byte 8: 1 byte after the end of the message"},
		{"version 2 History item without its ID", "02 07 00 00 01 01 02 00 00", ErrMalformed, "History.Messages at byte 4: count 1 exceeds what the 4 bytes left can hold"},

		{"trailing byte", "01 02 01 61 00", ErrMalformed, "message: Leave at byte 4: 1 byte after the end of the message"},
		{"trailing bytes", "01 08 00 00 01 02 03", ErrMalformed, "message: Presence at byte 4: 3 bytes after the end of the message"},
		{"missing field", "01 03 02 67 6f", ErrMalformed, "message: Send.Text at byte 5: input is truncated"},
		{"missing bool", "01 09 00 00", ErrMalformed, "message: PresenceChange.Joined at byte 4: input is truncated"},
		{"length past end", "01 02 05 61", ErrMalformed, "message: Leave.Room at byte 2: length 5 exceeds the 1 byte left"},
		{"huge length", "01 02 ff ff ff ff ff ff ff ff ff 01", ErrMalformed, "length 18446744073709551615 exceeds the 0 bytes left"},

		{"invalid UTF-8", "01 03 01 61 02 c3 28", ErrMalformed, "message: Send.Text at byte 4: string is not valid UTF-8"},
		{"surrogate half", "01 02 03 ed a0 80", ErrMalformed, "Leave.Room at byte 2: string is not valid UTF-8"},
		{"overlong NUL", "01 02 02 c0 80", ErrMalformed, "string is not valid UTF-8"},
		{"truncated rune", "01 02 01 e2", ErrMalformed, "string is not valid UTF-8"},
		{"invalid UTF-8 in a list", "01 08 00 02 01 61 01 ff", ErrMalformed, "message: Presence.Nicks[1] at byte 6: string is not valid UTF-8"},
		{"invalid UTF-8 in an item", "01 07 00 00 02 01 02 00 00 02 04 00 01 80", ErrMalformed, "message: History.Messages[1].Text at byte 12: string is not valid UTF-8"},

		{"bool 2", "01 01 00 00 02 00", ErrMalformed, "message: Join.Resume at byte 4: boolean byte is 2, not 0 or 1"},
		{"bool ff", "01 04 00 00 ff", ErrMalformed, "Typing.Active at byte 4: boolean byte is 255, not 0 or 1"},

		{"non-minimal uvarint", "01 05 00 00 80 00", ErrMalformed, "message: Joined.LastSeq at byte 4: varint is not minimally encoded"},
		{"non-minimal length", "01 02 81 00 61", ErrMalformed, "Leave.Room at byte 2: varint is not minimally encoded"},
		{"non-minimal zero time", "01 06 00 01 80 80 00 00 00", ErrMalformed, "Chat.Time at byte 4: varint is not minimally encoded"},
		{"non-minimal count", "01 08 00 80 00", ErrMalformed, "Presence.Nicks at byte 3: varint is not minimally encoded"},
		{"10-byte varint over 64 bits", "01 05 00 00 ff ff ff ff ff ff ff ff ff 02", ErrMalformed, "Joined.LastSeq at byte 4: varint overflows 64 bits"},
		{"11-byte varint", "01 05 00 00 80 80 80 80 80 80 80 80 80 80 01", ErrMalformed, "varint overflows 64 bits"},
		{"unterminated varint", "01 05 00 00 80 80", ErrMalformed, "Joined.LastSeq at byte 4: input is truncated"},

		{"code over 16 bits", "01 0a 80 80 04 00 00", ErrMalformed, "message: Error.Code at byte 2: 65536 does not fit in 16 bits"},

		{"huge count", "01 07 00 00 80 80 80 80 80 20 00 00", ErrMalformed,
			"message: History.Messages at byte 4: count 1099511627776 exceeds what the 2 bytes left can hold"},
		{"count one item too many", "01 07 00 00 02 00 00 00 00 00 00 00", ErrMalformed,
			"History.Messages at byte 4: count 2 exceeds what the 7 bytes left can hold"},
		{"nick count too high", "01 08 00 03 00 00", ErrMalformed, "Presence.Nicks at byte 3: count 3 exceeds what the 2 bytes left can hold"},
		{"error in a later item", "01 07 00 00 02 01 02 00 00 02 04 00 05", ErrMalformed,
			"History.Messages[1].Text at byte 12: length 5 exceeds the 0 bytes left"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(hexBytes(t, tc.input))
			if err == nil || m != nil {
				t.Fatalf("Decode = %#v, %v; want an error", m, err)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q, want it to contain %q", err, tc.msg)
			}
			var env Envelope
			env.Message = &Leave{Room: "kept"}
			if err2 := env.UnmarshalBinary(hexBytes(t, tc.input)); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("UnmarshalBinary: %v, want %v", err2, err)
			}
			if l, ok := env.Message.(*Leave); !ok || l.Room != "kept" {
				t.Errorf("UnmarshalBinary changed the Envelope on error: %#v", env.Message)
			}
		})
	}
}

// The boundary of the count check: a list whose count the rest of the
// input could hold is decoded (and may then fail on its items), one more
// item is refused up front.
func TestCountBoundary(t *testing.T) {
	ok := hexBytes(t, "01 07 00 00 02 00 00 00 00 00 00 00 00")
	if _, err := Decode(ok); err != nil {
		t.Errorf("two empty items: %v", err)
	}
	ok = hexBytes(t, "01 08 00 03 00 00 00")
	if _, err := Decode(ok); err != nil {
		t.Errorf("three empty nicks: %v", err)
	}
}

func TestEnvelopeWithoutMessage(t *testing.T) {
	b, err := Envelope{}.AppendBinary([]byte("x"))
	if err == nil || string(b) != "x" {
		t.Fatalf("AppendBinary of an empty Envelope = %q, %v", b, err)
	}
}

// A count claiming 2^40 items, in 10 bytes, fails without allocating for
// them: a handful of small allocations for the error, whose total is tiny.
func TestHugeCountDoesNotAllocate(t *testing.T) {
	for _, in := range []string{
		"01 07 00 00 80 80 80 80 80 20",          // History, 2^40 items
		"01 08 00 80 80 80 80 80 20 00",          // Presence, 2^40 nicks
		"01 07 00 00 ff ff ff ff ff ff ff ff 7f", // History, 2^63-1 items
		"01 08 00 ff ff ff ff ff ff ff ff ff 01", // Presence, 2^64-1 nicks
	} {
		b := hexBytes(t, in)
		if _, err := Decode(b); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Decode(% x) = %v, want ErrMalformed", b, err)
		}
		const runs = 100
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		allocs := testing.AllocsPerRun(runs, func() { Decode(b) })
		runtime.ReadMemStats(&after)
		if allocs > 10 {
			t.Errorf("Decode(% x): %v allocations", b, allocs)
		}
		if per := (after.TotalAlloc - before.TotalAlloc) / (runs + 1); per > 1024 {
			t.Errorf("Decode(% x) allocated %d bytes per call", b, per)
		}
	}
}

func TestAllocations(t *testing.T) {
	chat := &Chat{Room: "go", Seq: 12345, Time: someTime, Nick: "ann", Text: "hello, world"}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = Append(buf[:0], chat) }); n != 0 {
		t.Errorf("Append of a Chat into a reused buffer: %v allocations, want 0", n)
	}
	hist := &History{Room: "go", Messages: manyChats("go", 50)}
	big := make([]byte, 0, 64<<10)
	if n := testing.AllocsPerRun(100, func() { big = Append(big[:0], hist) }); n != 0 {
		t.Errorf("Append of a History into a reused buffer: %v allocations, want 0", n)
	}

	// Decoding allocates the message and one string for all its strings,
	// and for a list, its slice.
	b := Append(nil, chat)
	if n := testing.AllocsPerRun(100, func() { Decode(b) }); n > 2 {
		t.Errorf("Decode of a Chat: %v allocations, want 2", n)
	}
	b = Append(nil, hist)
	if n := testing.AllocsPerRun(100, func() { Decode(b) }); n > 3 {
		t.Errorf("Decode of a History of 50: %v allocations, want 3", n)
	}
}

// Decoded strings must not alias the input, which a server reuses for the
// next message.
func TestDecodeDoesNotRetainInput(t *testing.T) {
	b := Append(nil, &Chat{Room: "go", Nick: "ann", Text: "hello"})
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'X'
	}
	if c := m.(*Chat); c.Room != "go" || c.Nick != "ann" || c.Text != "hello" {
		t.Fatalf("after overwriting the input: %#v", c)
	}
}

func TestKindString(t *testing.T) {
	tests := []struct {
		k    Kind
		want string
	}{
		{KindJoin, "Join"}, {KindLeave, "Leave"}, {KindSend, "Send"}, {KindTyping, "Typing"},
		{KindJoined, "Joined"}, {KindChat, "Chat"}, {KindHistory, "History"}, {KindPresence, "Presence"},
		{KindPresenceChange, "PresenceChange"}, {KindError, "Error"}, {KindAck, "Ack"},
		{0, "kind 0"}, {12, "kind 12"}, {255, "kind 255"},
	}
	for _, tc := range tests {
		if got := tc.k.String(); got != tc.want {
			t.Errorf("Kind(%d).String() = %q, want %q", byte(tc.k), got, tc.want)
		}
		// The name of each known kind is its Go type's.
		if m := newMessage(tc.k); m != nil {
			if name := reflect.TypeOf(m).Elem().Name(); name != tc.want {
				t.Errorf("kind %d is %s, type %s", byte(tc.k), tc.want, name)
			}
		}
	}
}

func TestKindValues(t *testing.T) {
	// The numbers are part of the wire format.
	for i, k := range []Kind{KindJoin, KindLeave, KindSend, KindTyping, KindJoined, KindChat,
		KindHistory, KindPresence, KindPresenceChange, KindError} {
		if byte(k) != byte(i+1) {
			t.Errorf("%v = %d, want %d", k, byte(k), i+1)
		}
	}
	if KindAck != 11 {
		t.Errorf("KindAck = %d, want 11", byte(KindAck))
	}
	if Version != 2 || MinVersion != 1 || Subprotocol != "duplex-chat.v2" || SubprotocolV1 != "duplex-chat.v1" {
		t.Errorf("Version %d, MinVersion %d, Subprotocol %q, SubprotocolV1 %q", Version, MinVersion, Subprotocol, SubprotocolV1)
	}
}

func TestErrorCode(t *testing.T) {
	tests := []struct {
		code ErrorCode
		num  uint16
		want string
	}{
		{CodeBadMessage, 1, "bad message"},
		{CodeBadRoom, 2, "invalid room name"},
		{CodeBadNick, 3, "invalid nickname"},
		{CodeTooLong, 4, "text too long"},
		{CodeNotInRoom, 5, "not in room"},
		{CodeRateLimited, 6, "rate limited"},
		{CodeInternal, 7, "internal error"},
		{CodeTooManyRooms, 8, "too many rooms"},
		{0, 0, "error code 0"},
		{9, 9, "error code 9"},
		{65535, 65535, "error code 65535"},
	}
	for _, tc := range tests {
		if uint16(tc.code) != tc.num {
			t.Errorf("%s = %d, want %d", tc.code, uint16(tc.code), tc.num)
		}
		if got := tc.code.String(); got != tc.want {
			t.Errorf("ErrorCode(%d).String() = %q, want %q", tc.num, got, tc.want)
		}
	}
}

func TestErrorError(t *testing.T) {
	tests := []struct {
		e    *Error
		want string
	}{
		{&Error{Code: CodeRateLimited}, "rate limited"},
		{&Error{Code: CodeRateLimited, Text: "slow down"}, "rate limited: slow down"},
		{&Error{Code: CodeNotInRoom, Room: "go", Text: "join it first"}, "not in room in room go: join it first"},
		{&Error{Code: 99, Room: "go"}, "error code 99 in room go"},
	}
	for _, tc := range tests {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%#v.Error() = %q, want %q", tc.e, got, tc.want)
		}
	}
}

func BenchmarkAppendChat(b *testing.B) {
	m := &Chat{Room: "general", Seq: 123456, Time: someTime, Nick: "ann", Text: "Hello, everyone! How is the weather where you are?"}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(Append(nil, m))))
	for b.Loop() {
		buf = Append(buf[:0], m)
	}
}

func BenchmarkDecodeChat(b *testing.B) {
	in := Append(nil, &Chat{Room: "general", Seq: 123456, Time: someTime, Nick: "ann", Text: "Hello, everyone! How is the weather where you are?"})
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeHistory(b *testing.B) {
	in := Append(nil, &History{Room: "general", Reset: true, Messages: manyChats("general", 100)})
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}
