package ws

import (
	"context"
	"io"
	"slices"

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
	masked    bool // the current frame is masked: the server reads client frames
	maskPos   int
	utf8      wire.UTF8Validator

	// A compressed message is read through a pooled decompressor, taken
	// for the message (inflate.go).
	inf      *decompressor // nil unless the message is compressed
	inflated int64         // bytes inflated so far, for the read limit
	infEOF   bool          // the decompressor has returned the message's last byte
}

// NextReader waits for the next data message and returns its type and a
// reader for its payload, inflated if the message is compressed. The
// reader returns io.EOF at the end of the message and is valid until the
// next call to NextReader or ReadMessage, which discard whatever of it is
// unread. ctx bounds the wait for the message to begin; if it ends during
// the wait, the connection is closed.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	if err := c.lockRead(ctx); err != nil {
		return 0, nil, err
	}
	defer c.unlockRead()
	c.readWatch.begin(c, ctx)
	typ, err := c.nextMessage()
	if err = c.readDone(ctx, err); err != nil {
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
	c.readWatch.begin(c, ctx)
	typ, err := c.nextMessage()
	buf = buf[:0]
	r := &c.reader
	if err == nil && r.inf != nil {
		buf, err = r.readInflatedAll(buf)
	}
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
	if err = c.readDone(ctx, err); err != nil {
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
// connection has.
func (c *Conn) lockRead(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.readMu.Lock()
	if err := c.Err(); err != nil {
		c.unlockRead()
		return err
	}
	return nil
}

// unlockRead lets other readers go on. A compressed message's
// decompressor goes back to its pool here if the connection has ended
// during the read, whatever ended it.
func (c *Conn) unlockRead() {
	if c.reader.inf != nil && c.isDone() {
		c.reader.releaseInflater()
	}
	c.readMu.Unlock()
}

// readDone ends the read that c.readWatch.begin(ctx) started, and reports
// a read cut short by ctx as ctx's error: the watch closed the connection,
// since the read may have stopped inside a frame.
func (c *Conn) readDone(ctx context.Context, err error) error {
	c.readWatch.end()
	if err != nil && ctx.Err() != nil {
		c.closeWith(&closedBy{ctx.Err()})
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
	if r.inf != nil { // what the caller left of a compressed message
		if err := r.discardInflated(); err != nil {
			return 0, err
		}
	}
	if r.active {
		r.utf8.Reset() // what is skipped unread is not checked
	}
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
	if h.Rsv&wire.Rsv1 != 0 { // compressed: readHeader allowed it only if agreed
		r.startInflate()
	}
	c.stats.messageIn() // and read counts its bytes
	return MessageType(h.Opcode), nil
}

// read reads payload into p, moving on to the message's next frame when
// the current one is used up, and returns io.EOF after the last byte.
func (r *messageReader) read(p []byte) (int, error) {
	if !r.active {
		return 0, io.EOF
	}
	if r.inf != nil {
		return r.readInflated(p)
	}
	for r.remaining == 0 {
		if err := r.advance(); err != nil {
			return 0, err
		}
	}
	n, err := r.readFrame(p)
	if err != nil {
		return 0, err
	}
	p = p[:n]
	r.c.stats.bytesIn(n)
	if r.op == wire.OpText && !r.utf8.Write(p) {
		return 0, r.c.fail(wire.ErrInvalidUTF8)
	}
	return n, nil
}

// readFrame reads payload of the current frame, which has some left, into
// p, and unmasks it.
func (r *messageReader) readFrame(p []byte) (int, error) {
	if int64(len(p)) > r.remaining {
		p = p[:r.remaining]
	}
	n, err := r.c.in.read(p)
	if err != nil {
		return 0, r.c.readFailed(err)
	}
	if r.masked {
		r.maskPos = wire.Mask(r.mask, r.maskPos, p[:n])
	}
	r.remaining -= int64(n)
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
	return r.nextFrame()
}

// nextFrame reads the header of the message's next frame, which must be a
// continuation, and makes it the current one.
func (r *messageReader) nextFrame() error {
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
// limit before any of the payload is read. For a compressed message, the
// limit applies to the payload as it arrives and, as it is inflated, to
// what it inflates to.
func (r *messageReader) startFrame(h wire.Header) error {
	r.fin, r.remaining, r.masked, r.mask, r.maskPos = h.Fin, h.Length, h.Masked, h.Mask, 0
	r.size += h.Length
	if limit := r.c.readLimit.Load(); limit > 0 && (r.size > limit || r.size < 0) {
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
	var allowed byte
	if c.deflate != nil {
		allowed = wire.Rsv1 // permessage-deflate's mark of a compressed message
	}
	if err := h.Check(allowed, !c.client); err != nil {
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
	if h.Masked {
		wire.Mask(h.Mask, 0, payload)
	}

	switch h.Opcode {
	case wire.OpPing:
		err := c.writeControl(context.Background(), wire.OpPong, payload)
		c.in.discard(n)
		if err != nil && !c.isClosing() {
			return c.readFailed(err)
		}
	case wire.OpPong:
		c.gotPong(payload)
		c.in.discard(n)
	case wire.OpClose:
		code, reason, err := wire.ParseClose(payload)
		c.in.discard(n)
		c.stats.receivedClose(code)
		if err != nil {
			// The peer's close frame was its last: answer it and close,
			// without waiting for another.
			werr := err.(*wire.Error)
			c.writeClose(werr.Code, werr.Msg)
			c.finish(werr)
			return c.Err()
		}
		reply := code
		if reply == StatusNoStatusReceived {
			reply = StatusNormalClosure
		}
		// Echo it all, so the peer sees its own words; if this side sent
		// its close frame first, this was the answer.
		echo := c.writeClose(reply, reason)
		c.finish(&CloseError{Code: code, Reason: reason, WasClean: echo == nil})
		return c.Err()
	}
	return nil
}

// isClosing reports whether a close frame has been sent.
func (c *Conn) isClosing() bool {
	c.frameMu.Lock()
	defer c.frameMu.Unlock()
	return c.closeSent
}

// readFailed records a failure of the underlying connection, which ends
// it, and returns why it ended: 1006 if the peer dropped it, or the reason
// this side closed it, if it did.
func (c *Conn) readFailed(error) error {
	c.closeWith(&CloseError{Code: StatusAbnormalClosure})
	return c.Err()
}
