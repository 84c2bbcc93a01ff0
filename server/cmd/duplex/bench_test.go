//go:build !js

package main

import (
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"duplex/server/internal/wsbench"
	"duplex/server/web"
	"duplex/server/ws"
)

// This file measures the echo endpoint as the server runs it: through the
// site with every demo, on the listener the demos wrap (the protocol lab
// records request heads), as main serves it. The reference servers of
// package ws's own benchmarks run alongside, to show what the router and
// the listener add. The harnesses are in duplex/server/internal/wsbench.
//
//	go test ./server/cmd/duplex -run '^$' -bench 'EchoRoundTrip' -benchmem
//	go test ./server/cmd/duplex -run '^$' -bench IdleConnMemory -benchtime=1x

// productionSite returns the site as main serves it, with every demo.
func productionSite(tb testing.TB, conns *ws.Group) *web.Site {
	site, err := web.NewSite(web.Config{Log: slog.New(slog.DiscardHandler), Conns: conns, Demos: demos()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(site.Close)
	return site
}

// serveProduction serves site as main does: on the listener its demos
// wrap, whose connections record their request heads for the lab.
func serveProduction(tb testing.TB, site *web.Site) string {
	srv := httptest.NewUnstartedServer(site)
	srv.Listener = site.Listener(srv.Listener)
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// The production echo servers.
var (
	// duplexProduction serves /ws/echo through the production router and
	// listener.
	duplexProduction = wsbench.EchoServer{Name: "duplex", Start: func(tb testing.TB) (string, string) {
		return serveProduction(tb, productionSite(tb, nil)), "/ws/echo"
	}}

	// duplexWithoutLab serves /ws/echo through the production router on a
	// plain listener: what the protocol lab's recording of request heads
	// costs the other endpoints is the difference with duplexProduction.
	duplexWithoutLab = wsbench.EchoServer{Name: "duplex-nolab", Start: func(tb testing.TB) (string, string) {
		return wsbench.Serve(tb, productionSite(tb, nil)), "/ws/echo"
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
	site := productionSite(tb, conns)
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
	return serveProduction(tb, site), "/ws/echo"
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
