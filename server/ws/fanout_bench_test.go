package ws

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"
)

// BenchmarkFanOut measures what fanning a message out to 1,000 server
// connections costs the server, without a network: each connection
// writes to a net.Conn that counts and drops what it is given, so the
// time is the work of the write loop alone, undisturbed by readers. The
// messages are chat messages of 100 to 250 bytes of JSON, a different one
// each time, and 1 KiB of JSON; the connections compress with and without
// context takeover, through WriteMessage or one PreparedMessage per
// message, or do not compress ("off"). It reports ns/conn and wire-B/msg,
// what a connection sends per message. BenchmarkBroadcastCompressed
// measures the same over TCP, until clients have read the messages.
//
//	go test ./server/ws -run '^$' -bench FanOut
func BenchmarkFanOut(b *testing.B) {
	const conns = 1000
	chat := chatMessages(512)
	var json []byte
	for _, m := range chatMessages(8000) {
		json = append(append(json, m...), ',')
	}
	for _, size := range []struct {
		name string
		msg  func(i int) []byte
	}{
		{"chat", func(i int) []byte { return chat[i%len(chat)] }},
		{"1KiB", func(i int) []byte { s := (i << 10) % (len(json) - 1<<10); return json[s : s+1<<10] }},
	} {
		for _, mode := range []struct {
			name     string
			deflate  bool
			takeover bool
			prepared bool
		}{
			{"off", false, false, false},
			{"takeover", true, true, false},
			{"no-takeover", true, false, false},
			{"prepared-takeover", true, true, true},
			{"prepared-no-takeover", true, false, true},
		} {
			b.Run(size.name+"/"+mode.name, func(b *testing.B) {
				var sink countConn
				cs := make([]*Conn, conns)
				for i := range cs {
					cs[i] = newConn(&sink, nil, false, DefaultReadLimit, nil)
					if mode.deflate {
						cs[i].deflate = newDeflateState(&CompressionOptions{}, 15, mode.takeover, 15, false)
					}
				}
				ctx := context.Background()
				send := func(p []byte) {
					if mode.prepared {
						pm, _ := NewPreparedMessage(Text, p)
						for _, c := range cs {
							if err := c.WritePreparedMessage(ctx, pm); err != nil {
								b.Fatal(err)
							}
						}
						return
					}
					for _, c := range cs {
						if err := c.WriteMessage(ctx, Text, p); err != nil {
							b.Fatal(err)
						}
					}
				}
				for i := range 20 { // the contexts fill a little first
					send(size.msg(i))
				}
				sink.n = 0
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					send(size.msg(i))
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*conns), "ns/conn")
				b.ReportMetric(float64(sink.n)/float64(b.N*conns), "wire-B/msg")
			})
		}
	}
}

// A countConn is a net.Conn that counts what is written to it and drops
// it; it has nothing to read.
type countConn struct{ n int }

func (c *countConn) Write(p []byte) (int, error)      { c.n += len(p); return len(p), nil }
func (c *countConn) Read([]byte) (int, error)         { select {} }
func (c *countConn) Close() error                     { return nil }
func (c *countConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *countConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *countConn) SetDeadline(time.Time) error      { return nil }
func (c *countConn) SetReadDeadline(time.Time) error  { return nil }
func (c *countConn) SetWriteDeadline(time.Time) error { return nil }

// chatMessages returns n chat messages of 100 to 250 bytes of JSON, such
// as wsbench.JSONMessages makes (which this package's tests cannot import:
// wsbench imports this package).
func chatMessages(n int) [][]byte {
	words := strings.Fields("the a of to and is in that it for on with hello world message room general random deploy build test release server client window socket frame lunch meeting tomorrow today yes no maybe thanks")
	users := strings.Fields("alice bob carol dave erin frank grace heidi")
	r := rand.New(rand.NewPCG(4, 5))
	msgs := make([][]byte, n)
	for i := range msgs {
		var text []string
		for range 3 + r.IntN(12) {
			text = append(text, words[r.IntN(len(words))])
		}
		msgs[i] = fmt.Appendf(nil, `{"type":"message","room":"general","seq":%d,"from":%q,"text":%q,"ts":"2026-05-%02dT%02d:%02d:%02d.%03dZ"}`,
			1000+i, users[r.IntN(len(users))], strings.Join(text, " "), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000))
	}
	return msgs
}
