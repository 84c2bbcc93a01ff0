package httpstream

import (
	"errors"
	"time"

	"duplex/shared/streamwire"
	"duplex/shared/wire"
)

// closeTimeout bounds the closing handshake: how long Close waits for the
// client's answer, and how long an ended session lingers for its stream
// to carry its last frames.
const closeTimeout = 5 * time.Second

var errCloseTimeout = errors.New("http stream: the client did not answer the close frame within " + closeTimeout.String())

// Close queues a Close frame with code and reason after the messages
// written, and waits, up to five seconds, for the client's answer. It
// returns nil once the handshake is complete; an error matching
// wire.ErrClosed if the session was closing or had ended; and another if
// the client did not answer in time, in which case the session ends all
// the same, and Err reports 1006.
func (c *Conn) Close(code wire.StatusCode, reason string) error {
	payload, err := wire.AppendClose(nil, code, reason)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return wire.ErrClosed
	}
	c.closing, c.lastWord = true, true
	c.closeSent = &wire.CloseError{Code: code, Reason: reason, WasClean: true}
	c.answered = make(chan struct{})
	answered := c.answered
	c.downSeq++
	c.queue(streamwire.Frame{Kind: streamwire.KindClose, Seq: c.downSeq, Payload: payload})
	c.mu.Unlock()
	c.srv.cfg.Stats.sentClose()
	c.wakeStream()

	t := time.NewTimer(closeTimeout)
	defer t.Stop()
	select {
	case <-answered:
		return nil
	case <-c.done:
		if ce, ok := c.Err().(*wire.CloseError); ok && ce.WasClean {
			return nil
		}
		return c.Err()
	case <-t.C:
		c.finish(&wire.CloseError{Code: wire.StatusAbnormalClosure})
		return errCloseTimeout
	}
}

// CloseNow ends the session without a closing handshake: its stream ends,
// the client finds the session gone and reports 1006, as a WebSocket's
// client does when its TCP connection is closed. From then on
// ReadMessage, WriteMessage and Err return wire.ErrClosed. It returns
// wire.ErrClosed if the session had ended already.
func (c *Conn) CloseNow() error {
	if !c.finish(wire.ErrClosed) {
		return wire.ErrClosed
	}
	return nil
}

// closeReceived takes the client's Close frame: the answer to this side's
// Close, which completes the handshake, or the client's own, which this
// side answers with the same code before the session ends. Either way the
// session's Err is the first Close frame's.
func (c *Conn) closeReceived(payload []byte) error {
	code, reason, err := wire.ParseClose(payload)
	if err != nil {
		return err
	}
	got := &wire.CloseError{Code: code, Reason: reason, WasClean: true}
	c.srv.cfg.Stats.receivedClose()
	c.mu.Lock()
	if c.closeRecv != nil || c.err != nil {
		c.mu.Unlock()
		return nil // the handshake is over
	}
	c.closeRecv = got
	if sent := c.closeSent; sent != nil {
		close(c.answered)
		c.mu.Unlock()
		c.finish(sent)
		return nil
	}
	c.closing, c.lastWord = true, true
	answer, _ := wire.AppendClose(nil, code, reason) // empty for 1005
	c.downSeq++
	c.queue(streamwire.Frame{Kind: streamwire.KindClose, Seq: c.downSeq, Payload: answer})
	c.mu.Unlock()
	c.srv.cfg.Stats.sentClose()
	c.finish(got)
	return nil
}
