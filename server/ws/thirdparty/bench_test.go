package thirdparty

import (
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	gobwas "github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	"duplex/server/internal/wsbench"
)

// This file compares the server with other Go WebSocket libraries' servers.
// All of them are driven by the same raw client, built on package wire,
// which does not allocate once connected, so the allocations a benchmark
// reports are the server's. The harnesses, the client and the duplex
// servers are those of duplex/server/ws's own benchmarks, in
// duplex/server/internal/wsbench. From this directory:
//
//	go test -run '^$' -bench 'EchoRoundTrip|Broadcast' -benchmem
//	go test -run '^$' -bench IdleConnMemory -benchtime=1x
//
// client_bench_test.go compares clients instead: BenchmarkClientEchoRoundTrip.

// --- echo round trip ---

// BenchmarkEchoRoundTrip measures one client sending a binary message and
// waiting for its echo, on each server in turn.
func BenchmarkEchoRoundTrip(b *testing.B) {
	wsbench.EchoRoundTrip(b, []wsbench.EchoServer{
		wsbench.Floor,
		wsbench.DuplexMin,
		{Name: "gws", Start: startGWSEcho},
		{Name: "gorilla", Start: startGorillaEcho},
		{Name: "gorilla-stream", Start: startGorillaStreamEcho},
	})
}

// gwsEcho is a gws event handler that writes every message back.
type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnMessage(socket *gws.Conn, message *gws.Message) {
	socket.WriteMessage(message.Opcode, message.Bytes())
	message.Close()
}

var gwsUpgrader = gws.NewUpgrader(gwsEcho{}, &gws.ServerOption{ParallelEnabled: false})

func startGWSEcho(tb testing.TB) (string, string) {
	return wsbench.Serve(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		socket, err := gwsUpgrader.Upgrade(w, r)
		if err != nil {
			return
		}
		socket.ReadLoop()
	})), "/"
}

var gorillaUpgrader = &gorilla.Upgrader{}

// startGorillaEcho echoes with ReadMessage and WriteMessage: a fresh
// buffer per message, but a single frame and a single write per echo.
func startGorillaEcho(tb testing.TB) (string, string) {
	return wsbench.Serve(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := gorillaUpgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(typ, p); err != nil {
				return
			}
		}
	})), "/"
}

// startGorillaStreamEcho streams each message from NextReader to
// NextWriter, whose ReadFrom reads straight into the write buffer: no
// buffer per message, but a frame (and a write) per 4 KiB of buffer.
func startGorillaStreamEcho(tb testing.TB) (string, string) {
	return wsbench.Serve(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := gorillaUpgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		gorillaEchoLoop(c)
	})), "/"
}

// gorillaEchoLoop echoes from NextReader to NextWriter until an error.
func gorillaEchoLoop(c *gorilla.Conn) {
	defer c.Close()
	for {
		typ, r, err := c.NextReader()
		if err != nil {
			return
		}
		w, err := c.NextWriter(typ)
		if err != nil {
			return
		}
		if _, err := io.Copy(w, r); err != nil {
			return
		}
		if err := w.Close(); err != nil {
			return
		}
	}
}

// --- broadcast ---

// BenchmarkBroadcast measures writing one 64-byte text message to each of
// 1,000 connections, until every client has read it. Each client reads in
// its own goroutine.
func BenchmarkBroadcast(b *testing.B) {
	wsbench.Broadcast(b, []wsbench.BroadcastServer{
		wsbench.DuplexBroadcast,
		{Name: "gws", Start: func(tb testing.TB) (string, func(int) func([]byte) error) { return startGWSBroadcast(tb, false) }},
		{Name: "gws-broadcaster", Start: func(tb testing.TB) (string, func(int) func([]byte) error) { return startGWSBroadcast(tb, true) }},
		{Name: "gorilla", Start: func(tb testing.TB) (string, func(int) func([]byte) error) { return startGorillaBroadcast(tb, false) }},
		{Name: "gorilla-prepared", Start: func(tb testing.TB) (string, func(int) func([]byte) error) { return startGorillaBroadcast(tb, true) }},
	})
}

func startGWSBroadcast(tb testing.TB, broadcaster bool) (string, func(int) func([]byte) error) {
	reg := &wsbench.Registry[*gws.Conn]{}
	addr := wsbench.Serve(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		socket, err := gwsUpgrader.Upgrade(w, r)
		if err != nil {
			return
		}
		reg.Add(socket)
		socket.ReadLoop()
	}))
	return addr, func(n int) func([]byte) error {
		conns := wsbench.WaitFor(tb, reg, n)
		if broadcaster {
			return func(p []byte) error {
				bc := gws.NewBroadcaster(gws.OpcodeText, p)
				defer bc.Close()
				for _, c := range conns {
					if err := bc.Broadcast(c); err != nil {
						return err
					}
				}
				return nil
			}
		}
		return func(p []byte) error {
			for _, c := range conns {
				if err := c.WriteMessage(gws.OpcodeText, p); err != nil {
					return err
				}
			}
			return nil
		}
	}
}

func startGorillaBroadcast(tb testing.TB, prepared bool) (string, func(int) func([]byte) error) {
	reg := &wsbench.Registry[*gorilla.Conn]{}
	addr := wsbench.Serve(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := gorillaUpgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		reg.Add(c)
		gorillaEchoLoop(c)
	}))
	return addr, func(n int) func([]byte) error {
		conns := wsbench.WaitFor(tb, reg, n)
		if prepared {
			return func(p []byte) error {
				pm, err := gorilla.NewPreparedMessage(gorilla.TextMessage, p)
				if err != nil {
					return err
				}
				for _, c := range conns {
					if err := c.WritePreparedMessage(pm); err != nil {
						return err
					}
				}
				return nil
			}
		}
		return func(p []byte) error {
			for _, c := range conns {
				if err := c.WriteMessage(gorilla.TextMessage, p); err != nil {
					return err
				}
			}
			return nil
		}
	}
}

// --- memory of idle connections ---

// BenchmarkIdleConnMemory measures the server-side memory of idle
// WebSocket connections: the growth of the heap and of goroutine stacks in
// use once 10,000 connections (DUPLEX_MEMBENCH_CONNS) are open and idle,
// per connection; then with compression agreed, after a message was
// echoed, against duplex after a message without compression. The clients
// run in a child process. Run it with -benchtime=1x.
func BenchmarkIdleConnMemory(b *testing.B) {
	wsbench.IdleConnMemory(b, []wsbench.IdleServer{
		wsbench.DuplexIdleMin,
		wsbench.DuplexIdleGo,
		{Name: "gws", Start: func(tb testing.TB, active *atomic.Int64) (string, string) { return startGWSIdle(tb, active, false) }},
		{Name: "gws-go", Start: func(tb testing.TB, active *atomic.Int64) (string, string) { return startGWSIdle(tb, active, true) }},
		{Name: "gorilla", Start: startGorillaIdle},
		{Name: "gobwas", Start: startGobwasIdle},

		// With compression agreed, after a message was echoed
		// (deflate_bench_test.go).
		wsbench.DuplexIdleMessage,
		wsbench.DuplexIdleDeflate,
		wsbench.DuplexIdleDeflateNoTakeover,
		{Name: "gws-deflate", Deflate: true, Start: func(tb testing.TB, active *atomic.Int64) (string, string) {
			return startGWSDeflateIdle(tb, active, false)
		}},
		{Name: "gws-deflate-takeover", Deflate: true, Start: func(tb testing.TB, active *atomic.Int64) (string, string) {
			return startGWSDeflateIdle(tb, active, true)
		}},
	})
}

// TestIdleConnMemoryChild is the client process of BenchmarkIdleConnMemory.
func TestIdleConnMemoryChild(t *testing.T) { wsbench.IdleConnMemoryChild(t) }

// startGWSIdle runs gws's read loop in the handler or, with spawn, in a
// goroutine of its own, as gws's documentation does.
func startGWSIdle(tb testing.TB, active *atomic.Int64, spawn bool) (string, string) {
	return wsbench.Serve(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		socket, err := gwsUpgrader.Upgrade(w, r)
		if err != nil {
			return
		}
		active.Add(1)
		if spawn {
			go func() {
				defer active.Add(-1)
				socket.ReadLoop()
			}()
			return
		}
		defer active.Add(-1)
		socket.ReadLoop()
	})), "/"
}

func startGorillaIdle(tb testing.TB, active *atomic.Int64) (string, string) {
	return wsbench.Serve(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := gorillaUpgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		active.Add(1)
		defer active.Add(-1)
		gorillaEchoLoop(c)
	})), "/"
}

// startGobwasIdle serves gobwas/ws without net/http: a goroutine per
// connection upgrades it and echoes what wsutil.ReadClientData returns.
func startGobwasIdle(tb testing.TB, active *atomic.Int64) (string, string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if _, err := gobwas.Upgrade(conn); err != nil {
					return
				}
				active.Add(1)
				defer active.Add(-1)
				for {
					p, op, err := wsutil.ReadClientData(conn)
					if err != nil {
						return
					}
					if err := wsutil.WriteServerMessage(conn, op, p); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), "/"
}
