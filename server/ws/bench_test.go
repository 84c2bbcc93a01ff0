package ws_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gobwas "github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	"duplex/server/lab"
	"duplex/server/web"
	"duplex/server/ws"
	"duplex/shared/handshake"
	"duplex/shared/wire"
)

// This file compares the server with other Go WebSocket libraries. All of
// them are driven by the same raw client, built on package wire, which does
// not allocate once connected, so the allocations a benchmark reports are
// the server's.
//
//	go test ./server/ws -run '^$' -bench 'EchoRoundTrip|Broadcast' -benchmem
//	go test ./server/ws -run '^$' -bench IdleConnMemory -benchtime=1x

// --- the raw client ---

// benchKey is the Sec-WebSocket-Key of every benchmark client.
const benchKey = "dGhlIHNhbXBsZSBub25jZQ=="

// benchMask is the masking key of every frame the benchmark clients send.
var benchMask = [4]byte{0x5a, 0xc3, 0x0f, 0x96}

var (
	errBenchFrame   = errors.New("bench client: unexpected masked or control frame from the server")
	errBenchTooLong = errors.New("bench client: message longer than expected")
	errBenchLength  = errors.New("bench client: message shorter than expected")
	errBenchOpcode  = errors.New("bench client: unexpected message type")
)

// handshakeRequest is the opening handshake sent for path to host.
func handshakeRequest(host, path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + benchKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
}

// benchClient is a WebSocket client that sends one prepared message and
// reads messages into a buffer of the expected size, without allocating.
type benchClient struct {
	conn net.Conn
	br   *bufio.Reader
	out  []byte      // the masked frame to send
	op   wire.Opcode // type of the message expected back
	in   []byte      // room for the message expected back
	hdr  [wire.MaxHeaderSize]byte
}

// dialBench connects to addr and performs the opening handshake for path.
func dialBench(tb testing.TB, addr, path string) *benchClient {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, handshakeRequest(addr, path)); err != nil {
		tb.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		tb.Fatalf("handshake: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != handshake.AcceptKey(benchKey) {
		tb.Fatalf("handshake: %s, Sec-WebSocket-Accept %q", resp.Status, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	conn.SetDeadline(time.Time{})
	return &benchClient{conn: conn, br: br}
}

// setMessage prepares the message that send writes, and makes room for an
// echo of it.
func (c *benchClient) setMessage(op wire.Opcode, p []byte) {
	h := wire.Header{Fin: true, Opcode: op, Masked: true, Mask: benchMask, Length: int64(len(p))}
	c.out = wire.AppendHeader(c.out[:0], h)
	start := len(c.out)
	c.out = append(c.out, p...)
	wire.Mask(benchMask, 0, c.out[start:])
	c.expect(op, len(p))
}

// expect makes room for messages of type op and n bytes.
func (c *benchClient) expect(op wire.Opcode, n int) {
	c.op = op
	if cap(c.in) < n {
		c.in = make([]byte, n)
	}
	c.in = c.in[:n]
}

func (c *benchClient) send() error {
	_, err := c.conn.Write(c.out)
	return err
}

// receive reads one message, in as many frames as the server used, into
// c.in, and checks its type and length.
func (c *benchClient) receive() error {
	n := 0
	for i := 0; ; i++ {
		if _, err := io.ReadFull(c.br, c.hdr[:2]); err != nil {
			return err
		}
		size := wire.HeaderSize(c.hdr[0], c.hdr[1])
		if _, err := io.ReadFull(c.br, c.hdr[2:size]); err != nil {
			return err
		}
		h, _, err := wire.ParseHeader(c.hdr[:size])
		switch {
		case err != nil:
			return err
		case h.Masked || h.Opcode.IsControl():
			return errBenchFrame
		case i == 0 && h.Opcode != c.op, i > 0 && h.Opcode != wire.OpContinuation:
			return errBenchOpcode
		case h.Length > int64(len(c.in)-n):
			return errBenchTooLong
		}
		m := n + int(h.Length)
		if _, err := io.ReadFull(c.br, c.in[n:m]); err != nil {
			return err
		}
		n = m
		if h.Fin {
			break
		}
	}
	if n != len(c.in) {
		return errBenchLength
	}
	return nil
}

func (c *benchClient) roundTrip() error {
	if err := c.send(); err != nil {
		return err
	}
	return c.receive()
}

// --- echo servers ---

// An echoServer starts a server and returns the address and path of its
// echo endpoint.
type echoServer struct {
	name  string
	start func(tb testing.TB) (addr, path string)
}

var echoServers = []echoServer{
	{"floor", startFloorEcho},
	{"duplex", startDuplexProduction},
	{"duplex-nolab", startDuplexWithoutLab},
	{"duplex-min", startDuplexMinimal},
	{"gws", startGWSEcho},
	{"gorilla", startGorillaEcho},
	{"gorilla-stream", startGorillaStreamEcho},
}

func serveHTTP(tb testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// serveProduction serves h as server/main.go does: on a listener whose
// connections record their request heads for the protocol lab.
func serveProduction(tb testing.TB, h http.Handler) string {
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = lab.RecordHeads(srv.Listener)
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// startDuplexProduction serves the production echo handler, through the
// production router and listener.
func startDuplexProduction(tb testing.TB) (string, string) {
	router := web.NewRouter(web.Config{Log: slog.New(slog.DiscardHandler)})
	return serveProduction(tb, router), "/ws/echo"
}

// startDuplexWithoutLab serves the production echo handler on a plain
// listener: what the protocol lab's recording of request heads costs the
// other endpoints is the difference with startDuplexProduction.
func startDuplexWithoutLab(tb testing.TB) (string, string) {
	router := web.NewRouter(web.Config{Log: slog.New(slog.DiscardHandler)})
	return serveHTTP(tb, router), "/ws/echo"
}

// startDuplexMinimal serves the leanest echo loop ws allows: ReadMessage
// into the previous message's memory, without a context to watch.
func startDuplexMinimal(tb testing.TB) (string, string) {
	return serveHTTP(tb, http.HandlerFunc(duplexMinimalHandler)), "/"
}

var duplexUpgrader = &ws.Upgrader{}

func duplexMinimalHandler(w http.ResponseWriter, r *http.Request) {
	c, err := duplexUpgrader.Upgrade(w, r)
	if err != nil {
		return
	}
	duplexEchoLoop(c)
}

func duplexEchoLoop(c *ws.Conn) {
	defer c.CloseNow()
	ctx := context.Background()
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(ctx, buf)
		if err != nil {
			return
		}
		if err := c.WriteMessage(ctx, typ, msg); err != nil {
			return
		}
		buf = msg
	}
}

// gwsEcho is a gws event handler that writes every message back.
type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnMessage(socket *gws.Conn, message *gws.Message) {
	socket.WriteMessage(message.Opcode, message.Bytes())
	message.Close()
}

var gwsUpgrader = gws.NewUpgrader(gwsEcho{}, &gws.ServerOption{ParallelEnabled: false})

func startGWSEcho(tb testing.TB) (string, string) {
	return serveHTTP(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	return serveHTTP(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	return serveHTTP(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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

// startFloorEcho serves a raw echo that does the least work possible: no
// checks, frames echoed one by one, buffers allocated once per
// connection. It is the floor the real servers are measured against.
func startFloorEcho(tb testing.TB) (string, string) {
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
			go floorEcho(conn)
		}
	}()
	return ln.Addr().String(), "/"
}

func floorEcho(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + handshake.AcceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
	if _, err := io.WriteString(conn, resp); err != nil {
		return
	}
	hdr := make([]byte, wire.MaxHeaderSize)
	var buf []byte
	for {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return
		}
		size := wire.HeaderSize(hdr[0], hdr[1])
		if _, err := io.ReadFull(br, hdr[2:size]); err != nil {
			return
		}
		h, _, err := wire.ParseHeader(hdr[:size])
		if err != nil || h.Opcode == wire.OpClose {
			return
		}
		out := wire.Header{Fin: h.Fin, Opcode: h.Opcode, Length: h.Length}
		if n := out.Size() + int(h.Length); cap(buf) < n {
			buf = make([]byte, n)
		}
		frame := wire.AppendHeader(buf[:0], out)
		payload := buf[len(frame) : len(frame)+int(h.Length)]
		if _, err := io.ReadFull(br, payload); err != nil {
			return
		}
		wire.Mask(h.Mask, 0, payload)
		if _, err := conn.Write(buf[:len(frame)+len(payload)]); err != nil {
			return
		}
	}
}

// TestBenchClientNoAllocs checks the premise of the comparisons: the
// benchmark client, with the floor server, makes round trips without
// allocating.
func TestBenchClientNoAllocs(t *testing.T) {
	addr, path := startFloorEcho(t)
	c := dialBench(t, addr, path)
	c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	for _, n := range []int{16, 1 << 10, 64 << 10} {
		msg := bytes.Repeat([]byte{0xa5}, n)
		c.setMessage(wire.OpBinary, msg)
		if err := c.roundTrip(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.in, msg) {
			t.Fatalf("%d B: the echo differs", n)
		}
		var err error
		allocs := testing.AllocsPerRun(200, func() {
			if e := c.roundTrip(); e != nil {
				err = e
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if allocs != 0 {
			t.Errorf("%d B: a round trip allocates %v times, want 0", n, allocs)
		}
	}
}

// BenchmarkEchoRoundTrip measures one client sending a binary message and
// waiting for its echo, on each server in turn.
func BenchmarkEchoRoundTrip(b *testing.B) {
	sizes := []struct {
		name string
		n    int
	}{{"16B", 16}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}}
	for _, s := range echoServers {
		for _, size := range sizes {
			b.Run(s.name+"/"+size.name, func(b *testing.B) {
				addr, path := s.start(b)
				c := dialBench(b, addr, path)
				msg := make([]byte, size.n)
				for i := range msg {
					msg[i] = byte(i*7 + 3)
				}
				c.setMessage(wire.OpBinary, msg)
				if err := c.roundTrip(); err != nil {
					b.Fatal(err)
				}
				if !bytes.Equal(c.in, msg) {
					b.Fatal("the echo differs from the message")
				}
				b.SetBytes(int64(size.n))
				b.ReportAllocs()
				for b.Loop() {
					if err := c.roundTrip(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// --- broadcast ---

// broadcastConns is the number of clients a broadcast reaches.
const broadcastConns = 1000

// registry collects a server's connections as they are upgraded.
type registry[T any] struct {
	mu    sync.Mutex
	conns []T
}

func (r *registry[T]) add(c T) {
	r.mu.Lock()
	r.conns = append(r.conns, c)
	r.mu.Unlock()
}

func (r *registry[T]) all() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns
}

// A broadcastServer starts a server whose connections only read, and
// returns its address and a function that waits for n connections and
// returns a function writing a text message to all of them.
type broadcastServer struct {
	name  string
	start func(tb testing.TB) (addr string, connect func(n int) func(p []byte) error)
}

var broadcastServers = []broadcastServer{
	{"duplex", startDuplexBroadcast},
	{"gws", func(tb testing.TB) (string, func(int) func([]byte) error) { return startGWSBroadcast(tb, false) }},
	{"gws-broadcaster", func(tb testing.TB) (string, func(int) func([]byte) error) { return startGWSBroadcast(tb, true) }},
	{"gorilla", func(tb testing.TB) (string, func(int) func([]byte) error) { return startGorillaBroadcast(tb, false) }},
	{"gorilla-prepared", func(tb testing.TB) (string, func(int) func([]byte) error) { return startGorillaBroadcast(tb, true) }},
}

// waitFor returns the first n connections of reg once there are n.
func waitFor[T any](tb testing.TB, reg *registry[T], n int) []T {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if conns := reg.all(); len(conns) >= n {
			return conns[:n]
		}
		if time.Now().After(deadline) {
			tb.Fatalf("only %d of %d connections reached the server", len(reg.all()), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func startDuplexBroadcast(tb testing.TB) (string, func(int) func([]byte) error) {
	reg := &registry[*ws.Conn]{}
	addr := serveHTTP(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := duplexUpgrader.Upgrade(w, r)
		if err != nil {
			return
		}
		reg.add(c)
		duplexEchoLoop(c)
	}))
	return addr, func(n int) func([]byte) error {
		conns := waitFor(tb, reg, n)
		ctx := context.Background()
		return func(p []byte) error {
			for _, c := range conns {
				if err := c.WriteMessage(ctx, ws.Text, p); err != nil {
					return err
				}
			}
			return nil
		}
	}
}

func startGWSBroadcast(tb testing.TB, broadcaster bool) (string, func(int) func([]byte) error) {
	reg := &registry[*gws.Conn]{}
	addr := serveHTTP(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		socket, err := gwsUpgrader.Upgrade(w, r)
		if err != nil {
			return
		}
		reg.add(socket)
		socket.ReadLoop()
	}))
	return addr, func(n int) func([]byte) error {
		conns := waitFor(tb, reg, n)
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
	reg := &registry[*gorilla.Conn]{}
	addr := serveHTTP(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := gorillaUpgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		reg.add(c)
		gorillaEchoLoop(c)
	}))
	return addr, func(n int) func([]byte) error {
		conns := waitFor(tb, reg, n)
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

// BenchmarkBroadcast measures writing one 64-byte text message to each of
// 1,000 connections, until every client has read it. Each client reads in
// its own goroutine.
func BenchmarkBroadcast(b *testing.B) {
	for _, s := range broadcastServers {
		b.Run(s.name, func(b *testing.B) {
			addr, connect := s.start(b)
			msg := bytes.Repeat([]byte("broadcast"), 8)[:64]
			clients := make([]*benchClient, broadcastConns)
			for i := range clients {
				clients[i] = dialBench(b, addr, "/")
				clients[i].expect(wire.OpText, len(msg))
			}
			broadcast := connect(broadcastConns)

			var (
				remaining atomic.Int64
				stopping  atomic.Bool
				done      = make(chan struct{}, 1)
				failed    = make(chan error, 1)
				readers   sync.WaitGroup
			)
			for _, c := range clients {
				readers.Add(1)
				go func() {
					defer readers.Done()
					for {
						if err := c.receive(); err != nil {
							if !stopping.Load() {
								select {
								case failed <- err:
								default:
								}
							}
							return
						}
						if remaining.Add(-1) == 0 {
							done <- struct{}{}
						}
					}
				}()
			}
			defer func() {
				stopping.Store(true)
				for _, c := range clients {
					c.conn.Close()
				}
				readers.Wait()
			}()

			// One broadcast outside the measurement, checking the content.
			remaining.Store(broadcastConns)
			if err := broadcast(msg); err != nil {
				b.Fatal(err)
			}
			select {
			case <-done:
			case err := <-failed:
				b.Fatal(err)
			}
			for _, c := range clients {
				if !bytes.Equal(c.in, msg) {
					b.Fatal("a client received a different message")
				}
			}

			b.ReportAllocs()
			var writing time.Duration // spent in the server's write loop
			for b.Loop() {
				remaining.Store(broadcastConns)
				start := time.Now()
				if err := broadcast(msg); err != nil {
					b.Fatal(err)
				}
				writing += time.Since(start)
				select {
				case <-done:
				case err := <-failed:
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*broadcastConns), "ns/conn")
			b.ReportMetric(float64(writing.Nanoseconds())/float64(b.N*broadcastConns), "write-ns/conn")
		})
	}
}

// --- memory of idle connections ---

// idleDialEnv, when set to "addr,path,count", turns the test binary into
// the client side of BenchmarkIdleConnMemory: TestIdleConnMemoryChild opens
// count connections to addr, prints "ready" and waits for its stdin to
// close. The clients live in their own process so that each process stays
// under the limit on open files, and the server's memory is measured alone.
const idleDialEnv = "DUPLEX_MEMBENCH_DIAL"

// idleConnsEnv overrides the number of connections, 10,000 by default.
const idleConnsEnv = "DUPLEX_MEMBENCH_CONNS"

// idleProfileEnv, if set to a directory, makes BenchmarkIdleConnMemory
// write a heap profile there for each server while its connections are
// open, to see what they hold: go tool pprof -sample_index=inuse_space.
const idleProfileEnv = "DUPLEX_MEMBENCH_HEAPPROFILE"

// An idleServer starts a server that counts its live WebSocket
// connections in active, and returns the address and path to dial.
type idleServer struct {
	name  string
	start func(tb testing.TB, active *atomic.Int64) (addr, path string)
}

var idleServers = []idleServer{
	{"duplex", startDuplexIdleProduction},
	{"duplex-min", func(tb testing.TB, active *atomic.Int64) (string, string) { return startDuplexIdle(tb, active, false) }},
	{"duplex-go", func(tb testing.TB, active *atomic.Int64) (string, string) { return startDuplexIdle(tb, active, true) }},
	{"gws", func(tb testing.TB, active *atomic.Int64) (string, string) { return startGWSIdle(tb, active, false) }},
	{"gws-go", func(tb testing.TB, active *atomic.Int64) (string, string) { return startGWSIdle(tb, active, true) }},
	{"gorilla", startGorillaIdle},
	{"gobwas", startGobwasIdle},
}

// startDuplexIdleProduction serves the production router; a connection is
// counted for as long as it is in the router's Group of connections.
func startDuplexIdleProduction(tb testing.TB, active *atomic.Int64) (string, string) {
	conns := &ws.Group{}
	router := web.NewRouter(web.Config{Log: slog.New(slog.DiscardHandler), Conns: conns})
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
}

// startDuplexIdle serves the minimal echo loop, in the handler's goroutine
// or, with spawn, in a goroutine of its own so that the handler returns and
// net/http lets go of the request's memory.
func startDuplexIdle(tb testing.TB, active *atomic.Int64, spawn bool) (string, string) {
	return serveHTTP(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := duplexUpgrader.Upgrade(w, r)
		if err != nil {
			return
		}
		active.Add(1)
		if spawn {
			go func() {
				defer active.Add(-1)
				duplexEchoLoop(c)
			}()
			return
		}
		defer active.Add(-1)
		duplexEchoLoop(c)
	})), "/"
}

// startGWSIdle runs gws's read loop in the handler or, with spawn, in a
// goroutine of its own, as gws's documentation does.
func startGWSIdle(tb testing.TB, active *atomic.Int64, spawn bool) (string, string) {
	return serveHTTP(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	return serveHTTP(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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

// BenchmarkIdleConnMemory measures the server-side memory of idle
// WebSocket connections: the growth of the heap and of goroutine stacks in
// use once 10,000 connections are open and idle, per connection. The
// clients run in a child process. Run it with -benchtime=1x.
func BenchmarkIdleConnMemory(b *testing.B) {
	if testing.Short() {
		b.Skip("skipping in -short mode: opens 10,000 connections")
	}
	count := 10_000
	if s := os.Getenv(idleConnsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("%s=%q: want a positive number", idleConnsEnv, s)
		}
		count = n
	}
	exe, err := os.Executable()
	if err != nil {
		b.Skipf("cannot re-execute the test binary: %v", err)
	}
	for _, s := range idleServers {
		b.Run(s.name, func(b *testing.B) {
			measureIdle(b, exe, s, count)
		})
	}
}

func settleMemory() {
	runtime.GC()
	runtime.GC()
}

// waitCount waits until active holds want.
func waitCount(tb testing.TB, active *atomic.Int64, want int64, what string) {
	deadline := time.Now().Add(time.Minute)
	for active.Load() != want {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: %d connections active, want %d", what, active.Load(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func measureIdle(b *testing.B, exe string, s idleServer, count int) {
	var active atomic.Int64
	addr, path := s.start(b, &active)

	settleMemory()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()

	cmd := exec.Command(exe, "-test.run=^TestIdleConnMemoryChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), idleDialEnv+"="+addr+","+path+","+strconv.Itoa(count))
	out := &readyWatcher{ready: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	finished := false
	finish := func() error { // closing stdin lets the child close its connections and exit
		if finished {
			return nil
		}
		finished = true
		stdin.Close()
		select {
		case err := <-exited:
			return err
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			return errors.New("the client process did not exit")
		}
	}
	defer finish()

	select {
	case <-out.ready:
	case err := <-exited:
		finished = true
		b.Fatalf("the client process ended (%v) before it was ready:\n%s", err, out.String())
	case <-time.After(3 * time.Minute):
		b.Fatalf("the client process did not get ready:\n%s", out.String())
	}
	waitCount(b, &active, int64(count), "before measuring")
	time.Sleep(time.Second) // let every connection settle into its idle read

	settleMemory()
	runtime.ReadMemStats(&after)
	goroutines = runtime.NumGoroutine() - goroutines
	if n := active.Load(); n != int64(count) {
		b.Fatalf("%d connections active after the measurement, want %d", n, count)
	}

	if dir := os.Getenv(idleProfileEnv); dir != "" {
		f, err := os.Create(filepath.Join(dir, "idle-"+s.name+".pprof"))
		if err != nil {
			b.Fatal(err)
		}
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatal(err)
		}
	}

	heap := float64(int64(after.HeapInuse) - int64(before.HeapInuse))
	stack := float64(int64(after.StackInuse) - int64(before.StackInuse))
	perConn := func(x float64) float64 { return x / float64(count) / 1024 }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(perConn(heap+stack), "KiB/conn")
	b.ReportMetric(perConn(heap), "heap-KiB/conn")
	b.ReportMetric(perConn(stack), "stack-KiB/conn")
	b.ReportMetric(float64(goroutines)/float64(count), "goroutines/conn")

	if err := finish(); err != nil {
		b.Fatalf("client process: %v\n%s", err, out.String())
	}
	waitCount(b, &active, 0, "after the clients left")
}

// readyWatcher collects the output of the client process and closes
// ready once it has printed a line saying "ready".
type readyWatcher struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	seen  bool
}

func (w *readyWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if b := w.buf.Bytes(); !w.seen && (bytes.HasPrefix(b, []byte("ready\n")) || bytes.Contains(b, []byte("\nready\n"))) {
		w.seen = true
		close(w.ready)
	}
	return len(p), nil
}

func (w *readyWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestIdleConnMemoryChild is the client process of BenchmarkIdleConnMemory.
func TestIdleConnMemoryChild(t *testing.T) {
	spec := os.Getenv(idleDialEnv)
	if spec == "" {
		t.Skip("helper process for BenchmarkIdleConnMemory; runs only with " + idleDialEnv + " set")
	}
	parts := strings.Split(spec, ",")
	if len(parts) != 3 {
		t.Fatalf("%s=%q: want addr,path,count", idleDialEnv, spec)
	}
	addr, path := parts[0], parts[1]
	count, err := strconv.Atoi(parts[2])
	if err != nil {
		t.Fatal(err)
	}

	conns := make([]net.Conn, count)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	var (
		next    atomic.Int64
		errOnce sync.Once
		dialErr error
		wg      sync.WaitGroup
	)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				c, err := idleDial(addr, path)
				if err != nil {
					errOnce.Do(func() { dialErr = fmt.Errorf("connection %d: %w", i, err) })
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if dialErr != nil {
		t.Fatal(dialErr)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
}

// idleDial opens a connection and performs the opening handshake, reading
// the response into a small array rather than through net/http.
func idleDial(addr, path string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, handshakeRequest(addr, path)); err != nil {
		c.Close()
		return nil, err
	}
	var buf [1024]byte
	n := 0
	for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
		if n == len(buf) {
			c.Close()
			return nil, errors.New("handshake response too long")
		}
		m, err := c.Read(buf[n:])
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("reading the handshake response: %w", err)
		}
		n += m
	}
	if !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 101 ")) {
		c.Close()
		line, _, _ := bytes.Cut(buf[:n], []byte("\r\n"))
		return nil, fmt.Errorf("handshake refused: %s", line)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}
