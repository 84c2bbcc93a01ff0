package handshake

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for the header list parsers. Seeds worth keeping are in
// testdata/fuzz/<FuzzName>; run one target with, for example,
//
//	go test ./shared/handshake -run '^$' -fuzz '^FuzzParseExtensions$' -fuzztime 30s

func FuzzParseExtensions(f *testing.F) {
	for _, s := range [][2]string{
		{"permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=10", ""},
		{"permessage-deflate; client_no_context_takeover; server_max_window_bits=15", "x-webkit-deflate-frame"},
		{`x; a="10"`, `y; b="1\0"`},
		{`x; a="\"10\""`, ""},
		{`x; a="10`, ""},
		{`x; a=""`, ""},
		{"; a", "x;"},
		{"x; =1", "x; a="},
		{"x =1", "x;; a"},
		{" ,, x ;\ta = 1 ;b , ", ""},
		{"é", "x; a=é"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		values := []string{a, b}
		exts, err := ParseExtensions(values)
		if err != nil {
			var le *ListError
			if !errors.As(err, &le) || exts != nil {
				t.Fatalf("ParseExtensions(%q) = %#v, %v", values, exts, err)
			}
			return
		}
		strs := make([]string, len(exts))
		for i, e := range exts {
			if !IsToken(e.Name) {
				t.Fatalf("extension name %q is not a token", e.Name)
			}
			for _, p := range e.Params {
				if !IsToken(p.Name) || p.Value != "" && !IsToken(p.Value) {
					t.Fatalf("parameter %q=%q is not made of tokens", p.Name, p.Value)
				}
			}
			strs[i] = e.String()
			back, err := ParseExtensions([]string{strs[i]})
			if err != nil || len(back) != 1 || !reflect.DeepEqual(back[0], e) {
				t.Fatalf("ParseExtensions(%q) = %#v, %v; want %#v", strs[i], back, err, e)
			}
		}
		joined := strings.Join(strs, ", ")
		back, err := ParseExtensions([]string{joined})
		if err != nil || !reflect.DeepEqual(back, exts) {
			t.Fatalf("ParseExtensions(%q) = %#v, %v; want %#v", joined, back, err, exts)
		}
	})
}

// splitList is a plain reading of a comma-separated list: its elements with
// optional whitespace removed, empty ones included.
func splitList(values []string) []string {
	var elems []string
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			elems = append(elems, strings.Trim(e, " \t"))
		}
	}
	return elems
}

// asciiFoldRef reports whether s and t differ at most in the case of ASCII
// letters.
func asciiFoldRef(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		lower := a | 0x20
		if a != b && !(a^b == 0x20 && lower >= 'a' && lower <= 'z') {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

var tokenSeeds = [][3]string{
	{"keep-alive, Upgrade", "", "upgrade"},
	{"keep-alive", "Upgrade", "UPGRADE"},
	{" , upgrade ,", "", "upgrade"},
	{"upgrade2, notupgrade", "", "upgrade"},
	{"a b", "c", "a"},
	{"a;b", "", "a;b"},
	{"chat, superchat", "v2.bin", "Chat"},
	{"webſocket", "", "websocket"},
	{"\u212aeep-alive", "", "keep-alive"},
	{"k", "", "\u212a"},
	{",,", "", ""},
}

func FuzzParseTokens(f *testing.F) {
	for _, s := range tokenSeeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		values := []string{a, b}
		tokens, err := ParseTokens(values)
		var want []string
		bad := ""
		for _, e := range splitList(values) {
			if e != "" && !IsToken(e) && bad == "" {
				bad = e
			}
			if e != "" {
				want = append(want, e)
			}
		}
		if bad != "" {
			var le *ListError
			if !errors.As(err, &le) || le.Value != bad || tokens != nil {
				t.Fatalf("ParseTokens(%q) = %q, %v; want a *ListError for %q", values, tokens, err, bad)
			}
			return
		}
		if err != nil || !reflect.DeepEqual(tokens, want) {
			t.Fatalf("ParseTokens(%q) = %q, %v; want %q", values, tokens, err, want)
		}
		for _, tok := range tokens {
			if !HasToken(values, tok) || !HasToken(values, strings.ToUpper(tok)) {
				t.Fatalf("ParseTokens(%q) found %q but HasToken does not", values, tok)
			}
		}
	})
}

func FuzzHasToken(f *testing.F) {
	for _, s := range tokenSeeds {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, tok string) {
		values := []string{a, b}
		got := HasToken(values, tok)
		if tok == "" {
			return // an empty token matches empty elements in some lists
		}
		want := false
		for _, e := range splitList(values) {
			want = want || asciiFoldRef(e, tok)
		}
		if got != want {
			t.Fatalf("HasToken(%q, %q) = %v, want %v", values, tok, got, want)
		}

		// Where the lists are well formed, HasToken agrees with looking for
		// the token among ParseTokens' result with strings.EqualFold, for
		// ASCII tokens; tokens are ASCII, so nothing else may match.
		tokens, err := ParseTokens(values)
		if err != nil {
			return
		}
		found := false
		for _, x := range tokens {
			found = found || strings.EqualFold(x, tok)
		}
		if isASCII(tok) && got != found {
			t.Fatalf("HasToken(%q, %q) = %v, but ParseTokens gives %q", values, tok, got, tokens)
		}
		if !isASCII(tok) && got {
			t.Fatalf("HasToken(%q, %q) matched a non-ASCII token", values, tok)
		}
	})
}

// FuzzParseDeflate reads any header value as permessage-deflate offers and
// responses: every parameter set accepted is within RFC 7692's ranges and
// reads back the same from what String writes, and an offer the parser
// refuses says which parameter is at fault.
func FuzzParseDeflate(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
		"permessage-deflate; server_max_window_bits=9; server_no_context_takeover, permessage-deflate, x-webkit-deflate-frame",
		`permessage-deflate; server_max_window_bits="15"`,
		"permessage-deflate; server_max_window_bits=010",
		"permessage-deflate; client_max_window_bits; client_max_window_bits",
		"permessage-deflate; server_no_context_takeover=1; mux",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		exts, err := ParseExtensions([]string{header})
		if err != nil {
			return
		}
		for _, ext := range exts {
			for _, offer := range []bool{true, false} {
				parse := ParseDeflateResponse
				if offer {
					parse = ParseDeflateOffer
				}
				p, err := parse(ext.Params)
				if err != nil {
					var de *DeflateError
					if !errors.As(err, &de) || p != (DeflateParams{}) {
						t.Fatalf("parse(%q) = %+v, %v; want a *DeflateError alone", ext, p, err)
					}
					found := false
					for _, param := range ext.Params {
						found = found || param.Name == de.Param
					}
					if !found {
						t.Fatalf("parse(%q) blames %q, which it does not hold", ext, de.Param)
					}
					continue
				}
				if p.ServerMaxWindowBits != 0 && (p.ServerMaxWindowBits < 8 || p.ServerMaxWindowBits > 15) ||
					p.ClientMaxWindowBits != 0 && (p.ClientMaxWindowBits < 8 || p.ClientMaxWindowBits > 15) &&
						!(offer && p.ClientMaxWindowBits == WindowBitsNoValue) {
					t.Fatalf("parse(%q) = %+v: a window size out of range", ext, p)
				}
				if len(ext.Params) > 4 {
					t.Fatalf("parse(%q) accepted %d parameters", ext, len(ext.Params))
				}
				back, err := parse(parseOne(t, p.String()).Params)
				if err != nil || back != p {
					t.Fatalf("parse(%q) = %+v, %v; want %+v", p.String(), back, err, p)
				}
			}
		}
	})
}
