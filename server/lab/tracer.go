package lab

import (
	"bytes"
	"net"
	"sync"

	"duplex/shared/lab"
	"duplex/shared/wire"
)

// A tracer is the lab connection as server/ws sees it: a net.Conn that
// passes every byte through unchanged and, on the way, cuts the two byte
// streams into the 101 response and frames for the session to report. It
// works on bytes, not on what server/ws makes of them, so it shows what
// really crossed the wire, including frames that break the protocol.
type tracer struct {
	net.Conn
	// responseDone is called once the 101 response has been written;
	// frame with each frame, in either direction, once it is complete or
	// it has MaxPayload bytes of payload.
	responseDone func(response []byte)
	frame        func(sent bool, header, payload []byte)

	in frameScanner // read by one goroutine at a time, as server/ws does

	writeMu  sync.Mutex // one Write at a time, so frames are cut as they were sent
	response []byte     // the response so far, until responseDone is called
	out      frameScanner
}

func newTracer(nc net.Conn, responseDone func([]byte), frame func(sent bool, header, payload []byte)) *tracer {
	t := &tracer{Conn: nc, responseDone: responseDone, frame: frame}
	t.in.frame = func(h, p []byte) { t.frame(false, h, p) }
	t.out.frame = func(h, p []byte) { t.frame(true, h, p) }
	return t
}

// received traces bytes that arrived before the connection was handed
// over, behind the request in net/http's buffer. It must be called before
// the first Read.
func (t *tracer) received(p []byte) { t.in.write(p) }

func (t *tracer) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	t.in.write(p[:n])
	return n, err
}

// Write traces p, then writes it: a frame is reported before it leaves, so
// that its report comes before that of any answer the peer sends to it.
func (t *tracer) Write(p []byte) (int, error) {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	rest := p
	if t.responseDone != nil {
		start := max(len(t.response)-3, 0)
		t.response = append(t.response, rest...)
		i := bytes.Index(t.response[start:], []byte("\r\n\r\n"))
		if i < 0 {
			return t.Conn.Write(p)
		}
		end := start + i + 4
		rest = t.response[end:]
		t.responseDone(t.response[:end:end])
		t.responseDone = nil
	}
	t.out.write(rest)
	return t.Conn.Write(p)
}

// A frameScanner cuts a byte stream into frames. It keeps the header and
// the first lab.MaxPayload bytes of each payload, and skips the rest.
type frameScanner struct {
	frame func(header, payload []byte)

	header  [wire.MaxHeaderSize]byte
	nheader int   // header bytes held
	left    int64 // payload bytes still to come, once the header is whole
	inFrame bool  // the header is whole: payload bytes are coming
	payload []byte
	broken  bool // a header could not be parsed: the stream cannot be cut further
}

// write scans p, calling s.frame for each frame it completes.
func (s *frameScanner) write(p []byte) {
	for len(p) > 0 && !s.broken {
		if !s.inFrame {
			p = s.scanHeader(p)
			continue
		}
		n := int(min(s.left, int64(len(p))))
		if keep := lab.MaxPayload - len(s.payload); keep > 0 {
			s.payload = append(s.payload, p[:min(n, keep)]...)
		}
		p = p[n:]
		s.left -= int64(n)
		if s.left == 0 {
			s.finish()
		}
	}
}

// scanHeader takes header bytes from p and returns the rest of p.
func (s *frameScanner) scanHeader(p []byte) []byte {
	size := wire.MaxHeaderSize
	if s.nheader >= 2 {
		size = wire.HeaderSize(s.header[0], s.header[1])
	}
	for s.nheader < size && len(p) > 0 {
		s.header[s.nheader] = p[0]
		s.nheader++
		p = p[1:]
		if s.nheader == 2 {
			size = wire.HeaderSize(s.header[0], s.header[1])
		}
	}
	if s.nheader < size {
		return p
	}
	h, _, err := wire.ParseHeader(s.header[:size])
	if err != nil { // a 64-bit length with its top bit set: no way to find the next frame
		s.broken = true
		s.frame(s.header[:size:size], nil)
		return nil
	}
	s.inFrame, s.left = true, h.Length
	if s.left == 0 {
		s.finish()
	}
	return p
}

// finish reports the frame held and makes ready for the next.
func (s *frameScanner) finish() {
	s.frame(s.header[:s.nheader:s.nheader], s.payload)
	s.nheader, s.inFrame, s.payload = 0, false, nil
}
