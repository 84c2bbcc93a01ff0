package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestValidOnWireEveryCode(t *testing.T) {
	// RFC 6455 §7.4 and the IANA registry: 1000–1003 and 1007–1014 are
	// registered codes that may be sent; 1004 is reserved, 1005, 1006 and
	// 1015 must never be sent; 0–999 and 1016–2999 are not to be used;
	// 3000–4999 belong to libraries and applications.
	for c := 0; c <= 5000; c++ {
		want := c >= 1000 && c <= 1003 || c >= 1007 && c <= 1014 || c >= 3000 && c <= 4999
		if got := StatusCode(c).ValidOnWire(); got != want {
			t.Errorf("StatusCode(%d).ValidOnWire() = %v, want %v", c, got, want)
		}
	}
	for _, c := range []StatusCode{5001, 9999, 32767, 32768, 65535} {
		if c.ValidOnWire() {
			t.Errorf("StatusCode(%d).ValidOnWire() = true", c)
		}
	}
}

func TestValidOnWireBoundaries(t *testing.T) {
	tests := []struct {
		code StatusCode
		want bool
	}{
		{0, false}, {999, false},
		{1000, true}, {1001, true}, {1002, true}, {1003, true},
		{1004, false}, {1005, false}, {1006, false},
		{1007, true}, {1011, true}, {1014, true},
		{1015, false}, {1016, false}, {2999, false},
		{3000, true}, {4000, true}, {4999, true},
		{5000, false},
	}
	for _, tc := range tests {
		if got := tc.code.ValidOnWire(); got != tc.want {
			t.Errorf("%d: ValidOnWire = %v, want %v", tc.code, got, tc.want)
		}
	}
}

func TestStatusCodeString(t *testing.T) {
	tests := []struct {
		code StatusCode
		want string
	}{
		{StatusNormalClosure, "normal closure"},
		{StatusGoingAway, "going away"},
		{StatusProtocolError, "protocol error"},
		{StatusUnsupportedData, "unsupported data"},
		{StatusNoStatusReceived, "no status received"},
		{StatusAbnormalClosure, "abnormal closure"},
		{StatusInvalidPayloadData, "invalid payload data"},
		{StatusPolicyViolation, "policy violation"},
		{StatusMessageTooBig, "message too big"},
		{StatusMandatoryExtension, "mandatory extension"},
		{StatusInternalError, "internal error"},
		{StatusServiceRestart, "service restart"},
		{StatusTryAgainLater, "try again later"},
		{StatusBadGateway, "bad gateway"},
		{StatusTLSHandshake, "TLS handshake"},
		{1004, "1004"},
		{0, "0"},
		{4000, "4000"},
		{65535, "65535"},
	}
	for _, tc := range tests {
		if got := tc.code.String(); got != tc.want {
			t.Errorf("StatusCode(%d).String() = %q, want %q", uint16(tc.code), got, tc.want)
		}
	}
}

func TestStatusCodeValues(t *testing.T) {
	// The constants must carry the numbers IANA registered.
	tests := []struct {
		code StatusCode
		num  uint16
	}{
		{StatusNormalClosure, 1000}, {StatusGoingAway, 1001}, {StatusProtocolError, 1002},
		{StatusUnsupportedData, 1003}, {StatusNoStatusReceived, 1005}, {StatusAbnormalClosure, 1006},
		{StatusInvalidPayloadData, 1007}, {StatusPolicyViolation, 1008}, {StatusMessageTooBig, 1009},
		{StatusMandatoryExtension, 1010}, {StatusInternalError, 1011}, {StatusServiceRestart, 1012},
		{StatusTryAgainLater, 1013}, {StatusBadGateway, 1014}, {StatusTLSHandshake, 1015},
	}
	for _, tc := range tests {
		if uint16(tc.code) != tc.num {
			t.Errorf("%s = %d, want %d", tc.code, uint16(tc.code), tc.num)
		}
	}
	if MaxCloseReason != 123 {
		t.Errorf("MaxCloseReason = %d, want 123", MaxCloseReason)
	}
}

func TestParseClose(t *testing.T) {
	reason123 := strings.Repeat("r", 123)
	euro41 := strings.Repeat("€", 41) // 123 bytes of 3-byte characters
	tests := []struct {
		name    string
		payload []byte
		code    StatusCode
		reason  string
		err     error
	}{
		{"empty", nil, StatusNoStatusReceived, "", nil},
		{"empty, not nil", []byte{}, StatusNoStatusReceived, "", nil},
		{"one byte", []byte{0x03}, 0, "", ErrCloseTooShort},
		{"one byte zero", []byte{0x00}, 0, "", ErrCloseTooShort},
		{"1000 without reason", []byte{0x03, 0xe8}, StatusNormalClosure, "", nil},
		{"1000 with reason", []byte("\x03\xe8bye"), StatusNormalClosure, "bye", nil},
		{"1001", []byte{0x03, 0xe9}, StatusGoingAway, "", nil},
		{"1011 with multi-byte reason", []byte("\x03\xf3κόσμε"), StatusInternalError, "κόσμε", nil},
		{"1014", []byte{0x03, 0xf6}, StatusBadGateway, "", nil},
		{"3000", []byte{0x0b, 0xb8}, 3000, "", nil},
		{"4999 with reason", []byte("\x13\x87x"), 4999, "x", nil},
		{"123-byte reason", append([]byte{0x03, 0xe8}, reason123...), StatusNormalClosure, reason123, nil},
		{"123-byte multi-byte reason", append([]byte{0x0f, 0xa0}, euro41...), 4000, euro41, nil},
		{"reason with NUL", []byte("\x03\xe8a\x00b"), StatusNormalClosure, "a\x00b", nil},

		{"code 0", []byte{0x00, 0x00}, 0, "", ErrCloseCode},
		{"code 999", []byte{0x03, 0xe7}, 999, "", ErrCloseCode},
		{"code 1004", []byte{0x03, 0xec}, 1004, "", ErrCloseCode},
		{"code 1005", []byte{0x03, 0xed}, StatusNoStatusReceived, "", ErrCloseCode},
		{"code 1006", []byte{0x03, 0xee}, StatusAbnormalClosure, "", ErrCloseCode},
		{"code 1015", []byte{0x03, 0xf7}, StatusTLSHandshake, "", ErrCloseCode},
		{"code 1016 with reason", []byte("\x03\xf8why"), 1016, "", ErrCloseCode},
		{"code 2999", []byte{0x0b, 0xb7}, 2999, "", ErrCloseCode},
		{"code 5000", []byte{0x13, 0x88}, 5000, "", ErrCloseCode},
		{"code 65535", []byte{0xff, 0xff}, 65535, "", ErrCloseCode},
		{"bad code and bad UTF-8", []byte{0x03, 0xee, 0xff}, StatusAbnormalClosure, "", ErrCloseCode},

		{"reason 0xff", []byte{0x03, 0xe8, 0xff}, StatusNormalClosure, "", ErrCloseReasonUTF8},
		{"reason surrogate", []byte{0x03, 0xe8, 0xed, 0xa0, 0x80}, StatusNormalClosure, "", ErrCloseReasonUTF8},
		{"reason overlong", []byte{0x03, 0xe8, 'a', 0xc0, 0xaf}, StatusNormalClosure, "", ErrCloseReasonUTF8},
		{"reason truncated", []byte{0x03, 0xe8, 0xe2, 0x82}, StatusNormalClosure, "", ErrCloseReasonUTF8},
		{"reason above U+10FFFF", []byte{0x0f, 0xa0, 0xf4, 0x90, 0x80, 0x80}, 4000, "", ErrCloseReasonUTF8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, err := ParseClose(tc.payload)
			if err != tc.err {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if code != tc.code || reason != tc.reason {
				t.Errorf("got %d %q, want %d %q", code, reason, tc.code, tc.reason)
			}
		})
	}
}

func TestParseCloseErrors(t *testing.T) {
	tests := []struct {
		err  *Error
		code StatusCode
	}{
		{ErrCloseTooShort, StatusProtocolError},
		{ErrCloseCode, StatusProtocolError},
		{ErrCloseReasonUTF8, StatusInvalidPayloadData},
		{ErrInvalidUTF8, StatusInvalidPayloadData},
		{ErrMessageTooBig, StatusMessageTooBig},
	}
	for _, tc := range tests {
		if tc.err.Code != tc.code {
			t.Errorf("%v: code %d, want %d", tc.err, tc.err.Code, tc.code)
		}
	}
	if got := (&Error{Code: 1000, Msg: "bye"}).Error(); got != "websocket: bye" {
		t.Errorf("Error() = %q", got)
	}
}

func TestParseCloseCopiesReason(t *testing.T) {
	p := []byte("\x03\xe8hello")
	_, reason, err := ParseClose(p)
	if err != nil {
		t.Fatal(err)
	}
	copy(p[2:], "XXXXX")
	if reason != "hello" {
		t.Errorf("reason changed with the payload buffer: %q", reason)
	}
}

func TestAppendClose(t *testing.T) {
	reason123 := strings.Repeat("r", 123)
	euro41 := strings.Repeat("€", 41)
	tests := []struct {
		name   string
		code   StatusCode
		reason string
		want   []byte // nil with wantErr
		// wantErr is the exact error, or errAny for any *Error.
		wantErr error
	}{
		{"1000", StatusNormalClosure, "", []byte{0x03, 0xe8}, nil},
		{"1000 bye", StatusNormalClosure, "bye", []byte("\x03\xe8bye"), nil},
		{"1001", StatusGoingAway, "", []byte{0x03, 0xe9}, nil},
		{"1003", StatusUnsupportedData, "", []byte{0x03, 0xeb}, nil},
		{"1007", StatusInvalidPayloadData, "", []byte{0x03, 0xef}, nil},
		{"1014", StatusBadGateway, "", []byte{0x03, 0xf6}, nil},
		{"3000", 3000, "", []byte{0x0b, 0xb8}, nil},
		{"4999", 4999, "app", []byte("\x13\x87app"), nil},
		{"123-byte reason", StatusNormalClosure, reason123, append([]byte{0x03, 0xe8}, reason123...), nil},
		{"123-byte multi-byte reason", 4000, euro41, append([]byte{0x0f, 0xa0}, euro41...), nil},
		{"1005 without reason", StatusNoStatusReceived, "", []byte{}, nil},

		{"1005 with reason", StatusNoStatusReceived, "x", nil, errAny},
		{"1006", StatusAbnormalClosure, "", nil, errAny},
		{"1006 with reason", StatusAbnormalClosure, "lost", nil, errAny},
		{"1015", StatusTLSHandshake, "", nil, errAny},
		{"1004", 1004, "", nil, errAny},
		{"0", 0, "", nil, errAny},
		{"999", 999, "", nil, errAny},
		{"2999", 2999, "", nil, errAny},
		{"5000", 5000, "", nil, errAny},
		{"124-byte reason", StatusNormalClosure, reason123 + "r", nil, errAny},
		{"126-byte multi-byte reason", StatusNormalClosure, euro41 + "€", nil, errAny},
		{"invalid UTF-8", StatusNormalClosure, "bad\xff", nil, ErrCloseReasonUTF8},
		{"surrogate", StatusNormalClosure, "\xed\xa0\x80", nil, ErrCloseReasonUTF8},
		{"truncated", StatusNormalClosure, "\xe2\x82", nil, ErrCloseReasonUTF8},
	}
	prefix := []byte("frame:")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, len(prefix), 256)
			copy(dst, prefix)
			got, err := AppendClose(dst, tc.code, tc.reason)
			if !bytes.HasPrefix(got, prefix) {
				t.Fatalf("prefix lost: %q", got)
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if !bytes.Equal(got[len(prefix):], tc.want) {
					t.Errorf("payload = % x, want % x", got[len(prefix):], tc.want)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if tc.wantErr != errAny && err != tc.wantErr {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if len(got) != len(prefix) {
				t.Errorf("dst grew to %q despite the error", got)
			}
		})
	}
}

// errAny stands for any non-nil *Error in test tables.
var errAny = errors.New("any *Error")

func TestAppendCloseErrorCodes(t *testing.T) {
	// Trying to send something unsendable is the sender's fault.
	for _, tc := range []struct {
		code   StatusCode
		reason string
	}{
		{StatusAbnormalClosure, ""},
		{StatusNoStatusReceived, "x"},
		{StatusNormalClosure, strings.Repeat("x", 124)},
	} {
		_, err := AppendClose(nil, tc.code, tc.reason)
		var e *Error
		if !errors.As(err, &e) || e.Code != StatusInternalError {
			t.Errorf("AppendClose(%d, %d bytes): err = %#v, want *Error with 1011", tc.code, len(tc.reason), err)
		}
	}
}

func TestCloseRoundTrip(t *testing.T) {
	reasons := []string{"", "bye", "κόσμε", strings.Repeat("z", MaxCloseReason)}
	for c := 0; c <= 5000; c++ {
		code := StatusCode(c)
		for _, reason := range reasons {
			p, err := AppendClose(nil, code, reason)
			if !code.ValidOnWire() {
				if err == nil && !(code == StatusNoStatusReceived && reason == "") {
					t.Fatalf("AppendClose(%d, %q) succeeded", c, reason)
				}
				continue
			}
			if err != nil {
				t.Fatalf("AppendClose(%d, %q): %v", c, reason, err)
			}
			if len(p) != 2+len(reason) {
				t.Fatalf("AppendClose(%d, %q) wrote %d bytes", c, reason, len(p))
			}
			gotCode, gotReason, err := ParseClose(p)
			if err != nil || gotCode != code || gotReason != reason {
				t.Fatalf("ParseClose(AppendClose(%d, %q)) = %d, %q, %v", c, reason, gotCode, gotReason, err)
			}
		}
	}
}
