package ws

import "duplex/shared/wire"

// This file re-exports what callers need from duplex/shared/wire, so that
// code using this package imports it alone. The browser's package,
// duplex/wasm/websocket, re-exports the same names: both are one API.

// A MessageType is the kind of a data message: Text or Binary.
type MessageType = wire.MessageType

// The two kinds of data message.
const (
	Text   = wire.Text
	Binary = wire.Binary
)

// A StatusCode says why a connection closed (RFC 6455 §7.4).
type StatusCode = wire.StatusCode

// The status codes registered with IANA. 1005, 1006 and 1015 are reported
// locally and never sent in a close frame; applications use 4000–4999.
const (
	StatusNormalClosure      = wire.StatusNormalClosure
	StatusGoingAway          = wire.StatusGoingAway
	StatusProtocolError      = wire.StatusProtocolError
	StatusUnsupportedData    = wire.StatusUnsupportedData
	StatusNoStatusReceived   = wire.StatusNoStatusReceived
	StatusAbnormalClosure    = wire.StatusAbnormalClosure
	StatusInvalidPayloadData = wire.StatusInvalidPayloadData
	StatusPolicyViolation    = wire.StatusPolicyViolation
	StatusMessageTooBig      = wire.StatusMessageTooBig
	StatusMandatoryExtension = wire.StatusMandatoryExtension
	StatusInternalError      = wire.StatusInternalError
	StatusServiceRestart     = wire.StatusServiceRestart
	StatusTryAgainLater      = wire.StatusTryAgainLater
	StatusBadGateway         = wire.StatusBadGateway
	StatusTLSHandshake       = wire.StatusTLSHandshake
)

// A CloseError is how a connection ended: the code and reason of the close
// frame that ended it, or 1006 if it ended without one.
type CloseError = wire.CloseError

// ErrClosed is returned by operations on a connection that is closed; it
// wraps net.ErrClosed.
var ErrClosed = wire.ErrClosed

// CloseStatus returns the status code with which the connection behind err
// closed (see wire.CloseStatus), or 0 if err does not say.
func CloseStatus(err error) StatusCode { return wire.CloseStatus(err) }
