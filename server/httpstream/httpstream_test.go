package httpstream

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"duplex/server/ws"
	"duplex/shared/streamclient"
	"duplex/shared/streamwire"
	"duplex/shared/wire"
)

func TestEcho(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c := ts.dial(t, &streamclient.Options{Subprotocols: []string{"chat", "echo"}})
	if got := c.Subprotocol(); got != "echo" {
		t.Errorf("Subprotocol() = %q, want echo", got)
	}
	ctx := testContext(t)
	msgs := []struct {
		typ  wire.MessageType
		data []byte
	}{
		{wire.Text, []byte("hello")},
		{wire.Binary, []byte{0, 1, 2, 0xff}},
		{wire.Text, []byte("")},
		{wire.Binary, bytes.Repeat([]byte("0123456789abcdef"), 40_000)}, // 640 KB: several reads
		{wire.Text, []byte("Grüße 👋")},
	}
	for _, m := range msgs {
		if err := c.WriteMessage(ctx, m.typ, m.data); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range msgs {
		typ, data, err := c.ReadMessage(ctx, nil)
		if err != nil || typ != m.typ || !bytes.Equal(data, m.data) {
			t.Fatalf("ReadMessage = %v, %d bytes, %v; want %v, %d bytes", typ, len(data), err, m.typ, len(m.data))
		}
	}
	if err := c.Close(4000, "bye"); err != nil {
		t.Errorf("Close = %v, want nil: the handshake completes", err)
	}
	if ce, ok := c.Err().(*wire.CloseError); !ok || ce.Code != 4000 || ce.Reason != "bye" || !ce.WasClean {
		t.Errorf("the client's Err = %v, want a clean 4000 bye", c.Err())
	}
	p := ts.next(t)
	if ce, ok := waitDone(t, p).(*wire.CloseError); !ok || ce.Code != 4000 || !ce.WasClean {
		t.Errorf("the server's Err = %v, want the client's clean 4000", p.Err())
	}
}

func TestWebSocketAtTheSamePath(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c, err := ws.Dial(testContext(t), "ws"+strings.TrimPrefix(ts.URL, "http"), &ws.DialOptions{Subprotocols: []string{"echo"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	roundTrip(t, c, "over WebSocket")
	if _, ok := ts.next(t).(*ws.Conn); !ok {
		t.Error("the endpoint did not get a *ws.Conn")
	}
	if n := ts.Stats.Opened.Load(); n != 0 {
		t.Errorf("%d stream sessions opened, want none", n)
	}
}

func TestSubprotocol(t *testing.T) {
	ts := startServer(t, Config{Upgrader: &ws.Upgrader{Subprotocols: []string{"v2", "v1"}}}, nil)
	for _, tc := range []struct {
		offered []string
		want    string
		err     string
	}{
		{nil, "", ""},
		{[]string{"v1"}, "v1", ""},
		{[]string{"v1", "v2"}, "v2", ""}, // the server's preference
		{[]string{"v3"}, "", "chose none of the subprotocols"},
	} {
		c, err := Dial(testContext(t), ts.URL, nil, &streamclient.Options{Subprotocols: tc.offered})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("offering %q: Dial = %v, want an error that says %q", tc.offered, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("offering %q: %v", tc.offered, err)
		}
		if got := c.Subprotocol(); got != tc.want {
			t.Errorf("offering %q: Subprotocol() = %q, want %q", tc.offered, got, tc.want)
		}
		c.CloseNow()
	}
}

func TestOrigin(t *testing.T) {
	ts := startServer(t, Config{Upgrader: &ws.Upgrader{AllowedOrigins: []string{"*.example.com"}}}, nil)
	host := strings.TrimPrefix(ts.Server.URL, "http://")
	for _, tc := range []struct {
		origin string
		status int
	}{
		{"", 200}, // not a browser
		{"http://" + host, 200},
		{"https://app.example.com", 200},
		{"https://evil.example", 403},
		{"null", 403},
	} {
		req, _ := http.NewRequest("POST", ts.URL+"?stream=open", nil)
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("an open from origin %q got %d, want %d", tc.origin, resp.StatusCode, tc.status)
		}
	}

	// A session answers only its own origin, or none.
	c := ts.dial(t, nil)
	id := c.Limits().Session
	if status, reason := ts.request(t, "POST", "stream=up", id, nil, "Origin", "https://app.example.com"); status != 403 {
		t.Errorf("a POST from another origin than the opener's got %d %q, want 403", status, reason)
	}
	roundTrip(t, c, "still fine")
}

// pace slows a sender down, so that the network fails many times while
// it sends: after every 10th message, it waits 2 ms.
func pace(i int) {
	if i%10 == 9 {
		time.Sleep(2 * time.Millisecond)
	}
}

// TestLossless cuts every TCP connection again and again while both sides
// send numbered messages, and checks that each side receives each
// message once, in order.
func TestLossless(t *testing.T) {
	const n = 2000
	received := make(chan []string, 1)
	ts := startServer(t, Config{}, func(p Peer) {
		defer p.CloseNow()
		ctx := context.Background()
		go func() {
			for i := range n {
				if err := p.WriteMessage(ctx, wire.Text, []byte("down "+strconv.Itoa(i))); err != nil {
					return
				}
				pace(i)
			}
		}()
		var got []string
		for len(got) < n {
			_, msg, err := p.ReadMessage(ctx, nil)
			if err != nil {
				break
			}
			got = append(got, string(msg))
		}
		received <- got
		<-p.Done()
	})
	c := ts.dial(t, &streamclient.Options{AckDelay: 5 * time.Millisecond})
	ctx := testContext(t)

	stop := make(chan struct{})
	cuts := make(chan int)
	go func() { // the network fails every few milliseconds
		count := 0
		defer func() { cuts <- count }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(7 * time.Millisecond):
				ts.cut()
				count++
			}
		}
	}()
	go func() {
		for i := range n {
			if err := c.WriteMessage(ctx, wire.Text, []byte("up "+strconv.Itoa(i))); err != nil {
				t.Errorf("WriteMessage %d: %v", i, err)
				return
			}
			pace(i)
		}
	}()
	for i := range n {
		_, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			t.Fatalf("ReadMessage %d: %v", i, err)
		}
		if want := "down " + strconv.Itoa(i); string(msg) != want {
			t.Fatalf("message %d reads %q, want %q", i, msg, want)
		}
	}
	var up []string
	select {
	case up = <-received:
	case <-ctx.Done():
		t.Fatal("the server did not receive every message")
	}
	close(stop)
	t.Logf("%d messages each way through %d cuts; %d streams, %d POSTs", n, <-cuts, ts.Stats.Streams.Load(), ts.Stats.Posts.Load())
	for i, m := range up {
		if want := "up " + strconv.Itoa(i); m != want {
			t.Fatalf("the server's message %d reads %q, want %q", i, m, want)
		}
	}
	if len(up) != n {
		t.Fatalf("the server received %d messages, want %d", len(up), n)
	}
	if n := ts.Stats.Opened.Load(); n != 1 {
		t.Errorf("%d sessions opened, want 1: the cuts must not end it", n)
	}
	if err := c.Close(1000, ""); err != nil {
		t.Errorf("Close after the cuts = %v", err)
	}
}

// TestBadRequests sends each bad request to a session of its own, and
// checks the status and reason, what became of that session, and that
// another session goes on undisturbed.
func TestBadRequests(t *testing.T) {
	ts := startServer(t, Config{Upgrader: &ws.Upgrader{ReadLimit: 100}, MaxPost: 1000}, nil)
	bystander := ts.dial(t, nil)
	ts.next(t)
	big := strings.Repeat("x", 101)
	for _, tc := range []struct {
		name   string
		do     func(id string) (int, string)
		status int
		reason string
		ends   wire.StatusCode // how the session ends; 0: it goes on
	}{
		{"message over the read limit", func(id string) (int, string) { return ts.post(t, id, text(1, big)) },
			413, "message 1 of 101 bytes exceeds the limit of 100", wire.StatusMessageTooBig},
		{"body over MaxPost", func(id string) (int, string) {
			return ts.request(t, "POST", "stream=up", id, bytes.Repeat(streamwire.AppendFrame(nil, text(1, "x")), 300))
		}, 413, "a POST body may hold at most 1000 bytes", wire.StatusMessageTooBig},
		{"frame out of order", func(id string) (int, string) { return ts.post(t, id, text(2, "skips 1")) },
			409, "out of order: frame 1 comes next, not 2", 0},
		{"malformed frame", func(id string) (int, string) { return ts.request(t, "POST", "stream=up", id, []byte{3, 1, 0}) },
			400, "malformed frame: streamwire: unknown frame kind", wire.StatusProtocolError},
		{"frame cut short", func(id string) (int, string) { return ts.request(t, "POST", "stream=up", id, []byte{1, 1, 5, 'a'}) },
			400, "malformed frame: the body ends inside a frame", wire.StatusProtocolError},
		{"text not UTF-8", func(id string) (int, string) { return ts.post(t, id, text(1, "\xff")) },
			400, "text message 1 is not valid UTF-8", wire.StatusInvalidPayloadData},
		{"ping up", func(id string) (int, string) { return ts.post(t, id, streamwire.Frame{Kind: streamwire.KindPing}) },
			400, "a client may not send a ping frame", wire.StatusProtocolError},
		{"ack of frames never sent", func(id string) (int, string) {
			return ts.post(t, id, streamwire.Frame{Kind: streamwire.KindAck, Seq: 99})
		},
			400, "an ack of frame 99 acknowledges frames that were never sent", wire.StatusProtocolError},
		{"resume after frames never sent", func(id string) (int, string) { return ts.request(t, "GET", "stream=down&after=99", id, nil) },
			409, "the client asks for the frames after 99, but the last sent is 0", 0},
		{"resume without after", func(id string) (int, string) { return ts.request(t, "GET", "stream=down", id, nil) },
			400, "the after parameter must be the number of the last frame received", 0},
		{"unknown session", func(id string) (int, string) { return ts.post(t, id[:len(id)-2]+"AA", text(1, "x")) },
			404, "unknown session: it never existed here, or ended long ago", 0},
		{"no session", func(id string) (int, string) { return ts.post(t, "", text(1, "x")) },
			400, "the Duplex-Session header must hold a session id", 0},
		{"wrong method", func(id string) (int, string) { return ts.request(t, "GET", "stream=up", id, nil) },
			405, "a stream up request must use POST, not GET", 0},
		{"unknown request", func(id string) (int, string) { return ts.request(t, "POST", "stream=sideways", id, nil) },
			400, `unknown stream request "sideways": want open, down or up`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ts.dial(t, nil)
			p := ts.next(t)
			status, reason := tc.do(c.Limits().Session)
			if status != tc.status || reason != tc.reason {
				t.Errorf("got %d %q, want %d %q", status, reason, tc.status, tc.reason)
			}
			if tc.ends == 0 {
				roundTrip(t, c, "unharmed")
			} else {
				if code := wire.CloseStatus(waitDone(t, p)); code != tc.ends {
					t.Errorf("the endpoint's connection ended with %v (%d), want %d", p.Err(), code, tc.ends)
				}
				if code := wire.CloseStatus(waitDone(t, c)); code != tc.ends {
					t.Errorf("the client's connection ended with %v, want %d", c.Err(), tc.ends)
				}
			}
			roundTrip(t, bystander, "undisturbed")
		})
	}
}

func TestGone(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c := ts.dial(t, nil)
	id := c.Limits().Session
	p := ts.next(t)
	if err := c.Close(1000, "done"); err != nil {
		t.Fatal(err)
	}
	waitDone(t, p)
	// Once the session has lingered, it is gone, and says why.
	deadline := time.Now().Add(2 * closeTimeout)
	for {
		status, reason := ts.post(t, id, text(9, "late"))
		if status == 410 {
			if want := `the session has ended: closed with 1000: done`; reason != want {
				t.Errorf("410 with %q, want %q", reason, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a POST to a closed session got %d %q, never 410", status, reason)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestCloseFromServer(t *testing.T) {
	closed := make(chan error, 1)
	ts := startServer(t, Config{}, func(p Peer) {
		p.WriteMessage(context.Background(), wire.Text, []byte("last words"))
		closed <- p.Close(4001, "server bye")
	})
	c := ts.dial(t, nil)
	ctx := testContext(t)
	if _, msg, err := c.ReadMessage(ctx, nil); err != nil || string(msg) != "last words" {
		t.Fatalf("ReadMessage = %q, %v", msg, err)
	}
	_, _, err := c.ReadMessage(ctx, nil)
	if ce, ok := err.(*wire.CloseError); !ok || ce.Code != 4001 || ce.Reason != "server bye" || !ce.WasClean {
		t.Errorf("ReadMessage after the server's Close = %v, want a clean 4001", err)
	}
	if err := <-closed; err != nil {
		t.Errorf("the server's Close = %v, want nil: the client answered", err)
	}
}

func TestCloseNow(t *testing.T) {
	t.Run("client", func(t *testing.T) {
		ts := startServer(t, Config{}, nil)
		c := ts.dial(t, nil)
		p := ts.next(t)
		c.CloseNow()
		if err := waitDone(t, p); wire.CloseStatus(err) != wire.StatusAbnormalClosure {
			t.Errorf("after the client's CloseNow, the server's Err = %v, want 1006", err)
		}
		if _, _, err := c.ReadMessage(testContext(t), nil); err != wire.ErrClosed {
			t.Errorf("ReadMessage after CloseNow = %v, want ErrClosed", err)
		}
	})
	t.Run("server", func(t *testing.T) {
		ts := startServer(t, Config{}, nil)
		c := ts.dial(t, nil)
		ts.next(t).CloseNow()
		err := waitDone(t, c)
		if ce, ok := err.(*wire.CloseError); !ok || ce.Code != wire.StatusAbnormalClosure || !strings.Contains(ce.Reason, "410") {
			t.Errorf("after the server's CloseNow, the client's Err = %v, want 1006 with the 410's reason", err)
		}
	})
}

func TestTimeout(t *testing.T) {
	ts := startServer(t, Config{Timeout: 100 * time.Millisecond, Heartbeat: 20 * time.Millisecond}, nil)
	// A client that opens and vanishes: its stream ends, and nothing more
	// comes.
	req, _ := http.NewRequest("POST", ts.URL+"?stream=open", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	p := ts.next(t)
	start := time.Now()
	err = waitDone(t, p)
	if ce, ok := err.(*wire.CloseError); !ok || ce.Code != wire.StatusAbnormalClosure {
		t.Errorf("the vanished client's session ended with %v, want 1006", err)
	}
	t.Logf("dropped %v after its stream ended", time.Since(start).Round(time.Millisecond))

	// A client that stays quiet keeps its session: its stream is open.
	c := ts.dial(t, nil)
	time.Sleep(300 * time.Millisecond)
	roundTrip(t, c, "still here")
}

func TestStreamAge(t *testing.T) {
	ts := startServer(t, Config{StreamAge: 30 * time.Millisecond}, nil)
	c := ts.dial(t, nil)
	for i := range 20 {
		roundTrip(t, c, "message "+strconv.Itoa(i))
		time.Sleep(5 * time.Millisecond)
	}
	if n := ts.Stats.Streams.Load(); n < 2 {
		t.Errorf("%d streams in 100 ms of 30 ms streams", n)
	}
}

func TestLifetime(t *testing.T) {
	ts := startServer(t, Config{MaxLifetime: 50 * time.Millisecond, Timeout: 40 * time.Millisecond}, nil)
	c := ts.dial(t, nil)
	err := waitDone(t, c)
	if ce, ok := err.(*wire.CloseError); !ok || ce.Code != wire.StatusGoingAway || ce.Reason != "the session has lasted 50ms" {
		t.Errorf("a session past its lifetime ended with %v, want 1001", err)
	}
}

func TestStopping(t *testing.T) {
	stopping := make(chan struct{})
	ts := startServer(t, Config{Stopping: stopping}, nil)
	c := ts.dial(t, nil)
	close(stopping)
	err := waitDone(t, c)
	if ce, ok := err.(*wire.CloseError); !ok || ce.Code != wire.StatusGoingAway || ce.Reason != "the server is shutting down" {
		t.Errorf("at shutdown, the session ended with %v, want 1001", err)
	}
	_, err = Dial(testContext(t), ts.URL, nil, nil)
	var se *streamclient.StatusError
	if !errors.As(err, &se) || se.Status != 503 {
		t.Errorf("an open during shutdown = %v, want 503", err)
	}
}

func TestMaxSessions(t *testing.T) {
	ts := startServer(t, Config{MaxSessions: 2}, nil)
	ts.dial(t, nil)
	ts.dial(t, nil)
	_, err := Dial(testContext(t), ts.URL, nil, nil)
	var se *streamclient.StatusError
	if !errors.As(err, &se) || se.Status != 503 || !strings.Contains(se.Reason, "holds 2 sessions") {
		t.Errorf("a third open = %v, want 503", err)
	}
}

// TestWindow checks that a client that acknowledges nothing makes the
// server's writes wait once a Window is unacknowledged.
func TestWindow(t *testing.T) {
	wrote := make(chan int, 1)
	ts := startServer(t, Config{Window: 1000}, func(p Peer) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		n := 0
		for ; n < 100; n++ {
			if p.WriteMessage(ctx, wire.Binary, make([]byte, 97)) != nil { // 100 bytes framed
				break
			}
		}
		wrote <- n
	})
	req, _ := http.NewRequest("POST", ts.URL+"?stream=open", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close() // read nothing, acknowledge nothing
	if n := <-wrote; n != 10 {
		t.Errorf("%d messages of 100 bytes written into a window of 1000, want 10", n)
	}
}

func TestParseID(t *testing.T) {
	id := newID("inst-1")
	for _, tc := range []struct {
		id, instance string
		ok           bool
	}{
		{id, "inst-1", true},
		{"a." + strings.Repeat("A", 22), "a", true},
		{"", "", false},
		{"inst-1", "", false},
		{".AAAAAAAAAAAAAAAAAAAAAA", "", false},
		{"a.AAAAAAAAAAAAAAAAAAAAAB", "", false}, // padding bits set
		{"a.AAAAAAAAAAAAAAAAAAAAA", "", false},
		{"a.AAAAAAAAAAAAAAAAAAAA+A", "", false},
		{"a.b.AAAAAAAAAAAAAAAAAAAAAA", "", false},
		{strings.Repeat("i", 33) + ".AAAAAAAAAAAAAAAAAAAAAA", "", false},
		{"in st.AAAAAAAAAAAAAAAAAAAAAA", "", false},
	} {
		instance, ok := parseID(tc.id)
		if instance != tc.instance || ok != tc.ok {
			t.Errorf("parseID(%q) = %q, %v; want %q, %v", tc.id, instance, ok, tc.instance, tc.ok)
		}
	}
	if a, b := newID("x"), newID("x"); a == b {
		t.Error("two ids alike")
	}
}
