package conn

import (
	"context"
	"errors"
	"sync"

	"duplex/shared/wire"
)

// This file holds the in-memory stand-ins that the tests of Reconnecting
// use: a connection, a dialer that makes them, and a network that can go
// offline.

// A fakeConn is an in-memory Conn that keeps the contract of Conn: the
// test plays the server through deliver, drop and written.
type fakeConn struct {
	echo bool // every message written comes back

	mu      sync.Mutex
	queue   []fakeMessage // delivered, not yet read
	sent    []fakeMessage // written
	ready   chan struct{} // signalled when queue grows
	done    chan struct{}
	err     error // why it ended; nil while open
	closing bool  // Close or CloseNow was called
	closed  *wire.CloseError
}

type fakeMessage struct {
	typ  wire.MessageType
	data string
}

func newFakeConn(echo bool) *fakeConn {
	return &fakeConn{echo: echo, ready: make(chan struct{}, 1), done: make(chan struct{})}
}

// deliver queues a message from the server.
func (c *fakeConn) deliver(typ wire.MessageType, data string) {
	c.mu.Lock()
	c.queue = append(c.queue, fakeMessage{typ, data})
	c.mu.Unlock()
	c.signal()
}

// drop ends the connection as a network failure does: 1006, not clean.
func (c *fakeConn) drop() { c.end(&wire.CloseError{Code: wire.StatusAbnormalClosure}) }

// closedWith returns the close frame Close sent, or nil.
func (c *fakeConn) closedWith() *wire.CloseError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *fakeConn) signal() {
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

// end ends the connection with err, once.
func (c *fakeConn) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	if err == wire.ErrClosed {
		c.queue = nil
	}
	close(c.done)
}

func (c *fakeConn) ReadMessage(ctx context.Context, buf []byte) (wire.MessageType, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return m.typ, append(buf[:0], m.data...), nil
		}
		err := c.err
		c.mu.Unlock()
		if err != nil {
			return 0, nil, err
		}
		select {
		case <-c.ready:
		case <-c.done:
		case <-ctx.Done():
			c.CloseNow()
			return 0, nil, ctx.Err()
		}
	}
}

func (c *fakeConn) WriteMessage(ctx context.Context, typ wire.MessageType, p []byte) error {
	if !typ.Valid() {
		return errors.New("fake: cannot send a message of type " + typ.String())
	}
	c.mu.Lock()
	if c.closing || c.err != nil {
		c.mu.Unlock()
		return wire.ErrClosed
	}
	m := fakeMessage{typ, string(p)}
	c.sent = append(c.sent, m)
	if c.echo {
		c.queue = append(c.queue, m)
	}
	c.mu.Unlock()
	c.signal()
	return nil
}

// Close completes the closing handshake at once: the fake server answers
// with the same code and reason.
func (c *fakeConn) Close(code wire.StatusCode, reason string) error {
	c.mu.Lock()
	if c.closing || c.err != nil {
		c.mu.Unlock()
		return wire.ErrClosed
	}
	c.closing = true
	c.closed = &wire.CloseError{Code: code, Reason: reason, WasClean: true}
	ce := c.closed
	c.mu.Unlock()
	c.end(ce)
	return nil
}

func (c *fakeConn) CloseNow() error {
	c.mu.Lock()
	ended := c.err != nil
	c.closing = true
	c.mu.Unlock()
	if ended {
		return wire.ErrClosed
	}
	c.end(wire.ErrClosed)
	return nil
}

func (c *fakeConn) Done() <-chan struct{} { return c.done }

func (c *fakeConn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *fakeConn) Subprotocol() string { return "" }
func (c *fakeConn) Extensions() string  { return "" }

// A fakeDialer opens fakeConns, and hands each one to the test.
type fakeDialer struct {
	echo  bool          // the connections echo
	gate  chan struct{} // if not nil, each dial waits for a value from it
	conns chan *fakeConn

	mu    sync.Mutex
	fails int  // the next fails dials fail
	stall bool // dials wait for their context to end
	dials int  // dials made
}

func newFakeDialer(echo bool) *fakeDialer {
	return &fakeDialer{echo: echo, conns: make(chan *fakeConn, 256)}
}

// errRefused is how a fake dial fails: as a browser reports a refused
// connection.
var errRefused = &wire.CloseError{Code: wire.StatusAbnormalClosure}

func (d *fakeDialer) dial(ctx context.Context) (Conn, error) {
	d.mu.Lock()
	d.dials++
	stall, fail := d.stall, d.fails > 0
	if fail {
		d.fails--
	}
	d.mu.Unlock()
	if d.gate != nil {
		select {
		case <-d.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	switch {
	case stall:
		<-ctx.Done()
		return nil, ctx.Err()
	case fail:
		return nil, errRefused
	}
	c := newFakeConn(d.echo)
	d.conns <- c
	return c, nil
}

func (d *fakeDialer) set(f func(d *fakeDialer)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(d)
}

// A fakeNetwork goes offline and back on the test's say.
type fakeNetwork struct {
	mu      sync.Mutex
	offline bool
	back    chan struct{} // closed when it comes back online
}

func (n *fakeNetwork) Online() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.offline
}

func (n *fakeNetwork) WaitOnline(ctx context.Context) error {
	n.mu.Lock()
	offline, back := n.offline, n.back
	n.mu.Unlock()
	if !offline {
		return nil
	}
	select {
	case <-back:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (n *fakeNetwork) setOffline(offline bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case offline && !n.offline:
		n.back = make(chan struct{})
	case !offline && n.offline:
		close(n.back)
	}
	n.offline = offline
}

// The fake must keep the contract it stands in for.
var _ Conn = (*fakeConn)(nil)
