package wire

import (
	"errors"
	"strconv"
)

// A CloseError is how a connection ended: the status code and reason of
// the close frame that ended it, whichever side sent the first one. Code is
// StatusNoStatusReceived (1005) if that frame carried no code, and
// StatusAbnormalClosure (1006) if the connection ended without one.
type CloseError struct {
	Code   StatusCode
	Reason string

	// WasClean reports whether the closing handshake completed: a close
	// frame went each way before the connection ended.
	WasClean bool
}

func (e *CloseError) Error() string {
	s := "websocket: closed: " + strconv.Itoa(int(e.Code)) + " (" + e.Code.String() + ")"
	if e.Reason != "" {
		s += " " + strconv.Quote(e.Reason)
	}
	if !e.WasClean && e.Code != StatusAbnormalClosure {
		s += ", not clean"
	}
	return s
}

// Is makes every CloseError match ErrClosed: the connection has ended.
func (e *CloseError) Is(target error) bool { return target == ErrClosed }

// ErrClosed is returned by operations on a connection that this side has
// closed, or that has closed since. In native builds it wraps net.ErrClosed,
// so errors.Is(err, net.ErrClosed) holds too.
var ErrClosed error = closedError{}

type closedError struct{}

func (closedError) Error() string { return "websocket: connection closed" }

// CloseStatus returns the status code with which the connection behind err
// closed: the close frame's code for a *CloseError, the code this side sent
// for a protocol violation (an *Error), StatusAbnormalClosure (1006) for
// ErrClosed — the connection ended without a close frame — and 0 for an
// error that says nothing of how the connection ended.
func CloseStatus(err error) StatusCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	var we *Error
	if errors.As(err, &we) {
		return we.Code
	}
	if errors.Is(err, ErrClosed) {
		return StatusAbnormalClosure
	}
	return 0
}
