package httpstream

import (
	"context"
	"errors"

	"duplex/shared/streamwire"
	"duplex/shared/wire"
)

// WriteMessage queues p as one message of type typ, which must be
// wire.Text or wire.Binary, for the session's stream. It returns once the
// message is queued: it waits only while the client has not acknowledged
// more than the server's Window of bytes, which is the backpressure a slow
// client exerts, as a full TCP buffer does on a WebSocket. If ctx ends
// during that wait, it closes the session, as CloseNow does, and returns
// ctx's error. Once the session is closing or has ended it returns an
// error that matches wire.ErrClosed. Writes are safe from any goroutine.
func (c *Conn) WriteMessage(ctx context.Context, typ wire.MessageType, p []byte) error {
	return c.WriteMessages(ctx, typ, [][]byte{p})
}

// WriteMessages queues each of msgs as a message of type typ, in order, as
// WriteMessage would one after the other, and wakes the stream once.
func (c *Conn) WriteMessages(ctx context.Context, typ wire.MessageType, msgs [][]byte) error {
	if !typ.Valid() {
		return errors.New("http stream: cannot send a message of type " + typ.String() + ": only Text and Binary")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	kind := streamwire.KindOf(typ)
	queued := false
	defer func() {
		if queued {
			c.wakeStream()
		}
	}()
	for _, p := range msgs {
		for {
			c.mu.Lock()
			if c.closing {
				c.mu.Unlock()
				return wire.ErrClosed
			}
			size := streamwire.FrameSize(c.downSeq+1, len(p))
			if c.outBytes == 0 || c.outBytes+size <= c.srv.cfg.Window {
				c.downSeq++
				c.queue(streamwire.Frame{Kind: kind, Seq: c.downSeq, Payload: p})
				c.mu.Unlock()
				c.srv.cfg.Stats.messageOut(len(p))
				queued = true
				break
			}
			room := waitOn(&c.ackWait)
			c.mu.Unlock()
			if queued { // let the stream carry what is queued while this waits
				c.wakeStream()
				queued = false
			}
			select {
			case <-room:
			case <-ctx.Done():
				c.CloseNow()
				return ctx.Err()
			}
		}
	}
	return nil
}

// queue adds f, encoded, to the outbox. c.mu is held.
func (c *Conn) queue(f streamwire.Frame) {
	b := streamwire.AppendFrame(make([]byte, 0, streamwire.FrameSize(f.Seq, len(f.Payload))), f)
	c.outbox = append(c.outbox, outFrame{seq: f.Seq, data: b})
	c.outBytes += len(b)
}

// wakeStream tells the stream attached, if any, that there is more to
// carry.
func (c *Conn) wakeStream() {
	c.mu.Lock()
	st := c.stream
	c.mu.Unlock()
	if st != nil {
		signal(st.wake)
	}
}

// errAckUnsent is an acknowledgment of frames that were never sent.
var errAckUnsent = errors.New("acknowledges frames that were never sent")

// ack forgets the frames up to seq, which the client has received.
func (c *Conn) ack(seq uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if seq > c.downSeq {
		return errAckUnsent
	}
	n := 0
	for n < len(c.outbox) && c.outbox[n].seq <= seq {
		c.outBytes -= len(c.outbox[n].data)
		n++
	}
	if n == 0 {
		return nil
	}
	clear(c.outbox[:n])
	c.outbox = c.outbox[n:]
	if len(c.outbox) == 0 {
		c.outbox = nil // let the array go: an idle session holds none
	}
	wakeAll(&c.ackWait)
	return nil
}

// framesAfter appends the outbox's frames numbered after seq to dst, and
// returns them with the number of the last. The outbox's numbers follow
// one another, so the first to send is found by arithmetic.
func (c *Conn) framesAfter(dst [][]byte, seq uint64) ([][]byte, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.outbox) == 0 || seq >= c.downSeq {
		return dst, seq
	}
	first := c.outbox[0].seq
	i := 0
	if seq >= first {
		i = int(seq - first + 1)
	}
	for _, f := range c.outbox[i:] {
		dst = append(dst, f.data)
	}
	return dst, c.downSeq
}
