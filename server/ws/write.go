package ws

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"sync"

	"duplex/shared/wire"
)

// This file writes messages. Server frames are not masked, so a payload
// goes out as it is: small frames are copied behind their header into one
// pooled buffer and written at once; large ones are written with the header
// in one vectored write. A client masks every frame with a fresh key from
// crypto/rand (RFC 6455 §5.3), so its payload is copied and masked into
// pooled buffers on the way out: the caller's bytes are never changed.

// errNotData is returned for a message type other than Text or Binary.
func errNotData(typ MessageType) error {
	return errors.New("websocket: cannot write a message of type " + typ.String() + ": only Text and Binary are messages")
}

// WriteMessage sends p as one message of type typ in a single frame. It
// waits for any message being written by another goroutine to finish
// first. ctx bounds the wait and the write; if it ends during the write, the
// connection is closed.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, p []byte) error {
	if !typ.Valid() {
		return errNotData(typ)
	}
	if err := c.lockMessage(ctx); err != nil {
		return err
	}
	defer c.unlockMessage()
	c.writeWatch.begin(c, ctx)
	if err := c.writeDone(ctx, c.writeFrame(true, typ.Opcode(), p)); err != nil {
		return err
	}
	c.stats.messageOut(len(p))
	return nil
}

// WriteMessages sends each of msgs as a message of type typ, in order,
// each in a single frame. Small messages are packed together into few
// system calls, so a writer that has fallen behind, such as one serving a
// busy chat room, catches up with fewer, larger writes.
func (c *Conn) WriteMessages(ctx context.Context, typ MessageType, msgs [][]byte) error {
	if !typ.Valid() {
		return errNotData(typ)
	}
	if err := c.lockMessage(ctx); err != nil {
		return err
	}
	defer c.unlockMessage()
	c.writeWatch.begin(c, ctx)
	if err := c.writeDone(ctx, c.writeFrames(typ.Opcode(), msgs)); err != nil {
		return err
	}
	for _, p := range msgs {
		c.stats.messageOut(len(p))
	}
	return nil
}

// NextWriter returns a writer for a message of type typ. Each Write sends
// what it is given as one or more frames, buffering small writes; Close
// sends the last frame. Until then other writers wait, though control
// frames still go out. ctx bounds the writing of the whole message.
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (*MessageWriter, error) {
	if !typ.Valid() {
		return nil, errNotData(typ)
	}
	if err := c.lockMessage(ctx); err != nil {
		return nil, err
	}
	c.writeWatch.begin(c, ctx)
	return &MessageWriter{c: c, ctx: ctx, op: typ.Opcode(), open: true}, nil
}

// A MessageWriter writes one message as a stream of frames. It is returned
// by NextWriter and must be closed.
type MessageWriter struct {
	c    *Conn
	ctx  context.Context
	op   wire.Opcode // opcode of the next frame: the type, then continuation
	buf  *[bufferSize]byte
	n    int // bytes buffered, after room for the largest header
	open bool
	err  error
}

// Write sends p as part of the message.
func (w *MessageWriter) Write(p []byte) (int, error) {
	if !w.open {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	written := len(p)
	for len(p) > 0 {
		if w.n == 0 && len(p) >= bufferSize-wire.MaxHeaderSize {
			w.err = w.frame(false, p) // large: straight out, unbuffered
			break
		}
		if w.buf == nil {
			w.buf = buffers.Get().(*[bufferSize]byte)
		}
		k := copy(w.buf[wire.MaxHeaderSize+w.n:], p)
		w.n += k
		p = p[k:]
		if wire.MaxHeaderSize+w.n == bufferSize {
			if w.err = w.flush(false); w.err != nil {
				break
			}
		}
	}
	if w.err != nil {
		return 0, w.err
	}
	w.c.stats.bytesOut(written)
	return written, nil
}

// Flush sends what the writer holds as a frame of its own now, without
// ending the message; it sends nothing if the writer holds nothing. So a
// message written as Write, Flush, Write, Close of small parts crosses the
// wire in exactly two frames.
func (w *MessageWriter) Flush() error {
	if !w.open {
		return ErrClosed
	}
	if w.err == nil && w.n > 0 {
		w.err = w.flush(false)
	}
	return w.err
}

// Close sends the message's last frame and lets other writers go on.
func (w *MessageWriter) Close() error {
	if !w.open {
		return ErrClosed
	}
	w.open = false
	if w.err == nil {
		w.err = w.flush(true)
	}
	if w.buf != nil {
		buffers.Put(w.buf)
		w.buf = nil
	}
	err := w.c.writeDone(w.ctx, w.err)
	if err == nil {
		w.c.stats.messageOut(0) // Write counted its bytes
	}
	w.c.unlockMessage()
	return err
}

func (w *MessageWriter) flush(fin bool) error {
	var p []byte
	if w.buf != nil {
		p = w.buf[wire.MaxHeaderSize : wire.MaxHeaderSize+w.n]
	}
	w.n = 0
	return w.frame(fin, p)
}

func (w *MessageWriter) frame(fin bool, p []byte) error {
	err := w.c.writeFrame(fin, w.op, p)
	w.op = wire.OpContinuation
	return err
}

// writeControl sends a control frame; it needs no message lock, so a pong
// or ping can go out between the frames of a message being written. If
// ctx ends during the write, the connection is closed.
func (c *Conn) writeControl(ctx context.Context, op wire.Opcode, payload []byte) error {
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { c.closeWith(&closedBy{ctx.Err()}) })
		defer stop()
	}
	err := c.writeFrame(true, op, payload)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// writeFrame sends one frame, unless a close frame has been sent already.
func (c *Conn) writeFrame(fin bool, op wire.Opcode, p []byte) error {
	c.frameMu.Lock()
	defer c.frameMu.Unlock()
	if c.closeSent || c.isDone() {
		return c.closedErr()
	}
	return c.writeFrameLocked(fin, op, p)
}

// An output holds what writing a frame needs: a buffer for a small frame,
// or the two parts of a large one for a vectored write. Outputs are pooled,
// so an idle connection holds none.
type output struct {
	buf [bufferSize]byte
	vec net.Buffers
	arr [2][]byte
}

var outputs = sync.Pool{New: func() any { return new(output) }}

// maskChunk is the size of the pooled buffers through which a client masks
// a large payload: a 64 KiB message goes out in three writes.
const maskChunk = 32 << 10

var maskBuffers = sync.Pool{New: func() any { return new([maskChunk]byte) }}

// newMaskKey returns a fresh masking key. crypto/rand does not fail on the
// platforms Go supports; it costs about 30 ns.
func newMaskKey() (key [4]byte) {
	rand.Read(key[:])
	return key
}

// appendFrame appends a final frame of type op carrying p to dst, masked
// if this side is the client.
func (c *Conn) appendFrame(dst []byte, op wire.Opcode, p []byte) []byte {
	h := wire.Header{Fin: true, Opcode: op, Length: int64(len(p))}
	if !c.client {
		return append(wire.AppendHeader(dst, h), p...)
	}
	h.Masked, h.Mask = true, newMaskKey()
	dst = wire.AppendHeader(dst, h)
	start := len(dst)
	dst = append(dst, p...)
	wire.Mask(h.Mask, 0, dst[start:])
	return dst
}

// writeFrames sends each of msgs as a final frame of type op, packing the
// frames that fit into one pooled buffer per write.
func (c *Conn) writeFrames(op wire.Opcode, msgs [][]byte) error {
	c.frameMu.Lock()
	defer c.frameMu.Unlock()
	if c.closeSent || c.isDone() {
		return c.closedErr()
	}
	out := outputs.Get().(*output)
	defer outputs.Put(out)
	packed := out.buf[:0]
	flush := func() error {
		if len(packed) == 0 {
			return nil
		}
		_, err := c.nc.Write(packed)
		packed = packed[:0]
		if err != nil {
			return c.writeFailed()
		}
		return nil
	}
	for _, p := range msgs {
		h := wire.Header{Fin: true, Opcode: op, Length: int64(len(p)), Masked: c.client}
		size := h.Size() + len(p)
		if size > len(out.buf)-len(packed) {
			if err := flush(); err != nil {
				return err
			}
		}
		if size > len(out.buf) { // too large to pack: on its own
			if err := c.writeFrameLocked(true, op, p); err != nil {
				return err
			}
			continue
		}
		packed = c.appendFrame(packed, op, p)
	}
	return flush()
}

// writeFrameLocked sends one frame; the caller holds frameMu. A failed
// write leaves the stream corrupt, so it closes the connection.
func (c *Conn) writeFrameLocked(fin bool, op wire.Opcode, p []byte) error {
	h := wire.Header{Fin: fin, Opcode: op, Length: int64(len(p))}
	if c.client {
		h.Masked, h.Mask = true, newMaskKey()
	}
	out := outputs.Get().(*output)
	defer outputs.Put(out)
	frame := wire.AppendHeader(out.buf[:0], h)
	var err error
	switch {
	case len(frame)+len(p) <= len(out.buf):
		start := len(frame)
		frame = append(frame, p...)
		if c.client {
			wire.Mask(h.Mask, 0, frame[start:])
		}
		_, err = c.nc.Write(frame)
	case c.client:
		err = c.writeMaskedLarge(frame, h.Mask, p)
	default:
		out.vec = append(out.arr[:0], frame, p)
		_, err = out.vec.WriteTo(c.nc)
		out.arr = [2][]byte{} // do not keep the caller's payload
	}
	if err != nil {
		return c.writeFailed()
	}
	return nil
}

// writeMaskedLarge writes a client frame too large for an output: the
// header, then the payload copied and masked through pooled chunks.
func (c *Conn) writeMaskedLarge(header []byte, key [4]byte, p []byte) error {
	chunk := maskBuffers.Get().(*[maskChunk]byte)
	defer maskBuffers.Put(chunk)
	b := append(chunk[:0], header...)
	pos := 0
	for len(p) > 0 {
		n := min(len(p), maskChunk-len(b))
		start := len(b)
		b = append(b, p[:n]...)
		pos = wire.Mask(key, pos, b[start:])
		p = p[n:]
		if _, err := c.nc.Write(b); err != nil {
			return err
		}
		b = chunk[:0]
	}
	return nil
}

// writeFailed ends the connection after a failed write, which leaves the
// stream corrupt, and returns the error the write reports.
func (c *Conn) writeFailed() error {
	c.closeWith(&CloseError{Code: StatusAbnormalClosure})
	return c.closedErr()
}

func (c *Conn) lockMessage(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.isDone() {
		return c.closedErr()
	}
	select { // fast path: nobody else is writing
	case c.msgSem <- struct{}{}:
		return nil
	default:
	}
	select {
	case c.msgSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.closedErr()
	}
}

func (c *Conn) unlockMessage() { <-c.msgSem }

// writeDone ends the write that c.writeWatch.begin(ctx) started, and
// reports a write cut short by ctx as ctx's error: the watch closed the
// connection, since part of a frame may have been written.
func (c *Conn) writeDone(ctx context.Context, err error) error {
	c.writeWatch.end()
	if err != nil && ctx.Err() != nil {
		c.closeWith(&closedBy{ctx.Err()})
		return ctx.Err()
	}
	return err
}
