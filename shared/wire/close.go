package wire

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// A StatusCode says why a connection closed (RFC 6455 §7.4).
type StatusCode uint16

// Status codes registered with IANA. 1005, 1006 and 1015 are reported
// locally and never sent in a close frame.
const (
	StatusNormalClosure      StatusCode = 1000
	StatusGoingAway          StatusCode = 1001
	StatusProtocolError      StatusCode = 1002
	StatusUnsupportedData    StatusCode = 1003
	StatusNoStatusReceived   StatusCode = 1005
	StatusAbnormalClosure    StatusCode = 1006
	StatusInvalidPayloadData StatusCode = 1007
	StatusPolicyViolation    StatusCode = 1008
	StatusMessageTooBig      StatusCode = 1009
	StatusMandatoryExtension StatusCode = 1010
	StatusInternalError      StatusCode = 1011
	StatusServiceRestart     StatusCode = 1012
	StatusTryAgainLater      StatusCode = 1013
	StatusBadGateway         StatusCode = 1014
	StatusTLSHandshake       StatusCode = 1015
)

// MaxCloseReason is the longest close reason, in bytes, that fits a control
// frame after the 2-byte status code.
const MaxCloseReason = MaxControlPayload - 2

// ValidOnWire reports whether code may appear in a close frame: a registered
// code other than 1004–1006 and 1015, or a code in 3000–4999, which belong to
// libraries, frameworks and applications.
func (code StatusCode) ValidOnWire() bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// String returns the code's registered name, or its number.
func (code StatusCode) String() string {
	switch code {
	case StatusNormalClosure:
		return "normal closure"
	case StatusGoingAway:
		return "going away"
	case StatusProtocolError:
		return "protocol error"
	case StatusUnsupportedData:
		return "unsupported data"
	case StatusNoStatusReceived:
		return "no status received"
	case StatusAbnormalClosure:
		return "abnormal closure"
	case StatusInvalidPayloadData:
		return "invalid payload data"
	case StatusPolicyViolation:
		return "policy violation"
	case StatusMessageTooBig:
		return "message too big"
	case StatusMandatoryExtension:
		return "mandatory extension"
	case StatusInternalError:
		return "internal error"
	case StatusServiceRestart:
		return "service restart"
	case StatusTryAgainLater:
		return "try again later"
	case StatusBadGateway:
		return "bad gateway"
	case StatusTLSHandshake:
		return "TLS handshake"
	}
	return strconv.Itoa(int(code))
}

// An Error is a protocol violation together with the status code the
// connection is closed with because of it.
type Error struct {
	Code StatusCode
	Msg  string
}

func (e *Error) Error() string { return "websocket: " + e.Msg }

// Close payload errors reported by ParseClose.
var (
	ErrCloseTooShort    = &Error{Code: StatusProtocolError, Msg: "close payload of 1 byte"}
	ErrCloseCode        = &Error{Code: StatusProtocolError, Msg: "close frame carries an invalid status code"}
	ErrCloseReasonUTF8  = &Error{Code: StatusInvalidPayloadData, Msg: "close reason is not valid UTF-8"}
	ErrInvalidUTF8      = &Error{Code: StatusInvalidPayloadData, Msg: "text message is not valid UTF-8"}
	ErrMessageTooBig    = &Error{Code: StatusMessageTooBig, Msg: "message exceeds the read limit"}
	errCloseReasonLong  = "close reason longer than 123 bytes"
	errCloseCodeNotSent = "status code may not be sent in a close frame"
)

// ParseClose decodes the payload of a close frame. An empty payload yields
// StatusNoStatusReceived and no error. A 1-byte payload, a code that is not
// valid on the wire, or a reason that is not UTF-8 is an *Error.
func ParseClose(p []byte) (StatusCode, string, error) {
	switch {
	case len(p) == 0:
		return StatusNoStatusReceived, "", nil
	case len(p) == 1:
		return 0, "", ErrCloseTooShort
	}
	code := StatusCode(binary.BigEndian.Uint16(p))
	if !code.ValidOnWire() {
		return code, "", ErrCloseCode
	}
	if !utf8.Valid(p[2:]) {
		return code, "", ErrCloseReasonUTF8
	}
	return code, string(p[2:]), nil
}

// AppendClose appends a close frame payload for code and reason to dst.
// StatusNoStatusReceived yields an empty payload. A code that may not be
// sent, or a reason longer than MaxCloseReason or not UTF-8, is an error.
func AppendClose(dst []byte, code StatusCode, reason string) ([]byte, error) {
	if code == StatusNoStatusReceived && reason == "" {
		return dst, nil
	}
	if !code.ValidOnWire() {
		return dst, &Error{Code: StatusInternalError, Msg: errCloseCodeNotSent + ": " + strconv.Itoa(int(code))}
	}
	if len(reason) > MaxCloseReason {
		return dst, &Error{Code: StatusInternalError, Msg: errCloseReasonLong}
	}
	if !utf8.ValidString(reason) {
		return dst, ErrCloseReasonUTF8
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...), nil
}
