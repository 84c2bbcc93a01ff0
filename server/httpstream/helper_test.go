package httpstream

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"duplex/server/ws"
	"duplex/shared/streamclient"
	"duplex/shared/streamwire"
	"duplex/shared/wire"
)

// testContext bounds a test's waits.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A testServer serves an endpoint at /ws/echo, both transports, and hands
// each connection to the test through conns; by default the endpoint
// echoes every message.
type testServer struct {
	*httptest.Server
	URL   string // the endpoint's http URL
	Stats *Stats
	conns chan Peer

	server  *Server
	tracked *trackingListener
}

// cut closes every TCP connection the server has accepted, streams taken
// over from net/http included, as a network that fails does.
func (ts *testServer) cut() int { return ts.tracked.closeAll() }

// A trackingListener keeps the connections it accepts, to close them.
type trackingListener struct {
	net.Listener

	mu    sync.Mutex
	conns []net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) closeAll() int {
	l.mu.Lock()
	conns := l.conns
	l.conns = nil
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return len(conns)
}

// startServer serves an endpoint whose connections serve runs; nil
// serve echoes. cfg's Upgrader, if nil, offers the subprotocol "echo".
func startServer(t testing.TB, cfg Config, serve func(Peer)) *testServer {
	t.Helper()
	if serve == nil {
		serve = echo
	}
	ts := &testServer{conns: make(chan Peer, 64), Stats: &Stats{}}
	if cfg.Upgrader == nil {
		cfg.Upgrader = &ws.Upgrader{Subprotocols: []string{"echo"}}
	}
	if cfg.Stats == nil {
		cfg.Stats = ts.Stats
	}
	h := NewEndpoint(cfg.Upgrader, cfg, func(p Peer) {
		select {
		case ts.conns <- p:
		default:
		}
		serve(p)
	})
	ts.server = h.Streams()
	ts.Server = httptest.NewUnstartedServer(h)
	ts.tracked = &trackingListener{Listener: ts.Server.Listener}
	ts.Server.Listener = ts.tracked
	ts.Server.Start()
	ts.URL = ts.Server.URL + "/ws/echo"
	t.Cleanup(ts.Server.Close)
	return ts
}

// echo sends every message back until the connection ends.
func echo(p Peer) {
	defer p.CloseNow()
	ctx := context.Background()
	for {
		typ, msg, err := p.ReadMessage(ctx, nil)
		if err != nil {
			return
		}
		if err := p.WriteMessage(ctx, typ, msg); err != nil {
			return
		}
	}
}

// next returns the next connection the endpoint got.
func (ts *testServer) next(t testing.TB) Peer {
	t.Helper()
	select {
	case p := <-ts.conns:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("the endpoint got no connection")
		return nil
	}
}

// dial opens a session with the native client and closes it when the
// test ends.
func (ts *testServer) dial(t testing.TB, opts *streamclient.Options) *streamclient.Conn {
	t.Helper()
	c, err := Dial(testContext(t), ts.URL, nil, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// request makes a raw request of the transport and returns its status
// and body.
func (ts *testServer) request(t testing.TB, method, query, session string, body []byte, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(testContext(t), method, ts.URL+"?"+query, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if session != "" {
		req.Header.Set(streamwire.HeaderSession, session)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// post sends frames up as a raw POST.
func (ts *testServer) post(t testing.TB, session string, frames ...streamwire.Frame) (int, string) {
	t.Helper()
	var body []byte
	for _, f := range frames {
		body = streamwire.AppendFrame(body, f)
	}
	return ts.request(t, "POST", "stream=up", session, body)
}

// roundTrip sends msg on c and checks that it comes back.
func roundTrip(t testing.TB, c interface {
	WriteMessage(context.Context, wire.MessageType, []byte) error
	ReadMessage(context.Context, []byte) (wire.MessageType, []byte, error)
}, msg string) {
	t.Helper()
	ctx := testContext(t)
	if err := c.WriteMessage(ctx, wire.Text, []byte(msg)); err != nil {
		t.Fatalf("WriteMessage(%q): %v", msg, err)
	}
	typ, got, err := c.ReadMessage(ctx, nil)
	if err != nil || typ != wire.Text || string(got) != msg {
		t.Fatalf("ReadMessage = %v %q, %v; want text %q", typ, got, err, msg)
	}
}

// text returns a text frame.
func text(seq uint64, s string) streamwire.Frame {
	return streamwire.Frame{Kind: streamwire.KindText, Seq: seq, Payload: []byte(s)}
}

// waitDone waits for c to end and returns its Err.
func waitDone(t testing.TB, c interface {
	Done() <-chan struct{}
	Err() error
}) error {
	t.Helper()
	select {
	case <-c.Done():
		return c.Err()
	case <-time.After(10 * time.Second):
		t.Fatal("the connection did not end")
		return nil
	}
}
