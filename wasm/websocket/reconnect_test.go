//go:build js && wasm

package websocket

// The tests of Reconnect: the Reconnecting of duplex/shared/conn, whose
// own tests cover its logic natively, over real browser connections to the
// endpoints listed in websocket_test.go, and the browser's online and
// offline events.

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"syscall/js"
	"testing"
	"time"

	"duplex/shared/conn"
	"duplex/shared/wire"
)

// A stateLog records what a Reconnecting reports through its hooks.
type stateLog struct {
	t      *testing.T
	states chan conn.State
	opens  chan *Conn // the connections OnOpen was called with
}

// reconnect starts a Reconnecting to url, records its states and
// connections, and closes it when the test ends.
func reconnect(t *testing.T, url string, opts conn.ReconnectOptions) (*conn.Reconnecting, *stateLog) {
	t.Helper()
	log := &stateLog{t: t, states: make(chan conn.State, 1024), opens: make(chan *Conn, 256)}
	opts.OnOpen = func(c conn.Conn) error {
		log.opens <- c.(*Conn)
		return nil
	}
	opts.OnState = func(s conn.State) { log.states <- s }
	// WebSocket alone: these tests are about reconnecting, and some of
	// their endpoints kill connections as a middlebox would.
	r, err := Reconnect(url, &ReconnectOptions{Transport: TransportWebSocket, ReconnectOptions: opts})
	if err != nil {
		t.Fatalf("Reconnect(%q): %v", url, err)
	}
	t.Cleanup(func() {
		r.Close(StatusNormalClosure, "")
		select {
		case <-r.Done():
		case <-time.After(10 * time.Second):
			t.Error("the Reconnecting did not end within 10s of Close")
		}
	})
	return r, log
}

// next returns the next state reported, or fails the test if none comes.
func (l *stateLog) next() conn.State {
	l.t.Helper()
	select {
	case s := <-l.states:
		return s
	case <-time.After(10 * time.Second):
		l.t.Fatal("no state reported within 10s")
		return conn.State{}
	}
}

// expect fails the test unless the next state has the phase and the
// attempt; it returns the state.
func (l *stateLog) expect(phase conn.Phase, attempt int) conn.State {
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

func describeState(s conn.State) string {
	d := s.Phase.String() + ", attempt " + strconv.Itoa(s.Attempt)
	if s.Phase == conn.PhaseReconnecting {
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

// readString reads a message from r and returns its text, or the error.
func readString(ctx context.Context, r *conn.Reconnecting) string {
	_, p, err := r.ReadMessage(ctx, nil)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(p)
}

// ceilingJitter makes every wait predictable: the longest allowed.
func ceilingJitter(ceiling time.Duration) time.Duration { return ceiling }

// waitDone waits for r to end after Close.
func waitDone(t *testing.T, r *conn.Reconnecting, within time.Duration) {
	t.Helper()
	select {
	case <-r.Done():
	case <-time.After(within):
		t.Fatalf("the Reconnecting did not end within %v of Close", within)
	}
}

func TestReconnectAfterDrop(t *testing.T) {
	ctx := testContext(t)
	const delay = 200 * time.Millisecond // long enough to write while it waits
	r, log := reconnect(t, "/ws/drop-after?n=3", conn.ReconnectOptions{MinDelay: delay, Jitter: ceilingJitter})
	log.expect(conn.PhaseConnecting, 0)
	log.expect(conn.PhaseOpen, 0)
	first := <-log.opens // OnOpen ran before the state was reported
	if r.Conn() != first {
		t.Fatal("Conn() is not the connection OnOpen was given")
	}
	for i := range 3 {
		msg := "before the drop " + strconv.Itoa(i)
		if err := r.WriteMessage(ctx, Text, []byte(msg)); err != nil {
			t.Fatalf("WriteMessage #%d: %v", i, err)
		}
		if got := readString(ctx, r); got != msg {
			t.Fatalf("ReadMessage #%d = %q, want %q", i, got, msg)
		}
	}

	// The server drops the connection after its third echo. A ReadMessage that
	// waits meanwhile gets the next message, from the next connection.
	read := make(chan string, 1)
	go func() { read <- readString(ctx, r) }()
	s := log.expect(conn.PhaseReconnecting, 1)
	if ce := asCloseError(t, s.Err); ce.Code != wire.StatusAbnormalClosure || ce.WasClean {
		t.Errorf("the drop was reported as %s, want 1006, not clean", describe(ce))
	}
	if s.Delay != delay {
		t.Errorf("first redial after %v, want %v", s.Delay, delay)
	}
	if err := r.WriteMessage(ctx, Text, []byte("lost")); !errors.Is(err, conn.ErrDisconnected) {
		t.Errorf("WriteMessage while reconnecting = %v, want ErrDisconnected", err)
	}
	if c := r.Conn(); c != nil {
		t.Error("Conn() is not nil while reconnecting")
	}

	log.expect(conn.PhaseConnecting, 1)
	log.expect(conn.PhaseOpen, 1)
	second := <-log.opens
	if second == first || r.Conn() != second {
		t.Fatal("the connection after the drop is not a new one, or not the current one")
	}
	if err := first.Err(); err == nil {
		t.Error("the first connection is not closed")
	}
	if err := r.WriteMessage(ctx, Text, []byte("after the drop")); err != nil {
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
	if n := len(log.opens); n != 0 {
		t.Errorf("OnOpen called %d more times than there were connections", n)
	}
}

func TestReconnectBackoff(t *testing.T) {
	t.Run("doubles", func(t *testing.T) {
		// A 404: every dial fails.
		_, log := reconnect(t, "/ws/no-such-endpoint", conn.ReconnectOptions{
			MinDelay: 10 * time.Millisecond, MaxDelay: 80 * time.Millisecond, Jitter: ceilingJitter,
		})
		log.expect(conn.PhaseConnecting, 0)
		for i, want := range []time.Duration{10, 20, 40, 80, 80, 80} {
			want *= time.Millisecond
			s := log.expect(conn.PhaseReconnecting, i+1)
			if s.Delay != want {
				t.Errorf("wait before redial %d = %v, want %v", i+1, s.Delay, want)
			}
			if ce := asCloseError(t, s.Err); ce.Code != wire.StatusAbnormalClosure {
				t.Errorf("failed dial reported as %s", describe(ce))
			}
			log.expect(conn.PhaseConnecting, i+1)
		}
		if n := len(log.opens); n != 0 {
			t.Errorf("OnOpen called %d times, but no dial succeeded", n)
		}
	})

	t.Run("full jitter", func(t *testing.T) {
		_, log := reconnect(t, "/ws/no-such-endpoint", conn.ReconnectOptions{
			MinDelay: 4 * time.Millisecond, MaxDelay: 32 * time.Millisecond,
		})
		log.expect(conn.PhaseConnecting, 0)
		below := 0
		for i, ceiling := range []time.Duration{4, 8, 16, 32, 32, 32, 32, 32} {
			ceiling *= time.Millisecond
			s := log.expect(conn.PhaseReconnecting, i+1)
			if s.Delay < 0 || s.Delay > ceiling {
				t.Errorf("wait before redial %d = %v, outside [0, %v]", i+1, s.Delay, ceiling)
			}
			if s.Delay < ceiling {
				below++
			}
			log.expect(conn.PhaseConnecting, i+1)
		}
		if below == 0 {
			t.Error("every wait was its ceiling: no jitter")
		}
	})

	// Connections that open, then drop: unless they lasted long enough to
	// count as stable, each drop makes the next wait longer. (The margins
	// are wide: the page may see the open event late.)
	for _, tc := range []struct {
		name     string
		url      string
		stable   time.Duration
		attempts []int
		delays   []time.Duration
	}{
		{"grows across short-lived connections", "/ws/drop-after?ms=30", time.Hour, []int{1, 2, 3, 4}, []time.Duration{5, 10, 20, 40}},
		{"resets after a stable connection", "/ws/drop-after?ms=150", 20 * time.Millisecond, []int{1, 1, 1, 1}, []time.Duration{5, 5, 5, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, log := reconnect(t, tc.url, conn.ReconnectOptions{
				MinDelay: 5 * time.Millisecond, MaxDelay: time.Second, StableAfter: tc.stable, Jitter: ceilingJitter,
			})
			log.expect(conn.PhaseConnecting, 0)
			log.expect(conn.PhaseOpen, 0)
			for i, attempt := range tc.attempts {
				s := log.expect(conn.PhaseReconnecting, attempt)
				if want := tc.delays[i] * time.Millisecond; s.Delay != want {
					t.Errorf("wait before redial %d = %v, want %v", i+1, s.Delay, want)
				}
				log.expect(conn.PhaseConnecting, attempt)
				log.expect(conn.PhaseOpen, attempt)
			}
			// OnOpen was called once per connection, each time with a new one.
			seen := map[*Conn]bool{}
			for len(log.opens) > 0 {
				seen[<-log.opens] = true
			}
			if want := len(tc.attempts) + 1; len(seen) != want {
				t.Errorf("OnOpen saw %d connections, want %d", len(seen), want)
			}
		})
	}
}

func TestReconnectOnOpenError(t *testing.T) {
	ctx := testContext(t)
	fail := true
	var opens []*Conn
	r, err := Reconnect("/ws/echo", &ReconnectOptions{Transport: TransportWebSocket, ReconnectOptions: conn.ReconnectOptions{
		MinDelay: 5 * time.Millisecond,
		Jitter:   ceilingJitter,
		OnOpen: func(c conn.Conn) error {
			opens = append(opens, c.(*Conn))
			if fail {
				fail = false
				return errors.New("not this one")
			}
			return c.WriteMessage(ctx, Text, []byte("first"))
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		r.Close(StatusNormalClosure, "")
		waitDone(t, r, 10*time.Second)
	}()
	if err := r.WriteMessage(ctx, Text, []byte("second")); !errors.Is(err, conn.ErrDisconnected) {
		t.Errorf("WriteMessage before the first connection opened = %v, want ErrDisconnected", err)
	}
	// What OnOpen wrote went first; the connection it refused was closed.
	if got := readString(ctx, r); got != "first" {
		t.Fatalf("ReadMessage = %q, want what OnOpen wrote", got)
	}
	if len(opens) != 2 {
		t.Fatalf("OnOpen called %d times, want 2", len(opens))
	}
	select {
	case <-opens[0].Done():
	case <-ctx.Done():
		t.Fatal("the connection OnOpen refused was not closed")
	}
	if s := r.State(); s.Phase != conn.PhaseOpen || s.Attempt != 1 {
		t.Errorf("state %s, want open after redial 1", describeState(s))
	}
}

func TestReconnectClose(t *testing.T) {
	t.Run("while open", func(t *testing.T) {
		ctx := testContext(t)
		r, log := reconnect(t, "/ws/echo", conn.ReconnectOptions{MinDelay: 5 * time.Millisecond})
		log.expect(conn.PhaseConnecting, 0)
		log.expect(conn.PhaseOpen, 0)
		c := <-log.opens
		if err := r.Close(StatusNormalClosure, ""); err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
		waitDone(t, r, time.Second)
		log.expect(conn.PhaseClosed, 0)
		if ce, _ := c.Err().(*CloseError); ce == nil || ce.Code != wire.StatusNormalClosure || !ce.WasClean {
			t.Errorf("the connection ended with %s, want a clean 1000", describe(ce))
		}
		if n := len(c.funcs); n != 0 {
			t.Errorf("%d js.Funcs left on the closed connection", n)
		}
		log.quiet(300*time.Millisecond, "Close stops it for good")
		if _, _, err := r.ReadMessage(ctx, nil); !errors.Is(err, ErrClosed) {
			t.Errorf("ReadMessage after Close = %v, want ErrClosed", err)
		}
		if err := r.WriteMessage(ctx, Text, []byte("x")); !errors.Is(err, ErrClosed) {
			t.Errorf("WriteMessage after Close = %v, want ErrClosed", err)
		}
		if err := r.Close(StatusNormalClosure, ""); !errors.Is(err, ErrClosed) {
			t.Errorf("second Close = %v, want ErrClosed", err)
		}
		if s := r.State(); s.Phase != conn.PhaseClosed {
			t.Errorf("State() = %s after Close", describeState(s))
		}
	})

	t.Run("while waiting to redial", func(t *testing.T) {
		r, log := reconnect(t, "/ws/no-such-endpoint", conn.ReconnectOptions{MinDelay: time.Minute, Jitter: ceilingJitter})
		log.expect(conn.PhaseConnecting, 0)
		log.expect(conn.PhaseReconnecting, 1)
		r.Close(StatusNormalClosure, "")
		waitDone(t, r, time.Second)
		log.expect(conn.PhaseClosed, 0)
		log.quiet(100*time.Millisecond, "Close stops it for good")
	})

	t.Run("while dialing", func(t *testing.T) {
		r, log := reconnect(t, "/ws/stall", conn.ReconnectOptions{})
		log.expect(conn.PhaseConnecting, 0)
		r.Close(StatusNormalClosure, "")
		waitDone(t, r, time.Second)
		log.expect(conn.PhaseClosed, 0)
	})

	t.Run("a message not yet read", func(t *testing.T) {
		ctx := testContext(t)
		r, log := reconnect(t, "/ws/echo", conn.ReconnectOptions{})
		log.expect(conn.PhaseConnecting, 0)
		log.expect(conn.PhaseOpen, 0)
		c := <-log.opens
		if err := r.WriteMessage(ctx, Text, []byte("still here")); err != nil {
			t.Fatal(err)
		}
		waitQueued(t, c, 1) // the echo has arrived before the close
		r.Close(StatusNormalClosure, "")
		waitDone(t, r, time.Second)
		if got := readString(ctx, r); got != "still here" {
			t.Errorf("ReadMessage after Close = %q, want the message received before", got)
		}
		if _, _, err := r.ReadMessage(ctx, nil); !errors.Is(err, ErrClosed) {
			t.Errorf("second ReadMessage after Close = %v, want ErrClosed", err)
		}
	})
}

// setOffline makes navigator.onLine false, or gives the browser its own
// value back and fires the online event, as the browser does when the
// network returns.
func setOffline(offline bool) {
	global := js.Global()
	nav := global.Get("navigator")
	if offline {
		global.Get("Object").Call("defineProperty", nav, "onLine", map[string]any{"configurable": true, "value": false})
		return
	}
	global.Get("Reflect").Call("deleteProperty", nav, "onLine")
	global.Call("dispatchEvent", global.Get("Event").New("online"))
}

func TestReconnectOffline(t *testing.T) {
	ctx := testContext(t)
	const delay = 10 * time.Millisecond
	r, log := reconnect(t, "/ws/drop-after?n=1", conn.ReconnectOptions{MinDelay: delay, Jitter: ceilingJitter})
	t.Cleanup(func() { setOffline(false) })
	log.expect(conn.PhaseConnecting, 0)
	log.expect(conn.PhaseOpen, 0)

	// The network goes, and the server drops the connection.
	setOffline(true)
	if err := r.WriteMessage(ctx, Text, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ReadMessage(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if s := log.expect(conn.PhaseReconnecting, 1); !s.Offline {
		t.Fatalf("state %s while the browser is offline, want offline", describeState(s))
	}
	log.quiet(300*time.Millisecond, "while offline it waits for the network")

	// The network comes back: it waits its delay, and redials.
	setOffline(false)
	if s := log.expect(conn.PhaseReconnecting, 1); s.Offline || s.Delay != delay {
		t.Errorf("state %s once online, want a wait of %v", describeState(s), delay)
	}
	log.expect(conn.PhaseConnecting, 1)
	log.expect(conn.PhaseOpen, 1)

	// Close ends a wait for the network too. (The connection was short:
	// this is redial 2.)
	setOffline(true)
	if err := r.WriteMessage(ctx, Text, []byte("y")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ReadMessage(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if s := log.expect(conn.PhaseReconnecting, 2); !s.Offline {
		t.Fatalf("state %s, want offline", describeState(s))
	}
	r.Close(StatusNormalClosure, "")
	waitDone(t, r, time.Second)
	log.expect(conn.PhaseClosed, 0)
}

// TestReconnectNoLeak checks that reconnecting, however many times, leaves
// no goroutine, no js.Func and no connection behind.
func TestReconnectNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	r, log := reconnect(t, "/ws/drop-after?ms=5", conn.ReconnectOptions{
		MinDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, Jitter: ceilingJitter,
	})
	for opens := 0; opens < 10; {
		if log.next().Phase == conn.PhaseOpen {
			opens++
		}
	}
	r.Close(StatusNormalClosure, "")
	waitDone(t, r, time.Second)
	conns := 0
	for len(log.opens) > 0 {
		c := <-log.opens
		conns++
		if n := len(c.funcs); n != 0 {
			t.Errorf("connection %d keeps %d js.Funcs", conns, n)
		}
	}
	if conns < 10 {
		t.Errorf("OnOpen saw %d connections, want at least 10", conns)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before Reconnect", n, before)
	}
}
