package ws

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"duplex/shared/conn"
	"duplex/shared/wire"
)

// closeTimeout bounds each side of the closing handshake: how long to wait
// for a close frame to be written, and for the peer's answer.
const closeTimeout = 5 * time.Second

// errKeepAlive is why a connection whose peer stopped answering pings was
// closed.
var errKeepAlive = errors.New("the peer did not answer a keepalive ping in time")

// errCloseTimeout is why Close gave up on the peer.
var errCloseTimeout = errors.New("websocket: the peer did not answer the close frame within " + closeTimeout.String())

// A closedBy is how a connection that this side closed without a closing
// handshake reports why: it matches ErrClosed and wraps the reason, such as
// the context that ended during a read.
type closedBy struct{ why error }

func (e *closedBy) Error() string   { return "websocket: connection closed: " + e.why.Error() }
func (e *closedBy) Unwrap() []error { return []error{ErrClosed, e.why} }

// A Conn is a WebSocket connection, accepted by an Upgrader or opened by
// Dial. One goroutine may read while others write: writes are safe for
// concurrent use, and control frames (pong, close) go out between the
// frames of a message being written.
//
// Who owns what: the goroutine holding readMu owns the reader's state
// (with, if compression was agreed, the decompressor of a compressed
// message and what the peer's context holds) and the socket's read
// deadline; the one holding msgSem owns the message being written (with
// its compressor and what this side's context holds); the one holding
// frameMu owns closeSent and the socket while it writes a frame. Nothing
// sets the socket's write deadline: a write that must end (its context
// ended, the closing handshake timed out) ends by closing the connection.
type Conn struct {
	nc          net.Conn
	in          *input
	client      bool // this side dialed: it masks what it sends, and the server closes TCP first
	subprotocol string
	extensions  string
	deflate     *deflateState // nil unless permessage-deflate was agreed
	readLimit   atomic.Int64
	stats       *Stats // nil if nobody counts

	// Reading; readMu is held by whoever is reading.
	readMu sync.Mutex
	reader messageReader

	// Writing; msgSem is held for a whole message, frameMu for one frame.
	msgSem    chan struct{}
	frameMu   sync.Mutex
	closeSent bool // guarded by frameMu

	// Contexts of the latest read and write: when one ends during its
	// call, the connection closes.
	readWatch, writeWatch watch

	// The end. err is set once, by closeWith, before done is closed.
	closeOnce sync.Once
	err       error
	done      chan struct{}
	onClose   func(*Conn) // called once when the TCP connection is closed

	// Pings that wait for their pong, keyed by payload, and the keepalive
	// timer; pingMu guards them.
	pingMu    sync.Mutex
	pingSeq   uint64
	pings     map[uint64]chan struct{}
	keepAlive *time.Timer
}

var _ conn.Conn = (*Conn)(nil)

// newConn wraps nc, on which the handshake is done; buffered holds what the
// peer sent right behind its handshake.
func newConn(nc net.Conn, buffered []byte, client bool, readLimit int64, stats *Stats) *Conn {
	c := &Conn{
		nc:     nc,
		in:     newInput(nc, buffered),
		client: client,
		stats:  stats,
		msgSem: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	c.readLimit.Store(readLimit)
	c.reader.c = c
	stats.opened()
	return c
}

// Subprotocol returns the subprotocol chosen during the handshake, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Extensions returns the extensions agreed on during the handshake, as the
// Sec-WebSocket-Extensions header of the response lists them, or "".
func (c *Conn) Extensions() string { return c.extensions }

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// SetReadLimit sets the largest message, in bytes, that the connection
// accepts. A larger message is refused as soon as a frame header announces
// it, before its payload is read, and closes the connection with 1009. It
// may be called at any time, from any goroutine.
func (c *Conn) SetReadLimit(n int64) { c.readLimit.Store(n) }

// Done returns a channel that is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns nil while the connection is open and, once Done is closed,
// why it ended: a *CloseError after a closing handshake, whoever started
// it, or after the connection dropped (1006); a *wire.Error if the peer
// broke the protocol and this side failed the connection; an error that
// matches ErrClosed if this side closed it without a handshake (CloseNow,
// a context that ended during a call, an unanswered keepalive ping).
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close performs the closing handshake: it sends a close frame with code
// and reason, waits up to five seconds for the peer's close frame, and
// closes the connection. It returns nil if the handshake completed.
// Data messages that arrive meanwhile are discarded unless another
// goroutine is reading. Close may be called concurrently with reads and
// writes; only the first Close or CloseNow acts, and later calls return
// an error that matches ErrClosed. An invalid code or reason is reported
// and closes nothing.
func (c *Conn) Close(code StatusCode, reason string) error {
	if err := checkClose(code, reason); err != nil {
		return err
	}
	if c.isDone() {
		return ErrClosed
	}
	if err := c.writeClose(code, reason); err != nil {
		return err
	}
	// Wait for the peer's close frame: read it here if nobody is reading,
	// otherwise let the reader see it, checking back in case it stops.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(closeTimeout); !c.isDone() && time.Now().Before(deadline); {
		if c.readMu.TryLock() {
			if !c.isDone() {
				c.finish(c.drainToClose())
			}
			c.unlockRead()
			break
		}
		select {
		case <-c.done: // the reader saw the answer and closed the connection
		case <-tick.C:
		}
	}
	if !c.isDone() {
		c.closeWith(&CloseError{Code: StatusAbnormalClosure})
		return errCloseTimeout
	}
	if ce, ok := c.err.(*CloseError); ok && ce.WasClean {
		return nil
	}
	return c.err
}

// checkClose reports whether Close may send code and reason.
func checkClose(code StatusCode, reason string) error {
	var buf [wire.MaxControlPayload]byte
	_, err := wire.AppendClose(buf[:0], code, reason)
	return err
}

// CloseNow closes the connection at once, without a closing handshake.
// Reads and writes in progress return an error that matches ErrClosed, as
// do later ones. It returns ErrClosed if the connection was closed already.
func (c *Conn) CloseNow() error {
	if !c.closeWith(ErrClosed) {
		return ErrClosed
	}
	return nil
}

// closeWith closes the TCP connection with err as the reason, unless it is
// closed already; it reports whether this call closed it.
func (c *Conn) closeWith(err error) bool {
	closed := false
	c.closeOnce.Do(func() {
		closed = true
		c.err = err
		c.nc.Close()
		close(c.done)
		c.pingMu.Lock()
		if c.keepAlive != nil {
			c.keepAlive.Stop()
		}
		c.pingMu.Unlock()
		c.readWatch.release()
		c.writeWatch.release()
		c.stats.closed()
		if c.onClose != nil {
			c.onClose(c)
		}
	})
	return closed
}

func (c *Conn) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// closedErr is what a write on a closed connection returns: why it
// closed, if that says the connection ended, or else ErrClosed.
func (c *Conn) closedErr() error {
	if err := c.Err(); errors.Is(err, ErrClosed) {
		return err
	}
	return ErrClosed
}

// A watch closes the connection when the context of a read (or a write)
// ends while that read is in progress: a frame may be half read, so the
// stream cannot go on. The context stays registered while calls keep
// passing the same one, so a long-lived context, such as a request's, costs
// no allocation per message; one that ends between calls does nothing.
type watch struct {
	mu   sync.Mutex
	ctx  context.Context
	stop func() bool
	busy bool // a call with ctx is in progress
}

// begin marks the start of a call with ctx.
func (w *watch) begin(c *Conn, ctx context.Context) {
	if ctx.Done() == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if ctx != w.ctx {
		if w.stop != nil {
			w.stop()
		}
		w.ctx = ctx
		w.stop = context.AfterFunc(ctx, func() { w.fire(c, ctx) })
	}
	w.busy = true
}

// end marks the end of the call.
func (w *watch) end() {
	w.mu.Lock()
	w.busy = false
	w.mu.Unlock()
}

func (w *watch) fire(c *Conn, ctx context.Context) {
	w.mu.Lock()
	inCall := w.busy && w.ctx == ctx
	w.mu.Unlock()
	if inCall {
		c.closeWith(&closedBy{ctx.Err()})
	}
}

func (w *watch) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil {
		w.stop()
	}
	w.ctx, w.stop = nil, nil
}

// writeClose sends a close frame unless one was sent already. Another
// writer stuck on a peer that does not read, and this write too, are
// interrupted after closeTimeout by closing the connection.
func (c *Conn) writeClose(code StatusCode, reason string) error {
	var buf [wire.MaxControlPayload]byte
	payload, err := wire.AppendClose(buf[:0], code, reason)
	if err != nil {
		return err
	}
	stuck := time.AfterFunc(closeTimeout, func() {
		c.closeWith(&CloseError{Code: StatusAbnormalClosure})
	})
	defer stuck.Stop()
	c.frameMu.Lock()
	defer c.frameMu.Unlock()
	if c.closeSent {
		return nil
	}
	if c.isDone() {
		return c.closedErr()
	}
	c.closeSent = true
	c.stats.sentClose(code)
	return c.writeFrameLocked(true, 0, wire.OpClose, payload)
}

// fail closes the connection because of a protocol violation: it sends a
// close frame with the violation's code and a reason saying what was wrong,
// waits for the peer's answer, and returns err, which later reads return too.
// The caller holds readMu.
func (c *Conn) fail(err *wire.Error) error {
	reason := err.Msg
	if len(reason) > wire.MaxCloseReason {
		reason = reason[:wire.MaxCloseReason]
	}
	if c.writeClose(err.Code, reason) == nil {
		c.drainToClose()
	}
	c.finish(err)
	return c.Err()
}

// finish ends the connection after the closing handshake, with err as the
// reason. The server closes TCP at once; a client waits, up to
// closeTimeout, for the server to close it first (RFC 6455 §7.1.1), so
// that the server does not hold the TIME_WAIT state. The caller holds
// readMu.
func (c *Conn) finish(err error) {
	if c.client && !c.isDone() {
		c.nc.SetReadDeadline(time.Now().Add(closeTimeout))
		for c.in.need(1) == nil {
			c.in.discard(len(c.in.buffered()))
		}
	}
	c.closeWith(err)
}

// drainToClose reads and discards frames until the peer's close frame,
// the end of the connection, or closeTimeout, starting with the rest of
// the frame being read, if any. It returns how the connection ended: a
// clean *CloseError with the peer's code and reason, or 1006. The caller
// holds readMu.
func (c *Conn) drainToClose() *CloseError {
	dropped := &CloseError{Code: StatusAbnormalClosure}
	c.nc.SetReadDeadline(time.Now().Add(closeTimeout))
	skip := int64(0)
	if c.reader.active {
		skip = c.reader.remaining
		c.reader.active = false
	}
	for {
		for skip > 0 {
			if c.in.need(1) != nil {
				return dropped
			}
			n := min(int64(len(c.in.buffered())), skip)
			c.in.discard(int(n))
			skip -= n
		}
		if err := c.in.need(2); err != nil {
			return dropped
		}
		b := c.in.buffered()
		size := wire.HeaderSize(b[0], b[1])
		if err := c.in.need(size); err != nil {
			return dropped
		}
		h, _, err := wire.ParseHeader(c.in.buffered())
		if err != nil {
			return dropped
		}
		c.in.discard(size)
		if h.Opcode == wire.OpClose {
			if h.Length > wire.MaxControlPayload { // a broken close frame is still the peer's last
				return &CloseError{Code: StatusProtocolError, Reason: wire.ErrControlTooLong.Msg}
			}
			if c.in.need(int(h.Length)) != nil {
				return dropped
			}
			payload := c.in.buffered()[:h.Length]
			if h.Masked {
				wire.Mask(h.Mask, 0, payload)
			}
			code, reason, err := wire.ParseClose(payload)
			c.in.discard(int(h.Length))
			c.stats.receivedClose(code)
			if err != nil {
				return &CloseError{Code: StatusProtocolError, Reason: err.(*wire.Error).Msg}
			}
			return &CloseError{Code: code, Reason: reason, WasClean: true}
		}
		skip = h.Length
	}
}

// Ping sends a ping and waits for its pong, the context's end, or the
// connection's. Pongs are noticed by the reader, so another goroutine must
// be reading. If ctx ends while the ping is being written, the connection
// is closed. The browser's WebSocket API has no pings: this method exists
// only natively.
func (c *Conn) Ping(ctx context.Context) error {
	c.pingMu.Lock()
	c.pingSeq++
	id := c.pingSeq
	pong := make(chan struct{})
	if c.pings == nil {
		c.pings = make(map[uint64]chan struct{})
	}
	c.pings[id] = pong
	c.pingMu.Unlock()
	defer func() {
		c.pingMu.Lock()
		delete(c.pings, id)
		c.pingMu.Unlock()
	}()

	var payload [8]byte
	binary.BigEndian.PutUint64(payload[:], id)
	if err := c.writeControl(ctx, wire.OpPing, payload[:]); err != nil {
		return err
	}
	select {
	case <-pong:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.closedErr()
	}
}

// gotPong wakes the Ping waiting for this pong's payload, if any.
func (c *Conn) gotPong(payload []byte) {
	if len(payload) != 8 {
		return
	}
	id := binary.BigEndian.Uint64(payload)
	c.pingMu.Lock()
	if ch, ok := c.pings[id]; ok {
		close(ch)
		delete(c.pings, id)
	}
	c.pingMu.Unlock()
}

// startKeepAlive pings the peer every interval and closes the connection
// if a pong does not come back within the next interval.
func (c *Conn) startKeepAlive(interval time.Duration) {
	c.pingMu.Lock()
	defer c.pingMu.Unlock()
	c.keepAlive = time.AfterFunc(interval, func() {
		ctx, cancel := context.WithTimeout(context.Background(), interval)
		defer cancel()
		if err := c.Ping(ctx); err != nil {
			c.closeWith(&closedBy{errKeepAlive})
			return
		}
		c.pingMu.Lock()
		c.keepAlive.Reset(interval)
		c.pingMu.Unlock()
	})
}
