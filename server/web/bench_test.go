//go:build !js

package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"duplex/server/internal/wsbench"
	"duplex/server/lab"
	"duplex/server/ws"
)

// This file measures the echo endpoint as the server runs it: through the
// production router, on the listener that records request heads for the
// protocol lab, as server/main.go serves it. The reference servers of
// package ws's own benchmarks run alongside, to show what the router and
// the listener add. The harnesses are in duplex/server/internal/wsbench.
//
//	go test ./server/web -run '^$' -bench 'EchoRoundTrip' -benchmem
//	go test ./server/web -run '^$' -bench IdleConnMemory -benchtime=1x

// serveProduction serves h as server/main.go does: on a listener whose
// connections record their request heads for the protocol lab.
func serveProduction(tb testing.TB, h http.Handler) string {
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = lab.RecordHeads(srv.Listener)
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// The production echo servers.
var (
	// duplexProduction serves /ws/echo through the production router and
	// listener.
	duplexProduction = wsbench.EchoServer{Name: "duplex", Start: func(tb testing.TB) (string, string) {
		return serveProduction(tb, NewRouter(Config{Log: slog.New(slog.DiscardHandler)})), "/ws/echo"
	}}

	// duplexWithoutLab serves /ws/echo through the production router on a
	// plain listener: what the protocol lab's recording of request heads
	// costs the other endpoints is the difference with duplexProduction.
	duplexWithoutLab = wsbench.EchoServer{Name: "duplex-nolab", Start: func(tb testing.TB) (string, string) {
		return wsbench.Serve(tb, NewRouter(Config{Log: slog.New(slog.DiscardHandler)})), "/ws/echo"
	}}
)

// BenchmarkEchoRoundTrip measures one client sending a binary message and
// waiting for its echo, on the production endpoint and on the reference
// servers.
func BenchmarkEchoRoundTrip(b *testing.B) {
	wsbench.EchoRoundTrip(b, []wsbench.EchoServer{wsbench.Floor, duplexProduction, duplexWithoutLab, wsbench.DuplexMin})
}

// duplexIdleProduction serves the production router; a connection is
// counted for as long as it is in the router's Group of connections.
var duplexIdleProduction = wsbench.IdleServer{Name: "duplex", Start: func(tb testing.TB, active *atomic.Int64) (string, string) {
	conns := &ws.Group{}
	router := NewRouter(Config{Log: slog.New(slog.DiscardHandler), Conns: conns})
	done := make(chan struct{})
	tb.Cleanup(func() { close(done) })
	go func() {
		for {
			active.Store(int64(conns.Len()))
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return serveProduction(tb, router), "/ws/echo"
}}

// BenchmarkIdleConnMemory measures the server-side memory of 10,000 idle
// connections (DUPLEX_MEMBENCH_CONNS) to the production echo endpoint, per
// connection, and of package ws's leanest loop served the same way, from a
// goroutine of its own. Run it with -benchtime=1x.
func BenchmarkIdleConnMemory(b *testing.B) {
	wsbench.IdleConnMemory(b, []wsbench.IdleServer{duplexIdleProduction, wsbench.DuplexIdleGo})
}

// TestIdleConnMemoryChild is the client process of BenchmarkIdleConnMemory.
func TestIdleConnMemoryChild(t *testing.T) { wsbench.IdleConnMemoryChild(t) }
