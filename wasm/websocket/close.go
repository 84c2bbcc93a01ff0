//go:build js && wasm

package websocket

import (
	"errors"
	"time"
)

// errCloseTimeout is what Close returns when no close event came within
// closeTimeout. (closeTimeout.String() would add 4 KB to the module.)
var errCloseTimeout = errors.New("websocket: the closing handshake did not end within 5s")

// Close starts the closing handshake with code and reason, as StartClose
// does, and waits, up to five seconds, for the close event. It returns nil
// if the handshake completed, and otherwise how the connection ended, the
// close event's *CloseError. If no close event came in time, it gives up
// the connection, whose Err is then a 1006 *CloseError, and returns an
// error that says so. If Close, StartClose or CloseNow was called before,
// or the connection has ended, it returns ErrClosed at once.
//
// The browser refuses other codes than 1000 and 3000–4999, and reasons
// longer than 123 bytes: Close then returns its error, and the connection
// stays open.
//
// Close waits for an event, so it must not be called on the browser's
// event loop — in a hook or another JavaScript callback, which must never
// block; use StartClose there.
func (c *Conn) Close(code StatusCode, reason string) error {
	if err := c.StartClose(code, reason); err != nil {
		return err
	}
	t := time.NewTimer(closeTimeout)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		c.end(&CloseError{Code: StatusAbnormalClosure})
		return errCloseTimeout
	}
	err := c.Err()
	if ce, ok := err.(*CloseError); ok && ce.WasClean {
		return nil
	}
	return err
}

// StartClose starts the closing handshake, as the browser's close(code,
// reason) does, and returns at once; Done, Err and the OnClose hook report
// how it ended. Unlike Close, it may be called on the browser's event
// loop. It returns ErrClosed if Close, StartClose or CloseNow was called
// before, or if the connection has ended, and the browser's error for a
// code or reason it refuses (see Close).
func (c *Conn) StartClose(code StatusCode, reason string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return ErrClosed
	}
	if err := catch(func() { c.ws.Call("close", int(code), reason) }); err != nil {
		return err
	}
	c.closing = true
	return nil
}

// CloseNow closes the connection without waiting for the closing
// handshake, as the browser's close() without a code does, and returns at
// once. From then on ReadMessage, WriteMessage and Err return ErrClosed,
// the messages not yet read are dropped, and Done is closed; the close
// event, which releases the connection's JavaScript callbacks, comes a
// little later. It returns ErrClosed if the connection had ended already.
// It may be called on the browser's event loop.
func (c *Conn) CloseNow() error {
	c.mu.Lock()
	ended := c.err != nil
	c.closing = true
	c.mu.Unlock()
	if ended {
		return ErrClosed
	}
	c.ws.Call("close") // without arguments it cannot throw
	c.end(ErrClosed)
	return nil
}

// Done returns a channel that is closed when the connection has ended:
// when the close event arrives, or at CloseNow.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns nil while the connection is open, and why it ended once
// Done is closed: the close event, as a *CloseError, whoever started the
// close (its Code is 1006 if the connection dropped), or ErrClosed after
// CloseNow.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
