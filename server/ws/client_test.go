package ws

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"

	"duplex/shared/handshake"
	"duplex/shared/wire"
)

// This file holds the raw-socket peer that the tests use to speak frame by
// frame, including frames no real peer would send: as a client to the
// server (dialRaw), or as a server to the native client (acceptRaw).

// echoServer starts an HTTP server whose only endpoint echoes every message,
// using u (nil for a zero Upgrader), and returns its address.
func echoServer(t testing.TB, u *Upgrader) string {
	t.Helper()
	if u == nil {
		u = &Upgrader{}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		defer c.CloseNow()
		var msg []byte
		for {
			typ, m, err := c.ReadMessage(context.Background(), msg)
			if err != nil {
				return
			}
			msg = m
			if err := c.WriteMessage(context.Background(), typ, msg); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// rawPeer is one end of a WebSocket connection that writes and reads
// individual frames. As a client (the default) it masks what it sends and
// expects unmasked frames; as a server, the other way round.
type rawPeer struct {
	t      testing.TB
	conn   net.Conn
	br     *bufio.Reader
	resp   *http.Response
	server bool // it plays the server, against the native client

	clientEnd chan error // as a server: how the client's echo loop ended

	// deflate: permessage-deflate was agreed, so messages with RSV1 set
	// are inflated, with what was inflated before as the context.
	deflate  bool
	inflated []byte
}

// dialRaw connects to addr and performs the opening handshake with the
// given extra request header lines (e.g. "Sec-WebSocket-Protocol: chat").
func dialRaw(t testing.TB, addr string, headers ...string) *rawPeer {
	t.Helper()
	c, resp := dialHandshake(t, addr, headers...)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("handshake: got %s: %s", resp.Status, body)
	}
	return c
}

// dialHandshake sends a handshake and returns the client with the response,
// whatever its status.
func dialHandshake(t testing.TB, addr string, headers ...string) (*rawPeer, *http.Response) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	for _, h := range headers {
		req += h + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading handshake response: %v", err)
	}
	return &rawPeer{t: t, conn: conn, br: br, resp: resp}, resp
}

// acceptRaw starts the native client, dialing a listener of the test's, and
// returns the raw peer that plays the server to it. The client echoes every
// message until its connection ends, reporting how on clientEnd. If opts
// offer compression, the raw peer accepts it with the bare
// "permessage-deflate": both sides may keep context.
func acceptRaw(t testing.TB, opts *DialOptions) *rawPeer {
	t.Helper()
	ext := ""
	if opts != nil && opts.Compression != nil {
		ext = "permessage-deflate"
	}
	return acceptRawExt(t, opts, ext)
}

// acceptRawExt is acceptRaw with the raw peer answering ext, if not empty,
// as its Sec-WebSocket-Extensions.
func acceptRawExt(t testing.TB, opts *DialOptions, ext string) *rawPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	end := make(chan error, 1)
	go func() {
		ctx := context.Background()
		c, err := Dial(ctx, "ws://"+ln.Addr().String()+"/", opts)
		if err != nil {
			end <- err
			return
		}
		defer c.CloseNow()
		var msg []byte
		for {
			typ, m, err := c.ReadMessage(ctx, msg)
			if err != nil {
				end <- err
				return
			}
			msg = m
			if err := c.WriteMessage(ctx, typ, msg); err != nil {
				end <- err
				return
			}
		}
	}()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		t.Fatalf("the client did not connect: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil {
		t.Fatalf("reading the client's handshake: %v", err)
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + handshake.AcceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n"
	if ext != "" {
		resp += "Sec-WebSocket-Extensions: " + ext + "\r\n"
	}
	if _, err := io.WriteString(conn, resp+"\r\n"); err != nil {
		t.Fatal(err)
	}
	return &rawPeer{t: t, conn: conn, br: br, server: true, clientEnd: end, deflate: ext != ""}
}

// frame is a frame as the test client sends or receives it.
type frame struct {
	fin     bool
	rsv     byte
	op      wire.Opcode
	payload []byte
}

// write sends f, masked with a random key if the peer is a client.
func (c *rawPeer) write(f frame) {
	c.t.Helper()
	c.writeRaw(c.encode(f))
}

// encode returns the bytes of f as this peer sends it.
func (c *rawPeer) encode(f frame) []byte { return encodeFrame(f, !c.server) }

// encodeFrame builds the bytes of f, masked with a random key if masked.
func encodeFrame(f frame, masked bool) []byte {
	h := wire.Header{Fin: f.fin, Rsv: f.rsv, Opcode: f.op, Masked: masked, Length: int64(len(f.payload))}
	if masked {
		rand.Read(h.Mask[:])
	}
	b := wire.AppendHeader(nil, h)
	start := len(b)
	b = append(b, f.payload...)
	if masked {
		wire.Mask(h.Mask, 0, b[start:])
	}
	return b
}

func (c *rawPeer) writeRaw(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// text and binary send a whole message in one frame.
func (c *rawPeer) text(s string)   { c.write(frame{fin: true, op: wire.OpText, payload: []byte(s)}) }
func (c *rawPeer) binary(b []byte) { c.write(frame{fin: true, op: wire.OpBinary, payload: b}) }

// read reads one frame from the other end: unmasked from a server, masked
// from a client, which it unmasks.
func (c *rawPeer) read() (frame, error) {
	h, err := wire.ReadHeader(c.br)
	if err != nil {
		return frame{}, err
	}
	switch {
	case h.Masked && !c.server:
		return frame{}, errors.New("server frame is masked")
	case !h.Masked && c.server:
		return frame{}, errors.New("client frame is not masked")
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, p); err != nil {
		return frame{}, err
	}
	if h.Masked {
		wire.Mask(h.Mask, 0, p)
	}
	return frame{fin: h.Fin, rsv: h.Rsv, op: h.Opcode, payload: p}, nil
}

// expectMessage reads one whole message, reassembling fragments, and checks
// its type and payload.
func (c *rawPeer) expectMessage(op wire.Opcode, payload []byte) {
	c.t.Helper()
	f, err := c.read()
	if err != nil {
		c.t.Fatalf("reading %v message: %v", op, err)
	}
	got := f.payload
	compressed := f.rsv&wire.Rsv1 != 0
	if compressed && !c.deflate {
		c.t.Fatalf("got a compressed %v message without compression agreed", f.op)
	}
	for !f.fin {
		if f, err = c.read(); err != nil {
			c.t.Fatalf("reading continuation: %v", err)
		}
		if f.op != wire.OpContinuation {
			c.t.Fatalf("got %v frame inside a fragmented message", f.op)
		}
		if f.rsv != 0 {
			c.t.Fatalf("got a continuation frame with reserved bits %x", f.rsv)
		}
		got = append(got, f.payload...)
	}
	if compressed {
		got = c.inflate(got)
	}
	if f.op != op && f.op != wire.OpContinuation {
		c.t.Fatalf("got a %v message, want %v", f.op, op)
	}
	if !bytes.Equal(got, payload) {
		c.t.Fatalf("got payload %s, want %s", abbrev(got), abbrev(payload))
	}
}

// inflate returns the content of a compressed message's payload (RFC 7692
// §7.2.2), in the context of what this peer inflated before.
func (c *rawPeer) inflate(payload []byte) []byte {
	c.t.Helper()
	dict := c.inflated[max(0, len(c.inflated)-32<<10):]
	r := flate.NewReaderDict(io.MultiReader(bytes.NewReader(payload), bytes.NewReader(inflateTail)), dict)
	got, err := io.ReadAll(r)
	if err != nil {
		c.t.Fatalf("inflating a compressed message of %d bytes: %v", len(payload), err)
	}
	c.inflated = append(c.inflated, got...)
	return got
}

// expectFrame reads one frame and checks its opcode and payload.
func (c *rawPeer) expectFrame(op wire.Opcode, payload []byte) {
	c.t.Helper()
	f, err := c.read()
	if err != nil {
		c.t.Fatalf("reading %v frame: %v", op, err)
	}
	if f.op != op || !bytes.Equal(f.payload, payload) {
		c.t.Fatalf("got %v frame %s, want %v frame %s", f.op, abbrev(f.payload), op, abbrev(payload))
	}
}

// expectClose reads the server's close frame and checks its code, answers
// it, and checks that the server then closes the TCP connection.
func (c *rawPeer) expectClose(code wire.StatusCode) {
	c.t.Helper()
	f, err := c.read()
	if err != nil {
		c.t.Fatalf("reading close frame: %v", err)
	}
	if f.op != wire.OpClose {
		c.t.Fatalf("got %v frame %s, want close %d", f.op, abbrev(f.payload), code)
	}
	got, reason, err := wire.ParseClose(f.payload)
	if err != nil {
		c.t.Fatalf("server's close payload: %v", err)
	}
	if got != code {
		c.t.Fatalf("server closed with %d %q, want %d", got, reason, code)
	}
	c.write(frame{fin: true, op: wire.OpClose, payload: f.payload})
	c.expectEOF()
}

// expectEOF checks that the server closes the TCP connection next.
func (c *rawPeer) expectEOF() {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if f, err := c.read(); err == nil {
		c.t.Fatalf("got %v frame %s, want the connection closed", f.op, abbrev(f.payload))
	} else if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isReset(err) {
		c.t.Fatalf("got %v, want the connection closed", err)
	}
}

// closeHandshake starts the closing handshake with the given payload and
// checks the server answers with wantCode and closes the connection.
func (c *rawPeer) closeHandshake(payload []byte, wantCode wire.StatusCode) {
	c.t.Helper()
	c.write(frame{fin: true, op: wire.OpClose, payload: payload})
	f, err := c.read()
	if err != nil {
		c.t.Fatalf("reading close answer: %v", err)
	}
	if f.op != wire.OpClose {
		c.t.Fatalf("got %v frame, want close", f.op)
	}
	code, _, err := wire.ParseClose(f.payload)
	if err != nil || code != wantCode {
		c.t.Fatalf("server answered close with %d (%v), want %d", code, err, wantCode)
	}
	c.expectEOF()
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

func abbrev(b []byte) string {
	if len(b) > 40 {
		return strings.ToValidUTF8(string(b[:40]), "?") + "…(" + strconv.Itoa(len(b)) + " bytes)"
	}
	return "\"" + strings.ToValidUTF8(string(b), "?") + "\""
}
