package httpstream

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// This file carries a stream on a connection taken over from net/http
// (Hijack): the response's head and its chunks are written here, as
// HTTP/1.1 frames them, and the connection is closed when the stream ends.

// rawBuffers holds the buffers that a write batches a stream's chunk in,
// between writes: an idle stream holds none.
var rawBuffers = sync.Pool{New: func() any { return new([]byte) }}

// rawDown carries a stream on a hijacked connection, in chunks.
type rawDown struct {
	nc net.Conn
}

// hijack takes r's connection over from net/http, if it is HTTP/1.1 and
// w can, and writes the head of a 200 response with w's headers, chunked,
// and with Connection: close, since the connection ends with the stream.
func hijack(w http.ResponseWriter, r *http.Request) (*rawDown, error) {
	if r.ProtoMajor != 1 || r.ProtoMinor < 1 {
		return nil, errors.New("http stream: not HTTP/1.1")
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, err
	}
	brw.Writer.Reset(nil) // nothing was written through it; let it go
	head := make([]byte, 0, 256)
	head = append(head, "HTTP/1.1 200 OK\r\n"...)
	for name, values := range w.Header() {
		for _, v := range values {
			head = append(head, name...)
			head = append(head, ": "...)
			head = append(head, v...)
			head = append(head, "\r\n"...)
		}
	}
	head = append(head, "Date: "...)
	head = time.Now().UTC().AppendFormat(head, http.TimeFormat)
	head = append(head, "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"...)
	nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := nc.Write(head); err != nil {
		nc.Close()
		return nil, err
	}
	return &rawDown{nc: nc}, nil
}

// write writes frames as one chunk.
func (d *rawDown) write(frames [][]byte) error {
	size := 0
	for _, f := range frames {
		size += len(f)
	}
	bp := rawBuffers.Get().(*[]byte)
	b := strconv.AppendInt((*bp)[:0], int64(size), 16)
	b = append(b, "\r\n"...)
	for _, f := range frames {
		b = append(b, f...)
	}
	b = append(b, "\r\n"...)
	d.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := d.nc.Write(b)
	if cap(b) <= 64<<10 { // keep small buffers only
		*bp = b[:0]
		rawBuffers.Put(bp)
	}
	return err
}

// end writes the last chunk, and closes the connection.
func (d *rawDown) end() {
	d.nc.SetWriteDeadline(time.Now().Add(time.Second))
	d.nc.Write([]byte("0\r\n\r\n"))
	d.nc.Close()
}
