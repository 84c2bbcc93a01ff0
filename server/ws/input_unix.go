//go:build unix

package ws

import (
	"io"
	"net"
	"syscall"
)

// rawReader reads from the socket through syscall.RawConn, so that a
// connection waiting for its peer holds no buffer: the buffer is taken from
// the pool only once the socket has data.
type rawReader struct {
	conn syscall.RawConn       // nil if the connection has no file descriptor, as with TLS
	fn   func(fd uintptr) bool // conn's callback, made once

	in  *input // set during readBuffered
	dst []byte // set during read
	n   int
	err error
}

func (rr *rawReader) init(nc net.Conn) {
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			rr.conn = rc
			rr.fn = rr.readFD
		}
	}
}

// readBuffered reads once into the free end of in's buffer.
func (rr *rawReader) readBuffered(in *input) (int, error) {
	if rr.conn == nil {
		in.take()
		n, err := in.nc.Read(in.buf[in.w:])
		in.w += n
		return n, err
	}
	rr.in, rr.dst, rr.n, rr.err = in, nil, 0, nil
	err := rr.conn.Read(rr.fn) // calls readFD, which fills the buffer
	rr.in = nil
	if err == nil {
		err = rr.err
	}
	in.w += rr.n
	return rr.n, err
}

// read reads once into p, without the buffer.
func (rr *rawReader) read(nc net.Conn, p []byte) (int, error) {
	if rr.conn == nil {
		return nc.Read(p)
	}
	rr.in, rr.dst, rr.n, rr.err = nil, p, 0, nil
	err := rr.conn.Read(rr.fn)
	rr.dst = nil
	if err == nil {
		err = rr.err
	}
	return rr.n, err
}

// readFD is the RawConn callback: it reads what the socket has and returns
// true, or returns false to wait until the socket is readable. While it
// waits, an empty buffer goes back to the pool.
func (rr *rawReader) readFD(fd uintptr) bool {
	dst := rr.dst
	if rr.in != nil {
		rr.in.take()
		dst = rr.in.buf[rr.in.w:]
	}
	for {
		n, err := syscall.Read(int(fd), dst)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			if rr.in != nil && rr.in.r == rr.in.w {
				rr.in.release()
			}
			return false
		case err != nil:
			rr.err = err
		case n == 0:
			rr.err = io.EOF
		default:
			rr.n = n
		}
		return true
	}
}
