package ws_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"duplex/server/internal/wsbench"
	"duplex/server/ws"
)

// This file measures the server alone: ws's leanest echo loop against the
// floor, a raw echo that does the least work possible. A raw client built
// on package wire drives them; it does not allocate once connected, so the
// allocations a benchmark reports are the server's. The harnesses are in
// duplex/server/internal/wsbench.
//
//	go test ./server/ws -run '^$' -bench 'EchoRoundTrip|Broadcast' -benchmem
//	go test ./server/ws -run '^$' -bench IdleConnMemory -benchtime=1x
//
// The same benchmarks compare duplex with other Go WebSocket libraries in
// the nested module duplex/server/ws/thirdparty, and measure the
// production router, with and without the protocol lab's listener, in
// duplex/server/web.

// BenchmarkEchoRoundTrip measures one client sending a binary message and
// waiting for its echo, on each server in turn.
func BenchmarkEchoRoundTrip(b *testing.B) {
	wsbench.EchoRoundTrip(b, []wsbench.EchoServer{wsbench.Floor, wsbench.DuplexMin})
}

// BenchmarkBroadcast measures writing one 64-byte text message to each of
// 1,000 connections, until every client has read it.
func BenchmarkBroadcast(b *testing.B) {
	wsbench.Broadcast(b, []wsbench.BroadcastServer{wsbench.DuplexBroadcast})
}

// BenchmarkIdleConnMemory measures the server-side memory of 10,000 idle
// connections (DUPLEX_MEMBENCH_CONNS), per connection, served from the
// handler and from a goroutine of their own, and with compression agreed,
// with and without context takeover, after a message. Run it with
// -benchtime=1x.
func BenchmarkIdleConnMemory(b *testing.B) {
	wsbench.IdleConnMemory(b, []wsbench.IdleServer{
		wsbench.DuplexIdleMin, wsbench.DuplexIdleGo,
		wsbench.DuplexIdleMessage, wsbench.DuplexIdleDeflate, wsbench.DuplexIdleDeflateNoTakeover,
	})
}

// TestIdleConnMemoryChild is the client process of BenchmarkIdleConnMemory.
func TestIdleConnMemoryChild(t *testing.T) { wsbench.IdleConnMemoryChild(t) }

// BenchmarkBroadcastCompressed measures fanning a message out to 1,000
// connections that agreed on compression, until every client has read
// it, as a chat room does, a different message each time: chat messages
// of 100 to 250 bytes of JSON, and 1 KiB. The server writes with
// WriteMessage to each connection, with and without context takeover, or
// with one PreparedMessage per broadcast; "off" is the same without
// compression. Besides ns/op it reports write-ns/conn, the time spent in
// the server's loop of writes, and wire-B/msg, what a client reads per
// message.
//
//	go test ./server/ws -run '^$' -bench BroadcastCompressed
func BenchmarkBroadcastCompressed(b *testing.B) {
	type mode struct {
		name     string
		opts     *ws.CompressionOptions
		prepared bool
	}
	modes := []mode{
		{"off", nil, false},
		{"takeover", &ws.CompressionOptions{}, false},
		{"no-takeover", &ws.CompressionOptions{NoContextTakeover: true}, false},
		{"prepared-takeover", &ws.CompressionOptions{}, true},
		{"prepared-no-takeover", &ws.CompressionOptions{NoContextTakeover: true}, true},
	}
	next := wsbench.JSONMessages(2)
	json := wsbench.JSONText(1 << 20)
	for _, size := range []struct {
		name string
		msg  func(i int) []byte
	}{
		{"chat", func(int) []byte { return next() }},
		{"1KiB", func(i int) []byte { s := (i << 10) % (len(json) - 1<<10); return json[s : s+1<<10] }},
	} {
		for _, m := range modes {
			b.Run(size.name+"/"+m.name, func(b *testing.B) {
				broadcastCompressed(b, m.opts, m.prepared, size.msg)
			})
		}
	}
}

func broadcastCompressed(b *testing.B, opts *ws.CompressionOptions, prepared bool, msg func(i int) []byte) {
	const conns = 1000
	u := &ws.Upgrader{Compression: opts}
	reg := &wsbench.Registry[*ws.Conn]{}
	addr := wsbench.Serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		reg.Add(c)
		c.ReadMessage(context.Background(), nil) // until the client leaves
	}))
	var wireBytes atomic.Int64
	dialOpts := &ws.DialOptions{
		Compression: &ws.CompressionOptions{},
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			return &countingConn{Conn: nc, n: &wireBytes}, err
		},
	}
	ctx := context.Background()
	var remaining atomic.Int64
	done := make(chan struct{}, 1)
	failed := make(chan error, 1)
	var readers sync.WaitGroup
	clients := make([]*ws.Conn, conns)
	for i := range clients {
		c, err := ws.Dial(ctx, "ws://"+addr+"/", dialOpts)
		if err != nil {
			b.Fatal(err)
		}
		clients[i] = c
		readers.Go(func() {
			var buf []byte
			for {
				_, m, err := c.ReadMessage(ctx, buf)
				if err != nil {
					if !errors.Is(err, ws.ErrClosed) {
						select {
						case failed <- err:
						default:
						}
					}
					return
				}
				buf = m
				if remaining.Add(-1) == 0 {
					done <- struct{}{}
				}
			}
		})
	}
	defer func() {
		for _, c := range clients {
			c.CloseNow()
		}
		readers.Wait()
	}()
	servers := wsbench.WaitFor(b, reg, conns)
	send := func(p []byte) error {
		if prepared {
			pm, err := ws.NewPreparedMessage(ws.Text, p)
			if err != nil {
				return err
			}
			for _, c := range servers {
				if err := c.WritePreparedMessage(ctx, pm); err != nil {
					return err
				}
			}
			return nil
		}
		for _, c := range servers {
			if err := c.WriteMessage(ctx, ws.Text, p); err != nil {
				return err
			}
		}
		return nil
	}
	broadcast := func(p []byte) time.Duration {
		remaining.Store(conns)
		start := time.Now()
		if err := send(p); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		select {
		case <-done:
		case err := <-failed:
			b.Fatal(err)
		}
		return took
	}
	for i := range 20 { // the connections' contexts fill a little first
		broadcast(msg(i))
	}
	wireBytes.Store(0)
	var writing time.Duration
	i := 0
	for b.Loop() {
		i++
		writing += broadcast(msg(i))
	}
	b.ReportMetric(float64(writing.Nanoseconds())/float64(b.N*conns), "write-ns/conn")
	b.ReportMetric(float64(wireBytes.Load())/float64(b.N*conns), "wire-B/msg")
}

// A countingConn counts the bytes read from it.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}
