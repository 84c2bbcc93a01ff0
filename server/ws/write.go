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

// WriteMessage sends p as one message of type typ in a single frame,
// compressed if compression was agreed and p is at least the threshold. It
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
	var err error
	if c.deflate != nil && c.deflate.compresses(len(p)) {
		err = c.writeCompressed(typ.Opcode(), p)
	} else {
		err = c.writeFrame(true, 0, typ.Opcode(), p)
	}
	if err := c.writeDone(ctx, err); err != nil {
		return err
	}
	c.stats.messageOut(len(p))
	return nil
}

// WriteMessages sends each of msgs as a message of type typ, in order,
// each in a single frame and each compressed or not as WriteMessage would.
// Small messages are packed together into few system calls, so a writer
// that has fallen behind, such as one serving a busy chat room, catches up
// with fewer, larger writes.
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
//
// If compression was agreed, the message is compressed if it reaches the
// threshold before its first frame goes out (at its first 4 KiB, a Flush,
// or Close) and that first part shrinks when compressed, or else as
// SetCompressed says. A compressed message goes out in chunks, each
// compressed against what came before it, so that no compressor is held
// between calls.
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
	rsv  byte        // reserved bits of the next frame: RSV1 on the first of a compressed message
	buf  *[bufferSize]byte
	n    int // bytes buffered, after room for the largest header
	open bool
	err  error

	// Compression (compress.go), decided when the first frame is about to
	// go out; choice is what SetCompressed asked, 0 if nothing.
	decided     bool
	choice      int8
	compressing bool
	sentChunk   bool     // a compressed chunk has gone out
	held        [4]byte  // the tail of the last chunk's flush, not sent yet
	nheld       int      // 0 or 4
	hist        *history // without context takeover, the end of the message so far
}

// maxChunk is the most that a compressing MessageWriter compresses at a
// time from a large Write, without copying it to its buffer first.
const maxChunk = 64 << 10

// SetCompressed chooses whether this message is compressed, whatever its
// size: false sends it as it is, as suits data that is compressed
// already; true compresses it even below the threshold. It has an effect
// only if compression was agreed, and must be called before the message's
// first frame goes out: afterwards it returns an error and changes nothing.
func (w *MessageWriter) SetCompressed(compressed bool) error {
	if w.decided || !w.open {
		return errors.New("websocket: SetCompressed after the message's first frame went out")
	}
	w.choice = -1
	if compressed {
		w.choice = 1
	}
	return nil
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
			// Large: straight out, unbuffered, once the message is known
			// not to be compressed, or compressed in large chunks.
			if w.compressing {
				k := min(len(p), maxChunk)
				if w.err = w.compressChunk(p[:k], false); w.err != nil {
					break
				}
				p = p[k:]
				continue
			}
			if w.decided || w.c.deflate == nil {
				w.err = w.frame(false, p)
				break
			}
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
	w.hist = nil
	err := w.c.writeDone(w.ctx, w.err)
	if err == nil {
		w.c.stats.messageOut(0) // Write counted its bytes
	}
	w.c.unlockMessage()
	return err
}

// flush sends what the writer buffered as a frame, the last if fin,
// compressed if the message is.
func (w *MessageWriter) flush(fin bool) error {
	var p []byte
	if w.buf != nil {
		p = w.buf[wire.MaxHeaderSize : wire.MaxHeaderSize+w.n]
	}
	w.n = 0
	w.decide(len(p))
	if w.compressing {
		return w.compressChunk(p, fin)
	}
	return w.frame(fin, p)
}

func (w *MessageWriter) frame(fin bool, p []byte) error {
	w.decided = true
	err := w.c.writeFrame(fin, w.rsv, w.op, p)
	w.op, w.rsv = wire.OpContinuation, 0
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
	err := c.writeFrame(true, 0, op, payload)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// writeFrame sends one frame, with the reserved bits rsv, unless a close
// frame has been sent already.
func (c *Conn) writeFrame(fin bool, rsv byte, op wire.Opcode, p []byte) error {
	c.frameMu.Lock()
	defer c.frameMu.Unlock()
	if c.closeSent || c.isDone() {
		return c.closedErr()
	}
	return c.writeFrameLocked(fin, rsv, op, p)
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

// appendFrame appends a final frame of type op carrying p to dst, with the
// reserved bits rsv, masked if this side is the client.
func (c *Conn) appendFrame(dst []byte, rsv byte, op wire.Opcode, p []byte) []byte {
	h := wire.Header{Fin: true, Rsv: rsv, Opcode: op, Length: int64(len(p))}
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
	if c.deflate != nil {
		return c.writeFramesCompressed(op, msgs)
	}
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
			if err := c.writeFrameLocked(true, 0, op, p); err != nil {
				return err
			}
			continue
		}
		packed = c.appendFrame(packed, 0, op, p)
	}
	return flush()
}

// writeFramesCompressed is writeFrames on a connection that compresses:
// each message is compressed or not as WriteMessage would, outside
// frameMu, so that control frames may go out meanwhile, and the frames are
// packed as writeFrames packs them. The caller holds msgSem.
func (c *Conn) writeFramesCompressed(op wire.Opcode, msgs [][]byte) error {
	out := outputs.Get().(*output)
	defer outputs.Put(out)
	packed := out.buf[:0]
	flush := func() error {
		if len(packed) == 0 {
			return nil
		}
		err := c.writeRaw(packed)
		packed = packed[:0]
		return err
	}
	d := c.deflate
	buf := frameBuffers.Get().(*[]byte)
	defer putFrameBuffer(buf)
	for _, p := range msgs {
		rsv, payload := byte(0), p
		if d.compresses(len(p)) && d.compressMessage(buf, p) {
			rsv, payload = wire.Rsv1, (*buf)[wire.MaxHeaderSize:]
		}
		h := wire.Header{Length: int64(len(payload)), Masked: c.client}
		size := h.Size() + len(payload)
		var err error
		if size > len(out.buf)-len(packed) {
			err = flush()
		}
		switch {
		case err != nil:
		case size <= len(out.buf):
			packed = c.appendFrame(packed, rsv, op, payload)
		case rsv != 0: // too large to pack, and in buf
			err = c.writeBuilt(rsv, op, *buf)
		default:
			err = c.writeFrame(true, 0, op, p)
		}
		if err != nil {
			return err
		}
	}
	return flush()
}

// writeFrameLocked sends one frame; the caller holds frameMu. A failed
// write leaves the stream corrupt, so it closes the connection.
func (c *Conn) writeFrameLocked(fin bool, rsv byte, op wire.Opcode, p []byte) error {
	h := wire.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(p))}
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
