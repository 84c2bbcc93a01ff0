package conn

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"duplex/shared/wire"
)

// These tests run Reconnecting over the fakes of fake_test.go, natively.
// Delays are milliseconds, and the tests that must act while it waits use
// waits long enough for that.

// testContext bounds one test's waits, so a hang fails the test rather
// than the whole run.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A stateLog records what a Reconnecting reports through its hooks.
type stateLog struct {
	t      *testing.T
	states chan State
	opens  chan Conn // the connections OnOpen was called with
}

// reconnect starts a Reconnecting over d, records its states and
// connections, and closes it when the test ends. opts.OnOpen, if set, is
// called after the recording.
func reconnect(t *testing.T, d *fakeDialer, opts ReconnectOptions) (*Reconnecting, *stateLog) {
	t.Helper()
	log := &stateLog{t: t, states: make(chan State, 1024), opens: make(chan Conn, 256)}
	onOpen := opts.OnOpen
	opts.OnOpen = func(c Conn) error {
		log.opens <- c
		if onOpen != nil {
			return onOpen(c)
		}
		return nil
	}
	opts.OnState = func(s State) { log.states <- s }
	r := Reconnect(d.dial, &opts)
	t.Cleanup(func() {
		r.Close(wire.StatusNormalClosure, "")
		waitDone(t, r, 5*time.Second)
	})
	return r, log
}

// next returns the next state reported, or fails the test if none comes.
func (l *stateLog) next() State {
	l.t.Helper()
	select {
	case s := <-l.states:
		return s
	case <-time.After(5 * time.Second):
		l.t.Fatal("no state reported within 5s")
		return State{}
	}
}

// expect fails the test unless the next state has the phase and the
// attempt; it returns the state.
func (l *stateLog) expect(phase Phase, attempt int) State {
	l.t.Helper()
	s := l.next()
	if s.Phase != phase || s.Attempt != attempt {
		l.t.Fatalf("state %s, want %v, attempt %d", describeState(s), phase, attempt)
	}
	return s
}

// quiet fails the test if a state is reported within d.
func (l *stateLog) quiet(d time.Duration, why string) {
	l.t.Helper()
	select {
	case s := <-l.states:
		l.t.Fatalf("%s, yet it reported %s", why, describeState(s))
	case <-time.After(d):
	}
}

func describeState(s State) string {
	d := s.Phase.String() + ", attempt " + strconv.Itoa(s.Attempt)
	if s.Phase == PhaseReconnecting {
		d += ", delay " + s.Delay.String()
	}
	if s.Offline {
		d += ", offline"
	}
	if s.Err != nil {
		d += ", after " + s.Err.Error()
	}
	return d
}

// nextConn returns the next connection d opened.
func nextConn(t *testing.T, d *fakeDialer) *fakeConn {
	t.Helper()
	select {
	case c := <-d.conns:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no connection opened within 5s")
		return nil
	}
}

// ceilingJitter makes every wait predictable: the longest allowed.
func ceilingJitter(ceiling time.Duration) time.Duration { return ceiling }

// waitDone waits for r to end after Close.
func waitDone(t *testing.T, r *Reconnecting, within time.Duration) {
	t.Helper()
	select {
	case <-r.Done():
	case <-time.After(within):
		t.Fatalf("the Reconnecting did not end within %v of Close", within)
	}
}

// readString reads a message from r and returns its text, or the error.
func readString(ctx context.Context, r *Reconnecting) string {
	_, p, err := r.ReadMessage(ctx, nil)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(p)
}

func TestReconnectAfterDrop(t *testing.T) {
	ctx := testContext(t)
	const delay = 200 * time.Millisecond // long enough to write while it waits
	d := newFakeDialer(true)
	r, log := reconnect(t, d, ReconnectOptions{MinDelay: delay, Jitter: ceilingJitter})
	log.expect(PhaseConnecting, 0)
	log.expect(PhaseOpen, 0)
	first := nextConn(t, d)
	if r.Conn() != Conn(first) || <-log.opens != Conn(first) {
		t.Fatal("Conn() is not the connection OnOpen was given")
	}
	for i := range 3 {
		msg := "before the drop " + strconv.Itoa(i)
		if err := r.WriteMessage(ctx, wire.Text, []byte(msg)); err != nil {
			t.Fatalf("WriteMessage #%d: %v", i, err)
		}
		if got := readString(ctx, r); got != msg {
			t.Fatalf("ReadMessage #%d = %q, want %q", i, got, msg)
		}
	}

	// A ReadMessage that waits across the drop gets the next message, from
	// the next connection.
	read := make(chan string, 1)
	go func() { read <- readString(ctx, r) }()
	first.drop()
	s := log.expect(PhaseReconnecting, 1)
	if ce, ok := s.Err.(*wire.CloseError); !ok || ce.Code != wire.StatusAbnormalClosure {
		t.Errorf("the drop was reported as %v, want a 1006 *wire.CloseError", s.Err)
	}
	if s.Delay != delay {
		t.Errorf("first redial after %v, want %v", s.Delay, delay)
	}
	if err := r.WriteMessage(ctx, wire.Text, []byte("lost")); err != ErrDisconnected {
		t.Errorf("WriteMessage while reconnecting = %v, want ErrDisconnected", err)
	}
	if c := r.Conn(); c != nil {
		t.Error("Conn() is not nil while reconnecting")
	}

	log.expect(PhaseConnecting, 1)
	log.expect(PhaseOpen, 1)
	second := nextConn(t, d)
	if r.Conn() != Conn(second) {
		t.Fatal("the connection after the drop is not the current one")
	}
	if err := r.WriteMessage(ctx, wire.Text, []byte("after the drop")); err != nil {
		t.Fatalf("WriteMessage after reconnecting: %v", err)
	}
	select {
	case got := <-read:
		if got != "after the drop" {
			t.Errorf("the ReadMessage that waited across the reconnect got %q", got)
		}
	case <-ctx.Done():
		t.Fatal("the ReadMessage that waited across the reconnect did not return")
	}
	if n := len(log.opens); n != 1 {
		t.Errorf("OnOpen called %d times for the second connection, want 1", n)
	}
}

func TestCeiling(t *testing.T) {
	r := &Reconnecting{opts: ReconnectOptions{MinDelay: 250 * time.Millisecond, MaxDelay: 10 * time.Second}}
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{
		{1, 250 * time.Millisecond},
		{2, 500 * time.Millisecond},
		{3, time.Second},
		{6, 8 * time.Second},
		{7, 10 * time.Second},
		{1000, 10 * time.Second},
	} {
		if got := r.ceiling(tc.attempt); got != tc.want {
			t.Errorf("ceiling(%d) = %v, want %v", tc.attempt, got, tc.want)
		}
	}
}

func TestReconnectBackoff(t *testing.T) {
	const ms = time.Millisecond
	for _, tc := range []struct {
		name     string
		fail     bool          // every dial fails; else each connection is dropped after life
		life     time.Duration // how long each connection lives
		stable   time.Duration
		attempts []int
		delays   []time.Duration
	}{
		{"doubles while dials fail", true, 0, 0, []int{1, 2, 3, 4, 5, 6}, []time.Duration{1, 2, 4, 8, 8, 8}},
		{"grows across short-lived connections", false, 0, time.Hour, []int{1, 2, 3, 4}, []time.Duration{1, 2, 4, 8}},
		{"resets after a stable connection", false, 40 * ms, 20 * ms, []int{1, 1, 1, 1}, []time.Duration{1, 1, 1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakeDialer(false)
			d.fails = 1 << 30
			if !tc.fail {
				d.fails = 0
				// Drop each connection life after it opens.
				stop := make(chan struct{})
				t.Cleanup(func() { close(stop) })
				go func() {
					for {
						select {
						case c := <-d.conns:
							time.AfterFunc(tc.life, c.drop)
						case <-stop:
							return
						}
					}
				}()
			}
			_, log := reconnect(t, d, ReconnectOptions{
				MinDelay: ms, MaxDelay: 8 * ms, StableAfter: tc.stable, Jitter: ceilingJitter,
			})
			log.expect(PhaseConnecting, 0)
			if !tc.fail {
				log.expect(PhaseOpen, 0)
			}
			for i, attempt := range tc.attempts {
				s := log.expect(PhaseReconnecting, attempt)
				if want := tc.delays[i] * ms; s.Delay != want {
					t.Errorf("wait before redial %d = %v, want %v", i+1, s.Delay, want)
				}
				if tc.fail && s.Err != errRefused {
					t.Errorf("failed dial reported as %v, want the dial's error", s.Err)
				}
				if !tc.fail && s.Err == nil {
					t.Errorf("the drop before redial %d was reported without its error", i+1)
				}
				log.expect(PhaseConnecting, attempt)
				if !tc.fail {
					log.expect(PhaseOpen, attempt)
				}
			}
			if tc.fail && len(log.opens) != 0 {
				t.Errorf("OnOpen called %d times, but no dial succeeded", len(log.opens))
			}
		})
	}

	t.Run("full jitter", func(t *testing.T) {
		d := newFakeDialer(false)
		d.fails = 1 << 30
		_, log := reconnect(t, d, ReconnectOptions{MinDelay: 4 * ms, MaxDelay: 32 * ms})
		log.expect(PhaseConnecting, 0)
		below := 0
		for i, ceiling := range []time.Duration{4, 8, 16, 32, 32, 32, 32, 32} {
			ceiling *= ms
			s := log.expect(PhaseReconnecting, i+1)
			if s.Delay < 0 || s.Delay > ceiling {
				t.Errorf("wait before redial %d = %v, outside [0, %v]", i+1, s.Delay, ceiling)
			}
			if s.Delay < ceiling {
				below++
			}
			log.expect(PhaseConnecting, i+1)
		}
		if below == 0 {
			t.Error("every wait was its ceiling: no jitter")
		}
	})
}

func TestReconnectDialTimeout(t *testing.T) {
	d := newFakeDialer(false)
	d.stall = true
	_, log := reconnect(t, d, ReconnectOptions{DialTimeout: 10 * time.Millisecond, MinDelay: time.Millisecond, Jitter: ceilingJitter})
	log.expect(PhaseConnecting, 0)
	if s := log.expect(PhaseReconnecting, 1); s.Err != errDialTimeout {
		t.Errorf("a dial that took too long was reported as %v, want errDialTimeout", s.Err)
	}
	d.set(func(d *fakeDialer) { d.stall = false })
	log.expect(PhaseConnecting, 1)
	log.expect(PhaseOpen, 1)
}

func TestReconnectOnOpenError(t *testing.T) {
	ctx := testContext(t)
	d := newFakeDialer(true)
	d.gate = make(chan struct{})
	refuse := errors.New("not this one")
	calls := 0
	r, log := reconnect(t, d, ReconnectOptions{
		MinDelay: time.Millisecond,
		Jitter:   ceilingJitter,
		OnOpen: func(c Conn) error {
			calls++ // OnOpen runs on the one goroutine that dials
			if calls == 1 {
				return refuse
			}
			return c.WriteMessage(ctx, wire.Text, []byte("first"))
		},
	})
	log.expect(PhaseConnecting, 0)
	if err := r.WriteMessage(ctx, wire.Text, []byte("second")); err != ErrDisconnected {
		t.Errorf("WriteMessage before the first connection opened = %v, want ErrDisconnected", err)
	}
	d.gate <- struct{}{}
	refused := nextConn(t, d)
	if s := log.expect(PhaseReconnecting, 1); s.Err != refuse {
		t.Errorf("state after OnOpen failed has Err %v, want OnOpen's error", s.Err)
	}
	if ce := refused.closedWith(); ce == nil || ce.Code != wire.StatusNormalClosure {
		t.Errorf("the connection OnOpen refused was closed with %v, want 1000", ce)
	}
	log.expect(PhaseConnecting, 1)
	d.gate <- struct{}{}
	log.expect(PhaseOpen, 1)
	// What OnOpen wrote went first.
	if got := readString(ctx, r); got != "first" {
		t.Fatalf("ReadMessage = %q, want what OnOpen wrote", got)
	}
	if s := r.State(); s.Phase != PhaseOpen || s.Attempt != 1 {
		t.Errorf("state %s, want open after redial 1", describeState(s))
	}
}

func TestReconnectReadsInOrder(t *testing.T) {
	ctx := testContext(t)
	d := newFakeDialer(false)
	r, log := reconnect(t, d, ReconnectOptions{MinDelay: time.Millisecond, Jitter: ceilingJitter})
	if _, _, err := r.ReadMessage(canceled(), nil); err != context.Canceled {
		t.Fatalf("ReadMessage with a canceled context = %v", err) // and now r is read
	}
	// Three connections, each with messages left unread when it ends.
	want := []string{}
	for i := range 3 {
		log.expect(PhaseConnecting, i)
		log.expect(PhaseOpen, i)
		c := nextConn(t, d)
		for j := range 2 {
			m := "conn " + strconv.Itoa(i) + " message " + strconv.Itoa(j)
			c.deliver(wire.Text, m)
			want = append(want, m)
		}
		c.drop()
		log.expect(PhaseReconnecting, i+1)
	}
	buf := make([]byte, 0, 64)
	for i, w := range want {
		typ, p, err := r.ReadMessage(ctx, buf)
		if err != nil || typ != wire.Text || string(p) != w {
			t.Fatalf("ReadMessage #%d = %v %q, %v; want text %q", i, typ, p, err, w)
		}
		if &p[:1][0] != &buf[:1][0] {
			t.Errorf("ReadMessage #%d did not reuse buf", i)
		}
	}
	r.Close(wire.StatusNormalClosure, "")
	if _, _, err := r.ReadMessage(ctx, nil); !errors.Is(err, wire.ErrClosed) {
		t.Errorf("ReadMessage after Close and every message read = %v, want wire.ErrClosed", err)
	}
}

// canceled returns a context that has ended.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestReconnectReadContext(t *testing.T) {
	ctx := testContext(t)
	d := newFakeDialer(false)
	r, log := reconnect(t, d, ReconnectOptions{MinDelay: time.Millisecond, Jitter: ceilingJitter})
	log.expect(PhaseConnecting, 0)
	log.expect(PhaseOpen, 0)
	first := nextConn(t, d)

	// A ReadMessage whose context ends closes the connection it waited on,
	// as the Conn contract has it; the Reconnecting dials again.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, _, err := r.ReadMessage(short, nil); err != context.DeadlineExceeded {
		t.Fatalf("ReadMessage with nothing to read = %v, want context.DeadlineExceeded", err)
	}
	if s := log.expect(PhaseReconnecting, 1); s.Err != wire.ErrClosed {
		t.Errorf("state %s, want the connection closed by the ended read", describeState(s))
	}
	if first.Err() != wire.ErrClosed {
		t.Errorf("the connection the read waited on ended with %v, want wire.ErrClosed", first.Err())
	}
	log.expect(PhaseConnecting, 1)
	log.expect(PhaseOpen, 1)
	nextConn(t, d).deliver(wire.Binary, "next")
	if got := readString(ctx, r); got != "next" {
		t.Errorf("ReadMessage after the reconnect = %q", got)
	}
}

func TestReconnectWriteWhileClosing(t *testing.T) {
	ctx := testContext(t)
	d := newFakeDialer(false)
	r, log := reconnect(t, d, ReconnectOptions{MinDelay: time.Hour})
	log.expect(PhaseConnecting, 0)
	log.expect(PhaseOpen, 0)
	c := nextConn(t, d)
	if err := r.WriteMessage(ctx, wire.MessageType(9), nil); err == nil || err == ErrDisconnected {
		t.Errorf("WriteMessage of a ping = %v, want the connection's error", err)
	}
	// The connection starts closing before the Reconnecting notices.
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	if err := r.WriteMessage(ctx, wire.Text, []byte("x")); err != ErrDisconnected {
		t.Errorf("WriteMessage on a closing connection = %v, want ErrDisconnected", err)
	}
}

func TestReconnectClose(t *testing.T) {
	t.Run("while open", func(t *testing.T) {
		ctx := testContext(t)
		d := newFakeDialer(true)
		r, log := reconnect(t, d, ReconnectOptions{MinDelay: time.Millisecond})
		log.expect(PhaseConnecting, 0)
		log.expect(PhaseOpen, 0)
		c := nextConn(t, d)
		if err := r.Close(4000, "bye"); err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
		select {
		case <-r.Done():
		default:
			t.Error("Done is not closed when Close returns")
		}
		log.expect(PhaseClosed, 0)
		if ce := c.closedWith(); ce == nil || ce.Code != 4000 || ce.Reason != "bye" {
			t.Errorf("the connection was closed with %v, want 4000 \"bye\"", ce)
		}
		log.quiet(50*time.Millisecond, "Close stops it for good")
		if _, _, err := r.ReadMessage(ctx, nil); !errors.Is(err, wire.ErrClosed) {
			t.Errorf("ReadMessage after Close = %v, want wire.ErrClosed", err)
		}
		if err := r.WriteMessage(ctx, wire.Text, []byte("x")); !errors.Is(err, wire.ErrClosed) {
			t.Errorf("WriteMessage after Close = %v, want wire.ErrClosed", err)
		}
		if err := r.Close(1000, ""); !errors.Is(err, wire.ErrClosed) {
			t.Errorf("second Close = %v, want wire.ErrClosed", err)
		}
		if s := r.State(); s.Phase != PhaseClosed {
			t.Errorf("State() = %s after Close", describeState(s))
		}
	})

	// Close ends a wait, whatever it waits for.
	for _, tc := range []struct {
		name  string
		setup func(d *fakeDialer, n *fakeNetwork)
		last  Phase // the state before Close
	}{
		{"while waiting to redial", func(d *fakeDialer, n *fakeNetwork) { d.fails = 1 }, PhaseReconnecting},
		{"while dialing", func(d *fakeDialer, n *fakeNetwork) { d.stall = true }, PhaseConnecting},
		{"while offline", func(d *fakeDialer, n *fakeNetwork) { d.fails = 1; n.setOffline(true) }, PhaseReconnecting},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakeDialer(false)
			n := &fakeNetwork{}
			tc.setup(d, n)
			r, log := reconnect(t, d, ReconnectOptions{MinDelay: time.Hour, Jitter: ceilingJitter, Network: n})
			for s := log.next(); s.Phase != tc.last; s = log.next() {
			}
			if err := r.Close(1000, ""); err != nil {
				t.Errorf("Close = %v, want nil: there was no connection", err)
			}
			log.expect(PhaseClosed, 0)
			log.quiet(50*time.Millisecond, "Close stops it for good")
		})
	}

	t.Run("a message not yet read", func(t *testing.T) {
		ctx := testContext(t)
		d := newFakeDialer(true)
		r, log := reconnect(t, d, ReconnectOptions{})
		log.expect(PhaseConnecting, 0)
		log.expect(PhaseOpen, 0)
		if err := r.WriteMessage(ctx, wire.Text, []byte("still here")); err != nil {
			t.Fatal(err)
		}
		r.Close(1000, "")
		if got := readString(ctx, r); got != "still here" {
			t.Errorf("ReadMessage after Close = %q, want the message received before", got)
		}
		if _, _, err := r.ReadMessage(ctx, nil); !errors.Is(err, wire.ErrClosed) {
			t.Errorf("second ReadMessage after Close = %v, want wire.ErrClosed", err)
		}
	})
}

func TestReconnectOffline(t *testing.T) {
	t.Run("drop while offline", func(t *testing.T) {
		const delay = 5 * time.Millisecond
		d := newFakeDialer(false)
		n := &fakeNetwork{}
		_, log := reconnect(t, d, ReconnectOptions{MinDelay: delay, Jitter: ceilingJitter, Network: n})
		log.expect(PhaseConnecting, 0)
		log.expect(PhaseOpen, 0)

		// The network goes, and the connection with it.
		n.setOffline(true)
		nextConn(t, d).drop()
		if s := log.expect(PhaseReconnecting, 1); !s.Offline || s.Err == nil {
			t.Fatalf("state %s while offline, want offline, with the drop's error", describeState(s))
		}
		log.quiet(100*time.Millisecond, "while offline it waits for the network")

		// The network comes back: it waits its delay, and redials.
		n.setOffline(false)
		if s := log.expect(PhaseReconnecting, 1); s.Offline || s.Delay != delay {
			t.Errorf("state %s once online, want a wait of %v", describeState(s), delay)
		}
		log.expect(PhaseConnecting, 1)
		log.expect(PhaseOpen, 1)
	})

	t.Run("network goes during the wait", func(t *testing.T) {
		const delay = 100 * time.Millisecond // long enough to go offline meanwhile
		d := newFakeDialer(false)
		n := &fakeNetwork{}
		_, log := reconnect(t, d, ReconnectOptions{MinDelay: delay, Jitter: ceilingJitter, Network: n})
		log.expect(PhaseConnecting, 0)
		log.expect(PhaseOpen, 0)
		nextConn(t, d).drop()
		log.expect(PhaseReconnecting, 1)
		n.setOffline(true)
		// At the end of the wait it asks the network again, and waits for
		// it rather than dial.
		if s := log.expect(PhaseReconnecting, 1); !s.Offline {
			t.Errorf("state %s after the network went during the wait, want offline", describeState(s))
		}
		n.setOffline(false)
		log.expect(PhaseReconnecting, 1)
		log.expect(PhaseConnecting, 1)
		log.expect(PhaseOpen, 1)
		d.mu.Lock()
		dials := d.dials
		d.mu.Unlock()
		if dials != 2 {
			t.Errorf("%d dials, want 2: none while offline", dials)
		}
	})
}

func TestReconnectForgetsUnread(t *testing.T) {
	d := newFakeDialer(false)
	r, log := reconnect(t, d, ReconnectOptions{MinDelay: time.Millisecond, Jitter: ceilingJitter})
	for i := range 10 {
		log.expect(PhaseConnecting, i)
		log.expect(PhaseOpen, i)
		c := nextConn(t, d)
		c.deliver(wire.Text, "never read")
		c.drop()
		log.expect(PhaseReconnecting, i+1)
	}
	r.mu.Lock()
	kept := len(r.unread)
	r.mu.Unlock()
	if kept > 1 {
		t.Errorf("%d connections kept for ReadMessage, which nobody calls; want at most 1", kept)
	}
}
