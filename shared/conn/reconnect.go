package conn

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
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

// ReconnectOptions configure a Reconnecting. The zero value is usable.
type ReconnectOptions struct {
	// The backoff. Before redial n — n counts from 1 after a drop, and
	// goes on counting while dials fail and connections drop young (see
	// StableAfter) — it waits a random time between 0 and
	// min(MaxDelay, MinDelay·2ⁿ⁻¹): exponential backoff with full jitter,
	// so that clients dropped together do not come back together. 0 means
	// DefaultMinDelay and DefaultMaxDelay.
	MinDelay, MaxDelay time.Duration

	// StableAfter is how long a connection must stay open for its drop to
	// start the backoff again from redial 1; a connection that drops
	// sooner, such as one the server accepts and at once closes, makes
	// the next wait longer instead. 0 means DefaultStableAfter.
	StableAfter time.Duration

	// DialTimeout bounds each dial; one that takes longer counts as a
	// failed dial. 0 means DefaultDialTimeout.
	DialTimeout time.Duration

	// Jitter picks the wait before a redial from its ceiling. nil means
	// uniformly at random between 0 and the ceiling, with math/rand/v2; a
	// test may return the ceiling itself.
	Jitter func(ceiling time.Duration) time.Duration

	// Network, if set, is asked before each redial: while it says it is
	// offline, the Reconnecting waits for it rather than dial in vain. nil
	// means always online.
	Network Network

	// OnOpen, if set, is called with each new connection as soon as it is
	// open, and before it becomes current: until OnOpen returns,
	// WriteMessage fails with ErrDisconnected, so what OnOpen writes on c
	// — a chat client joins its rooms again — goes before anything else.
	// OnOpen may keep c and write to it later. If it returns an error, c
	// is closed and the dial counts as failed. It runs on the goroutine
	// that dials, so it may block, briefly.
	OnOpen func(c Conn) error

	// OnState, if set, is called with each new State, in order, on the
	// goroutine that dials. It should return quickly: redialing waits for
	// it.
	OnState func(State)
}

// ErrDisconnected is returned by a Reconnecting's WriteMessage when it has
// no open connection at the moment.
var ErrDisconnected = errors.New("websocket: disconnected, reconnecting")

// errDialTimeout is why a dial that took longer than DialTimeout failed.
var errDialTimeout = errors.New("websocket: the dial took longer than DialTimeout")

// A Reconnecting is a connection that comes back: it dials, and whenever
// the connection ends — dropped, or closed by the server, whatever the
// code — or a dial fails, it waits (see ReconnectOptions) and dials again,
// until Close. Its ReadMessage and WriteMessage use the connections it
// opens, in turn.
//
// WriteMessage does not wait for a connection: while there is none open it
// returns ErrDisconnected at once, and the caller decides what becomes of
// the message — show that it was not sent, keep it, drop it. Nothing is
// resent by itself: a message written just before a drop that this side
// had not yet noticed may be lost, as on any WebSocket. An application that
// must not lose messages acknowledges them in its protocol, or, as the chat
// does, numbers them and asks for what it missed on each OnOpen.
type Reconnecting struct {
	dial DialFunc
	opts ReconnectOptions
	life *stopContext  // stopped by Close: it ends a dial or a wait
	done chan struct{} // closed when the dialing goroutine has ended

	mu       sync.Mutex
	state    State
	current  Conn          // the open connection, nil while there is none
	unread   []Conn        // connections whose messages ReadMessage has not finished, oldest first
	wake     chan struct{} // closed, and replaced, when unread grows or the Reconnecting ends
	reading  bool          // ReadMessage has been called
	closing  bool          // Close has been called
	code     wire.StatusCode
	reason   string // Close's code and reason, for the last connection
	closeErr error  // what closing the last connection returned
	ended    bool   // the dialing goroutine has ended
}

// Reconnect starts dialing with dial and returns at once; opts.OnState
// reports the progress.
func Reconnect(dial DialFunc, opts *ReconnectOptions) *Reconnecting {
	r := &Reconnecting{dial: dial, done: make(chan struct{}), wake: make(chan struct{})}
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
	if o.Network == nil {
		o.Network = alwaysOnline{}
	}
	r.life = newStopContext(time.Time{})
	go r.run()
	return r
}

// fullJitter returns a wait between 0 and ceiling, uniformly at random.
func fullJitter(ceiling time.Duration) time.Duration {
	return rand.N(ceiling + 1)
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
		c, err := r.open()
		if err != nil {
			if r.life.Err() != nil {
				return
			}
			attempt, cause = attempt+1, err
			continue
		}

		opened := time.Now()
		r.publish(c)
		r.report(State{Phase: PhaseOpen, Attempt: attempt})
		select {
		case <-c.Done():
		case <-r.life.Done():
			r.closeLast(c)
			return
		}
		r.mu.Lock()
		r.current = nil
		r.mu.Unlock()
		if time.Since(opened) >= r.opts.StableAfter {
			attempt = 0
		}
		attempt, cause = attempt+1, c.Err()
	}
}

// open dials, within DialTimeout, and hands the connection to OnOpen.
func (r *Reconnecting) open() (Conn, error) {
	ctx := newStopContext(time.Now().Add(r.opts.DialTimeout))
	timeout := time.AfterFunc(r.opts.DialTimeout, func() { ctx.stop(context.DeadlineExceeded) })
	go func() { // Close ends the dial too
		select {
		case <-r.life.Done():
			ctx.stop(context.Canceled)
		case <-ctx.Done():
		}
	}()
	defer func() {
		timeout.Stop()
		ctx.stop(context.Canceled)
	}()
	c, err := r.dial(ctx)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded && r.life.Err() == nil {
			err = errDialTimeout
		}
		return nil, err
	}
	if r.opts.OnOpen != nil {
		if err := r.opts.OnOpen(c); err != nil {
			c.Close(wire.StatusNormalClosure, "")
			return nil, err
		}
	}
	return c, nil
}

// wait waits before redial attempt, and for the network to be up; it
// returns false if Close was called meanwhile.
func (r *Reconnecting) wait(attempt int, cause error) bool {
	network := r.opts.Network
	for {
		if !network.Online() {
			r.report(State{Phase: PhaseReconnecting, Attempt: attempt, Offline: true, Err: cause})
			if network.WaitOnline(r.life) != nil {
				return false
			}
		}
		delay := r.opts.Jitter(r.ceiling(attempt))
		r.report(State{Phase: PhaseReconnecting, Attempt: attempt, Delay: delay, Err: cause})
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.life.Done():
			t.Stop()
			return false
		}
		if network.Online() {
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

// publish makes c the current connection, for ReadMessage and
// WriteMessage.
func (r *Reconnecting) publish(c Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Every connection in unread has ended. Until someone reads, forget
	// them: a program that never calls ReadMessage must not keep every
	// connection it had.
	if !r.reading {
		clear(r.unread)
		r.unread = r.unread[:0]
	}
	r.unread = append(r.unread, c)
	r.current = c
	r.broadcast()
}

// broadcast wakes every waiting ReadMessage. r.mu must be held.
func (r *Reconnecting) broadcast() {
	close(r.wake)
	r.wake = make(chan struct{})
}

// closeLast closes c, the connection open when Close was called, with
// Close's code and reason.
func (r *Reconnecting) closeLast(c Conn) {
	r.mu.Lock()
	r.current = nil
	code, reason := r.code, r.reason
	r.mu.Unlock()
	err := c.Close(code, reason)
	r.mu.Lock()
	r.closeErr = err
	r.mu.Unlock()
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

// Close stops reconnecting for good: it ends a dial or a wait in progress,
// or closes the open connection with code and reason as Conn.Close does.
// It returns once Done is closed, with what closing the connection
// returned — nil if there was none, or if the closing handshake completed
// — and an error matching wire.ErrClosed if Close was called before. Since
// it waits, in a browser it must not be called on the event loop (from a
// JavaScript callback): call it in a goroutine there.
func (r *Reconnecting) Close(code wire.StatusCode, reason string) error {
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return wire.ErrClosed
	}
	r.closing, r.code, r.reason = true, code, reason
	r.mu.Unlock()
	r.life.stop(context.Canceled)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closeErr
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
func (r *Reconnecting) Conn() Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current
}

// ReadMessage waits for the next message from the connections, in the
// order they came: the rest of a connection that ended, then those of the
// next. It appends the payload to buf[:0], as Conn.ReadMessage does. Once
// Close has been called and every message read, it returns an error
// matching wire.ErrClosed.
//
// If ctx ends while it waits, ReadMessage returns ctx's error; as the Conn
// contract has it, a connection it was waiting on is then closed, and the
// Reconnecting dials again. Reads come from one goroutine at a time.
func (r *Reconnecting) ReadMessage(ctx context.Context, buf []byte) (wire.MessageType, []byte, error) {
	for {
		r.mu.Lock()
		r.reading = true
		var c Conn
		if len(r.unread) > 0 {
			c = r.unread[0]
		}
		wake, ended := r.wake, r.ended
		r.mu.Unlock()

		if c == nil {
			if ended {
				return 0, nil, wire.ErrClosed
			}
			select {
			case <-wake:
				continue
			case <-ctx.Done():
				return 0, nil, ctx.Err()
			}
		}
		typ, p, err := c.ReadMessage(ctx, buf)
		switch {
		case err == nil:
			return typ, p, nil
		case ctx.Err() != nil:
			return 0, nil, ctx.Err()
		}
		// c has ended, and every message it received has been read: go on
		// with the next connection.
		r.mu.Lock()
		if len(r.unread) > 0 && r.unread[0] == c {
			r.unread[0] = nil
			r.unread = r.unread[1:]
		}
		r.mu.Unlock()
	}
}

// WriteMessage sends p as one message of type typ on the current
// connection, as Conn.WriteMessage does. It returns ErrDisconnected at once
// if there is none, and an error matching wire.ErrClosed after Close; see
// Reconnecting for what that means for delivery.
func (r *Reconnecting) WriteMessage(ctx context.Context, typ wire.MessageType, p []byte) error {
	r.mu.Lock()
	c, closing := r.current, r.closing
	r.mu.Unlock()
	switch {
	case closing:
		return wire.ErrClosed
	case c == nil:
		return ErrDisconnected
	}
	err := c.WriteMessage(ctx, typ, p)
	if err != nil && errors.Is(err, wire.ErrClosed) {
		// The connection is closing, and the Reconnecting has yet to
		// notice, or Close has just been called.
		r.mu.Lock()
		closing = r.closing
		r.mu.Unlock()
		if !closing {
			return ErrDisconnected
		}
	}
	return err
}
