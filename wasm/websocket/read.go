//go:build js && wasm

package websocket

import (
	"context"
	"io"
	"syscall/js"
)

// ReadMessage waits for the next message and returns its type and its
// payload, appended to buf[:0]: pass the previous result to reuse its
// memory. With a nil buf, the payload is a slice of the memory that holds
// the burst of messages it came with, which saves a copy; it is the
// caller's either way.
//
// Messages that arrived before the connection ended are read first; then
// ReadMessage returns Err(). If ctx ends while it waits, ReadMessage closes
// the connection, as CloseNow does, and returns ctx's error: the same
// meaning as on the server, where a frame may have been half read. Reads
// come from one goroutine at a time. While OnMessage is set, messages go
// to it, and ReadMessage only waits for the end.
func (c *Conn) ReadMessage(ctx context.Context, buf []byte) (MessageType, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue[0] = message{}
			c.queue = c.queue[1:]
			more := len(c.queue) > 0
			c.mu.Unlock()
			if more { // pass the wake-up on, in case another read waits
				c.signal()
			}
			if buf == nil {
				return m.typ, m.data, nil
			}
			return m.typ, append(buf[:0], m.data...), nil
		}
		if c.err != ErrClosed && c.takeInbox() {
			c.mu.Unlock()
			continue
		}
		err := c.err
		c.mu.Unlock()
		if err != nil {
			return 0, nil, err
		}
		select {
		case <-c.ready:
		case <-c.done:
		case <-ctx.Done():
			c.CloseNow()
			return 0, nil, ctx.Err()
		}
	}
}

// NextReader waits for the next message, as ReadMessage does, and returns
// its type and a reader of its payload. In the browser the whole message
// is in memory by then — the browser hands over only complete messages —
// so the reader never waits, and it stays valid after the next read.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	typ, p, err := c.ReadMessage(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	return typ, &payloadReader{p: p}, nil
}

// A payloadReader reads a message that is already in memory.
type payloadReader struct{ p []byte }

func (r *payloadReader) Read(b []byte) (int, error) {
	if len(r.p) == 0 {
		return 0, io.EOF
	}
	n := copy(b, r.p)
	r.p = r.p[n:]
	return n, nil
}

// takeInbox moves the messages waiting on the JavaScript side into queue,
// and reports whether there were any. The caller holds mu.
func (c *Conn) takeInbox() bool {
	packed := c.inbox.Invoke()
	if packed.IsNull() {
		return false
	}
	// One allocation holds the whole burst; each message is a slice of it
	// whose capacity ends where the message does, so that an append to one
	// cannot overwrite the next.
	c.heard = true
	b := make([]byte, packed.Length())
	js.CopyBytesToGo(b, packed)
	for len(b) >= 5 {
		typ := Text
		if b[0] == 2 {
			typ = Binary
		}
		n := int(b[1]) | int(b[2])<<8 | int(b[3])<<16 | int(b[4])<<24
		c.queue = append(c.queue, message{typ: typ, data: b[5 : 5+n : 5+n]})
		b = b[5+n:]
	}
	return true
}
