package lab

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// maxHead bounds the request head a connection records; a longer one is
// not recorded, and the lab shows the head rebuilt from the parsed request.
const maxHead = 8 << 10

// RecordHeads returns a listener whose connections keep the bytes of the
// first request head they read (request line, headers and the empty line),
// so that the lab can show its upgrade request exactly as received: net/http
// parses headers into a map, which loses their order and case. A connection
// forgets the head as soon as it writes its first response byte, so the
// recording costs other requests one atomic load per read and write.
func RecordHeads(ln net.Listener) net.Listener {
	return headListener{ln}
}

type headListener struct{ net.Listener }

func (l headListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	hc := &headConn{Conn: c}
	hc.active.Store(true)
	return hc, nil
}

// A headConn records the first request head read from it.
type headConn struct {
	net.Conn
	active atomic.Bool // recording, or holding a head nobody took yet

	mu       sync.Mutex
	head     []byte
	complete bool // head ends with its empty line
}

func (c *headConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.active.Load() {
		c.record(p[:n])
	}
	return n, err
}

// record appends what was read to the head until it holds the empty line
// that ends it.
func (c *headConn) record(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.complete || !c.active.Load() {
		return
	}
	start := max(len(c.head)-3, 0) // the end may straddle two reads
	c.head = append(c.head, p...)
	i := bytes.Index(c.head[start:], []byte("\r\n\r\n"))
	switch {
	case i >= 0 && start+i+4 <= maxHead:
		c.head = c.head[:start+i+4]
		c.complete = true
	case i >= 0 || len(c.head) > maxHead:
		c.forget() // too long to record
	}
}

func (c *headConn) Write(p []byte) (int, error) {
	if c.active.Load() {
		c.mu.Lock()
		c.forget() // a response starts: the head is no longer anyone's
		c.mu.Unlock()
	}
	return c.Conn.Write(p)
}

// takeHead returns the recorded request head and forgets it; it returns
// nil if there is none, as on a connection that has already answered a
// request.
func (c *headConn) takeHead() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	head := c.head
	if !c.complete {
		head = nil
	}
	c.forget()
	return head
}

// forget drops the head and stops recording; c.mu is held.
func (c *headConn) forget() {
	c.head, c.complete = nil, false
	c.active.Store(false)
}

// SyscallConn returns the underlying connection's, so that server/ws can
// still wait for data without holding a buffer.
func (c *headConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, syscall.EINVAL
	}
	return sc.SyscallConn()
}

// CloseWrite shuts down the writing side, as net/http does to end a
// response to a request whose body it will not read.
func (c *headConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}
