//go:build js && wasm

package websocket

import (
	"context"
	"encoding"
	"errors"
	"sync"
	"syscall/js"
	"time"

	"duplex/shared/wire"
)

// The defaults of ReconnectOptions.
const (
	DefaultMinDelay    = 250 * time.Millisecond
	DefaultMaxDelay    = 10 * time.Second
	DefaultStableAfter = 10 * time.Second
	DefaultDialTimeout = 10 * time.Second
)

// ReconnectOptions configure a Reconnecting connection. The zero value is
// usable.
type ReconnectOptions struct {
	// Subprotocols and HighWater apply to every connection, as in Options.
	Subprotocols []string
	HighWater    int

	// The backoff. Before redial n — n counts from 1 after a drop, and
	// goes on counting while dials fail and connections drop young (see
	// StableAfter) — it waits a random time between 0 and
	// min(MaxDelay, MinDelay·2ⁿ⁻¹):
	// exponential backoff with full jitter, so that clients dropped
	// together do not come back together. 0 means DefaultMinDelay and
	// DefaultMaxDelay.
	MinDelay, MaxDelay time.Duration

	// StableAfter is how long a connection must stay open for its drop to
	// start the backoff again from redial 1; a connection that drops
	// sooner, such as one the server accepts and at once closes, makes
	// the next wait longer instead. 0 means DefaultStableAfter.
	StableAfter time.Duration

	// DialTimeout bounds each handshake; one that takes longer counts as
	// a failed dial. 0 means DefaultDialTimeout.
	DialTimeout time.Duration

	// Jitter picks the wait before a redial from its ceiling. nil means
	// uniformly at random between 0 and the ceiling; a test may return
	// the ceiling itself.
	Jitter func(ceiling time.Duration) time.Duration

	// OnOpen, if set, is called with each new connection as soon as it is
	// open, and before it becomes current: until OnOpen returns, Write
	// fails with ErrDisconnected, so what OnOpen writes on c — a chat
	// client joins its rooms again — goes before anything else. OnOpen
	// may keep c and write to it later. If it returns an error, c is
	// closed and the dial counts as failed. It runs on the goroutine that
	// dials, not on the browser's event loop, so it may block, briefly.
	OnOpen func(c *Conn) error

	// OnState, if set, is called with each new State, in order, on the
	// goroutine that dials. It should return quickly: redialing waits
	// for it.
	OnState func(State)
}

// A Phase is where a Reconnecting connection stands.
type Phase uint8

// The phases. A Reconnecting goes from PhaseConnecting to PhaseOpen, and,
// each time the connection drops or a dial fails, through PhaseReconnecting
// back to PhaseConnecting; Close ends it in PhaseClosed.
const (
	PhaseConnecting   Phase = iota // dialing
	PhaseOpen                      // a connection is open
	PhaseReconnecting              // waiting to redial
	PhaseClosed                    // closed for good by Close
)

// String returns the phase's name: "connecting", "open", "reconnecting"
// or "closed".
func (p Phase) String() string {
	switch p {
	case PhaseConnecting:
		return "connecting"
	case PhaseOpen:
		return "open"
	case PhaseReconnecting:
		return "reconnecting"
	case PhaseClosed:
		return "closed"
	}
	return "phase?"
}

// A State is what OnState reports.
type State struct {
	Phase Phase

	// Attempt is the number of the redial that the state is about,
	// counting from 1 since the last stable connection (see StableAfter);
	// it is 0 for the very first dial and the connection it opens.
	Attempt int

	// Delay, in PhaseReconnecting, is how long it waits before redial
	// Attempt.
	Delay time.Duration

	// Offline, in PhaseReconnecting, means that the browser says it is
	// offline (navigator.onLine is false): rather than dial in vain, it
	// waits for the browser's online event, and then for a Delay, which
	// a second state reports.
	Offline bool

	// Err, in PhaseReconnecting, is why the last connection ended — a
	// *CloseError — or why the last dial failed.
	Err error
}

// ErrDisconnected is returned by Write on a Reconnecting that has no open
// connection at the moment.
var ErrDisconnected = errors.New("websocket: disconnected, reconnecting")

// ErrClosed is returned by a Reconnecting's Read and Write after Close.
var ErrClosed = errors.New("websocket: closed")

// A Reconnecting is a connection that comes back: it dials, and whenever
// the connection ends — dropped, or closed by the server, whatever the
// code — or a dial fails, it waits (see ReconnectOptions) and dials again,
// until Close. Its Read and Write use whichever connection is current.
//
// Write does not wait for a connection: while there is none open it
// returns ErrDisconnected at once, and the caller decides what becomes of
// the message — show that it was not sent, keep it, drop it. Nothing is
// resent by itself: a message written just before a drop that the browser
// had not yet noticed may be lost, as on any WebSocket. An application that
// must not lose messages acknowledges them in its protocol, or, as the chat
// does, numbers them and asks for what it missed on each OnOpen.
type Reconnecting struct {
	url       string
	opts      ReconnectOptions
	stop      chan struct{} // closed by Close
	closeOnce sync.Once
	done      chan struct{} // closed when the dialing goroutine has ended

	mu      sync.Mutex
	state   State
	current *Conn         // the open connection, nil while there is none
	unread  []*Conn       // connections whose messages Read has not finished, oldest first
	wake    chan struct{} // closed, and replaced, when unread grows or the Reconnecting ends
	ended   bool          // the dialing goroutine has ended
}

// Reconnect starts connecting to url, as Dial does, and returns at once;
// opts.OnState reports the progress. It fails only if url is invalid.
func Reconnect(url string, opts *ReconnectOptions) (*Reconnecting, error) {
	abs, err := resolve(url)
	if err != nil {
		return nil, err
	}
	r := &Reconnecting{url: abs, stop: make(chan struct{}), done: make(chan struct{}), wake: make(chan struct{})}
	if opts != nil {
		r.opts = *opts
	}
	o := &r.opts
	if o.MinDelay <= 0 {
		o.MinDelay = DefaultMinDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	o.MaxDelay = max(o.MaxDelay, o.MinDelay)
	if o.StableAfter <= 0 {
		o.StableAfter = DefaultStableAfter
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.Jitter == nil {
		o.Jitter = fullJitter
	}
	go r.run()
	return r, nil
}

// run dials and redials until Close.
func (r *Reconnecting) run() {
	defer r.end()
	attempt := 0 // the redial about to be made; 0 for the first dial
	var cause error
	for {
		if attempt > 0 && !r.wait(attempt, cause) {
			return
		}
		r.report(State{Phase: PhaseConnecting, Attempt: attempt})
		c, err := r.dial()
		if err != nil {
			if r.stopped() {
				return
			}
			attempt, cause = attempt+1, err
			continue
		}

		opened := time.Now()
		r.publish(c)
		r.report(State{Phase: PhaseOpen, Attempt: attempt})
		select {
		case <-c.Closed():
		case <-r.stop:
			r.closeLast(c)
			return
		}
		r.mu.Lock()
		r.current = nil
		r.mu.Unlock()
		if time.Since(opened) >= r.opts.StableAfter {
			attempt = 0
		}
		attempt, cause = attempt+1, c.CloseError()
	}
}

// dial opens a connection, as Dial does, and hands it to OnOpen. A dial
// that is given up, on Close or after DialTimeout, waits a little for the
// close event of its socket, so that after Done no callback is left.
func (r *Reconnecting) dial() (*Conn, error) {
	c, err := New(r.url, &Options{Subprotocols: r.opts.Subprotocols, HighWater: r.opts.HighWater})
	if err != nil {
		return nil, err
	}
	timeout := time.NewTimer(r.opts.DialTimeout)
	defer timeout.Stop()
	for {
		c.mu.Lock()
		opened, closeErr := c.opened, c.closeErr
		c.mu.Unlock()
		if closeErr != nil {
			return nil, closeErr
		}
		if opened {
			break
		}
		var giveUp error
		select {
		case <-c.ready:
			continue
		case <-timeout.C:
			giveUp = errDialTimeout
		case <-r.stop:
			giveUp = ErrClosed
		}
		c.ws.Call("close")
		awaitClose(c)
		return nil, giveUp
	}
	if r.opts.OnOpen != nil {
		if err := r.opts.OnOpen(c); err != nil {
			c.StartClose(wire.StatusNormalClosure, "")
			awaitClose(c)
			return nil, err
		}
	}
	return c, nil
}

var errDialTimeout = errors.New("websocket: the handshake took too long")

// awaitClose waits for c's close event, which releases its callbacks, for
// up to five seconds: if the browser takes longer, it will release them
// later by itself.
func awaitClose(c *Conn) {
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-c.Closed():
	case <-t.C:
	}
}

// wait waits before redial attempt, and for the browser to be online;
// it returns false if Close was called meanwhile.
func (r *Reconnecting) wait(attempt int, cause error) bool {
	for {
		if !online() {
			r.report(State{Phase: PhaseReconnecting, Attempt: attempt, Offline: true, Err: cause})
			if !r.waitOnline() {
				return false
			}
		}
		delay := r.opts.Jitter(r.ceiling(attempt))
		r.report(State{Phase: PhaseReconnecting, Attempt: attempt, Delay: delay, Err: cause})
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.stop:
			t.Stop()
			return false
		}
		if online() {
			return true
		}
	}
}

// ceiling returns the longest wait before redial attempt.
func (r *Reconnecting) ceiling(attempt int) time.Duration {
	d := r.opts.MinDelay
	for i := 1; i < attempt && d < r.opts.MaxDelay; i++ {
		d *= 2
	}
	return min(d, r.opts.MaxDelay)
}

func fullJitter(ceiling time.Duration) time.Duration {
	return time.Duration(js.Global().Get("Math").Call("random").Float() * float64(ceiling))
}

// online reports whether the browser thinks it may be online: false only
// when navigator.onLine says it is not.
func online() bool {
	nav := js.Global().Get("navigator")
	if nav.Type() != js.TypeObject {
		return true
	}
	v := nav.Get("onLine")
	return v.Type() != js.TypeBoolean || v.Bool()
}

// waitOnline waits for the browser's online event; it returns false if
// Close was called first. The listener is removed and released either way.
func (r *Reconnecting) waitOnline() bool {
	back := make(chan struct{}, 1)
	fn := js.FuncOf(func(js.Value, []js.Value) any {
		select {
		case back <- struct{}{}:
		default:
		}
		return nil
	})
	global := js.Global()
	global.Call("addEventListener", "online", fn)
	defer func() {
		global.Call("removeEventListener", "online", fn)
		fn.Release()
	}()
	if online() {
		return true
	}
	select {
	case <-back:
		return true
	case <-r.stop:
		return false
	}
}

// closeLast closes c, the connection open when Close was called.
func (r *Reconnecting) closeLast(c *Conn) {
	r.mu.Lock()
	r.current = nil
	r.mu.Unlock()
	c.StartClose(wire.StatusNormalClosure, "")
	awaitClose(c)
}

// publish makes c the current connection, for Read and Write.
func (r *Reconnecting) publish(c *Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Forget the connections that are closed and fully read: a program
	// that never calls Read must not keep every connection it had.
	kept := r.unread[:0]
	for _, old := range r.unread {
		old.mu.Lock()
		drained := old.closeErr != nil && len(old.queue) == 0
		old.mu.Unlock()
		if !drained {
			kept = append(kept, old)
		}
	}
	clear(r.unread[len(kept):])
	r.unread = append(kept, c)
	r.current = c
	r.broadcast()
}

// broadcast wakes every waiting Read. r.mu must be held.
func (r *Reconnecting) broadcast() {
	close(r.wake)
	r.wake = make(chan struct{})
}

// end runs when the dialing goroutine returns, after Close.
func (r *Reconnecting) end() {
	r.mu.Lock()
	r.current = nil
	r.ended = true
	r.broadcast()
	r.mu.Unlock()
	r.report(State{Phase: PhaseClosed})
	close(r.done)
}

func (r *Reconnecting) report(s State) {
	r.mu.Lock()
	r.state = s
	r.mu.Unlock()
	if r.opts.OnState != nil {
		r.opts.OnState(s)
	}
}

// Close stops reconnecting for good and closes the current connection, if
// any, with 1000. It returns at once; Done is closed once the connection
// has closed. Close may be called more than once, from anywhere,
// including the browser's event loop.
func (r *Reconnecting) Close() { r.closeOnce.Do(func() { close(r.stop) }) }

// stopped reports whether Close was called.
func (r *Reconnecting) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// Done returns a channel that is closed after Close, once the last
// connection has closed and OnState has been told PhaseClosed.
func (r *Reconnecting) Done() <-chan struct{} { return r.done }

// State returns the state last reported.
func (r *Reconnecting) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// Conn returns the current connection, or nil while there is none.
func (r *Reconnecting) Conn() *Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current
}

// URL returns the absolute URL it dials.
func (r *Reconnecting) URL() string { return r.url }

// Read waits for the next message from the connections, in the order they
// came: the rest of a connection that dropped, then those of the next. It
// returns ErrClosed after Close, once every message has been read, or
// ctx's error.
func (r *Reconnecting) Read(ctx context.Context) (MessageType, []byte, error) {
	for {
		r.mu.Lock()
		var c *Conn
		if len(r.unread) > 0 {
			c = r.unread[0]
		}
		wake, ended := r.wake, r.ended
		r.mu.Unlock()

		if c == nil {
			if ended {
				return 0, nil, ErrClosed
			}
			select {
			case <-wake:
				continue
			case <-ctx.Done():
				return 0, nil, ctx.Err()
			}
		}
		typ, data, err := c.Read(ctx)
		if _, closed := err.(*CloseError); !closed {
			return typ, data, err // a message, or ctx's error
		}
		// c is closed and every message read: go on to the next.
		r.mu.Lock()
		if len(r.unread) > 0 && r.unread[0] == c {
			r.unread[0] = nil
			r.unread = r.unread[1:]
		}
		r.mu.Unlock()
	}
}

// Write sends p as one message of type typ on the current connection. It
// returns ErrDisconnected at once if there is none, ErrClosed after Close;
// see Reconnecting for what that means for delivery.
func (r *Reconnecting) Write(ctx context.Context, typ MessageType, p []byte) error {
	if r.stopped() {
		return ErrClosed
	}
	c := r.Conn()
	if c == nil {
		return ErrDisconnected
	}
	err := c.Write(ctx, typ, p)
	if err == ErrNotOpen {
		return ErrDisconnected
	}
	return err
}

// WriteValue sends v's binary encoding as a binary message, as Write does.
func (r *Reconnecting) WriteValue(ctx context.Context, v encoding.BinaryAppender) error {
	b, err := v.AppendBinary(nil)
	if err != nil {
		return err
	}
	return r.Write(ctx, Binary, b)
}

// ReadValue reads the next message, as Read does, and decodes it into v.
func (r *Reconnecting) ReadValue(ctx context.Context, v encoding.BinaryUnmarshaler) error {
	_, b, err := r.Read(ctx)
	if err != nil {
		return err
	}
	return v.UnmarshalBinary(b)
}
