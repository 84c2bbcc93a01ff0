package wire

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// validUTF8Prefix is the reference the validator is checked against: it
// reports whether b is valid UTF-8 except, perhaps, for the beginning of one
// character at its end, that is whether some bytes appended to b can make it
// valid. It relies only on the standard library's decoder: utf8.FullRune is
// false exactly for the well-formed start of a character that is cut short.
func validUTF8Prefix(b []byte) bool {
	for len(b) > 0 {
		if !utf8.FullRune(b) {
			return true
		}
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			return false
		}
		b = b[size:]
	}
	return true
}

// firstImpossibleSlow returns the index of the first byte after which b can
// no longer be completed to valid UTF-8, or -1 if there is none. It follows
// the definition directly and takes quadratic time.
func firstImpossibleSlow(b []byte) int {
	for i := range b {
		if !validUTF8Prefix(b[:i+1]) {
			return i
		}
	}
	return -1
}

// firstImpossible computes the same as firstImpossibleSlow in linear time,
// for long fuzz inputs: b is valid up to the first sequence that fails to
// decode, and the impossible byte is within that sequence's first four.
func firstImpossible(b []byte) int {
	for i := 0; i < len(b); {
		if !utf8.FullRune(b[i:]) {
			return -1 // the rest is the start of a character, cut short
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			for j := i; j < len(b) && j < i+utf8.UTFMax; j++ {
				if !validUTF8Prefix(b[i : j+1]) {
					return j
				}
			}
			panic(fmt.Sprintf("firstImpossible: no impossible byte in % x at %d", b, i))
		}
		i += size
	}
	return -1
}

// hx builds a byte string from hex pairs separated by spaces, with runs of
// plain text allowed in quotes: hx(`"ab" ce ba`).
func hx(s string) []byte {
	var out []byte
	for s != "" {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			break
		}
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				panic("hx: unterminated text in " + s)
			}
			out = append(out, s[1:1+end]...)
			s = s[2+end:]
			continue
		}
		var b byte
		if _, err := fmt.Sscanf(s[:2], "%02x", &b); err != nil {
			panic("hx: bad byte in " + s)
		}
		out = append(out, b)
		s = s[2:]
	}
	return out
}

const kosme = `ce ba e1 bd b9 cf 83 ce bc ce b5` // "κόσμε" with U+1F79, from Markus Kuhn's test file

type utf8Case struct {
	name  string
	in    []byte
	valid bool // whole input is valid UTF-8
	// failAt is the index of the byte that makes the input impossible to
	// complete, or -1 if every prefix can still be completed.
	failAt int
}

// utf8Cases follows the structure of Markus Kuhn's UTF-8 decoder stress test.
var utf8Cases = []utf8Case{
	// 1. Correct text.
	{"empty", nil, true, -1},
	{"ascii", hx(`"Hello, world"`), true, -1},
	{"kosme", hx(kosme), true, -1},
	{"mixed", []byte("a€b𝄞c κόσμε こんにちは"), true, -1},

	// 2.1 First possible sequence of each length.
	{"U+0000", hx("00"), true, -1},
	{"U+0080", hx("c2 80"), true, -1},
	{"U+0800", hx("e0 a0 80"), true, -1},
	{"U+10000", hx("f0 90 80 80"), true, -1},
	// 2.2 Last possible sequence of each length.
	{"U+007F", hx("7f"), true, -1},
	{"U+07FF", hx("df bf"), true, -1},
	{"U+FFFF", hx("ef bf bf"), true, -1},
	{"U+10FFFF", hx("f4 8f bf bf"), true, -1},
	// 2.3 Other boundary conditions.
	{"U+D7FF", hx("ed 9f bf"), true, -1},
	{"U+E000", hx("ee 80 80"), true, -1},
	{"U+FFFD", hx("ef bf bd"), true, -1},
	{"BOM", hx("ef bb bf"), true, -1},
	{"U+FFFE noncharacter", hx("ef bf be"), true, -1},
	{"U+1F30D", hx("f0 9f 8c 8d"), true, -1},

	// 3.1 Unexpected continuation bytes.
	{"lone 80", hx("80"), false, 0},
	{"lone bf", hx("bf"), false, 0},
	{"80 bf", hx("80 bf"), false, 0},
	{"80 bf 80 bf", hx("80 bf 80 bf"), false, 0},
	{"continuation after ascii", hx(`"a" 80`), false, 1},
	{"extra continuation", hx("c2 80 80"), false, 2},
	{"extra continuation after 3 bytes", hx("e2 82 ac 80"), false, 3},
	{"extra continuation after 4 bytes", hx("f0 9f 8c 8d 80"), false, 4},
	// 3.2 Lonely start bytes.
	{"c0 space", hx("c0 20"), false, 0},
	{"c2 space", hx("c2 20"), false, 1},
	{"df space", hx("df 20"), false, 1},
	{"e0 space", hx("e0 20"), false, 1},
	{"e1 space", hx("e1 20"), false, 1},
	{"f0 space", hx("f0 20"), false, 1},
	{"f1 ascii", hx(`f1 "A"`), false, 1},
	{"start byte then start byte", hx("c2 c2 80"), false, 1},
	// 3.3 Sequences with the last continuation byte missing.
	{"c2 cut", hx("c2"), false, -1},
	{"df cut", hx("df"), false, -1},
	{"e0 a0 cut", hx("e0 a0"), false, -1},
	{"e2 82 cut", hx("e2 82"), false, -1},
	{"ef bf cut", hx("ef bf"), false, -1},
	{"ed 9f cut", hx("ed 9f"), false, -1},
	{"f0 90 80 cut", hx("f0 90 80"), false, -1},
	{"f4 8f bf cut", hx("f4 8f bf"), false, -1},
	{"f0 cut", hx("f0"), false, -1},
	{"f4 cut", hx("f4"), false, -1},
	{"kosme then f0 9f 8c cut", hx(kosme + " f0 9f 8c"), false, -1},
	{"cut 3-byte before ascii", hx(`e1 80 "A"`), false, 2},
	{"cut 4-byte before ascii", hx(`f1 80 80 "A"`), false, 3},
	// 3.4 Concatenation of incomplete sequences.
	{"two cut sequences", hx("e2 82 e2 82 ac"), false, 2},
	{"cut 2-byte then cut 4-byte", hx("c2 f0 90"), false, 1},
	// 3.5 Impossible bytes.
	{"fe", hx("fe"), false, 0},
	{"ff", hx("ff"), false, 0},
	{"fe fe ff ff", hx("fe fe ff ff"), false, 0},
	{"c1", hx("c1"), false, 0},
	{"f5", hx("f5"), false, 0},
	{"f5 80 80 80", hx("f5 80 80 80"), false, 0},
	{"f7 bf bf bf", hx("f7 bf bf bf"), false, 0},
	{"impossible after text", hx(kosme + " ff"), false, 11},

	// 4.1 Overlong ASCII "/".
	{"overlong / 2 bytes", hx("c0 af"), false, 0},
	{"overlong / 3 bytes", hx("e0 80 af"), false, 1},
	{"overlong / 4 bytes", hx("f0 80 80 af"), false, 1},
	{"overlong / 5 bytes", hx("f8 80 80 80 af"), false, 0},
	{"overlong / 6 bytes", hx("fc 80 80 80 80 af"), false, 0},
	// 4.2 Maximum overlong sequences.
	{"overlong U+007F", hx("c1 bf"), false, 0},
	{"overlong U+07FF", hx("e0 9f bf"), false, 1},
	{"overlong U+FFFF", hx("f0 8f bf bf"), false, 1},
	// 4.3 Overlong NUL.
	{"overlong NUL 2 bytes", hx("c0 80"), false, 0},
	{"overlong NUL 3 bytes", hx("e0 80 80"), false, 1},
	{"overlong NUL 4 bytes", hx("f0 80 80 80"), false, 1},

	// 5.1 Single UTF-16 surrogates.
	{"U+D800", hx("ed a0 80"), false, 1},
	{"U+DB7F", hx("ed ad bf"), false, 1},
	{"U+DB80", hx("ed ae 80"), false, 1},
	{"U+DBFF", hx("ed af bf"), false, 1},
	{"U+DC00", hx("ed b0 80"), false, 1},
	{"U+DF80", hx("ed be 80"), false, 1},
	{"U+DFFF", hx("ed bf bf"), false, 1},
	// 5.2 Paired UTF-16 surrogates.
	{"U+D800 U+DC00", hx("ed a0 80 ed b0 80"), false, 1},
	{"U+DBFF U+DFFF", hx("ed af bf ed bf bf"), false, 1},

	// Above U+10FFFF.
	{"U+110000", hx("f4 90 80 80"), false, 1},
	{"f4 bf bf bf", hx("f4 bf bf bf"), false, 1},

	// The fail-fast cases of the Autobahn test suite (6.4.x).
	{"kosme + U+110000 + edited", hx(kosme + ` f4 90 80 80 "edited"`), false, 12},
	{"kosme + surrogate + edited", hx(kosme + ` ed a0 80 "edited"`), false, 12},
	{"kosme + U+110000 cut", hx(kosme + " f4 90"), false, 12},
}

func TestUTF8CasesAreRight(t *testing.T) {
	// Check the table's hand-written expectations against the standard
	// library, so a typo in the table cannot make a test pass wrongly.
	for _, tc := range utf8Cases {
		if got := utf8.Valid(tc.in); got != tc.valid {
			t.Errorf("%s: utf8.Valid = %v, table says %v", tc.name, got, tc.valid)
		}
		if got := firstImpossibleSlow(tc.in); got != tc.failAt {
			t.Errorf("%s: first impossible byte at %d, table says %d", tc.name, got, tc.failAt)
		}
		if got := firstImpossible(tc.in); got != tc.failAt {
			t.Errorf("%s: firstImpossible = %d, table says %d", tc.name, got, tc.failAt)
		}
	}
	if got := hx(kosme); string(got) != "κ\u1f79σμε" {
		t.Fatalf("kosme = % x", got)
	}
}

// prefixOK reports what Write must return once the first end bytes of tc.in
// have been written.
func (tc utf8Case) prefixOK(end int) bool { return tc.failAt < 0 || end <= tc.failAt }

func TestUTF8ValidatorWhole(t *testing.T) {
	for _, tc := range utf8Cases {
		var v UTF8Validator
		if got := v.Write(tc.in); got != (tc.failAt < 0) {
			t.Errorf("%s: Write = %v, want %v", tc.name, got, tc.failAt < 0)
		}
		if got := v.Complete(); got != tc.valid {
			t.Errorf("%s: Complete = %v, want %v", tc.name, got, tc.valid)
		}
	}
}

func TestUTF8ValidatorTwoPieces(t *testing.T) {
	for _, tc := range utf8Cases {
		for i := 0; i <= len(tc.in); i++ {
			var v UTF8Validator
			if got := v.Write(tc.in[:i]); got != tc.prefixOK(i) {
				t.Errorf("%s split at %d: first Write = %v, want %v", tc.name, i, got, tc.prefixOK(i))
			}
			if got, want := v.Complete(), utf8.Valid(tc.in[:i]); got != want {
				t.Errorf("%s split at %d: Complete after first piece = %v, want %v", tc.name, i, got, want)
			}
			if got := v.Write(tc.in[i:]); got != (tc.failAt < 0) {
				t.Errorf("%s split at %d: second Write = %v, want %v", tc.name, i, got, tc.failAt < 0)
			}
			if got := v.Complete(); got != tc.valid {
				t.Errorf("%s split at %d: Complete = %v, want %v", tc.name, i, got, tc.valid)
			}
		}
	}
}

func TestUTF8ValidatorThreePieces(t *testing.T) {
	for _, tc := range utf8Cases {
		for i := 0; i <= len(tc.in); i++ {
			for j := i; j <= len(tc.in); j++ {
				var v UTF8Validator
				r1 := v.Write(tc.in[:i])
				r2 := v.Write(tc.in[i:j])
				r3 := v.Write(tc.in[j:])
				if r1 != tc.prefixOK(i) || r2 != tc.prefixOK(j) || r3 != (tc.failAt < 0) || v.Complete() != tc.valid {
					t.Errorf("%s split at %d,%d: Write = %v %v %v, Complete = %v; want %v %v %v, %v",
						tc.name, i, j, r1, r2, r3, v.Complete(),
						tc.prefixOK(i), tc.prefixOK(j), tc.failAt < 0, tc.valid)
				}
			}
		}
	}
}

func TestUTF8ValidatorByteByByte(t *testing.T) {
	for _, tc := range utf8Cases {
		var v UTF8Validator
		firstFalse := -1
		for k := range tc.in {
			got := v.Write(tc.in[k : k+1])
			if got != tc.prefixOK(k+1) {
				t.Errorf("%s: Write of byte %d (%02x) = %v, want %v", tc.name, k, tc.in[k], got, tc.prefixOK(k+1))
			}
			if !got && firstFalse < 0 {
				firstFalse = k
			}
			if c, want := v.Complete(), utf8.Valid(tc.in[:k+1]); c != want {
				t.Errorf("%s: Complete after byte %d = %v, want %v", tc.name, k, c, want)
			}
		}
		if firstFalse != tc.failAt {
			t.Errorf("%s: first false at byte %d, want %d", tc.name, firstFalse, tc.failAt)
		}
		if v.Complete() != tc.valid {
			t.Errorf("%s: Complete = %v, want %v", tc.name, v.Complete(), tc.valid)
		}
	}
}

func TestUTF8ValidatorFailsFast(t *testing.T) {
	// RFC 6455 §8.1 lets an endpoint fail as soon as the text is known to be
	// invalid; Autobahn 6.4.1 checks this with κόσμε + F4 90 80 80 + "edited".
	tests := []struct {
		name   string
		in     []byte
		failAt int
		bad    byte
	}{
		{"above U+10FFFF", hx(`ce ba e1 bd b9 cf 83 ce bc ce b5 f4 90 80 80 65 64 69 74 65 64`), 12, 0x90},
		{"surrogate", hx(`ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64`), 12, 0xa0},
		{"overlong", hx(`"ab" e0 80 af`), 3, 0x80},
		{"impossible byte", hx(`"ab" ce ba fe "x"`), 4, 0xfe},
	}
	for _, tc := range tests {
		var v UTF8Validator
		for k, c := range tc.in {
			ok := v.Write([]byte{c})
			if k < tc.failAt && !ok {
				t.Fatalf("%s: Write failed early at byte %d (%02x)", tc.name, k, c)
			}
			if k == tc.failAt {
				if ok {
					t.Fatalf("%s: Write accepted byte %d (%02x)", tc.name, k, c)
				}
				if c != tc.bad {
					t.Fatalf("%s: test table wrong: byte %d is %02x, not %02x", tc.name, k, c, tc.bad)
				}
			}
			if k > tc.failAt && ok {
				t.Fatalf("%s: Write recovered at byte %d", tc.name, k)
			}
		}

		// In pieces of four bytes, the piece holding the bad byte fails.
		v.Reset()
		for start := 0; start < len(tc.in); start += 4 {
			end := min(start+4, len(tc.in))
			want := end <= tc.failAt
			if got := v.Write(tc.in[start:end]); got != want {
				t.Errorf("%s: Write(in[%d:%d]) = %v, want %v", tc.name, start, end, got, want)
			}
		}
	}
}

func TestUTF8ValidatorIncompleteTail(t *testing.T) {
	var v UTF8Validator
	if !v.Write(hx("e2 82")) {
		t.Fatal("Write(e2 82) = false")
	}
	if v.Complete() {
		t.Fatal("Complete() = true after e2 82")
	}
	if !v.Write(hx("ac")) || !v.Complete() {
		t.Fatal("e2 82 + ac (€) not accepted as complete")
	}

	v.Reset()
	for _, b := range hx("f0 9f 8c") {
		if !v.Write([]byte{b}) || v.Complete() {
			t.Fatalf("after %02x: Write false or Complete true", b)
		}
	}
	if !v.Write(hx(`8d "!"`)) || !v.Complete() {
		t.Fatal("f0 9f 8c + 8d ! not accepted")
	}
}

func TestUTF8ValidatorEmptyWrites(t *testing.T) {
	var v UTF8Validator
	if !v.Complete() {
		t.Fatal("zero value: Complete() = false")
	}
	if !v.Write(nil) || !v.Write([]byte{}) || !v.Complete() {
		t.Fatal("empty writes to a fresh validator")
	}
	v.Write(hx("e2"))
	if !v.Write(nil) || v.Complete() {
		t.Fatal("empty write changed an incomplete state")
	}
	if !v.Write(hx("82")) || !v.Write(nil) || !v.Write(hx("ac")) || !v.Complete() {
		t.Fatal("€ with empty writes between its bytes")
	}
}

func TestUTF8ValidatorStickyAndReset(t *testing.T) {
	var v UTF8Validator
	if v.Write(hx("ff")) {
		t.Fatal("Write(ff) = true")
	}
	for _, p := range [][]byte{nil, hx(`"a"`), hx("c2 80")} {
		if v.Write(p) || v.Complete() {
			t.Fatalf("validator recovered after invalid input with % x", p)
		}
	}
	v.Reset()
	if !v.Complete() || !v.Write(hx(`"ok"`)) || !v.Complete() {
		t.Fatal("Reset did not make the validator usable again")
	}

	// Reset also drops an incomplete character.
	v.Write(hx("e2 82"))
	v.Reset()
	if !v.Complete() {
		t.Fatal("Complete() = false after Reset of an incomplete state")
	}
	if v.Write(hx("ac")) {
		t.Fatal("continuation byte after Reset accepted")
	}
}

// TestUTF8ValidatorShortInputs compares the validator with the reference on
// every input of up to two bytes and on three- and four-byte inputs built
// from every possible first byte and the bytes at range boundaries.
func TestUTF8ValidatorShortInputs(t *testing.T) {
	check := func(in []byte) {
		t.Helper()
		valid := utf8.Valid(in)
		failAt := firstImpossible(in)
		if slow := firstImpossibleSlow(in); slow != failAt {
			t.Fatalf("% x: firstImpossible = %d, firstImpossibleSlow = %d", in, failAt, slow)
		}
		for i := 0; i <= len(in); i++ {
			var v UTF8Validator
			r1 := v.Write(in[:i])
			r2 := v.Write(in[i:])
			want1 := failAt < 0 || i <= failAt
			if r1 != want1 || r2 != (failAt < 0) || v.Complete() != valid {
				t.Fatalf("% x split at %d: %v %v complete=%v; want %v %v %v", in, i, r1, r2, v.Complete(), want1, failAt < 0, valid)
			}
		}
		var v UTF8Validator
		for k := range in {
			if got := v.Write(in[k : k+1]); got != (failAt < 0 || k < failAt) {
				t.Fatalf("% x byte by byte: Write of byte %d = %v", in, k, got)
			}
		}
		if v.Complete() != valid {
			t.Fatalf("% x byte by byte: Complete = %v", in, v.Complete())
		}
	}
	for a := 0; a < 256; a++ {
		check([]byte{byte(a)})
		for b := 0; b < 256; b++ {
			check([]byte{byte(a), byte(b)})
		}
	}
	edges := []byte{0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xff}
	for lead := 0x80; lead < 256; lead++ {
		for _, b := range edges {
			for _, c := range edges {
				check([]byte{byte(lead), b, c})
				for _, d := range edges {
					check([]byte{byte(lead), b, c, d})
				}
			}
		}
	}
}

func TestUTF8ValidatorLongText(t *testing.T) {
	text := []byte(strings.Repeat("Hello, κόσμε! こんにちは 𝄞 ", 200))
	for _, chunk := range []int{1, 2, 3, 5, 7, 11, 16, 31, 64, 1000} {
		var v UTF8Validator
		for i := 0; i < len(text); i += chunk {
			if !v.Write(text[i:min(i+chunk, len(text))]) {
				t.Fatalf("chunk %d: valid text rejected at %d", chunk, i)
			}
		}
		if !v.Complete() {
			t.Fatalf("chunk %d: Complete() = false", chunk)
		}
	}

	// Corrupt one byte in the middle of a multi-byte character: the chunk
	// holding it must fail, and no earlier one.
	bad := bytes.Clone(text)
	pos := len(bad) / 2
	pos += bytes.Index(bad[pos:], []byte("こ")) + 1
	bad[pos] = 0xc0 // not a continuation byte
	for _, chunk := range []int{1, 3, 7, 64} {
		var v UTF8Validator
		for i := 0; i < len(bad); i += chunk {
			end := min(i+chunk, len(bad))
			if got, want := v.Write(bad[i:end]), end <= pos; got != want {
				t.Fatalf("chunk %d: Write(bad[%d:%d]) = %v, want %v (bad byte at %d)", chunk, i, end, got, want, pos)
			}
		}
	}
}

func TestUTF8ValidatorAllocs(t *testing.T) {
	text := []byte(strings.Repeat("κόσμε 𝄞 ", 50))
	var v UTF8Validator
	allocs := testing.AllocsPerRun(100, func() {
		v.Reset()
		for i := 0; i < len(text); i += 7 {
			v.Write(text[i:min(i+7, len(text))])
		}
	})
	if allocs != 0 {
		t.Errorf("Write allocates %v times per run, want 0", allocs)
	}
	if !v.Complete() {
		t.Error("valid text not Complete")
	}
}

// benchText returns n bytes of valid text: all ASCII, or a mix of one- to
// four-byte characters padded with ASCII at the end to reach n bytes.
func benchText(n int, mixed bool) []byte {
	if !mixed {
		return bytes.Repeat([]byte("a"), n)
	}
	const sample = "Hello, κόσμε! こんにちは世界 🌍🚀 Größe façade 𝄞 "
	b := make([]byte, 0, n)
	for {
		for _, r := range sample {
			if len(b)+utf8.RuneLen(r) > n {
				return append(b, bytes.Repeat([]byte("a"), n-len(b))...)
			}
			b = utf8.AppendRune(b, r)
		}
	}
}

func BenchmarkUTF8Validator(b *testing.B) {
	for _, kind := range []struct {
		name  string
		mixed bool
	}{{"ascii", false}, {"mixed", true}} {
		text := benchText(64<<10, kind.mixed)
		if len(text) != 64<<10 || !utf8.Valid(text) {
			b.Fatalf("bad benchmark text: %d bytes, valid %v", len(text), utf8.Valid(text))
		}
		b.Run("validator/"+kind.name+"/64KiB", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			var v UTF8Validator
			for b.Loop() {
				v.Reset()
				if !v.Write(text) || !v.Complete() {
					b.Fatal("valid text rejected")
				}
			}
		})
		b.Run("validator-4099B-pieces/"+kind.name+"/64KiB", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			var v UTF8Validator
			for b.Loop() {
				v.Reset()
				for i := 0; i < len(text); i += 4099 {
					v.Write(text[i:min(i+4099, len(text))])
				}
				if !v.Complete() {
					b.Fatal("valid text rejected")
				}
			}
		})
		b.Run("utf8.Valid/"+kind.name+"/64KiB", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				if !utf8.Valid(text) {
					b.Fatal("valid text rejected")
				}
			}
		})
	}
}
