package ws

import (
	"sync"

	"github.com/klauspost/compress/flate"

	"duplex/shared/wire"
)

// This file compresses what a connection sends (RFC 7692 §7.2.1): a
// message is deflated by a pooled flate writer, reset for it with the end
// of the connection's history as its dictionary when context takeover
// applies, and flushed; the 00 00 ff ff that ends the flush is stripped,
// and the message goes out with RSV1 set on its first frame.
//
// A flate writer weighs about 800 KiB, so none is held for longer than it
// takes to compress: it writes into a buffer of the caller's and goes back
// to its pool before anything is written to the socket, which may block.
// A message written with NextWriter is compressed in chunks, each flushed
// and each against what came before it, so that its writer, too, holds no
// flate writer between calls.

// deflateTail ends every flushed deflate stream: an empty stored block,
// which a sender strips and a receiver appends back.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff}

// A compressor is a flate writer and the buffer it writes into: a
// caller's, lent for one call of deflate.
type compressor struct {
	fw   *flate.Writer
	out  []byte
	pool *sync.Pool // where it goes back
}

// Write appends p to the output; it is the flate writer's destination.
func (z *compressor) Write(p []byte) (int, error) {
	z.out = append(z.out, p...)
	return len(p), nil
}

// The compressors: by level for a full window, by window size otherwise,
// since a window smaller than 32 KiB needs a writer of its own kind.
var (
	compressorsByLevel  [flate.BestCompression + 1]sync.Pool
	compressorsByWindow [15]sync.Pool
)

// deflate appends to dst p compressed with the connection's level and
// window, against dict, what the peer's window holds before p; the result
// ends with the flush's tail.
func (d *deflateState) deflate(dst, p, dict []byte) []byte {
	pool := &compressorsByLevel[d.level]
	if d.outBits < 15 {
		pool = &compressorsByWindow[d.outBits]
	}
	z, _ := pool.Get().(*compressor)
	if z == nil {
		z = &compressor{pool: pool}
		if d.outBits < 15 {
			z.fw, _ = flate.NewWriterWindow(z, 1<<d.outBits) // 8 ≤ outBits: within its limits
		} else {
			z.fw, _ = flate.NewWriter(z, d.level) // a valid level
		}
	}
	z.out = dst
	z.fw.ResetDict(z, dict)
	z.fw.Write(p) // into z.out, which does not fail
	z.fw.Flush()
	dst = z.out
	// Keep neither the caller's buffer nor the dictionary, a connection's.
	z.out = nil
	z.fw.ResetDict(z, nil)
	pool.Put(z)
	return dst
}

// dictionary returns the dictionary of the next message: what this side
// sent before, with context takeover, or nothing.
func (d *deflateState) dictionary() []byte {
	if !d.outTakeover {
		return nil
	}
	return d.sent.bytes()
}

// compressed records that p went out compressed: with context takeover,
// the peer's window now holds it, so the next message may refer to it.
func (d *deflateState) compressed(p []byte) {
	if d.outTakeover {
		d.sent.write(p)
	}
}

// frameBuffers hold compressed messages on their way to the socket.
var frameBuffers = sync.Pool{New: func() any { b := make([]byte, 0, bufferSize); return &b }}

// maxPooledFrame is the largest frame buffer that goes back to the pool; a
// larger one, left by a large message, is dropped.
const maxPooledFrame = 256 << 10

func putFrameBuffer(b *[]byte) {
	if cap(*b) <= maxPooledFrame {
		*b = (*b)[:0]
		frameBuffers.Put(b)
	}
}

// compressMessage compresses p, a whole message, into *buf after room for
// a frame header, and reports whether that shrank it; if so, the history
// records p, and the payload is (*buf)[wire.MaxHeaderSize:].
func (d *deflateState) compressMessage(buf *[]byte, p []byte) bool {
	b := append((*buf)[:0], make([]byte, wire.MaxHeaderSize)...)
	b = d.deflate(b, p, d.dictionary())
	*buf = b[:len(b)-len(deflateTail)]
	if len(*buf)-wire.MaxHeaderSize >= len(p) {
		// Sent as it is, p does not reach the peer's window: the
		// history stays as it was.
		return false
	}
	d.compressed(p)
	return true
}

// writeCompressed sends p as one compressed frame of type op, or, if
// compression does not shrink it, as it is. The caller holds msgSem.
func (c *Conn) writeCompressed(op wire.Opcode, p []byte) error {
	buf := frameBuffers.Get().(*[]byte)
	defer putFrameBuffer(buf)
	if !c.deflate.compressMessage(buf, p) {
		return c.writeFrame(true, 0, op, p)
	}
	return c.writeBuilt(wire.Rsv1, op, *buf)
}

// writeBuilt sends a final frame whose payload is b[wire.MaxHeaderSize:],
// building its header in the room before the payload, in one write. b is
// this side's own: a client masks the payload in place.
func (c *Conn) writeBuilt(rsv byte, op wire.Opcode, b []byte) error {
	payload := b[wire.MaxHeaderSize:]
	h := wire.Header{Fin: true, Rsv: rsv, Opcode: op, Length: int64(len(payload))}
	if c.client {
		h.Masked, h.Mask = true, newMaskKey()
		wire.Mask(h.Mask, 0, payload)
	}
	start := wire.MaxHeaderSize - h.Size()
	wire.AppendHeader(b[start:start], h)
	return c.writeRaw(b[start:])
}

// writeRaw writes b, one or more whole frames, unless a close frame has
// been sent already.
func (c *Conn) writeRaw(b []byte) error {
	c.frameMu.Lock()
	defer c.frameMu.Unlock()
	if c.closeSent || c.isDone() {
		return c.closedErr()
	}
	if _, err := c.nc.Write(b); err != nil {
		return c.writeFailed()
	}
	return nil
}

// The streaming writer's compression. A MessageWriter that compresses
// collects what it is given in its buffer, and compresses each bufferful
// as a chunk, flushed, against the end of what the peer's window holds
// before it: the connection's history with context takeover, or else the
// message's own, kept in w.hist. Each chunk's frame carries the tail of
// the previous chunk's flush, and keeps its own back (w.held): the final
// frame must not carry it.

// decide settles, before the first frame goes out, whether the message is
// compressed, n being the bytes known of it so far.
func (w *MessageWriter) decide(n int) {
	if w.decided {
		return
	}
	w.decided = true
	d := w.c.deflate
	w.compressing = d != nil && (w.choice > 0 || w.choice == 0 && d.compresses(n))
	if w.compressing {
		w.rsv = wire.Rsv1
	}
}

// compressChunk compresses chunk, the next part of the message, and sends
// it as a frame, the last if fin. If the first chunk does not shrink, and
// SetCompressed did not ask for compression, the message goes out as it
// is, as WriteMessage sends a message that does not shrink.
func (w *MessageWriter) compressChunk(chunk []byte, fin bool) error {
	d := w.c.deflate
	if fin && len(chunk) == 0 && w.sentChunk {
		// The stream is complete but for the tail held back, which the
		// last frame must not carry.
		return w.frame(true, nil)
	}
	dict := d.dictionary()
	if w.hist != nil {
		dict = w.hist.bytes()
	}
	buf := frameBuffers.Get().(*[]byte)
	defer putFrameBuffer(buf)
	b := d.deflate(append((*buf)[:0], w.held[:w.nheld]...), chunk, dict)
	*buf = b
	b, w.nheld = b[:len(b)-len(deflateTail)], copy(w.held[:], b[len(b)-len(deflateTail):])
	if !w.sentChunk && w.choice == 0 && len(b) >= len(chunk) {
		w.compressing, w.rsv, w.nheld = false, 0, 0
		return w.frame(fin, chunk)
	}
	d.compressed(chunk)
	if !d.outTakeover && !fin {
		if w.hist == nil {
			w.hist = &history{max: min(maxHistory, 1<<d.outBits)}
		}
		w.hist.write(chunk)
	}
	w.sentChunk = true
	return w.frame(fin, b)
}
