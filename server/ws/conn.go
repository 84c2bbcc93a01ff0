package ws

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"duplex/shared/wire"
)

// A MessageType is the kind of a data message.
type MessageType = wire.Opcode

// The two kinds of data message.
const (
	Text   MessageType = wire.OpText
	Binary MessageType = wire.OpBinary
)

// closeTimeout bounds each side of the closing handshake: how long to wait
// for a close frame to be written, and for the peer's answer.
const closeTimeout = 5 * time.Second

// ErrClosed is returned by operations on a connection that has been closed.
var ErrClosed = errors.New("websocket: connection closed")

// errKeepAlive is why a connection whose peer stopped answering pings was
// closed.
var errKeepAlive = errors.New("websocket: peer did not answer a keepalive ping in time")

// A CloseError reports that the peer closed the connection, with the status
// code and reason from its close frame. Code is 1005 if the frame had none,
// and 1006 if the connection ended without a close frame.
type CloseError struct {
	Code   wire.StatusCode
	Reason string
}

func (e *CloseError) Error() string {
	s := "websocket: closed by peer: " + strconv.Itoa(int(e.Code)) + " (" + e.Code.String() + ")"
	if e.Reason != "" {
		s += " " + strconv.Quote(e.Reason)
	}
	return s
}

// CloseStatus returns the status code with which the connection behind err
// was closed: the peer's code for a *CloseError, the code this side sent for
// a protocol violation, and 0 for any other error.
func CloseStatus(err error) wire.StatusCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	var we *wire.Error
	if errors.As(err, &we) {
		return we.Code
	}
	return 0
}

// A Conn is a server-side WebSocket connection. One goroutine may read
// while others write: writes are safe for concurrent use, and control frames
// (pong, close) go out between the frames of a message being written.
type Conn struct {
	nc          net.Conn
	in          *input
	subprotocol string
	readLimit   int64

	// Reading; readMu is held by whoever is reading.
	readMu  sync.Mutex
	reader  messageReader
	readErr error // sticky: once set, every read returns it

	// Writing; msgSem is held for a whole message, frameMu for one frame.
	msgSem    chan struct{}
	frameMu   sync.Mutex
	closeSent bool // guarded by frameMu

	// Contexts of the latest read and write: when one ends, the
	// connection closes.
	readWatch, writeWatch watch

	// Closing.
	closeOnce sync.Once
	cause     error         // why the connection was closed, if on purpose; set before done is closed
	done      chan struct{} // closed when the TCP connection is
	onClose   func(*Conn)   // called once when the TCP connection is closed

	// Pings that wait for their pong, keyed by payload.
	pingMu    sync.Mutex
	pingSeq   uint64
	pings     map[uint64]chan struct{}
	keepAlive *time.Timer
}

func newConn(nc net.Conn, buffered []byte, subprotocol string, readLimit int64) *Conn {
	c := &Conn{
		nc:          nc,
		in:          newInput(nc, buffered),
		subprotocol: subprotocol,
		readLimit:   readLimit,
		msgSem:      make(chan struct{}, 1),
		done:        make(chan struct{}),
	}
	c.reader.c = c
	return c
}

// Subprotocol returns the subprotocol chosen during the handshake, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// SetReadLimit sets the largest message, in bytes, that the connection
// accepts. A larger message is refused as soon as a frame header announces
// it, before its payload is read, and closes the connection with 1009.
func (c *Conn) SetReadLimit(n int64) { c.readLimit = n }

// Done returns a channel that is closed when the connection has closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Close performs the closing handshake: it sends a close frame with code
// and reason, waits up to five seconds for the peer's close frame, and
// closes the connection. Data messages that arrive meanwhile are discarded
// unless another goroutine is reading. Close may be called concurrently with
// reads and writes; only the first call sends a close frame.
func (c *Conn) Close(code wire.StatusCode, reason string) error {
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	if err := c.writeClose(code, reason); err != nil {
		c.CloseNow()
		return err
	}
	// Wait for the peer's close frame: read it here if nobody is reading,
	// otherwise let the reader see it, checking back in case it stops.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(closeTimeout); time.Now().Before(deadline); {
		if c.readMu.TryLock() {
			c.drainToClose()
			c.readMu.Unlock()
			break
		}
		select {
		case <-c.done: // the reader saw the answer and closed the connection
			return nil
		case <-tick.C:
		}
	}
	return c.CloseNow()
}

// CloseNow closes the TCP connection without a closing handshake.
func (c *Conn) CloseNow() error { return c.closeWith(nil) }

// closeWith closes the TCP connection, once; cause, if not nil, is what
// later reads and writes report.
func (c *Conn) closeWith(cause error) error {
	err := ErrClosed
	c.closeOnce.Do(func() {
		c.cause = cause
		err = c.nc.Close()
		close(c.done)
		if c.keepAlive != nil {
			c.keepAlive.Stop()
		}
		c.readWatch.release()
		c.writeWatch.release()
		if c.onClose != nil {
			c.onClose(c)
		}
	})
	return err
}

// closeCause returns why the connection was closed, if it was closed on
// purpose, or nil.
func (c *Conn) closeCause() error {
	select {
	case <-c.done:
		return c.cause
	default:
		return nil
	}
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
		c.closeWith(ctx.Err())
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
// writer stuck on a peer that does not read is interrupted after
// closeTimeout.
func (c *Conn) writeClose(code wire.StatusCode, reason string) error {
	var buf [wire.MaxControlPayload]byte
	payload, err := wire.AppendClose(buf[:0], code, reason)
	if err != nil {
		return err
	}
	c.nc.SetWriteDeadline(time.Now().Add(closeTimeout))
	c.frameMu.Lock()
	defer c.frameMu.Unlock()
	if c.closeSent {
		return nil
	}
	c.closeSent = true
	return c.writeFrameLocked(true, wire.OpClose, payload)
}

// fail closes the connection because of a protocol violation: it sends a
// close frame with the violation's code and a reason saying what was wrong,
// waits for the peer's answer, and returns err, which later reads return too.
func (c *Conn) fail(err *wire.Error) error {
	reason := err.Msg
	if len(reason) > wire.MaxCloseReason {
		reason = reason[:wire.MaxCloseReason]
	}
	if c.writeClose(err.Code, reason) == nil {
		c.drainToClose()
	}
	c.CloseNow()
	c.readErr = err
	return err
}

// drainToClose reads and discards frames until the peer's close frame, the
// end of the connection, or closeTimeout, starting with the rest of the
// frame being read, if any. The caller holds readMu.
func (c *Conn) drainToClose() {
	c.nc.SetReadDeadline(time.Now().Add(closeTimeout))
	skip := int64(0)
	if c.reader.active {
		skip = c.reader.remaining
		c.reader.active = false
	}
	for {
		for skip > 0 {
			if c.in.need(1) != nil {
				return
			}
			n := min(int64(len(c.in.buffered())), skip)
			c.in.discard(int(n))
			skip -= n
		}
		if err := c.in.need(2); err != nil {
			return
		}
		b := c.in.buffered()
		size := wire.HeaderSize(b[0], b[1])
		if err := c.in.need(size); err != nil {
			return
		}
		h, _, err := wire.ParseHeader(c.in.buffered())
		if err != nil || h.Opcode == wire.OpClose {
			return
		}
		c.in.discard(size)
		skip = h.Length
	}
}

// Ping sends a ping and waits for its pong, the context's end, or the
// connection's. Pongs are noticed by the reader, so another goroutine must
// be reading.
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
		return ErrClosed
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
	c.keepAlive = time.AfterFunc(interval, func() {
		ctx, cancel := context.WithTimeout(context.Background(), interval)
		defer cancel()
		if err := c.Ping(ctx); err != nil {
			c.closeWith(errKeepAlive)
			return
		}
		c.keepAlive.Reset(interval)
	})
}
