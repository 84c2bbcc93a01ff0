package streamclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"duplex/shared/streamwire"
	"duplex/shared/wire"
)

func TestSubprotocol(t *testing.T) {
	for _, tc := range []struct {
		offered []string
		chosen  string
		err     string
	}{
		{nil, "", ""},
		{[]string{"a", "b"}, "b", ""},
		{[]string{"a"}, "", "chose none of the subprotocols offered"},
		{nil, "x", "chose the subprotocol x, which was not offered"},
		{[]string{"a"}, "x", "chose the subprotocol x, which was not offered"},
	} {
		s := newFakeServer(t, streamwire.Hello{Subprotocol: tc.chosen})
		c, err := Dial(testContext(t), s, "http://test/ws", &Options{Subprotocols: tc.offered})
		if tc.err == "" {
			if err != nil || c.Subprotocol() != tc.chosen {
				t.Errorf("offering %q, chosen %q: Dial = %v, Subprotocol %q", tc.offered, tc.chosen, err, c.Subprotocol())
			} else {
				c.CloseNow()
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("offering %q, chosen %q: Dial = %v, want an error that says %q", tc.offered, tc.chosen, err, tc.err)
			continue
		}
		// The session it opened is let go at once.
		if req := s.request(); frames(t, req)[0].Kind != streamwire.KindAbort {
			t.Errorf("a session refused for its subprotocol is not aborted: %q", describe(frames(t, req)))
		}
	}
}

func TestDialRefused(t *testing.T) {
	refusing := doerFunc(func(ctx context.Context, req *Request) (*Response, error) {
		return &Response{Status: 403, Body: io.NopCloser(strings.NewReader("origin https://evil is not allowed\n"))}, nil
	})
	_, err := Dial(testContext(t), refusing, "http://test/ws", nil)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 403 || se.Reason != "origin https://evil is not allowed" {
		t.Errorf("Dial refused = %v, want the 403 and its reason", err)
	}
}

// TestOrder feeds frames twice and with a gap: each message is read once,
// in order, and a gap makes the connection reopen the stream after the
// last frame it took.
func TestOrder(t *testing.T) {
	s := newFakeServer(t, streamwire.Hello{})
	c, down := s.dial(nil)
	send(t, down, text(1, "one"), text(2, "two"), streamwire.Frame{Kind: streamwire.KindPing}, text(2, "two again"), text(3, "three"))
	for _, want := range []string{"one", "two", "three"} {
		if got := read(t, c); got != want {
			t.Fatalf("read %q, want %q", got, want)
		}
	}
	send(t, down, text(5, "five, before four"))
	req := s.request()
	if req.Method != "GET" || !strings.Contains(req.URL, "stream=down&after=3") || req.Session != "inst.secret" {
		t.Fatalf("after a gap, the request is %s %s (session %q), want the stream after frame 3", req.Method, req.URL, req.Session)
	}
	down = s.stream()
	send(t, down, text(4, "four"), text(5, "five"))
	for _, want := range []string{"four", "five"} {
		if got := read(t, c); got != want {
			t.Fatalf("read %q, want %q", got, want)
		}
	}
	// A stream that ends is opened again, at once.
	down.Close()
	if req := s.request(); !strings.Contains(req.URL, "after=5") {
		t.Errorf("after the stream ended, the request is %s", req.URL)
	}
}

func TestWriteAndAck(t *testing.T) {
	s := newFakeServer(t, streamwire.Hello{})
	c, down := s.dial(&Options{AckDelay: 20 * time.Millisecond})
	ctx := testContext(t)
	send(t, down, text(1, "down"))
	read(t, c)
	// Alone, an acknowledgment waits for AckDelay.
	start := time.Now()
	if got := describe(frames(t, s.request())); got != "ack:1:" {
		t.Errorf("the first POST holds %q, want an ack of frame 1", got)
	}
	if d := time.Since(start); d < 10*time.Millisecond {
		t.Errorf("the ack came after %v, before AckDelay", d)
	}
	// Messages go with the acknowledgment of what came since.
	send(t, down, text(2, "down again"))
	read(t, c)
	c.WriteMessage(ctx, wire.Text, []byte("up"))
	c.WriteMessage(ctx, wire.Binary, []byte{1, 2})
	var got []string
	for len(got) < 3 {
		for _, f := range frames(t, s.request()) {
			got = append(got, describe([]streamwire.Frame{f}))
		}
	}
	if want := "ack:2: text:1:up binary:2:\x01\x02"; strings.Join(got, " ") != want {
		t.Errorf("the POSTs hold %q, want %q", strings.Join(got, " "), want)
	}
	if w := c.Wire(); w.Posts < 2 || w.Streams != 1 {
		t.Errorf("Wire() = %+v", w)
	}
}

// TestPostRetry fails a POST on the way, then has it refused by a busy
// server: it is sent again, the same bytes, until it is accepted.
func TestPostRetry(t *testing.T) {
	s := newFakeServer(t, streamwire.Hello{})
	c, _ := s.dial(nil)
	s.script(answer{fail: true}, answer{status: 503, reason: "busy"})
	if err := c.WriteMessage(testContext(t), wire.Text, []byte("once")); err != nil {
		t.Fatal(err)
	}
	first := s.request().Body
	for range 2 {
		if again := s.request().Body; !bytes.Equal(again, first) {
			t.Fatalf("a retried POST holds % x, the first % x", again, first)
		}
	}
	if !bytes.Equal(first, bytesOf(text(1, "once"))) {
		t.Errorf("the POST holds % x", first)
	}
	time.Sleep(10 * time.Millisecond)
	if c.BufferedAmount() != 0 || c.Err() != nil {
		t.Errorf("after the POST was accepted: BufferedAmount %d, Err %v", c.BufferedAmount(), c.Err())
	}
}

// TestRefused checks that a POST the server refuses ends the connection
// with the close code a WebSocket would have ended with.
func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   wire.StatusCode
	}{
		{413, wire.StatusMessageTooBig},
		{409, wire.StatusProtocolError},
		{400, wire.StatusProtocolError},
		{403, wire.StatusPolicyViolation},
		{404, wire.StatusAbnormalClosure},
		{410, wire.StatusAbnormalClosure},
	} {
		s := newFakeServer(t, streamwire.Hello{})
		c, _ := s.dial(nil)
		s.script(answer{status: tc.status, reason: "the reason"})
		c.WriteMessage(testContext(t), wire.Text, []byte("x"))
		s.request()
		<-c.Done()
		ce, ok := c.Err().(*wire.CloseError)
		if !ok || ce.Code != tc.code || ce.Reason != strconv.Itoa(tc.status)+": the reason" {
			t.Errorf("a %d ends the connection with %v, want %d", tc.status, c.Err(), tc.code)
		}
	}
}

// TestHeartbeat checks that a stream that carries nothing for two
// heartbeats is taken for dead and opened again.
func TestHeartbeat(t *testing.T) {
	s := newFakeServer(t, streamwire.Hello{Heartbeat: 10 * time.Millisecond})
	s.dial(nil) // and the stream stays silent
	start := time.Now()
	if req := s.request(); req.Method != "GET" {
		t.Fatalf("a silent stream led to %s %s", req.Method, req.URL)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("the stream was given up after %v, before two heartbeats", d)
	}
}

// TestGiveUp checks that a connection whose stream cannot be opened again
// for the session's Timeout ends with 1006.
func TestGiveUp(t *testing.T) {
	s := newFakeServer(t, streamwire.Hello{Timeout: 100 * time.Millisecond})
	c, down := s.dial(nil)
	s.script(answer{fail: true}, answer{fail: true}, answer{fail: true}, answer{fail: true}, answer{fail: true}, answer{fail: true}, answer{fail: true}, answer{fail: true})
	down.CloseWithError(errNetwork)
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the connection did not give up")
	}
	ce, ok := c.Err().(*wire.CloseError)
	if !ok || ce.Code != wire.StatusAbnormalClosure || !strings.HasPrefix(ce.Reason, "the stream could not be reopened") {
		t.Errorf("Err = %v, want 1006", c.Err())
	}
}

func TestCloseFromServer(t *testing.T) {
	s := newFakeServer(t, streamwire.Hello{})
	c, down := s.dial(nil)
	payload, _ := wire.AppendClose(nil, 4001, "server bye")
	send(t, down, text(1, "last"), streamwire.Frame{Kind: streamwire.KindClose, Seq: 2, Payload: payload})
	if got := read(t, c); got != "last" {
		t.Fatalf("read %q", got)
	}
	// The answer, a Close with the same code, goes up before the end.
	if got := describe(frames(t, s.request())); got != "ack:2: close:1:\x0f\xa1server bye" {
		t.Errorf("the answer's POST holds %q", got)
	}
	_, _, err := c.ReadMessage(testContext(t), nil)
	if ce, ok := err.(*wire.CloseError); !ok || ce.Code != 4001 || ce.Reason != "server bye" || !ce.WasClean {
		t.Errorf("ReadMessage after the server's Close = %v", err)
	}
}

func TestCloseFromClient(t *testing.T) {
	s := newFakeServer(t, streamwire.Hello{})
	c, down := s.dial(nil)
	done := make(chan error, 1)
	go func() { done <- c.Close(1000, "bye") }()
	if got := describe(frames(t, s.request())); got != "close:1:\x03\xe8bye" {
		t.Errorf("Close POSTed %q", got)
	}
	if c.ReadyState() != Closing {
		t.Errorf("ReadyState() = %d while closing", c.ReadyState())
	}
	payload, _ := wire.AppendClose(nil, 1000, "bye")
	send(t, down, streamwire.Frame{Kind: streamwire.KindClose, Seq: 1, Payload: payload})
	if err := <-done; err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
	if err := c.WriteMessage(testContext(t), wire.Text, nil); err != wire.ErrClosed {
		t.Errorf("WriteMessage after Close = %v", err)
	}
	if c.ReadyState() != Closed {
		t.Errorf("ReadyState() = %d after Close", c.ReadyState())
	}
}

func TestCloseNow(t *testing.T) {
	s := newFakeServer(t, streamwire.Hello{})
	c, down := s.dial(nil)
	send(t, down, text(1, "unread"))
	time.Sleep(10 * time.Millisecond)
	if err := c.CloseNow(); err != nil {
		t.Fatal(err)
	}
	if got := describe(frames(t, s.request())); got != "abort:0:" {
		t.Errorf("CloseNow sent %q, want an abort", got)
	}
	if _, _, err := c.ReadMessage(testContext(t), nil); err != wire.ErrClosed {
		t.Errorf("ReadMessage after CloseNow = %v, want ErrClosed: the unread message is dropped", err)
	}
	if err := c.CloseNow(); err != wire.ErrClosed {
		t.Errorf("a second CloseNow = %v", err)
	}
}

// TestHighWater checks that WriteMessage waits while the server has not
// accepted more than HighWater bytes, and closes the connection if its
// context ends meanwhile.
func TestHighWater(t *testing.T) {
	s := newFakeServer(t, streamwire.Hello{})
	blocked := make(chan struct{})
	stuck := doerFunc(func(ctx context.Context, req *Request) (*Response, error) {
		if strings.Contains(req.URL, "stream=up") {
			<-ctx.Done() // the POST never gets an answer
			close(blocked)
			return nil, ctx.Err()
		}
		return s.Do(ctx, req)
	})
	c, err := Dial(testContext(t), stuck, "http://test/ws", &Options{HighWater: 10})
	if err != nil {
		t.Fatal(err)
	}
	s.stream()
	if err := c.WriteMessage(testContext(t), wire.Binary, make([]byte, 20)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.WriteMessage(ctx, wire.Binary, []byte("more")); err != context.DeadlineExceeded {
		t.Errorf("WriteMessage over the high-water mark = %v, want the context's end", err)
	}
	if c.Err() != wire.ErrClosed {
		t.Errorf("after that, Err = %v, want ErrClosed", c.Err())
	}
	<-blocked
}

func TestWithQuery(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"http://h/ws", "http://h/ws?stream=open&protocol=a%2Bb%26c"},
		{"http://h/ws?x=1", "http://h/ws?x=1&stream=open&protocol=a%2Bb%26c"},
	} {
		if got := withQuery(tc.url, "stream", "open", "protocol", "a+b&c"); got != tc.want {
			t.Errorf("withQuery(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

// A doerFunc is a Doer made of a function; Send does nothing.
type doerFunc func(ctx context.Context, req *Request) (*Response, error)

func (f doerFunc) Do(ctx context.Context, req *Request) (*Response, error) { return f(ctx, req) }
func (f doerFunc) Send(*Request)                                           {}
