package message

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// Limits on what the fields of a message may hold. Decode does not apply
// them; ValidNick, ValidRoom and ValidText do.
const (
	// MaxNick is the longest nickname, in characters (runes).
	MaxNick = 24
	// MaxRoom is the longest room name, in characters, which are ASCII.
	MaxRoom = 32
	// MaxText is the longest text of a Send or a Chat, in bytes of UTF-8.
	MaxText = 2000
)

// MaxClientMessage is the size of the largest message a client sends when
// it follows the rules: a Send with a MaxRoom-byte room, a MaxText-byte
// text and the largest ID.
const MaxClientMessage = headerSize + 1 + MaxRoom + 2 + MaxText + binary.MaxVarintLen64

// ValidNick reports whether s is a valid nickname, and if not, why: it
// returns nil, or an *Error with Code CodeBadNick and a Text to show the
// user. A nickname has 1 to MaxNick characters, each a letter, an ASCII
// digit, a space, '-', '_' or '.'; it neither starts nor ends with a space
// and never has two in a row. Clients should trim the spaces around what
// the user typed before they check it.
//
// The letters are ASCII's and those of a few alphabets whose letters are
// single code points: Latin-1 and Latin Extended-A and B, Greek, Cyrillic,
// Hebrew, Arabic, hiragana, katakana, CJK unified ideographs and Hangul
// syllables. With no combining marks allowed, a name that looks the same
// is spelled the same, so duplicates are easy to tell.
func ValidNick(s string) error {
	switch {
	case s == "":
		return badNick("nickname is empty")
	case !utf8.ValidString(s):
		return badNick("nickname is not valid UTF-8")
	case s[0] == ' ' || s[len(s)-1] == ' ':
		return badNick("nickname may not start or end with a space")
	}
	n := 0
	prev := rune(0)
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.':
		case c == ' ':
			if prev == ' ' {
				return badNick("nickname may not contain two spaces in a row")
			}
		case c < 0x20, 0x7f <= c && c < 0xa0:
			return badNick("nickname may not contain control characters")
		case !isLetter(c):
			return badNick("nickname may not contain " + strconv.QuoteRune(c))
		}
		prev = c
		n++
	}
	if n > MaxNick {
		return badNick("nickname is longer than " + strconv.Itoa(MaxNick) + " characters")
	}
	return nil
}

func badNick(text string) error { return &Error{Code: CodeBadNick, Text: text} }

// letters are the ranges of non-ASCII code points that ValidNick accepts
// as letters. Every one of them is a letter to package unicode, as the
// tests check; the table spares the browser module unicode's.
var letters = [...]struct{ lo, hi uint16 }{
	{0x00c0, 0x00d6}, // Latin-1: À–Ö
	{0x00d8, 0x00f6}, // Ø–ö
	{0x00f8, 0x024f}, // ø–ÿ, Latin Extended-A and B
	{0x0386, 0x0386}, // Greek: Ά
	{0x0388, 0x038a}, // Έ–Ί
	{0x038c, 0x038c}, // Ό
	{0x038e, 0x03a1}, // Ύ–Ρ
	{0x03a3, 0x03ce}, // Σ–ώ
	{0x0400, 0x0481}, // Cyrillic: Ѐ–ҁ
	{0x048a, 0x04ff}, // Ҋ–ӿ
	{0x05d0, 0x05ea}, // Hebrew: א–ת
	{0x0620, 0x063f}, // Arabic: ؠ–ؿ
	{0x0641, 0x064a}, // ف–ي
	{0x3041, 0x3096}, // hiragana
	{0x30a1, 0x30fa}, // katakana
	{0x30fc, 0x30fc}, // katakana-hiragana prolonged sound mark ー
	{0x4e00, 0x9fff}, // CJK unified ideographs
	{0xac00, 0xd7a3}, // Hangul syllables
}

func isLetter(c rune) bool {
	for _, r := range letters {
		if rune(r.lo) <= c && c <= rune(r.hi) {
			return true
		}
	}
	return false
}

// ValidRoom reports whether s is a valid room name, and if not, why: it
// returns nil, or an *Error with Code CodeBadRoom. A room name has 1 to
// MaxRoom characters, each a lowercase ASCII letter, a digit, '-' or '_'.
func ValidRoom(s string) error {
	switch {
	case s == "":
		return badRoom("room name is empty")
	case len(s) > MaxRoom:
		return badRoom("room name is longer than " + strconv.Itoa(MaxRoom) + " characters")
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			r, _ := utf8.DecodeRuneInString(s[i:])
			return badRoom("room name may not contain " + strconv.QuoteRune(r) +
				"; use lowercase letters, digits, '-' and '_'")
		}
	}
	return nil
}

func badRoom(text string) error { return &Error{Code: CodeBadRoom, Text: text} }

// ValidText reports whether s may be sent as the text of a message, and if
// not, why: it returns nil, or an *Error with Code CodeTooLong for a text
// longer than MaxText bytes, or CodeBadMessage for one that is empty or
// blank, is not UTF-8, or has control characters other than tab and
// newline.
func ValidText(s string) error {
	switch {
	case s == "":
		return &Error{Code: CodeBadMessage, Text: "text is empty"}
	case len(s) > MaxText:
		return &Error{Code: CodeTooLong, Text: "text is longer than " + strconv.Itoa(MaxText) + " bytes"}
	case !utf8.ValidString(s):
		return &Error{Code: CodeBadMessage, Text: "text is not valid UTF-8"}
	}
	blank := true
	for _, c := range s {
		switch {
		case c == '\t', c == '\n', c == ' ':
		case c < 0x20, 0x7f <= c && c < 0xa0:
			return &Error{Code: CodeBadMessage, Text: "text may not contain control characters other than tab and newline"}
		default:
			blank = false
		}
	}
	if blank {
		return &Error{Code: CodeBadMessage, Text: "text is blank"}
	}
	return nil
}

// AltNick returns the nickname a server gives a client that asked for nick
// when someone in the room already has it: nick with the suffix "-n", cut
// short if need be so that it has at most MaxNick characters. It is a valid
// nickname if nick is; a server tries n = 2, 3, … until it finds one that
// is free.
func AltNick(nick string, n int) string {
	suffix := "-" + strconv.Itoa(n)
	keep := MaxNick - len(suffix) // the suffix is ASCII: a byte per character
	i := 0
	for ; i < len(nick) && keep > 0; keep-- {
		_, size := utf8.DecodeRuneInString(nick[i:])
		i += size
	}
	return nick[:i] + suffix
}
