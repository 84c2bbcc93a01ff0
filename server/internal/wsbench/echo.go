package wsbench

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"duplex/server/ws"
	"duplex/shared/handshake"
	"duplex/shared/wire"
)

// An EchoServer starts a server and returns the address and path of its
// echo endpoint.
type EchoServer struct {
	Name  string
	Start func(tb testing.TB) (addr, path string)
}

// The reference echo servers, which every EchoRoundTrip table starts with.
var (
	// Floor does the least work possible: no checks, frames echoed one by
	// one, buffers allocated once per connection. It is the floor the real
	// servers are measured against.
	Floor = EchoServer{"floor", StartFloorEcho}

	// DuplexMin is the leanest echo loop package ws allows: ReadMessage
	// into the previous message's memory, without a context to watch.
	DuplexMin = EchoServer{"duplex-min", StartDuplexEcho}
)

// Serve serves h on a loopback port until tb ends, and returns the address.
func Serve(tb testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// StartDuplexEcho serves DuplexEcho's loop at "/", from the handler.
func StartDuplexEcho(tb testing.TB) (addr, path string) {
	return Serve(tb, http.HandlerFunc(duplexEchoHandler)), "/"
}

// duplexUpgrader is the zero Upgrader: no subprotocol, the default limit.
var duplexUpgrader = &ws.Upgrader{}

func duplexEchoHandler(w http.ResponseWriter, r *http.Request) {
	c, err := duplexUpgrader.Upgrade(w, r)
	if err != nil {
		return
	}
	DuplexEcho(c)
}

// DuplexEcho echoes every message on c until the connection ends, reading
// each into the previous one's memory, and then closes c.
func DuplexEcho(c *ws.Conn) { echo(c, true) }

// echo sends back each message c reads until it ends, reading each into
// the last one's buffer if reuse.
func echo(c *ws.Conn, reuse bool) {
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
		if reuse {
			buf = msg
		}
	}
}

// StartFloorEcho serves Floor's raw echo, without net/http.
func StartFloorEcho(tb testing.TB) (addr, path string) {
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

// A Size is a message size that the echo benchmarks measure.
type Size struct {
	Name string
	N    int
}

// Sizes are the message sizes of the echo benchmarks: one small enough for
// any buffer, one typical, and one larger than every library's buffers.
var Sizes = []Size{{"16B", 16}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}}

// Message returns n bytes of a pattern, for a benchmark to send.
func Message(n int) []byte {
	msg := make([]byte, n)
	for i := range msg {
		msg[i] = byte(i*7 + 3)
	}
	return msg
}

// EchoRoundTrip runs the body of BenchmarkEchoRoundTrip: on each server in
// turn, at each of Sizes, a Client sends a binary message and waits for
// its echo. Sub-benchmarks are named server/size.
func EchoRoundTrip(b *testing.B, servers []EchoServer) {
	for _, s := range servers {
		for _, size := range Sizes {
			b.Run(s.Name+"/"+size.Name, func(b *testing.B) {
				addr, path := s.Start(b)
				c := Dial(b, addr, path)
				msg := Message(size.N)
				c.SetMessage(wire.OpBinary, msg)
				if err := c.RoundTrip(); err != nil {
					b.Fatal(err)
				}
				if !bytes.Equal(c.Received(), msg) {
					b.Fatal("the echo differs from the message")
				}
				b.SetBytes(int64(size.N))
				b.ReportAllocs()
				for b.Loop() {
					if err := c.RoundTrip(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
