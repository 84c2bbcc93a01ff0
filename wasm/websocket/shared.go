//go:build js && wasm

package websocket

import "duplex/shared/wire"

// This file gives the names that both sides share — defined once, in
// duplex/shared/wire — to this package too, so that browser code needs
// no other import for them.

// A MessageType is the kind of a data message: Text or Binary.
type MessageType = wire.MessageType

// The two kinds of data message.
const (
	Text   = wire.Text
	Binary = wire.Binary
)

// A StatusCode says why a connection closed (RFC 6455 §7.4).
type StatusCode = wire.StatusCode

// The registered status codes. The browser lets a page close with only
// StatusNormalClosure and 3000–4999; it reports the others in close events.
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
// event, and whether the closing handshake completed.
type CloseError = wire.CloseError

// ErrClosed is returned by operations on a connection that this side has
// closed, or that has closed since.
var ErrClosed = wire.ErrClosed

// CloseStatus returns the status code with which the connection behind err
// closed: the close event's code for a *CloseError, and 0 for any other
// error. It uses errors.As, which adds some 55 KB to a wasm module; code
// that minds can test err.(*CloseError) instead.
func CloseStatus(err error) StatusCode { return wire.CloseStatus(err) }
