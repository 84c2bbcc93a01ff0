package httpstream

import (
	"bytes"
	"context"
	"io"

	"duplex/shared/wire"
)

// ReadMessage waits for the next message from the client and returns its
// type and its payload, appended to buf[:0]; with a nil buf, the payload
// is the message's own memory, which is the caller's. Messages that
// arrived before the session ended are read first; then it returns Err().
// If ctx ends while it waits, it closes the session, as CloseNow does, and
// returns ctx's error, as a *ws.Conn's does. Reads come from one goroutine
// at a time.
func (c *Conn) ReadMessage(ctx context.Context, buf []byte) (wire.MessageType, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	for {
		c.mu.Lock()
		if len(c.inbox) > 0 {
			m := c.inbox[0]
			c.inbox[0] = message{}
			c.inbox = c.inbox[1:]
			if len(c.inbox) == 0 {
				c.inbox = nil // let the array go
			}
			c.inboxBytes -= len(m.data)
			wakeAll(&c.roomWait)
			c.mu.Unlock()
			c.srv.cfg.Stats.messageIn(len(m.data))
			if buf == nil {
				return m.typ, m.data, nil
			}
			return m.typ, append(buf[:0], m.data...), nil
		}
		err := c.err
		c.mu.Unlock()
		if err != nil {
			return 0, nil, err
		}
		select {
		case <-c.readReady:
		case <-c.done:
		case <-ctx.Done():
			c.CloseNow()
			return 0, nil, ctx.Err()
		}
	}
}

// NextReader waits for the next message, as ReadMessage does, and returns
// its type and a reader of its payload, which is in memory already: the
// message came whole, in a POST.
func (c *Conn) NextReader(ctx context.Context) (wire.MessageType, io.Reader, error) {
	typ, p, err := c.ReadMessage(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	return typ, bytes.NewReader(p), nil
}

// deliver puts a message from the client in the inbox, waiting while the
// inbox holds more than the server's InboxLimit — so that a client cannot
// send faster than the endpoint reads — unless ctx or the session ends
// first. It takes p.
func (c *Conn) deliver(ctx context.Context, typ wire.MessageType, p []byte) error {
	for {
		c.mu.Lock()
		if err := c.err; err != nil {
			c.mu.Unlock()
			return err
		}
		if c.inboxBytes == 0 || c.inboxBytes+len(p) <= c.srv.cfg.InboxLimit {
			c.inbox = append(c.inbox, message{typ: typ, data: p})
			c.inboxBytes += len(p)
			c.mu.Unlock()
			signal(c.readReady)
			return nil
		}
		room := waitOn(&c.roomWait)
		c.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
