//go:build !unix

package ws

import "net"

// rawReader reads through net.Conn where there is no portable way to wait
// for data without a buffer: an idle connection keeps its read buffer.
type rawReader struct{}

func (rr *rawReader) init(net.Conn) {}

func (rr *rawReader) readBuffered(in *input) (int, error) {
	in.take()
	n, err := in.nc.Read(in.buf[in.w:])
	in.w += n
	return n, err
}

func (rr *rawReader) read(nc net.Conn, p []byte) (int, error) { return nc.Read(p) }
