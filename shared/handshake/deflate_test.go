package handshake

import (
	"errors"
	"strings"
	"testing"
)

// parseOne parses header, which must hold exactly one extension.
func parseOne(t *testing.T, header string) Extension {
	t.Helper()
	exts, err := ParseExtensions([]string{header})
	if err != nil || len(exts) != 1 {
		t.Fatalf("ParseExtensions(%q) = %v, %v; want one extension", header, exts, err)
	}
	return exts[0]
}

func TestParseDeflateOffer(t *testing.T) {
	tests := []struct {
		header string
		want   DeflateParams
		bad    string // the Param of the expected *DeflateError, if any
	}{
		{"permessage-deflate", DeflateParams{}, ""},
		{"permessage-deflate; server_no_context_takeover", DeflateParams{ServerNoContextTakeover: true}, ""},
		{"permessage-deflate; client_no_context_takeover", DeflateParams{ClientNoContextTakeover: true}, ""},
		{"permessage-deflate; client_max_window_bits", DeflateParams{ClientMaxWindowBits: WindowBitsNoValue}, ""},
		{"permessage-deflate; client_max_window_bits=8", DeflateParams{ClientMaxWindowBits: 8}, ""},
		{"permessage-deflate; server_max_window_bits=15", DeflateParams{ServerMaxWindowBits: 15}, ""},
		{`permessage-deflate; server_max_window_bits="10"`, DeflateParams{ServerMaxWindowBits: 10}, ""},
		{
			"permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9",
			DeflateParams{true, true, 9, WindowBitsNoValue}, "",
		},
		{
			"permessage-deflate;server_max_window_bits=12;client_max_window_bits=13",
			DeflateParams{ServerMaxWindowBits: 12, ClientMaxWindowBits: 13}, "",
		},

		// Malformed offers, which a server declines (RFC 7692 §5).
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", DeflateParams{}, "server_no_context_takeover"},
		{"permessage-deflate; client_max_window_bits; client_max_window_bits=10", DeflateParams{}, "client_max_window_bits"},
		{"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", DeflateParams{}, "server_max_window_bits"},
		{"permessage-deflate; server_no_context_takeover=1", DeflateParams{}, "server_no_context_takeover"},
		{"permessage-deflate; client_no_context_takeover=true", DeflateParams{}, "client_no_context_takeover"},
		{"permessage-deflate; server_max_window_bits", DeflateParams{}, "server_max_window_bits"},
		{"permessage-deflate; server_max_window_bits=7", DeflateParams{}, "server_max_window_bits"},
		{"permessage-deflate; server_max_window_bits=16", DeflateParams{}, "server_max_window_bits"},
		{"permessage-deflate; server_max_window_bits=010", DeflateParams{}, "server_max_window_bits"},
		{"permessage-deflate; server_max_window_bits=+9", DeflateParams{}, "server_max_window_bits"},
		{"permessage-deflate; client_max_window_bits=0", DeflateParams{}, "client_max_window_bits"},
		{"permessage-deflate; client_max_window_bits=x", DeflateParams{}, "client_max_window_bits"},
		{"permessage-deflate; client_max_window_bits=-1", DeflateParams{}, "client_max_window_bits"},
		{"permessage-deflate; mux", DeflateParams{}, "mux"},
		{"permessage-deflate; Server_No_Context_Takeover", DeflateParams{}, "Server_No_Context_Takeover"},
		{"permessage-deflate; client_max_window_bits; x=1", DeflateParams{}, "x"},
	}
	for _, tc := range tests {
		got, err := ParseDeflateOffer(parseOne(t, tc.header).Params)
		if tc.bad != "" {
			var de *DeflateError
			if !errors.As(err, &de) || de.Param != tc.bad {
				t.Errorf("ParseDeflateOffer(%q) = %+v, %v; want an error about %q", tc.header, got, err, tc.bad)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDeflateOffer(%q) = %+v, %v; want %+v", tc.header, got, err, tc.want)
		}
	}
}

func TestParseDeflateResponse(t *testing.T) {
	tests := []struct {
		header string
		want   DeflateParams
		bad    string
	}{
		{"permessage-deflate", DeflateParams{}, ""},
		{
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, "",
		},
		{"permessage-deflate; client_max_window_bits=9", DeflateParams{ClientMaxWindowBits: 9}, ""},
		{"permessage-deflate; server_max_window_bits=8", DeflateParams{ServerMaxWindowBits: 8}, ""},

		// A response must give every window size a value.
		{"permessage-deflate; client_max_window_bits", DeflateParams{}, "client_max_window_bits"},
		{"permessage-deflate; server_max_window_bits", DeflateParams{}, "server_max_window_bits"},
		{"permessage-deflate; client_no_context_takeover; client_no_context_takeover", DeflateParams{}, "client_no_context_takeover"},
		{"permessage-deflate; client_max_window_bits=16", DeflateParams{}, "client_max_window_bits"},
		{"permessage-deflate; unknown", DeflateParams{}, "unknown"},
	}
	for _, tc := range tests {
		got, err := ParseDeflateResponse(parseOne(t, tc.header).Params)
		if tc.bad != "" {
			var de *DeflateError
			if !errors.As(err, &de) || de.Param != tc.bad {
				t.Errorf("ParseDeflateResponse(%q) = %+v, %v; want an error about %q", tc.header, got, err, tc.bad)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDeflateResponse(%q) = %+v, %v; want %+v", tc.header, got, err, tc.want)
		}
	}
}

func TestDeflateParamsString(t *testing.T) {
	tests := []struct {
		p    DeflateParams
		want string
	}{
		{DeflateParams{}, "permessage-deflate"},
		{DeflateParams{ClientMaxWindowBits: WindowBitsNoValue}, "permessage-deflate; client_max_window_bits"},
		{
			DeflateParams{true, true, 10, 12},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
		},
		{DeflateParams{ServerNoContextTakeover: true, ClientMaxWindowBits: WindowBitsNoValue}, "permessage-deflate; server_no_context_takeover; client_max_window_bits"},
	}
	for _, tc := range tests {
		got := tc.p.String()
		if got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.p, got, tc.want)
		}
		// What String writes, the parser reads back.
		back, err := ParseDeflateOffer(parseOne(t, got).Params)
		if err != nil || back != tc.p {
			t.Errorf("ParseDeflateOffer(%q) = %+v, %v; want %+v", got, back, err, tc.p)
		}
	}
}

func TestDeflateErrorMessage(t *testing.T) {
	_, err := ParseDeflateOffer([]Param{{"server_max_window_bits", "7"}})
	if err == nil || !strings.Contains(err.Error(), `"server_max_window_bits"`) || !strings.Contains(err.Error(), `"7"`) {
		t.Errorf("error %q does not name the parameter and its value", err)
	}
}
