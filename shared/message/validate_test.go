package message

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// checkValidation checks that err is nil when wantText is "", and
// otherwise an *Error with the given code and text.
func checkValidation(t *testing.T, fn string, in string, err error, code ErrorCode, wantText string) {
	t.Helper()
	if wantText == "" {
		if err != nil {
			t.Errorf("%s(%q) = %v, want nil", fn, in, err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("%s(%q) = %v, want an *Error", fn, in, err)
		return
	}
	if e.Code != code || e.Text != wantText || e.Room != "" {
		t.Errorf("%s(%q) = %#v, want code %v, text %q", fn, in, e, code, wantText)
	}
}

func TestValidNick(t *testing.T) {
	tests := []struct {
		in   string
		want string // the error's text, "" if valid
	}{
		{"ann", ""},
		{"a", ""},
		{"A", ""},
		{"7", ""},
		{"Ann Lee", ""},
		{"ann-2", ""},
		{"ann_lee", ""},
		{"j.r.r. tolkien", ""},
		{"...", ""},
		{"-_-", ""},
		{"Zoë", ""},
		{"Ørjan Åsmund", ""},
		{"Łukasz Żółć", ""},
		{"ǅemal", ""},
		{"Ἀθηνᾶ", "nickname may not contain 'Ἀ'"}, // Greek Extended is not in the table
		{"Σωκράτης", ""},
		{"Ельцин", ""},
		{"דוד", ""},
		{"محمد", ""},
		{"さくら", ""},
		{"ルーシー", ""},
		{"山田 太郎", ""},
		{"김민준", ""},
		{strings.Repeat("x", MaxNick), ""},
		{strings.Repeat("字", MaxNick), ""},
		{"a" + strings.Repeat(" b", (MaxNick-1)/2), ""},

		{"", "nickname is empty"},
		{" ann", "nickname may not start or end with a space"},
		{"ann ", "nickname may not start or end with a space"},
		{" ", "nickname may not start or end with a space"},
		{"ann  lee", "nickname may not contain two spaces in a row"},
		{strings.Repeat("x", MaxNick+1), "nickname is longer than 24 characters"},
		{strings.Repeat("字", MaxNick+1), "nickname is longer than 24 characters"},
		{"ann\tlee", "nickname may not contain control characters"},
		{"ann\n", "nickname may not contain control characters"},
		{"a\x00", "nickname may not contain control characters"},
		{"a\x7f", "nickname may not contain control characters"},
		{"a\u0085", "nickname may not contain control characters"},
		{"a\u009f", "nickname may not contain control characters"},
		{"ann@home", "nickname may not contain '@'"},
		{"<script>", "nickname may not contain '<'"},
		{"ann!", "nickname may not contain '!'"},
		{"a\u00a0b", `nickname may not contain '\u00a0'`},
		{"a\u200bb", `nickname may not contain '\u200b'`},
		{"a\u202eb", `nickname may not contain '\u202e'`},
		{"e\u0301", `nickname may not contain '́'`},
		{"ann😀", "nickname may not contain '😀'"},
		{"２", "nickname may not contain '２'"},
		{"a×b", "nickname may not contain '×'"},
		{"\xff", "nickname is not valid UTF-8"},
		{"ann\xc3", "nickname is not valid UTF-8"},
	}
	for _, tc := range tests {
		checkValidation(t, "ValidNick", tc.in, ValidNick(tc.in), CodeBadNick, tc.want)
	}
}

// Every code point in the letter table is a letter, and no range overlaps
// or follows another out of order.
func TestLetterTable(t *testing.T) {
	prev := rune(0x7f)
	for _, r := range letters {
		lo, hi := rune(r.lo), rune(r.hi)
		if lo > hi || lo <= prev {
			t.Errorf("range %U–%U is out of order", lo, hi)
		}
		prev = hi
		for c := lo; c <= hi; c++ {
			if !unicode.IsLetter(c) {
				t.Errorf("%U %q in range %U–%U is not a letter", c, c, lo, hi)
			}
			if !isLetter(c) {
				t.Errorf("isLetter(%U) = false", c)
			}
		}
	}
	for c := rune(0); c < 0x10000; c++ {
		if isLetter(c) && !unicode.IsLetter(c) {
			t.Errorf("isLetter(%U) = true", c)
		}
	}
}

func TestValidRoom(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"go", ""},
		{"a", ""},
		{"0", ""},
		{"lobby-2", ""},
		{"off_topic", ""},
		{"-", ""},
		{strings.Repeat("r", MaxRoom), ""},
		{"abcdefghijklmnopqrstuvwxyz", ""},
		{"0123456789-_", ""},

		{"", "room name is empty"},
		{strings.Repeat("r", MaxRoom+1), "room name is longer than 32 characters"},
		{"Go", "room name may not contain 'G'; use lowercase letters, digits, '-' and '_'"},
		{"go lang", "room name may not contain ' '; use lowercase letters, digits, '-' and '_'"},
		{"go.dev", "room name may not contain '.'; use lowercase letters, digits, '-' and '_'"},
		{"go/x", "room name may not contain '/'; use lowercase letters, digits, '-' and '_'"},
		{"café", "room name may not contain 'é'; use lowercase letters, digits, '-' and '_'"},
		{"a\x00", `room name may not contain '\x00'; use lowercase letters, digits, '-' and '_'`},
		{"a\xff", "room name may not contain '�'; use lowercase letters, digits, '-' and '_'"},
	}
	for _, tc := range tests {
		checkValidation(t, "ValidRoom", tc.in, ValidRoom(tc.in), CodeBadRoom, tc.want)
	}
}

func TestValidText(t *testing.T) {
	tests := []struct {
		in   string
		code ErrorCode
		want string
	}{
		{"hi", 0, ""},
		{" hi ", 0, ""},
		{"line 1\nline 2\n\tindented", 0, ""},
		{"κόσμε 🌍", 0, ""},
		{".", 0, ""},
		{"\u3000", 0, ""}, // only ASCII white space counts as blank
		{strings.Repeat("x", MaxText), 0, ""},
		{strings.Repeat("€", MaxText/3), 0, ""},

		{"", CodeBadMessage, "text is empty"},
		{" ", CodeBadMessage, "text is blank"},
		{"\n\t \n", CodeBadMessage, "text is blank"},
		{strings.Repeat("x", MaxText+1), CodeTooLong, "text is longer than 2000 bytes"},
		{strings.Repeat("€", MaxText/3+1), CodeTooLong, "text is longer than 2000 bytes"},
		{"a\rb", CodeBadMessage, "text may not contain control characters other than tab and newline"},
		{"a\x00", CodeBadMessage, "text may not contain control characters other than tab and newline"},
		{"\x1b[31mred", CodeBadMessage, "text may not contain control characters other than tab and newline"},
		{"a\x7f", CodeBadMessage, "text may not contain control characters other than tab and newline"},
		{"a\u0080", CodeBadMessage, "text may not contain control characters other than tab and newline"},
		{"a\xffb", CodeBadMessage, "text is not valid UTF-8"},
	}
	for _, tc := range tests {
		checkValidation(t, "ValidText", tc.in, ValidText(tc.in), tc.code, tc.want)
	}
}

func TestAltNick(t *testing.T) {
	tests := []struct {
		nick string
		n    int
		want string
	}{
		{"ann", 2, "ann-2"},
		{"ann-2", 2, "ann-2-2"},
		{"Zoë", 10, "Zoë-10"},
		{strings.Repeat("x", 22), 2, strings.Repeat("x", 22) + "-2"},
		{strings.Repeat("x", 23), 2, strings.Repeat("x", 22) + "-2"},
		{strings.Repeat("x", 24), 2, strings.Repeat("x", 22) + "-2"},
		{strings.Repeat("字", 24), 100, strings.Repeat("字", 20) + "-100"},
		{"abcdefghijklmnopqrst uvw", 2, "abcdefghijklmnopqrst u-2"},
		{"abcdefghijklmnopqrstu vw", 2, "abcdefghijklmnopqrstu -2"},
	}
	for _, tc := range tests {
		got := AltNick(tc.nick, tc.n)
		if got != tc.want {
			t.Errorf("AltNick(%q, %d) = %q, want %q", tc.nick, tc.n, got, tc.want)
		}
		if err := ValidNick(got); err != nil {
			t.Errorf("AltNick(%q, %d) = %q: %v", tc.nick, tc.n, got, err)
		}
	}
}

// AltNick keeps valid nicknames valid, and different, for every length and
// a wide range of n.
func TestAltNickStaysValid(t *testing.T) {
	for length := 1; length <= MaxNick; length++ {
		for _, unit := range []string{"x", "é", "字", "a b"} {
			nick := strings.Repeat(unit, length)
			nick = strings.TrimSpace(string([]rune(nick)[:length]))
			if ValidNick(nick) != nil {
				continue
			}
			for _, n := range []int{2, 9, 10, 99, 12345, 1 << 62, -1, -1 << 63} {
				alt := AltNick(nick, n)
				if err := ValidNick(alt); err != nil || alt == nick {
					t.Errorf("AltNick(%q, %d) = %q: %v", nick, n, alt, err)
				}
				if utf8.RuneCountInString(alt) > MaxNick {
					t.Errorf("AltNick(%q, %d) = %q is too long", nick, n, alt)
				}
			}
		}
	}
}

// MaxClientMessage is the size of the largest valid Send, and no other
// message a client sends with valid fields, and a token of 64 bytes, is
// larger.
func TestMaxClientMessage(t *testing.T) {
	room := strings.Repeat("r", MaxRoom)
	nick := strings.Repeat("字", MaxNick) // 3 bytes a character, the most the letter table allows
	text := strings.Repeat("x", MaxText)
	if ValidRoom(room) != nil || ValidNick(nick) != nil || ValidText(text) != nil {
		t.Fatal("the test's room, nickname or text is invalid")
	}
	if n := len(Append(nil, &Send{Room: room, Text: text, ID: 1<<64 - 1})); n != MaxClientMessage {
		t.Errorf("the largest Send has %d bytes, MaxClientMessage is %d", n, MaxClientMessage)
	}
	for _, m := range []Message{
		&Join{Room: room, Nick: nick, Resume: true, After: 1<<64 - 1, Token: strings.Repeat("t", 64)},
		&Leave{Room: room},
		&Typing{Room: room, Nick: nick, Active: true},
	} {
		if n := len(Append(nil, m)); n > MaxClientMessage {
			t.Errorf("%v of %d bytes exceeds MaxClientMessage", m.Kind(), n)
		}
	}
}
