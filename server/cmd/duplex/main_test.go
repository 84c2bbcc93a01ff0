package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"duplex/server/web"
	"duplex/server/ws"
	"duplex/shared/conn"
	"duplex/shared/message"
	"duplex/shared/wire"
)

// holdOpen is a demo of this test's own, so that the test keeps to the
// core whatever demos an app keeps: an endpoint whose connections stay
// open, reading, in the site's group, as a demo's do.
func holdOpen() web.Demo {
	return web.Demo{
		Name: "hold-open",
		Path: "/hold-open",
		Page: func(web.Page) templ.Component { return templ.NopComponent },
		Mount: func(r chi.Router, env *web.Env) error {
			u := &ws.Upgrader{Group: env.Conns}
			r.Get("/ws/hold-open", func(w http.ResponseWriter, req *http.Request) {
				c, err := u.Upgrade(w, req)
				if err != nil {
					return
				}
				defer c.CloseNow()
				for {
					if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
						return
					}
				}
			})
			return nil
		},
	}
}

func TestShutdownClosesWebSocketsWithGoingAway(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	conns := &ws.Group{}
	site, err := web.NewSite(web.Config{Conns: conns, Demos: append(demos(), holdOpen())})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, slog.New(slog.DiscardHandler), site, conns) }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET /ws/hold-open HTTP/1.1\r\nHost: "+ln.Addr().String()+"\r\n"+
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}

	cancel()
	h, err := wire.ReadHeader(br)
	if err != nil {
		t.Fatalf("reading the server's close frame: %v", err)
	}
	payload := make([]byte, h.Length)
	io.ReadFull(br, payload)
	code, reason, err := wire.ParseClose(payload)
	if h.Opcode != wire.OpClose || err != nil || code != wire.StatusGoingAway {
		t.Fatalf("got %v frame with code %d %q (%v), want close 1001", h.Opcode, code, reason, err)
	}
	// Answer the close, as a client does; the server then closes TCP and
	// run returns.
	reply := wire.AppendHeader(nil, wire.Header{Fin: true, Opcode: wire.OpClose, Masked: true, Length: int64(len(payload))})
	conn.Write(append(reply, payload...)) // masked with a zero key: bytes unchanged
	if _, err := br.ReadByte(); err == nil {
		t.Error("server sent more after the closing handshake")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after shutdown")
	}
}

func TestDisplayAddr(t *testing.T) {
	bound := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	for _, tt := range []struct{ flag, want string }{
		{"localhost:8080", "localhost:8080"},
		{":8080", "localhost:8080"},
		{"0.0.0.0:8080", "localhost:8080"},
		{"127.0.0.1:0", "127.0.0.1:8080"},
	} {
		if got := displayAddr(tt.flag, bound); got != tt.want {
			t.Errorf("displayAddr(%q) = %q, want %q", tt.flag, got, tt.want)
		}
	}
	if !strings.Contains(displayAddr("[::]:0", &net.TCPAddr{IP: net.IPv6unspecified, Port: 9}), "localhost") {
		t.Error("unspecified IPv6 host not shown as localhost")
	}
}

// TestHealthzDuringShutdown: /healthz says ok while the server serves, and
// 503 as soon as shutdown begins, while connections are still draining.
func TestHealthzDuringShutdown(t *testing.T) {
	site, err := web.NewSite(web.Config{Demos: demos()})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	get := func() int {
		rec := httptest.NewRecorder()
		site.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		return rec.Code
	}
	if code := get(); code != http.StatusOK {
		t.Fatalf("/healthz while serving: %d", code)
	}
	site.Shutdown()
	if code := get(); code != http.StatusServiceUnavailable {
		t.Fatalf("/healthz during shutdown: %d, want 503", code)
	}
}

// TestMetricsMove scrapes /metrics after an echo and a chat session and
// sees the counters that describe them.
func TestMetricsMove(t *testing.T) {
	site, err := web.NewSite(web.Config{Demos: demos()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	defer site.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	echoConn, err := ws.Dial(ctx, url+"/ws/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		echoConn.WriteMessage(ctx, ws.Text, []byte("hello"))
		if _, _, err := echoConn.ReadMessage(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	go echoConn.ReadMessage(ctx, nil)
	if err := echoConn.Close(4001, "done"); err != nil {
		t.Fatal(err)
	}

	chatConn, err := ws.Dial(ctx, url+"/ws/chat", &ws.DialOptions{Subprotocols: []string{message.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	defer chatConn.CloseNow()
	for _, m := range []message.Message{&message.Join{Room: "metrics", Nick: "ann"}, &message.Send{Room: "metrics", Text: "hi"}} {
		if err := conn.WriteValue(ctx, chatConn, message.Envelope{Message: m}); err != nil {
			t.Fatal(err)
		}
	}
	for { // until ann's own message comes back
		var env message.Envelope
		if err := conn.ReadValue(ctx, chatConn, &env); err != nil {
			t.Fatal(err)
		}
		if _, ok := env.Message.(*message.Chat); ok {
			break
		}
	}

	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`duplex_websocket_handshakes_total{endpoint="echo",status="101"} 1`,
		`duplex_websocket_messages_total{endpoint="echo",direction="in"} 3`,
		`duplex_websocket_messages_total{endpoint="echo",direction="out"} 3`,
		`duplex_websocket_bytes_total{endpoint="echo",direction="in"} 15`,
		`duplex_websocket_closes_total{endpoint="echo",direction="received",code="4000"} 1`,
		`duplex_websocket_open{endpoint="chat"} 1`,
		`duplex_websocket_messages_total{endpoint="chat",direction="in"} 2`,
		`duplex_chat_rooms 1`,
		`duplex_chat_members 1`,
		`duplex_chat_published_total 1`,
		`duplex_chat_publish_seconds_count 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want+"\n") && !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
	if res, _ := http.Get(srv.URL + "/source/go.mod.go"); res.StatusCode != http.StatusNotFound {
		t.Errorf("/source/ without -source: %d, want 404", res.StatusCode)
	}
}
