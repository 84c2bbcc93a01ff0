package ws

import (
	"bufio"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/flate"

	"duplex/shared/wire"
)

// This file reads compressed messages (RFC 7692 §7.2.2): the payload of
// the message's frames, followed by the 00 00 ff ff its sender stripped,
// goes through a pooled flate reader, taken when the message begins and
// given back when it ends. The read limit applies to what the message
// inflates to, as it inflates: a message is refused as soon as it would
// inflate past the limit, with no more than the limit produced.

// inflateTail follows a message's payload into the decompressor: the tail
// the sender stripped (deflateTail), which completes the stream's last
// flush, and then an empty final block, so that the decompressor ends
// where the message does instead of waiting for more.
var inflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// A decompressor is a flate reader with the input it reads through. It
// belongs to the reader of the connection that took it from the pool,
// from the start of a compressed message to its end.
type decompressor struct {
	fr  io.ReadCloser // a flate.Resetter, reading br
	br  *bufio.Reader // reads src; a type the flate reader reads fast
	src inflateSource
}

var decompressors sync.Pool

func getDecompressor() *decompressor {
	if d, ok := decompressors.Get().(*decompressor); ok {
		return d
	}
	d := &decompressor{}
	d.br = bufio.NewReaderSize(&d.src, bufferSize)
	d.fr = flate.NewReader(d.br)
	return d
}

// An inflateSource is the input of a message's decompressor: the payload
// of the message's frames, then inflateTail.
type inflateSource struct {
	r    *messageReader
	tail int   // bytes of inflateTail read; -1 while the payload lasts
	err  error // why reading the payload failed: the connection's end
}

func (s *inflateSource) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.tail < 0 {
		n, err := s.r.readCompressed(p)
		if err != io.EOF {
			s.err = err
			return n, err
		}
		s.tail = 0
	}
	if s.tail == len(inflateTail) {
		return 0, io.EOF
	}
	n := copy(p, inflateTail[s.tail:])
	s.tail += n
	return n, nil
}

// readCompressed reads payload of the message's frames into p, moving on
// to the next frame as each ends, and returns io.EOF after the last byte of
// the last frame, without ending the message: the decompressor ends it.
func (r *messageReader) readCompressed(p []byte) (int, error) {
	for r.remaining == 0 {
		if r.fin {
			return 0, io.EOF
		}
		if err := r.nextFrame(); err != nil {
			return 0, err
		}
	}
	return r.readFrame(p)
}

// startInflate takes a decompressor for the message that has just begun;
// if the peer keeps context, what it sent before is its dictionary.
func (r *messageReader) startInflate() {
	d := getDecompressor()
	d.src = inflateSource{r: r, tail: -1}
	d.br.Reset(&d.src)
	var dict []byte
	if z := r.c.deflate; z.inTakeover {
		dict = z.received.bytes()
	}
	d.fr.(flate.Resetter).Reset(d.br, dict) // never fails
	r.inf, r.inflated, r.infEOF = d, 0, false
}

// releaseInflater gives the message's decompressor back to the pool. It
// must not be called while the decompressor is reading.
func (r *messageReader) releaseInflater() {
	d := r.inf
	r.inf = nil
	d.src = inflateSource{}
	d.br.Reset(&d.src)
	decompressors.Put(d)
}

// readInflated reads the message's content, inflating its payload, into p.
// It checks the content against the read limit and, for text, UTF-8, and
// ends the message after its last byte.
func (r *messageReader) readInflated(p []byte) (int, error) {
	if r.infEOF {
		return 0, r.endInflated()
	}
	limit := r.c.readLimit.Load()
	if limit > 0 && int64(len(p)) > limit-r.inflated+1 {
		p = p[:limit-r.inflated+1] // enough to see the limit crossed, and no more
	}
	n, err := r.inf.fr.Read(p)
	r.inflated += int64(n)
	switch {
	case limit > 0 && r.inflated > limit:
		r.releaseInflater()
		return 0, r.c.fail(wire.ErrMessageTooBig)
	case err == io.EOF:
		r.infEOF = true
	case err != nil:
		srcErr := r.inf.src.err
		r.releaseInflater()
		if srcErr != nil {
			return 0, srcErr // the connection ended, or the peer broke the framing
		}
		return 0, r.c.fail(errCorruptDeflate)
	}
	p = p[:n]
	if r.op == wire.OpText && !r.utf8.Write(p) {
		r.releaseInflater()
		return 0, r.c.fail(wire.ErrInvalidUTF8)
	}
	if z := r.c.deflate; z.inTakeover {
		z.received.write(p)
	}
	r.c.stats.bytesIn(n)
	if n == 0 && r.infEOF {
		return 0, r.endInflated()
	}
	return n, nil
}

// endInflated ends a compressed message once its content has been read:
// the decompressor goes back to the pool, and payload left after the end
// of the deflate stream, if the sender ended it with a final block, is
// skipped.
func (r *messageReader) endInflated() error {
	r.releaseInflater()
	for !r.fin || r.remaining > 0 {
		if r.remaining == 0 {
			if err := r.nextFrame(); err != nil {
				return err
			}
			continue
		}
		if err := r.c.in.need(1); err != nil {
			return r.c.readFailed(err)
		}
		n := min(int64(len(r.c.in.buffered())), r.remaining)
		r.c.in.discard(int(n))
		r.remaining -= n
	}
	r.active = false
	if r.op == wire.OpText && !r.utf8.Complete() {
		return r.c.fail(wire.ErrInvalidUTF8)
	}
	return io.EOF
}

// readInflatedAll appends the whole content of a compressed message to
// buf, for ReadMessage, growing buf as the content arrives, never beyond
// one byte past the read limit. It returns io.EOF at the end.
func (r *messageReader) readInflatedAll(buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			grow := min(max(len(buf), 512), maxGrow)
			if limit := r.c.readLimit.Load(); limit > 0 {
				grow = int(min(int64(grow), max(limit+1-int64(len(buf)), 1)))
			}
			buf = slices.Grow(buf, grow)
		}
		n, err := r.read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			return buf, err
		}
	}
}

// discardInflated reads and drops what the caller left of a compressed
// message. If the peer keeps context, the rest is inflated, since later
// messages may refer to it; otherwise it is skipped unread.
func (r *messageReader) discardInflated() error {
	if !r.c.deflate.inTakeover {
		r.releaseInflater()
		return nil // beginMessage skips the frames' payload
	}
	scratch := buffers.Get().(*[bufferSize]byte)
	defer buffers.Put(scratch)
	for {
		if _, err := r.read(scratch[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}
