package handshake

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// The example of draft-hixie-thewebsocketprotocol-76 §1.3 (and of
// draft-ietf-hybi-thewebsocketprotocol-00).
const (
	exampleKey1     = "4 @1  46546xW%0l 1 5"
	exampleKey2     = "12998 5 Y3 1  .P00"
	exampleKey3     = "^n:ds[4U"
	exampleResponse = "8jKS'y:G*Co,Wxa-"
)

func TestDraft76Example(t *testing.T) {
	s, err := Draft76(exampleKey1, exampleKey2, [8]byte([]byte(exampleKey3)))
	if err != nil {
		t.Fatal(err)
	}
	// Key1's digits are 4 1 46546 0 1 5 and it has 5 spaces; Key2's are
	// 12998 5 3 1 00 and it also has 5.
	want := Draft76Steps{
		Digits1: 4146546015, Spaces1: 5, Part1: 829309203,
		Digits2: 1299853100, Spaces2: 5, Part2: 259970620,
		Challenge: [16]byte{
			0x31, 0x6e, 0x41, 0x13, // 829309203
			0x0f, 0x7e, 0xd6, 0x3c, // 259970620
			'^', 'n', ':', 'd', 's', '[', '4', 'U',
		},
		Response: [16]byte([]byte(exampleResponse)),
	}
	if s != want {
		t.Errorf("Draft76(example) =\n%+v, want\n%+v", s, want)
	}
}

// The draft's second example, which §5.2 works through step by step.
func TestDraft76WorkedExample(t *testing.T) {
	s, err := Draft76("18x 6]8vM;54 *(5:  {   U1]8  z [  8", "1_ tx7X d  <  nw  334J702) 7]o}` 0", [8]byte([]byte("Tm[K T2u")))
	if err != nil {
		t.Fatal(err)
	}
	want := Draft76Steps{
		Digits1: 1868545188, Spaces1: 12, Part1: 155712099,
		Digits2: 1733470270, Spaces2: 10, Part2: 173347027,
		Challenge: [16]byte{
			0x09, 0x47, 0xfa, 0x63, // 155712099
			0x0a, 0x55, 0x10, 0xd3, // 173347027
			'T', 'm', '[', 'K', ' ', 'T', '2', 'u',
		},
		Response: [16]byte([]byte("fQJ,fN/4F4!~K~MH")),
	}
	if s != want {
		t.Errorf("Draft76(worked example) =\n%+v, want\n%+v", s, want)
	}
}

func TestDraft76Steps(t *testing.T) {
	key3 := [8]byte{0, 1, 2, 3, 0xfd, 0xfe, 0xff, 0x80}
	for _, tc := range []struct {
		key1, key2       string
		digits1, digits2 uint64
		spaces1, spaces2 int
		part1, part2     uint32
	}{
		{"0 ", " 0", 0, 0, 1, 1, 0, 0},
		{" 7", "x 1 2 x", 7, 12, 1, 3, 7, 4},
		{"000 000 12", "   3", 12, 3, 2, 3, 6, 1},
		// The largest quotient, times one space and times twelve.
		{"4294967295 ", strconv.FormatUint(12*math.MaxUint32, 10) + strings.Repeat(" ", 12),
			math.MaxUint32, 12 * math.MaxUint32, 1, 12, math.MaxUint32, math.MaxUint32},
	} {
		s, err := Draft76(tc.key1, tc.key2, key3)
		if err != nil {
			t.Errorf("Draft76(%q, %q): %v", tc.key1, tc.key2, err)
			continue
		}
		if s.Digits1 != tc.digits1 || s.Digits2 != tc.digits2 ||
			s.Spaces1 != tc.spaces1 || s.Spaces2 != tc.spaces2 ||
			s.Part1 != tc.part1 || s.Part2 != tc.part2 {
			t.Errorf("Draft76(%q, %q) = %+v, want digits %d %d, spaces %d %d, parts %d %d",
				tc.key1, tc.key2, s, tc.digits1, tc.digits2, tc.spaces1, tc.spaces2, tc.part1, tc.part2)
		}
		var c [16]byte
		binary.BigEndian.PutUint32(c[:], tc.part1)
		binary.BigEndian.PutUint32(c[4:], tc.part2)
		copy(c[8:], key3[:])
		if s.Challenge != c || s.Response != md5.Sum(c[:]) {
			t.Errorf("Draft76(%q, %q): challenge %x, response %x; want %x, %x",
				tc.key1, tc.key2, s.Challenge, s.Response, c, md5.Sum(c[:]))
		}
	}
}

func TestDraft76Errors(t *testing.T) {
	for _, tc := range []struct {
		key1, key2 string
		key        string // the header the error names
		reason     string // part of its reason
		steps      Draft76Steps
	}{
		{"12345", "1 ", "Sec-WebSocket-Key1", "no spaces",
			Draft76Steps{Digits1: 12345}},
		{"", "1 ", "Sec-WebSocket-Key1", "no digits", Draft76Steps{}},
		{"  x y ", "1 ", "Sec-WebSocket-Key1", "no digits", Draft76Steps{Spaces1: 4}},
		{"1 ", "x-y", "Sec-WebSocket-Key2", "no digits",
			Draft76Steps{Digits1: 1, Spaces1: 1, Part1: 1}},
		{"1 ", "1 0  ", "Sec-WebSocket-Key2", "not a multiple",
			Draft76Steps{Digits1: 1, Spaces1: 1, Part1: 1, Digits2: 10, Spaces2: 3}},
		{"7  ", "1 ", "Sec-WebSocket-Key1", "not a multiple",
			Draft76Steps{Digits1: 7, Spaces1: 2}},
		// One more than the largest uint64.
		{"18446744073709551616 ", "1 ", "Sec-WebSocket-Key1", "over 64 bits", Draft76Steps{}},
		{"1 ", "99999999999999999999999 ", "Sec-WebSocket-Key2", "over 64 bits",
			Draft76Steps{Digits1: 1, Spaces1: 1, Part1: 1}},
		// Quotients over the largest uint32 (1<<32 and 1<<33 with one
		// space, 1<<32 with two) and the largest uint64, which fits.
		{"4294967296 ", "1 ", "Sec-WebSocket-Key1", "32 bits",
			Draft76Steps{Digits1: 1 << 32, Spaces1: 1}},
		{"1 ", "858993459 2", "Sec-WebSocket-Key2", "32 bits",
			Draft76Steps{Digits1: 1, Spaces1: 1, Part1: 1, Digits2: 8589934592, Spaces2: 1}},
		{"1 ", "85899 34592 ", "Sec-WebSocket-Key2", "32 bits",
			Draft76Steps{Digits1: 1, Spaces1: 1, Part1: 1, Digits2: 8589934592, Spaces2: 2}},
		{"18446744073709551615 ", "1 ", "Sec-WebSocket-Key1", "32 bits",
			Draft76Steps{Digits1: math.MaxUint64, Spaces1: 1}},
	} {
		s, err := Draft76(tc.key1, tc.key2, [8]byte{})
		var ke *Draft76KeyError
		if !errors.As(err, &ke) {
			t.Errorf("Draft76(%q, %q) = %+v, %v; want a *Draft76KeyError", tc.key1, tc.key2, s, err)
			continue
		}
		if ke.Key != tc.key || !strings.Contains(ke.Reason, tc.reason) ||
			!strings.Contains(err.Error(), tc.key) {
			t.Errorf("Draft76(%q, %q): %v; want an error about %s saying %q", tc.key1, tc.key2, err, tc.key, tc.reason)
		}
		if s != tc.steps {
			t.Errorf("Draft76(%q, %q) steps = %+v, want %+v", tc.key1, tc.key2, s, tc.steps)
		}
	}
}

func TestDraft76Allocs(t *testing.T) {
	key3 := [8]byte([]byte(exampleKey3))
	if n := testing.AllocsPerRun(100, func() { Draft76(exampleKey1, exampleKey2, key3) }); n != 0 {
		t.Errorf("Draft76 allocates %v times", n)
	}
}

// FuzzDraft76 checks that Draft76 never panics, fails only with a
// *Draft76KeyError, and that what it computes agrees with the keys: each
// part times its spaces is the number the key's digits form.
//
//	go test ./shared/handshake -run '^$' -fuzz '^FuzzDraft76$' -fuzztime 60s
func FuzzDraft76(f *testing.F) {
	for _, s := range [][3]string{
		{exampleKey1, exampleKey2, exampleKey3},
		{"18x 6]8vM;54 *(5:  {   U1]8  z [  8", "1_ tx7X d  <  nw  334J702) 7]o}` 0", "Tm[K T2u"},
		{"4294967295 ", "4294967296 ", "\x00\x00\x00\x00\x00\x00\x00\x00"},
		{"18446744073709551616 ", "1 ", "key3key3"},
		{"12345", "1 0  ", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8"},
		{"", " ", "        "},
	} {
		f.Add(s[0], s[1], []byte(s[2]))
	}
	f.Fuzz(func(t *testing.T, key1, key2 string, key3b []byte) {
		var key3 [8]byte
		copy(key3[:], key3b)
		s, err := Draft76(key1, key2, key3)
		if err != nil {
			var ke *Draft76KeyError
			if !errors.As(err, &ke) || ke.Reason == "" ||
				ke.Key != "Sec-WebSocket-Key1" && ke.Key != "Sec-WebSocket-Key2" {
				t.Fatalf("Draft76(%q, %q): %#v", key1, key2, err)
			}
			return
		}
		for i, k := range []struct {
			key    string
			digits uint64
			spaces int
			part   uint32
		}{{key1, s.Digits1, s.Spaces1, s.Part1}, {key2, s.Digits2, s.Spaces2, s.Part2}} {
			n, err := strconv.ParseUint(strings.Map(func(r rune) rune {
				if '0' <= r && r <= '9' {
					return r
				}
				return -1
			}, k.key), 10, 64)
			if err != nil || n != k.digits {
				t.Fatalf("key%d %q: digits %d, want %d (%v)", i+1, k.key, k.digits, n, err)
			}
			if c := strings.Count(k.key, " "); c != k.spaces || c == 0 {
				t.Fatalf("key%d %q: %d spaces, want %d", i+1, k.key, k.spaces, c)
			}
			if uint64(k.part)*uint64(k.spaces) != k.digits {
				t.Fatalf("key%d %q: part %d × %d spaces != %d", i+1, k.key, k.part, k.spaces, k.digits)
			}
		}
		if binary.BigEndian.Uint32(s.Challenge[:4]) != s.Part1 ||
			binary.BigEndian.Uint32(s.Challenge[4:8]) != s.Part2 ||
			[8]byte(s.Challenge[8:]) != key3 || s.Response != md5.Sum(s.Challenge[:]) {
			t.Fatalf("Draft76(%q, %q, %q) = %+v: challenge or response wrong", key1, key2, key3, s)
		}
	})
}
