package natsforward

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"duplex/server/httpstream"
	"duplex/server/ws"
	"duplex/shared/streamclient"
	"duplex/shared/wire"
)

// natsServer starts a NATS server in this process, on a random loopback
// port.
func natsServer(t testing.TB) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS server did not start")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// An instance is one server instance: an echo endpoint with the fallback,
// forwarding through NATS.
type instance struct {
	srv      *httptest.Server
	fw       *Forwarder
	stats    *httpstream.Stats
	requests atomic.Int64 // requests that reached it from the proxy
}

func startInstance(t testing.TB, ns *server.Server, name string) *instance {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	fw, err := New(nc, Options{Subject: "test.stream", Instance: name})
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{fw: fw, stats: &httpstream.Stats{}}
	h := httpstream.NewEndpoint(&ws.Upgrader{}, httpstream.Config{Forwarder: fw, Stats: in.stats, StreamAge: 200 * time.Millisecond}, echo)
	if err := fw.Serve(h); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fw.Close)
	in.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(httpstream.HeaderForwarded) == "" {
			in.requests.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(in.srv.Close)
	return in
}

func echo(p httpstream.Peer) {
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

// roundRobin serves a proxy that sends each request to the next of
// backends in turn: no stickiness at all.
func roundRobin(t testing.TB, backends ...*instance) *httptest.Server {
	var next atomic.Int64
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			u, _ := url.Parse(backends[int(next.Add(1))%len(backends)].srv.URL)
			r.SetURL(u)
		},
		FlushInterval: -1,                         // pass a stream on as it comes
		ErrorLog:      log.New(io.Discard, "", 0), // clients that go mid-stream are no news
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv
}

func TestRoundRobin(t *testing.T) {
	ns := natsServer(t)
	a, b := startInstance(t, ns, "a"), startInstance(t, ns, "b")
	proxy := roundRobin(t, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	c, err := httpstream.Dial(ctx, proxy.URL+"/ws/echo", nil, &streamclient.Options{AckDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	const n = 300
	for i := range n {
		msg := "message " + strconv.Itoa(i)
		if err := c.WriteMessage(ctx, wire.Text, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.ReadMessage(ctx, nil); err != nil || string(got) != msg {
			t.Fatalf("round trip %d: %q, %v", i, got, err)
		}
		if i%50 == 49 {
			proxy.CloseClientConnections() // and the streams with them
		}
	}
	if err := c.Close(1000, ""); err != nil {
		t.Errorf("Close = %v", err)
	}
	opened := a.stats.Opened.Load() + b.stats.Opened.Load()
	t.Logf("requests: %d to a, %d to b; streams: %d by a, %d by b; POSTs taken: %d by a, %d by b",
		a.requests.Load(), b.requests.Load(), a.stats.Streams.Load(), b.stats.Streams.Load(), a.stats.Posts.Load(), b.stats.Posts.Load())
	if opened != 1 {
		t.Errorf("%d sessions opened, want 1", opened)
	}
	if a.requests.Load() < 10 || b.requests.Load() < 10 {
		t.Errorf("the proxy sent %d requests to a and %d to b: not round robin", a.requests.Load(), b.requests.Load())
	}
}

func TestOwnerGone(t *testing.T) {
	ns := natsServer(t)
	a, b := startInstance(t, ns, "a"), startInstance(t, ns, "b")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := httpstream.Dial(ctx, a.srv.URL+"/ws/echo", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := c.Limits().Session
	c.CloseNow()
	a.fw.Close() // a leaves

	req, _ := http.NewRequestWithContext(ctx, "POST", b.srv.URL+"/ws/echo?stream=up", nil)
	req.Header.Set("Duplex-Session", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Errorf("a POST for a session of an instance that left got %d, want 410", resp.StatusCode)
	}
}
