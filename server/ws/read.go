package ws

import (
	"context"
	"io"
	"slices"
	"time"

	"duplex/shared/wire"
)

// This file reads messages: frame headers are parsed and checked, control
// frames are answered as they arrive, even between the fragments of a
// message, and text is checked to be UTF-8 fragment by fragment.

// messageReader is the io.Reader of the message being read. Its state is
// the connection's: there is one message in flight at a time.
type messageReader struct {
	c *Conn

	active    bool        // a message is being read
	op        wire.Opcode // its type
	size      int64       // payload bytes announced so far, for the read limit
	fin       bool        // the current frame is the message's last
	remaining int64       // payload bytes left in the current frame
	mask      [4]byte
	maskPos   int
	utf8      wire.UTF8Validator
}

// NextReader waits for the next data message and returns its type and a
// reader for its payload. The reader returns io.EOF at the end of the
// message and is valid until the next call to NextReader or ReadMessage,
// which discard whatever of it is unread. ctx bounds the wait for the
// message to begin; if it ends during the wait, the connection is closed.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	if err := c.lockRead(ctx); err != nil {
		return 0, nil, err
	}
	defer c.unlockRead()
	reset := c.watchRead(ctx)
	typ, err := c.nextMessage()
	if err = c.readDone(ctx, reset, err); err != nil {
		return 0, nil, err
	}
	return typ, &c.reader, nil
}

// ReadMessage waits for the next data message and returns its type and its
// payload, appended to buf[:0]: pass the previous result to reuse its memory.
// ctx bounds the whole read; if it ends during the read, the connection is
// closed, since a frame may be half read.
func (c *Conn) ReadMessage(ctx context.Context, buf []byte) (MessageType, []byte, error) {
	if err := c.lockRead(ctx); err != nil {
		return 0, nil, err
	}
	defer c.unlockRead()
	reset := c.watchRead(ctx)
	typ, err := c.nextMessage()
	buf = buf[:0]
	r := &c.reader
	for err == nil {
		if r.remaining == 0 {
			err = r.advance()
			continue
		}
		// Grow by what the frame announced, which the read limit bounds,
		// but in steps, so a lying header cannot make us allocate ahead.
		buf = slices.Grow(buf, int(min(r.remaining, maxGrow)))
		var n int
		n, err = r.read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
	}
	if err == io.EOF {
		err = nil
	}
	if err = c.readDone(ctx, reset, err); err != nil {
		return 0, nil, err
	}
	return typ, buf, nil
}

// maxGrow is the most ReadMessage allocates ahead of the bytes it has read.
const maxGrow = 1 << 20

// Read reads payload bytes of the current message.
func (r *messageReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := r.c.lockRead(context.Background()); err != nil {
		return 0, err
	}
	defer r.c.unlockRead()
	return r.read(p)
}

// lockRead waits for other readers to finish; reads are meant to come from
// one goroutine, so this rarely waits. It fails if ctx has ended or the
// connection has failed.
func (c *Conn) lockRead(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.readMu.Lock()
	if c.readErr != nil {
		c.readMu.Unlock()
		return c.readErr
	}
	return nil
}

func (c *Conn) unlockRead() { c.readMu.Unlock() }

// watchRead applies ctx to the read that follows: its deadline becomes the
// read deadline, and its end during the read closes the connection. It
// reports whether a deadline was set, to be reset by readDone.
func (c *Conn) watchRead(ctx context.Context) (reset bool) {
	c.readWatch.begin(c, ctx)
	if deadline, ok := ctx.Deadline(); ok {
		c.nc.SetReadDeadline(deadline)
		return true
	}
	return false
}

// readDone undoes watchRead and reports a read cut short by ctx as ctx's
// error. Such a read may have stopped inside a frame, so the connection
// cannot be read any further.
func (c *Conn) readDone(ctx context.Context, reset bool, err error) error {
	c.readWatch.end()
	if reset {
		c.nc.SetReadDeadline(time.Time{})
	}
	if err != nil && ctx.Err() != nil {
		c.closeWith(ctx.Err())
		c.readErr = ctx.Err()
		return ctx.Err()
	}
	return err
}

// nextMessage waits for input, then reads up to the start of the next data
// message and returns its type.
func (c *Conn) nextMessage() (MessageType, error) {
	if err := c.awaitInput(); err != nil {
		return 0, err
	}
	return c.beginMessage()
}

// awaitInput waits for the peer to send something if nothing is buffered.
// It is the first thing a read does, before the deeper frame parsing, so a
// goroutine that waits on an idle connection has few frames on its stack and
// the runtime shrinks that stack to its 2 KiB minimum: most of what an idle
// connection costs.
func (c *Conn) awaitInput() error {
	if c.reader.active || c.in.r < c.in.w {
		return nil
	}
	if _, err := c.in.raw.readBuffered(c.in); err != nil && c.in.r == c.in.w {
		c.in.release()
		return c.readFailed(err)
	}
	return nil
}

// beginMessage discards the rest of any previous message, then reads frames
// until a data message begins, and returns its type.
func (c *Conn) beginMessage() (MessageType, error) {
	r := &c.reader
	for r.active { // discard what the caller left of the previous message
		if r.remaining == 0 {
			if err := r.advance(); err != nil && err != io.EOF {
				return 0, err
			}
			continue
		}
		if err := c.in.need(1); err != nil {
			return 0, c.readFailed(err)
		}
		n := min(int64(len(c.in.buffered())), r.remaining)
		c.in.discard(int(n))
		r.remaining -= n
	}
	h, err := c.nextDataFrame()
	if err != nil {
		return 0, err
	}
	*r = messageReader{c: c, active: true, op: h.Opcode}
	if h.Opcode == wire.OpContinuation {
		r.remaining = h.Length // for drainToClose to skip
		return 0, c.fail(wire.ErrUnexpectedContinue)
	}
	if err := r.startFrame(h); err != nil {
		return 0, err
	}
	return h.Opcode, nil
}

// read reads payload into p, moving on to the message's next frame when
// the current one is used up, and returns io.EOF after the last byte.
func (r *messageReader) read(p []byte) (int, error) {
	if !r.active {
		return 0, io.EOF
	}
	for r.remaining == 0 {
		if err := r.advance(); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > r.remaining {
		p = p[:r.remaining]
	}
	n, err := r.c.in.read(p)
	if err != nil {
		return 0, r.c.readFailed(err)
	}
	p = p[:n]
	r.maskPos = wire.Mask(r.mask, r.maskPos, p)
	r.remaining -= int64(n)
	if r.op == wire.OpText && !r.utf8.Write(p) {
		return 0, r.c.fail(wire.ErrInvalidUTF8)
	}
	return n, nil
}

// advance is called at the end of a frame: after the last frame it ends the
// message and returns io.EOF, otherwise it reads the next frame's header.
func (r *messageReader) advance() error {
	if r.fin {
		r.active = false
		if r.op == wire.OpText && !r.utf8.Complete() {
			return r.c.fail(wire.ErrInvalidUTF8)
		}
		return io.EOF
	}
	h, err := r.c.nextDataFrame()
	if err != nil {
		return err
	}
	if h.Opcode != wire.OpContinuation {
		r.remaining = h.Length // for drainToClose to skip
		return r.c.fail(wire.ErrUnfinishedMessage)
	}
	return r.startFrame(h)
}

// startFrame makes h the current frame of the message, enforcing the read
// limit before any of the payload is read.
func (r *messageReader) startFrame(h wire.Header) error {
	r.fin, r.remaining, r.mask, r.maskPos = h.Fin, h.Length, h.Mask, 0
	r.size += h.Length
	if r.c.readLimit > 0 && (r.size > r.c.readLimit || r.size < 0) {
		return r.c.fail(wire.ErrMessageTooBig)
	}
	return nil
}

// nextDataFrame reads frame headers, handling control frames, until one
// starts a data frame, and returns that header.
func (c *Conn) nextDataFrame() (wire.Header, error) {
	for {
		h, err := c.readHeader()
		if err != nil {
			return h, err
		}
		if !h.Opcode.IsControl() {
			return h, nil
		}
		if err := c.handleControl(h); err != nil {
			return h, err
		}
	}
}

// readHeader reads and checks one frame header.
func (c *Conn) readHeader() (wire.Header, error) {
	if err := c.in.need(2); err != nil {
		return wire.Header{}, c.readFailed(err)
	}
	b := c.in.buffered()
	size := wire.HeaderSize(b[0], b[1])
	if err := c.in.need(size); err != nil {
		return wire.Header{}, c.readFailed(err)
	}
	h, _, err := wire.ParseHeader(c.in.buffered())
	if err != nil {
		return h, c.fail(err.(*wire.Error))
	}
	if err := h.Check(0, true); err != nil {
		return h, c.fail(err.(*wire.Error))
	}
	c.in.discard(size)
	return h, nil
}

// handleControl reads a control frame's payload and acts on it: a ping is
// answered with a pong carrying the same payload, a pong wakes a waiting
// Ping, and a close frame is answered and ends the connection.
func (c *Conn) handleControl(h wire.Header) error {
	n := int(h.Length)
	if err := c.in.need(n); err != nil {
		return c.readFailed(err)
	}
	payload := c.in.buffered()[:n]
	wire.Mask(h.Mask, 0, payload)

	switch h.Opcode {
	case wire.OpPing:
		err := c.writeControl(context.Background(), wire.OpPong, payload)
		c.in.discard(n)
		if err != nil && err != ErrClosed {
			return c.readFailed(err)
		}
	case wire.OpPong:
		c.gotPong(payload)
		c.in.discard(n)
	case wire.OpClose:
		code, reason, err := wire.ParseClose(payload)
		c.in.discard(n)
		if err != nil {
			// The peer's close frame was its last: answer it and close,
			// without waiting for another.
			werr := err.(*wire.Error)
			c.writeClose(werr.Code, werr.Msg)
			c.CloseNow()
			c.readErr = werr
			return werr
		}
		reply := code
		if reply == wire.StatusNoStatusReceived {
			reply = wire.StatusNormalClosure
		}
		c.writeClose(reply, reason) // echo it all, so the peer sees its own words
		c.CloseNow()                // the server closes the TCP connection first
		c.readErr = &CloseError{Code: code, Reason: reason}
		return c.readErr
	}
	return nil
}

// readFailed records a failure of the underlying connection and returns
// it; io.EOF becomes a CloseError with status 1006.
func (c *Conn) readFailed(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = &CloseError{Code: wire.StatusAbnormalClosure}
	}
	if cause := c.closeCause(); cause != nil {
		err = cause // closed on purpose: say why, not how the read broke
	}
	c.CloseNow()
	if c.readErr == nil {
		c.readErr = err
	}
	return err
}
