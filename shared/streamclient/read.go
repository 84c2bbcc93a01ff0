package streamclient

import (
	"context"

	"duplex/shared/wire"
)

// ReadMessage waits for the next message and returns its type and its
// payload, appended to buf[:0]; with a nil buf, the payload is the
// message's own memory, which is the caller's.
//
// Messages that arrived before the connection ended are read first; then
// ReadMessage returns Err(). If ctx ends while it waits, it closes the
// connection, as CloseNow does, and returns ctx's error, as a WebSocket's
// does. Reads come from one goroutine at a time.
func (c *Conn) ReadMessage(ctx context.Context, buf []byte) (wire.MessageType, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue[0] = message{}
			c.queue = c.queue[1:]
			if len(c.queue) == 0 {
				c.queue = nil // let the array go
			}
			c.mu.Unlock()
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
