package handshake

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestHasToken(t *testing.T) {
	tests := []struct {
		values []string
		token  string
		want   bool
	}{
		{[]string{"keep-alive, Upgrade"}, "upgrade", true},
		{[]string{"keep-alive, Upgrade"}, "keep-alive", true},
		{[]string{"upgrade"}, "Upgrade", true},
		{[]string{"UPGRADE"}, "upgrade", true},
		{[]string{"upgrade"}, "UpGrAdE", true},
		{[]string{" , upgrade ,"}, "upgrade", true},
		{[]string{"\tupgrade\t"}, "upgrade", true},
		{[]string{"a,b,c,upgrade"}, "upgrade", true},
		{[]string{"upgrade,a"}, "upgrade", true},
		{[]string{"websocket"}, "websocket", true},
		{[]string{"WebSocket"}, "websocket", true},

		// Lists spread over several header lines.
		{[]string{"keep-alive", "Upgrade"}, "upgrade", true},
		{[]string{"keep-alive", "close, Upgrade"}, "upgrade", true},
		{[]string{"", ",", "x", "y, upgrade"}, "upgrade", true},
		{[]string{"keep-alive", "close"}, "upgrade", false},

		// Substrings and near misses must not match.
		{[]string{"upgrade2"}, "upgrade", false},
		{[]string{"notupgrade"}, "upgrade", false},
		{[]string{"upgrade2, notupgrade"}, "upgrade", false},
		{[]string{"up grade"}, "upgrade", false},
		{[]string{"upgrade;q=1"}, "upgrade", false},
		{[]string{"Upgrade-Insecure-Requests"}, "upgrade", false},
		{[]string{"websocket/13"}, "websocket", false},
		{[]string{`"upgrade"`}, "upgrade", false},
		{[]string{"upgrade"}, "upgrade2", false},
		{[]string{"upgrade"}, "upgrad", false},

		// Empty inputs.
		{nil, "upgrade", false},
		{[]string{}, "upgrade", false},
		{[]string{""}, "upgrade", false},
		{[]string{" , ,, "}, "upgrade", false},

		// Only space and tab are optional whitespace.
		{[]string{"\nupgrade"}, "upgrade", false},
		{[]string{"upgrade\u00a0"}, "upgrade", false},

		// Header tokens are compared ASCII case-insensitively (RFC 6455
		// §4.2.1): characters outside ASCII that Unicode case folding maps
		// to ASCII letters must not match.
		{[]string{"webſocket"}, "websocket", false},        // U+017F LATIN SMALL LETTER LONG S
		{[]string{"\u212aeep-alive"}, "keep-alive", false}, // U+212A KELVIN SIGN
		{[]string{"keep-alive"}, "\u212aeep-alive", false},
		{[]string{"websocket"}, "webſocket", false},
	}
	for _, tc := range tests {
		if got := HasToken(tc.values, tc.token); got != tc.want {
			t.Errorf("HasToken(%q, %q) = %v, want %v", tc.values, tc.token, got, tc.want)
		}
	}
}

func TestParseTokens(t *testing.T) {
	tests := []struct {
		values []string
		want   []string
		bad    string // Value of the expected *ListError, if any
	}{
		{nil, nil, ""},
		{[]string{""}, nil, ""},
		{[]string{" , ,\t, "}, nil, ""},
		{[]string{"chat"}, []string{"chat"}, ""},
		{[]string{"Chat"}, []string{"Chat"}, ""},
		{[]string{"a, b,c"}, []string{"a", "b", "c"}, ""},
		{[]string{" , a ,, b , "}, []string{"a", "b"}, ""},
		{[]string{"a", "b, c"}, []string{"a", "b", "c"}, ""},
		{[]string{"chat, superchat", "", "v2.bin.example.com"}, []string{"chat", "superchat", "v2.bin.example.com"}, ""},
		{[]string{"a,a"}, []string{"a", "a"}, ""},
		{[]string{"\ta\t"}, []string{"a"}, ""},
		{[]string{"!#$%&'*+-.^_`|~09azAZ"}, []string{"!#$%&'*+-.^_`|~09azAZ"}, ""},

		{[]string{"a b"}, nil, "a b"},
		{[]string{"ok, a b, c"}, nil, "a b"},
		{[]string{"a;b"}, nil, "a;b"},
		{[]string{"a/b"}, nil, "a/b"},
		{[]string{"a=b"}, nil, "a=b"},
		{[]string{`"a"`}, nil, `"a"`},
		{[]string{"(a)"}, nil, "(a)"},
		{[]string{"é"}, nil, "é"},
		{[]string{"a\x00"}, nil, "a\x00"},
		{[]string{"a\x7f"}, nil, "a\x7f"},
		{[]string{"x", "b c"}, nil, "b c"},
	}
	for _, tc := range tests {
		got, err := ParseTokens(tc.values)
		if tc.bad != "" {
			var le *ListError
			if !errors.As(err, &le) || le.Value != tc.bad {
				t.Errorf("ParseTokens(%q): err = %v, want a *ListError for %q", tc.values, err, tc.bad)
			}
			if got != nil {
				t.Errorf("ParseTokens(%q) returned %q with its error", tc.values, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTokens(%q): %v", tc.values, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseTokens(%q) = %q, want %q", tc.values, got, tc.want)
		}
	}
}

func TestTokenCharacters(t *testing.T) {
	// RFC 7230 §3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" /
	// "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
	isTchar := func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
	}
	for c := 0; c < 256; c++ {
		if c == ',' {
			continue // separates elements
		}
		elem := "a" + string([]byte{byte(c)}) + "b"
		tokens, err := ParseTokens([]string{elem})
		if isTchar(byte(c)) {
			if err != nil || len(tokens) != 1 || tokens[0] != elem {
				t.Errorf("ParseTokens(%q) = %q, %v; want the token", elem, tokens, err)
			}
		} else if err == nil {
			t.Errorf("ParseTokens(%q) = %q; want an error for %#02x", elem, tokens, c)
		}
		// Escaped in a quoted value, any character gets through the quoting
		// and must then be a token character.
		ext := `x; p="a\` + string([]byte{byte(c)}) + `b"`
		exts, err := ParseExtensions([]string{ext})
		if isTchar(byte(c)) != (err == nil) {
			t.Errorf("ParseExtensions(%q) = %#v, %v", ext, exts, err)
		}
		if err == nil && exts[0].Params[0].Value != elem {
			t.Errorf("ParseExtensions(%q): value %q, want %q", ext, exts[0].Params[0].Value, elem)
		}
	}
}

func TestListErrorMessage(t *testing.T) {
	err := &ListError{Value: "a b", Msg: "is not a token"}
	if got, want := err.Error(), `handshake: header list element "a b" is not a token`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestParseExtensions(t *testing.T) {
	type P = Param
	tests := []struct {
		name   string
		values []string
		want   []Extension
	}{
		{"none", nil, nil},
		{"empty", []string{""}, nil},
		{"only commas", []string{" ,, , "}, nil},
		{"name only", []string{"permessage-deflate"}, []Extension{{Name: "permessage-deflate"}}},
		{
			"RFC 7692 offer",
			[]string{"permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=10"},
			[]Extension{
				{Name: "permessage-deflate", Params: []P{{"client_max_window_bits", ""}}},
				{Name: "permessage-deflate", Params: []P{{"server_max_window_bits", "10"}}},
			},
		},
		{
			"several params",
			[]string{"permessage-deflate; client_no_context_takeover; server_max_window_bits=15; client_max_window_bits"},
			[]Extension{{Name: "permessage-deflate", Params: []P{
				{"client_no_context_takeover", ""}, {"server_max_window_bits", "15"}, {"client_max_window_bits", ""},
			}}},
		},
		{"quoted value", []string{`x; a="10"`}, []Extension{{Name: "x", Params: []P{{"a", "10"}}}}},
		{"escaped characters in quotes", []string{`x; a="1\0"`}, []Extension{{Name: "x", Params: []P{{"a", "10"}}}}},
		{"escaped letter", []string{`x; a="\ab"`}, []Extension{{Name: "x", Params: []P{{"a", "ab"}}}}},
		{"quoted then more", []string{`x; a="1"; b, y`}, []Extension{{Name: "x", Params: []P{{"a", "1"}, {"b", ""}}}, {Name: "y"}}},
		{"spaces everywhere", []string{"  x ;  a = 1 ;b\t, \t y  "}, []Extension{{Name: "x", Params: []P{{"a", "1"}, {"b", ""}}}, {Name: "y"}}},
		{"no spaces", []string{"x;a=1;b,y"}, []Extension{{Name: "x", Params: []P{{"a", "1"}, {"b", ""}}}, {Name: "y"}}},
		{"empty elements", []string{",, x ,,", "", ", y"}, []Extension{{Name: "x"}, {Name: "y"}}},
		{"several values", []string{"a", "b; c=D"}, []Extension{{Name: "a"}, {Name: "b", Params: []P{{"c", "D"}}}}},
		{"repeated param", []string{"x; a; a=1"}, []Extension{{Name: "x", Params: []P{{"a", ""}, {"a", "1"}}}}},
		{"token characters", []string{"x-1.2_~; a!#$=%&'*+"}, []Extension{{Name: "x-1.2_~", Params: []P{{"a!#$", "%&'*+"}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseExtensions(tc.values)
			if err != nil {
				t.Fatalf("ParseExtensions(%q): %v", tc.values, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseExtensions(%q) =\n%#v, want\n%#v", tc.values, got, tc.want)
			}
		})
	}
}

func TestParseExtensionsErrors(t *testing.T) {
	tests := []struct {
		name   string
		values []string
	}{
		{"quoted value not a token", []string{`x; a="hello world"`}},
		{"quoted value with escaped quotes", []string{`x; a="\"10\""`}},
		{"quoted value with separator", []string{`x; a="1,2"`}},
		{"empty quoted value", []string{`x; a=""`}},
		{"unterminated quote", []string{`x; a="10`}},
		{"unterminated quote after escape", []string{`x; a="10\"`}},
		{"unterminated quote ending in backslash", []string{`x; a="10\`}},
		{"missing extension name", []string{"; a"}},
		{"missing extension name after comma", []string{"x, ;a"}},
		{"missing extension name before =", []string{"=1"}},
		{"missing param name", []string{"x;"}},
		{"missing param name before =", []string{"x; =1"}},
		{"double semicolon", []string{"x;; a"}},
		{"missing value", []string{"x; a="}},
		{"missing value before semicolon", []string{"x; a=; b"}},
		{"missing value before comma", []string{"x; a=, y"}},
		{"double =", []string{"x; a==1"}},
		{"stray = after name", []string{"x =1"}},
		{"two names", []string{"x y"}},
		{"two param names", []string{"x; a b"}},
		{"two values", []string{"x; a=1 2"}},
		{"text after quoted value", []string{`x; a="1"2`}},
		{"non-ASCII name", []string{"é"}},
		{"non-ASCII value", []string{"x; a=é"}},
		{"quoted extension name", []string{`"x"`}},
		{"bad second value", []string{"x", "y z"}},
		{"slash", []string{"x/1"}},
	}
	for _, tc := range tests {
		got, err := ParseExtensions(tc.values)
		var le *ListError
		if !errors.As(err, &le) {
			t.Errorf("%s: ParseExtensions(%q) = %#v, %v; want a *ListError", tc.name, tc.values, got, err)
			continue
		}
		if got != nil {
			t.Errorf("%s: ParseExtensions(%q) returned %#v with its error", tc.name, tc.values, got)
		}
		if !strings.Contains(tc.values[len(tc.values)-1], le.Value) && !strings.Contains(tc.values[0], le.Value) {
			t.Errorf("%s: ListError.Value %q is not from the input", tc.name, le.Value)
		}
	}
}

func TestExtensionString(t *testing.T) {
	tests := []struct {
		ext  Extension
		want string
	}{
		{Extension{Name: "permessage-deflate"}, "permessage-deflate"},
		{
			Extension{Name: "permessage-deflate", Params: []Param{{"client_max_window_bits", ""}}},
			"permessage-deflate; client_max_window_bits",
		},
		{
			Extension{Name: "permessage-deflate", Params: []Param{
				{"server_no_context_takeover", ""}, {"server_max_window_bits", "10"},
			}},
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=10",
		},
		{Extension{Name: "x", Params: []Param{{"a", "1"}, {"b", "2"}}}, "x; a=1; b=2"},
	}
	for _, tc := range tests {
		got := tc.ext.String()
		if got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
		back, err := ParseExtensions([]string{got})
		if err != nil || len(back) != 1 || !reflect.DeepEqual(back[0], tc.ext) {
			t.Errorf("ParseExtensions(%q) = %#v, %v; want %#v", got, back, err, tc.ext)
		}
	}

	// A quoted value comes back unquoted and prints as a plain token.
	exts, err := ParseExtensions([]string{`x; a="1\5"; b`})
	if err != nil || len(exts) != 1 {
		t.Fatalf("ParseExtensions: %#v, %v", exts, err)
	}
	if got := exts[0].String(); got != "x; a=15; b" {
		t.Errorf("String() = %q, want %q", got, "x; a=15; b")
	}
}
