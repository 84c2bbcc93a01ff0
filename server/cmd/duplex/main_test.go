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

	"duplex/server/web"
	"duplex/server/ws"
	"duplex/shared/wire"
)

func TestShutdownClosesWebSocketsWithGoingAway(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	conns := &ws.Group{}
	site, err := web.NewSite(web.Config{Conns: conns, Demos: demos()})
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
	io.WriteString(conn, "GET /ws/echo HTTP/1.1\r\nHost: "+ln.Addr().String()+"\r\n"+
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
