package streamclient

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"duplex/shared/conn"
	"duplex/shared/streamwire"
	"duplex/shared/wire"
)

// The connection is a conn.Conn, as a WebSocket is.
var _ conn.Conn = (*Conn)(nil)

// The defaults of Options.
const (
	DefaultHighWater = 1 << 20
	DefaultAckDelay  = 2 * time.Second
)

// The values of ReadyState, the browser's WebSocket's.
const (
	Connecting = 0
	Open       = 1
	Closing    = 2
	Closed     = 3
)

// closeTimeout is how long Close waits for the server's Close frame, and
// how long an answer to the server's Close may take to be accepted.
const closeTimeout = 5 * time.Second

// maxDownFrame bounds a frame from the server: the client has no read
// limit, as a browser's WebSocket has none, but a length beyond this is
// no message.
const maxDownFrame = 1 << 30

// Options configure a connection. The zero value is usable.
type Options struct {
	// Subprotocols offered to the server, in order of preference. If the
	// server chooses none of them, Dial fails, as a browser's WebSocket
	// does.
	Subprotocols []string

	// HighWater is how many bytes written but not yet accepted by the
	// server WriteMessage lets wait before it waits itself; 0 means
	// DefaultHighWater.
	HighWater int

	// AckDelay is how long the connection waits, when it has nothing to
	// send, before it POSTs an acknowledgment of what it received, so that
	// the server may forget it; 0 means DefaultAckDelay.
	AckDelay time.Duration
}

// A Conn is a connection over the HTTP stream transport. Its methods mean
// what conn.Conn says; see the package documentation for what travels
// underneath.
//
// Who owns what: the down goroutine (down.go) reads the streams and owns
// recv and the queue's tail; the up goroutine (up.go) owns the body of the
// POST in flight; mu guards everything they share with the caller's
// goroutines, which is every field below it.
type Conn struct {
	do    Doer
	url   string // the endpoint, as Dial got it
	hello streamwire.Hello
	opts  Options
	life  *lifeContext // ends every request once the connection has ended

	readReady chan struct{} // 1-buffered: a message arrived, or the end came
	upReady   chan struct{} // 1-buffered: frames were queued, an ack became due, or the end came
	drained   chan struct{} // 1-buffered: the server accepted a POST
	done      chan struct{} // closed once err is set

	mu          sync.Mutex
	queue       []message // received, not yet read
	recv        uint64    // the last numbered frame taken from the server
	acked       uint64    // the last one acknowledged to the server
	unacked     int       // bytes taken since the last acknowledgment
	pending     [][]byte  // frames written, not yet in a POST
	pendingSize int       // their bytes
	inflight    int       // bytes of the frames in the POST on the way
	sent        uint64    // the number of the last frame queued
	closing     bool      // no more writes: Close, StartClose or CloseNow was called, or the server's Close came
	closeSeq    uint64    // the number of this side's Close frame, once queued
	accepted    uint64    // the last frame the server accepted
	peerClose   *wire.CloseError
	err         error // why the connection ended; nil until then
	counts      Wire
}

type message struct {
	typ  wire.MessageType
	data []byte
}

// Wire counts what a connection's requests carried: their bodies, without
// the HTTP heads that came with each.
type Wire struct {
	Posts       int   // POSTs made, retries included
	PostBytes   int64 // their bodies
	Streams     int   // responses that streamed down: the one that opened the session and each reopened one
	StreamBytes int64 // the bytes they carried
}

// Dial opens a session at url, the endpoint's absolute http or https URL,
// with do, and returns the connection once the server's Hello has arrived.
// If the server refuses, the error is a *StatusError; if ctx ends first,
// ctx's error.
func Dial(ctx context.Context, do Doer, url string, opts *Options) (*Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &Conn{
		do:        do,
		url:       url,
		life:      newLifeContext(),
		readReady: make(chan struct{}, 1),
		upReady:   make(chan struct{}, 1),
		drained:   make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.HighWater <= 0 {
		c.opts.HighWater = DefaultHighWater
	}
	if c.opts.AckDelay <= 0 {
		c.opts.AckDelay = DefaultAckDelay
	}

	// The open's response is the session's first stream: it must outlive
	// ctx, but not if ctx ends before the Hello.
	opened := make(chan struct{})
	defer close(opened)
	go func() {
		select {
		case <-ctx.Done():
			c.life.stop(ctx.Err())
		case <-opened:
		}
	}()

	pairs := []string{streamwire.QueryOp, streamwire.OpOpen}
	for _, p := range c.opts.Subprotocols {
		pairs = append(pairs, streamwire.QueryProtocol, p)
	}
	resp, err := do.Do(c.life, &Request{Method: "POST", URL: withQuery(url, pairs...)})
	if err != nil {
		return nil, c.dialFailed(ctx, err)
	}
	if resp.Status != 200 {
		return nil, refusal(resp)
	}
	c.count(func(w *Wire) { w.Streams++ })
	buf, err := c.readHello(resp.Body)
	if err != nil {
		resp.Body.Close()
		return nil, c.dialFailed(ctx, err)
	}
	if err := checkSubprotocol(c.opts.Subprotocols, c.hello.Subprotocol); err != nil {
		resp.Body.Close()
		c.abort()
		return nil, err
	}
	go c.runDown(resp.Body, buf)
	go c.runUp()
	return c, nil
}

// dialFailed returns why a dial failed: ctx's error if it ended.
func (c *Conn) dialFailed(ctx context.Context, err error) error {
	c.life.stop(context.Canceled)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

var errNoHello = errors.New("http stream: the stream did not begin with a hello")

// readHello reads the first frame of the open's response, which must be
// the Hello, and returns what the body held after it.
func (c *Conn) readHello(body io.Reader) ([]byte, error) {
	const maxHello = 1 << 10
	buf := make([]byte, 0, 4<<10)
	for {
		f, n, err := streamwire.Parse(buf, maxHello)
		switch {
		case err == nil && f.Kind == streamwire.KindHello:
			if err := c.hello.Parse(f.Payload); err != nil {
				return nil, err
			}
			return buf[n:], nil
		case err == nil, err != streamwire.ErrShort:
			return nil, errNoHello
		}
		if len(buf) == cap(buf) {
			return nil, errNoHello
		}
		m, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		c.count(func(w *Wire) { w.StreamBytes += int64(m) })
		if err != nil && m == 0 {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// checkSubprotocol fails a session whose subprotocol the client did not
// offer, or that has none when the client offered some, as browsers fail
// such a WebSocket.
func checkSubprotocol(offered []string, chosen string) error {
	if len(offered) == 0 && chosen == "" {
		return nil
	}
	for _, p := range offered {
		if p == chosen {
			return nil
		}
	}
	if chosen == "" {
		return errors.New("http stream: the server chose none of the subprotocols offered")
	}
	return errors.New("http stream: the server chose the subprotocol " + chosen + ", which was not offered")
}

// finish ends the connection with err, the first time it is called: Done
// closes, every request stops, and every wait ends. After CloseNow (err is
// wire.ErrClosed) the messages not yet read are dropped.
func (c *Conn) finish(err error) bool {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return false
	}
	c.err, c.closing = err, true
	if err == wire.ErrClosed {
		c.queue = nil
	}
	c.mu.Unlock()
	close(c.done)
	c.life.stop(context.Canceled)
	for _, ch := range []chan struct{}{c.readReady, c.upReady, c.drained} {
		signal(ch)
	}
	return true
}

// signal wakes whoever waits on ch, without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// count updates the counters.
func (c *Conn) count(f func(*Wire)) {
	c.mu.Lock()
	f(&c.counts)
	c.mu.Unlock()
}

// request returns a request of the session.
func (c *Conn) request(method string, url string, body []byte) *Request {
	return &Request{Method: method, URL: url, Session: c.hello.Session, Body: body}
}

// abort tells the server, without waiting, that the session is over.
func (c *Conn) abort() {
	body := streamwire.AppendFrame(nil, streamwire.Frame{Kind: streamwire.KindAbort})
	c.do.Send(c.request("POST", withQuery(c.url, streamwire.QueryOp, streamwire.OpUp), body))
}

// Done returns a channel that is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns nil while the connection is open, and then why it ended: a
// *wire.CloseError, whoever closed (1006 if the session was lost), or
// wire.ErrClosed after CloseNow.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Subprotocol returns the subprotocol the server chose, or "".
func (c *Conn) Subprotocol() string { return c.hello.Subprotocol }

// Extensions returns "": the transport has no extensions.
func (c *Conn) Extensions() string { return "" }

// URL returns the endpoint's URL, as Dial got it.
func (c *Conn) URL() string { return c.url }

// Limits returns what the server said of the session when it opened it;
// its Session field is the session's id, a secret.
func (c *Conn) Limits() streamwire.Hello { return c.hello }

// ReadyState returns Open, Closing once a close has begun, or Closed once
// the connection has ended, as the browser's readyState does.
func (c *Conn) ReadyState() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.err != nil:
		return Closed
	case c.closing:
		return Closing
	}
	return Open
}

// BufferedAmount returns the bytes written but not yet accepted by the
// server, framing included.
func (c *Conn) BufferedAmount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pendingSize + c.inflight
}

// Wire returns what the connection's requests have carried so far.
func (c *Conn) Wire() Wire {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts
}

// A lifeContext is a context.Context that ends when it is stopped. It
// stands in for context.WithCancel, whose tree of cancelations would add
// some 24 KB to a browser's module.
type lifeContext struct {
	done chan struct{}

	mu  sync.Mutex
	err error // set, once, when done is closed
}

func newLifeContext() *lifeContext { return &lifeContext{done: make(chan struct{})} }

// stop ends c with err, unless it has ended already.
func (c *lifeContext) stop(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
		close(c.done)
	}
}

func (c *lifeContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *lifeContext) Done() <-chan struct{}       { return c.done }
func (c *lifeContext) Value(any) any               { return nil }

func (c *lifeContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
