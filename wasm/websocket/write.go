//go:build js && wasm

package websocket

import (
	"context"
	"errors"
	"syscall/js"
	"time"
)

// sendBufSize is the size of the buffer through which WriteMessage sends
// small messages; larger ones get a buffer of their own.
const sendBufSize = 16 << 10

// sendBuf is that buffer. One serves every connection: the Go code runs on
// the browser's only thread, and nothing runs between WriteMessage's copy
// into it and the send.
var sendBuf = js.Global().Get("Uint8Array").New(sendBufSize)

// errConnecting is what a write returns before the open event: the browser
// cannot send yet.
var errConnecting = errors.New("websocket: the connection is not open yet")

// WriteMessage sends p as one message of type typ, which must be Text or
// Binary. If the browser already holds more than the high-water mark of
// unsent data, it first waits for that to drain, so that a fast writer
// cannot grow the page's memory without bound; if ctx ends during that
// wait, it closes the connection, as CloseNow does, and returns ctx's
// error, the same meaning as on the server.
//
// Once Close, StartClose or CloseNow has been called, or the connection
// has ended, WriteMessage returns ErrClosed. Before the open event, on a
// connection from New, it returns an error. Writes are safe from any
// goroutine.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, p []byte) error {
	if !typ.Valid() {
		return errors.New("websocket: cannot send a message of type " + typ.String() + ": only Text and Binary")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.waitDrain(ctx, len(p)); err != nil {
		return err
	}
	c.mu.Lock()
	opened, closing := c.opened, c.closing
	c.mu.Unlock()
	switch {
	case closing:
		return ErrClosed
	case !opened:
		return errConnecting
	}
	if err := catch(func() { c.sendJS(typ, p) }); err != nil {
		return err
	}
	c.unsent += len(p)
	return nil
}

// sendJS hands p to the browser's send. A small message goes through
// sendBuf with one call; a large one is copied into an array, or made a
// string, of its own.
func (c *Conn) sendJS(typ MessageType, p []byte) {
	if len(p) <= sendBufSize {
		js.CopyBytesToJS(sendBuf, p)
		c.send.Invoke(len(p), typ == Text)
		return
	}
	if typ == Text {
		c.send.Invoke(0, true, string(p))
		return
	}
	arr := js.Global().Get("Uint8Array").New(len(p))
	js.CopyBytesToJS(arr, p)
	c.send.Invoke(0, false, arr)
}

// waitDrain waits until sending n more bytes keeps bufferedAmount at or
// below the high-water mark. It asks the browser only when its own bound
// says the mark could be passed, which saves a call into JavaScript per
// small message. The browser has no event for bufferedAmount going down,
// so it polls, backing off up to 16ms.
func (c *Conn) waitDrain(ctx context.Context, n int) error {
	if c.unsent+n <= c.highWater {
		return nil
	}
	delay := time.Millisecond
	for c.unsent = c.BufferedAmount(); c.unsent > c.highWater; c.unsent = c.BufferedAmount() {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			c.CloseNow()
			return ctx.Err()
		case <-c.done:
			return ErrClosed
		}
		delay = min(2*delay, 16*time.Millisecond)
	}
	return nil
}

// NextWriter returns a writer for one message of type typ, which must be
// Text or Binary. The browser's WebSocket sends only whole messages, so
// the writer keeps what it is given and sends it all, as WriteMessage does
// with ctx, when it is closed: a message the size of its parts, never
// streamed in frames as on the server.
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (*MessageWriter, error) {
	if !typ.Valid() {
		return nil, errors.New("websocket: cannot send a message of type " + typ.String() + ": only Text and Binary")
	}
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing {
		return nil, ErrClosed
	}
	return &MessageWriter{c: c, ctx: ctx, typ: typ}, nil
}

// A MessageWriter collects one message, and sends it on Close. It is
// returned by NextWriter; it is not safe for concurrent use.
type MessageWriter struct {
	c      *Conn
	ctx    context.Context
	typ    MessageType
	buf    []byte
	closed bool
}

// Write adds p to the message. It fails only after Close.
func (w *MessageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// Close sends the message, as WriteMessage does, and returns its error. A
// second Close returns ErrClosed.
func (w *MessageWriter) Close() error {
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	err := w.c.WriteMessage(w.ctx, w.typ, w.buf)
	w.buf = nil
	return err
}
