package ws

import (
	"io"
	"net"
	"sync"
)

// bufferSize is the size of the pooled buffers used for reading and writing.
// It holds many small frames at once; larger payloads bypass it.
const bufferSize = 4096

// buffers holds the read and write buffers of all connections. A connection
// takes one only while it has bytes to hold, so an idle connection holds
// none.
var buffers = sync.Pool{New: func() any { return new([bufferSize]byte) }}

// input is a connection's buffered reader. Its buffer goes back to the pool
// whenever it is empty.
type input struct {
	nc  net.Conn
	buf *[bufferSize]byte // nil while empty
	r   int               // start of unread bytes in buf
	w   int               // end of unread bytes in buf

	raw rawReader // waits for data without holding a buffer, where supported
}

func newInput(nc net.Conn, buffered []byte) *input {
	in := &input{nc: nc}
	in.raw.init(nc)
	if len(buffered) > 0 {
		in.take()
		in.w = copy(in.buf[:], buffered)
	}
	return in
}

// buffered returns the unread bytes in the buffer.
func (in *input) buffered() []byte {
	if in.buf == nil {
		return nil
	}
	return in.buf[in.r:in.w]
}

// discard drops n buffered bytes and releases the buffer once it is empty.
func (in *input) discard(n int) {
	in.r += n
	if in.r == in.w {
		in.release()
	}
}

// need makes sure at least n ≤ bufferSize bytes are buffered, reading as
// needed. It returns io.ErrUnexpectedEOF if the connection ends after some
// of them, and io.EOF if it ends before any.
func (in *input) need(n int) error {
	for in.w-in.r < n {
		if in.buf != nil && bufferSize-in.r < n { // move the partial data to the front
			in.w = copy(in.buf[:], in.buf[in.r:in.w])
			in.r = 0
		}
		had := in.w - in.r
		m, err := in.fill()
		if m == 0 && err != nil {
			if err == io.EOF && had > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// read reads into p: buffered bytes first, otherwise directly from the
// connection if p is large, otherwise through the buffer. It returns at
// least one byte or an error.
func (in *input) read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b := in.buffered(); len(b) > 0 {
		n := copy(p, b)
		in.discard(n)
		return n, nil
	}
	if len(p) >= bufferSize {
		return in.raw.read(in.nc, p)
	}
	if _, err := in.fill(); in.w == in.r {
		return 0, err
	}
	n := copy(p, in.buf[in.r:in.w])
	in.discard(n)
	return n, nil
}

// fill reads once from the connection into the free end of the buffer.
func (in *input) fill() (int, error) {
	n, err := in.raw.readBuffered(in)
	if n == 0 && in.r == in.w {
		in.release()
	}
	return n, err
}

func (in *input) take() {
	if in.buf == nil {
		in.buf = buffers.Get().(*[bufferSize]byte)
		in.r, in.w = 0, 0
	}
}

func (in *input) release() {
	if in.buf != nil {
		buffers.Put(in.buf)
		in.buf = nil
	}
	in.r, in.w = 0, 0
}
