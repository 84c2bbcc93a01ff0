package streamclient

import (
	"errors"
	"time"

	"duplex/shared/wire"
)

// errCloseTimeout is what Close returns when the server's Close frame did
// not come in time.
var errCloseTimeout = errors.New("http stream: the closing handshake did not end within 5s")

// Close starts the closing handshake, as StartClose does, and waits, up to
// five seconds, for the server's Close frame. It returns nil if the
// handshake completed. If the server's Close did not come in time, it
// gives the connection up — its Err is then a 1006 *wire.CloseError — and
// returns an error that says so. If Close, StartClose or CloseNow was
// called before, or the connection has ended, it returns wire.ErrClosed.
func (c *Conn) Close(code wire.StatusCode, reason string) error {
	if err := c.StartClose(code, reason); err != nil {
		return err
	}
	t := time.NewTimer(closeTimeout)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		if c.finish(&wire.CloseError{Code: wire.StatusAbnormalClosure, Reason: "the closing handshake timed out"}) {
			c.abort()
		}
		return errCloseTimeout
	}
	err := c.Err()
	if ce, ok := err.(*wire.CloseError); ok && ce.WasClean {
		return nil
	}
	return err
}

// StartClose queues a Close frame with code and reason after the messages
// written, and returns at once; Done and Err report how the handshake
// ended. The code must be one a close frame may carry, and the reason at
// most 123 bytes of UTF-8. It returns wire.ErrClosed if Close, StartClose
// or CloseNow was called before, or if the connection has ended.
func (c *Conn) StartClose(code wire.StatusCode, reason string) error {
	payload, err := wire.AppendClose(nil, code, reason)
	if err != nil {
		return err
	}
	if _, ok := c.queueClose(payload); !ok {
		return wire.ErrClosed
	}
	return nil
}

// CloseNow ends the connection at once: ReadMessage, WriteMessage and Err
// return wire.ErrClosed from then on, the messages not yet read are
// dropped, and Done is closed. The server is told with an Abort that does
// not wait for its answer, and takes it as a dropped connection (1006).
// It returns wire.ErrClosed if the connection had ended already.
func (c *Conn) CloseNow() error {
	if !c.finish(wire.ErrClosed) {
		return wire.ErrClosed
	}
	c.abort()
	return nil
}
