package thirdparty

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/lxzan/gws"

	"duplex/server/internal/wsbench"
	"duplex/server/ws"
)

// This file compares the servers' permessage-deflate with gws's, which
// uses the same flate package: the echo of JSON-like text, and the memory
// of idle connections that agreed on compression. From this directory:
//
//	go test -run '^$' -bench DeflateEcho
//	go test -run '^$' -bench IdleConnMemory -benchtime=1x

// deflateEchoServers are the echo servers with compression: duplex with
// its defaults (context takeover, against a 2 KiB dictionary) and without
// context takeover; gws with its defaults (no context takeover, a pool of
// 8 compressors) and with context takeover (a compressor and a
// decompressor for each connection, windows of 32 KiB).
var deflateEchoServers = []struct {
	name  string
	start func(tb testing.TB) string // returns the ws:// URL
}{
	{"duplex", func(tb testing.TB) string { return startDuplexDeflateEcho(tb, &ws.CompressionOptions{}) }},
	{"duplex-no-takeover", func(tb testing.TB) string {
		return startDuplexDeflateEcho(tb, &ws.CompressionOptions{NoContextTakeover: true})
	}},
	{"gws", func(tb testing.TB) string { return startGWSDeflateEcho(tb, false) }},
	{"gws-takeover", func(tb testing.TB) string { return startGWSDeflateEcho(tb, true) }},
	{"duplex-off", func(tb testing.TB) string { return startDuplexDeflateEcho(tb, nil) }},
}

func startDuplexDeflateEcho(tb testing.TB, opts *ws.CompressionOptions) string {
	u := &ws.Upgrader{Compression: opts, ReadLimit: 16 << 20}
	return "ws://" + wsbench.Serve(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		go wsbench.DuplexEcho(c)
	})) + "/"
}

// gwsDeflateOptions are gws's server options with compression, its
// defaults but for context takeover, with full windows like duplex's.
func gwsDeflateOptions(takeover bool) *gws.ServerOption {
	pd := gws.PermessageDeflate{Enabled: true}
	if takeover {
		pd.ServerContextTakeover, pd.ClientContextTakeover = true, true
		pd.ServerMaxWindowBits, pd.ClientMaxWindowBits = 15, 15
	}
	return &gws.ServerOption{PermessageDeflate: pd, ReadMaxPayloadSize: 16 << 20}
}

func startGWSDeflateEcho(tb testing.TB, takeover bool) string {
	u := gws.NewUpgrader(gwsEcho{}, gwsDeflateOptions(takeover))
	return "ws://" + wsbench.Serve(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		socket, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		go socket.ReadLoop()
	})) + "/"
}

// BenchmarkDeflateEcho measures one client sending JSON-like text of 1 KiB
// or 64 KiB, a different slice of a long text each time, and waiting for
// its echo, with compression agreed, on each server in turn. The client is
// duplex's, offering compression as a browser does
// ("permessage-deflate; client_max_window_bits"), so what differs between
// runs is the server. Besides ns/op it reports msg/s, the round trips per
// second; cpu-µs/msg, the CPU time the process (client and server) spent
// per round trip, which other load on the machine disturbs less than the
// elapsed time; and up-B/msg and down-B/msg, the bytes on the wire each
// way per message, frame headers included.
func BenchmarkDeflateEcho(b *testing.B) {
	text := wsbench.JSONText(4 << 20)
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}} {
		for _, s := range deflateEchoServers {
			b.Run(size.name+"/"+s.name, func(b *testing.B) {
				var up, down atomic.Int64
				ctx := context.Background()
				c, err := ws.Dial(ctx, s.start(b), &ws.DialOptions{
					Compression: &ws.CompressionOptions{},
					ReadLimit:   16 << 20,
					NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
						nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
						return &meteredConn{Conn: nc, read: &down, written: &up}, err
					},
				})
				if err != nil {
					b.Fatal(err)
				}
				defer c.CloseNow()
				msg := func(i int) []byte {
					start := (i * 997 * size.n / 1000) % (len(text) - size.n)
					return text[start : start+size.n]
				}
				var buf []byte
				roundTrip := func(i int) {
					if err := c.WriteMessage(ctx, ws.Text, msg(i)); err != nil {
						b.Fatal(err)
					}
					if _, buf, err = c.ReadMessage(ctx, buf); err != nil {
						b.Fatal(err)
					}
				}
				for i := range 10 {
					roundTrip(i)
					if !bytes.Equal(buf, msg(i)) {
						b.Fatal("the echo differs from the message")
					}
				}
				up.Store(0)
				down.Store(0)
				b.SetBytes(int64(size.n))
				b.ReportAllocs()
				cpu := processCPU()
				i := 0
				for b.Loop() {
					roundTrip(i)
					i++
				}
				b.ReportMetric(float64(processCPU()-cpu)/float64(b.N)/1e3, "cpu-µs/msg")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
				b.ReportMetric(float64(up.Load())/float64(b.N), "up-B/msg")
				b.ReportMetric(float64(down.Load())/float64(b.N), "down-B/msg")
			})
		}
	}
}

// A meteredConn counts the bytes read from it and written to it.
type meteredConn struct {
	net.Conn
	read, written *atomic.Int64
}

func (c *meteredConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *meteredConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// startGWSDeflateIdle runs gws's read loop, with compression, in a
// goroutine of its own.
func startGWSDeflateIdle(tb testing.TB, active *atomic.Int64, takeover bool) (string, string) {
	u := gws.NewUpgrader(gwsEcho{}, gwsDeflateOptions(takeover))
	return wsbench.Serve(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		socket, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		active.Add(1)
		go func() {
			defer active.Add(-1)
			socket.ReadLoop()
		}()
	})), "/"
}

// processCPU returns the CPU time the process has used, user and system,
// in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
