package ws

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"duplex/shared/handshake"
	"duplex/shared/wire"
)

// This file tests the native client: its handshake (RFC 6455 §4.1), its
// masking, and the Conn contract at both ends. The frame-level rules are
// checked at both ends by the conformance tables (runExchanges).

// testContext bounds a test's network waits.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeServer listens for one client and answers its handshake with
// respond, which sees the request; it returns the ws:// URL and a channel
// that carries the request the server read.
func fakeServer(t *testing.T, respond func(req *http.Request) string) (string, <-chan *http.Request) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	reqs := make(chan *http.Request, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		req, err := http.ReadRequest(bufio.NewReader(conn))
		if err != nil {
			return
		}
		reqs <- req
		resp := respond(req)
		if resp == "" {
			return // no answer: hang up
		}
		io.WriteString(conn, resp)
		io.Copy(io.Discard, conn) // until the client hangs up
	}()
	return "ws://" + ln.Addr().String(), reqs
}

// accept returns the correct Sec-WebSocket-Accept for req.
func accept(req *http.Request) string {
	return handshake.AcceptKey(req.Header.Get("Sec-WebSocket-Key"))
}

func TestDialRequest(t *testing.T) {
	url, reqs := fakeServer(t, func(req *http.Request) string {
		return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + accept(req) + "\r\nSec-WebSocket-Protocol: v2\r\n\r\n"
	})
	c, err := Dial(testContext(t), url+"/path/to?q=1&r=%20", &DialOptions{
		Subprotocols: []string{"v1", "v2"},
		Header:       http.Header{"Origin": {"https://app.example"}, "Authorization": {"Bearer t"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	req := <-reqs
	if req.Method != "GET" || req.RequestURI != "/path/to?q=1&r=%20" || req.Proto != "HTTP/1.1" {
		t.Errorf("request line %s %s %s", req.Method, req.RequestURI, req.Proto)
	}
	if !strings.HasPrefix(url, "ws://"+req.Host) {
		t.Errorf("Host %q for %s", req.Host, url)
	}
	for name, want := range map[string]string{
		"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
		"Sec-WebSocket-Protocol": "v1, v2", "Origin": "https://app.example", "Authorization": "Bearer t",
		"Sec-WebSocket-Extensions": "",
	} {
		if got := strings.Join(req.Header.Values(name), ", "); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	key, err := base64.StdEncoding.DecodeString(req.Header.Get("Sec-WebSocket-Key"))
	if err != nil || len(key) != 16 {
		t.Errorf("Sec-WebSocket-Key %q is not 16 bytes in base64", req.Header.Get("Sec-WebSocket-Key"))
	}
	if c.Subprotocol() != "v2" || c.Extensions() != "" {
		t.Errorf("Subprotocol %q, Extensions %q", c.Subprotocol(), c.Extensions())
	}
}

func TestDialKeysDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		k := newKey()
		if seen[k] {
			t.Fatalf("key %s twice", k)
		}
		seen[k] = true
	}
}

// TestDialBadResponse: the client fails the connection on every answer
// that RFC 6455 §4.1 says it must not accept, and says why.
func TestDialBadResponse(t *testing.T) {
	ok := func(req *http.Request) string {
		return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept(req) + "\r\n"
	}
	cases := []struct {
		name    string
		respond func(req *http.Request) string
		want    string // in the error
		status  int    // of a *HandshakeError, if one
	}{
		{"refused", func(*http.Request) string {
			return "HTTP/1.1 403 Forbidden\r\nContent-Length: 40\r\n\r\norigin x is not allowed to connect to y\n"
		}, "origin x is not allowed to connect to y", 403},
		{"refused-without-body", func(*http.Request) string {
			return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
		}, "404 instead of 101", 404},
		{"not-http", func(*http.Request) string { return "SSH-2.0-OpenSSH\r\n\r\n" }, "malformed HTTP", 0},
		{"silence-then-close", func(*http.Request) string { return "" }, "closed the connection before answering", 0},
		{"no-upgrade", func(req *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"
		}, "Upgrade: websocket", 0},
		{"upgrade-to-h2c", func(req *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"
		}, "Upgrade: websocket", 0},
		{"no-connection", func(req *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"
		}, "Connection: Upgrade", 0},
		{"no-accept", func(*http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
		}, "Sec-WebSocket-Accept", 0},
		{"wrong-accept", func(*http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + rfcAccept + "\r\n\r\n"
		}, "Sec-WebSocket-Accept", 0},
		{"two-accepts", func(req *http.Request) string {
			return ok(req) + "Sec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"
		}, "Sec-WebSocket-Accept", 0},
		{"subprotocol-not-offered", func(req *http.Request) string {
			return ok(req) + "Sec-WebSocket-Protocol: v3\r\n\r\n"
		}, `subprotocol "v3", which was not offered`, 0},
		{"two-subprotocols", func(req *http.Request) string {
			return ok(req) + "Sec-WebSocket-Protocol: v1\r\nSec-WebSocket-Protocol: v2\r\n\r\n"
		}, "several subprotocols", 0},
		{"extension-not-offered", func(req *http.Request) string {
			return ok(req) + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
		}, "extensions that were not offered", 0},
		{"huge-head", func(req *http.Request) string {
			return ok(req) + "X-Junk: " + strings.Repeat("j", 20<<10) + "\r\n\r\n"
		}, "over 16 KiB", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := fakeServer(t, tc.respond)
			c, err := Dial(testContext(t), url, &DialOptions{Subprotocols: []string{"v1", "v2"}})
			if err == nil {
				c.CloseNow()
				t.Fatal("Dial succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			var herr *HandshakeError
			switch {
			case tc.status != 0 && !errors.As(err, &herr):
				t.Errorf("error %T, want a *HandshakeError", err)
			case tc.status != 0 && herr.Status != tc.status:
				t.Errorf("status %d, want %d", herr.Status, tc.status)
			case tc.status == 0 && errors.As(err, &herr):
				t.Errorf("a bad 101 reported as a refusal: %v", err)
			}
		})
	}
}

func TestDialOptionsChecked(t *testing.T) {
	cases := []struct {
		name, url string
		opts      DialOptions
		want      string
	}{
		{"scheme", "ftp://localhost/", DialOptions{}, "unsupported scheme"},
		{"no-host", "ws:///path", DialOptions{}, "no host"},
		{"userinfo", "ws://user:pw@localhost/", DialOptions{}, "user information"},
		{"fragment", "ws://localhost/#frag", DialOptions{}, "fragment"},
		{"subprotocol", "ws://localhost/", DialOptions{Subprotocols: []string{"a b"}}, "not a token"},
		{"handshake-header", "ws://localhost/", DialOptions{Header: http.Header{"Sec-Websocket-Key": {"x"}}}, "may not set"},
		{"header-injection", "ws://localhost/", DialOptions{Header: http.Header{"X-A": {"1\r\nX-B: 2"}}}, "line break"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dialed := false
			tc.opts.NetDial = func(context.Context, string, string) (net.Conn, error) {
				dialed = true
				return nil, errors.New("should not dial")
			}
			_, err := Dial(context.Background(), tc.url, &tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one that says %q", err, tc.want)
			}
			if dialed {
				t.Error("dialed despite bad options")
			}
		})
	}
}

// TestDialContext: ctx bounds the handshake, and only the handshake.
func TestDialContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts, never answers
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, "ws://"+ln.Addr().String(), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial to a silent server: %v, want context.DeadlineExceeded", err)
	}

	addr := echoServer(t, nil)
	ctx, cancel = context.WithCancel(context.Background())
	c, err := Dial(ctx, "ws://"+addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	cancel() // after Dial: no effect on the connection
	roundTrip(t, c, Text, []byte("still open"))
}

// roundTrip writes p to an echoing peer and checks what comes back.
func roundTrip(t *testing.T, c *Conn, typ MessageType, p []byte) {
	t.Helper()
	ctx := testContext(t)
	if err := c.WriteMessage(ctx, typ, p); err != nil {
		t.Fatalf("WriteMessage: %v", err)
	}
	gotType, got, err := c.ReadMessage(ctx, nil)
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	if gotType != typ || !bytes.Equal(got, p) {
		t.Fatalf("echo: %v %s, want %v %s", gotType, abbrev(got), typ, abbrev(p))
	}
}

func TestDialTLS(t *testing.T) {
	u := &Upgrader{Subprotocols: []string{"echo"}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		for {
			typ, m, err := c.ReadMessage(ctx, nil)
			if err != nil {
				return
			}
			if c.WriteMessage(ctx, typ, m) != nil {
				return
			}
		}
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused certificate below
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	wss := "wss" + strings.TrimPrefix(srv.URL, "https")

	if _, err := Dial(testContext(t), wss, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Dial trusting no one: %v, want a certificate error", err)
	}
	c, err := Dial(testContext(t), wss, &DialOptions{
		TLSConfig:    &tls.Config{RootCAs: roots},
		Subprotocols: []string{"echo"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subprotocol() != "echo" {
		t.Errorf("subprotocol %q", c.Subprotocol())
	}
	for _, n := range []int{0, 125, 126, 70000, 1 << 20} {
		roundTrip(t, c, Binary, binOf(n))
	}
	if err := c.Close(StatusNormalClosure, "done"); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// frameSniffer records the frames a client writes, as they cross the wire.
type frameSniffer struct {
	net.Conn
	frames   chan wire.Header
	payloads chan []byte
	buf      []byte
	head     bool // the handshake request has been passed
}

func (s *frameSniffer) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	if !s.head {
		i := bytes.Index(s.buf, []byte("\r\n\r\n"))
		if i < 0 {
			return s.Conn.Write(p)
		}
		s.buf, s.head = s.buf[i+4:], true
	}
	for {
		h, n, err := wire.ParseHeader(s.buf)
		if err != nil || int64(len(s.buf)-n) < h.Length {
			break
		}
		payload := bytes.Clone(s.buf[n : n+int(h.Length)])
		s.frames <- h
		s.payloads <- payload
		s.buf = s.buf[n+int(h.Length):]
	}
	return s.Conn.Write(p)
}

// TestClientMasks: every frame the client sends is masked with a key of its
// own, whatever way it was written, and the caller's bytes are untouched.
func TestClientMasks(t *testing.T) {
	addr := echoServer(t, nil)
	sniff := &frameSniffer{frames: make(chan wire.Header, 1000), payloads: make(chan []byte, 1000)}
	c, err := Dial(testContext(t), "ws://"+addr, &DialOptions{
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			sniff.Conn = nc
			return sniff, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	small, big := []byte("hello, masked world"), bytes.Clone(binOf(100000))
	keepSmall, keepBig := bytes.Clone(small), bytes.Clone(big)
	var sent [][]byte // what each data frame carries, unmasked
	for range 50 {
		roundTrip(t, c, Text, small)
		sent = append(sent, small)
	}
	roundTrip(t, c, Binary, big)
	sent = append(sent, big)
	if err := c.WriteMessages(ctx, Binary, [][]byte{small, big, small}); err != nil {
		t.Fatal(err)
	}
	sent = append(sent, small, big, small)
	w, err := c.NextWriter(ctx, Text)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("frag"))
	w.Flush()
	w.Write([]byte("mented"))
	w.Close()
	sent = append(sent, []byte("frag"), []byte("mented"))
	if !bytes.Equal(small, keepSmall) || !bytes.Equal(big, keepBig) {
		t.Fatal("writing changed the caller's payload")
	}
	if err := c.Close(StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	sent = append(sent, closePayload(StatusNormalClosure, "bye"))

	keys := map[[4]byte]bool{}
	for i, want := range sent {
		h, p := <-sniff.frames, <-sniff.payloads
		if !h.Masked {
			t.Fatalf("frame %d (%v) is not masked", i, h.Opcode)
		}
		if keys[h.Mask] {
			t.Fatalf("frame %d reuses masking key %x", i, h.Mask)
		}
		keys[h.Mask] = true
		wire.Mask(h.Mask, 0, p)
		if !bytes.Equal(p, want) {
			t.Fatalf("frame %d unmasks to %s, want %s", i, abbrev(p), abbrev(want))
		}
	}
}

// TestClientRefusesMaskedFrames: a server frame with the mask bit fails
// the connection with 1002 (RFC 6455 §5.1).
func TestClientRefusesMaskedFrames(t *testing.T) {
	c := acceptRaw(t, nil)
	c.writeRaw(encodeFrame(textFrame("masked by the server"), true))
	c.expectFail(StatusProtocolError)
	if err := <-c.clientEnd; CloseStatus(err) != StatusProtocolError {
		t.Fatalf("the client's read ended with %v, want a 1002 failure", err)
	}
}

// connPair returns the two ends of a connection: the server's, from an
// Upgrader, and the native client's.
func connPair(t *testing.T, u *Upgrader, opts *DialOptions) (server, client *Conn) {
	t.Helper()
	if u == nil {
		u = &Upgrader{}
	}
	conns := make(chan *Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		conns <- c
	}))
	t.Cleanup(srv.Close)
	client, err := Dial(testContext(t), "ws"+strings.TrimPrefix(srv.URL, "http"), opts)
	if err != nil {
		t.Fatal(err)
	}
	server = <-conns
	t.Cleanup(func() { server.CloseNow(); client.CloseNow() })
	return server, client
}

// ends of a pair, by name, for tests that check both.
func pairEnds(t *testing.T) []struct {
	name       string
	this, peer *Conn
} {
	s, c := connPair(t, nil, nil)
	s2, c2 := connPair(t, nil, nil)
	return []struct {
		name       string
		this, peer *Conn
	}{{"server", s, c}, {"client", c2, s2}}
}

// TestContractCloseNow: after CloseNow, reads and writes at this end say
// that the connection is closed, and the peer sees it dropped.
func TestContractCloseNow(t *testing.T) {
	for _, e := range pairEnds(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := testContext(t)
			if e.this.Err() != nil {
				t.Fatalf("Err before the end: %v", e.this.Err())
			}
			if err := e.this.CloseNow(); err != nil {
				t.Fatalf("CloseNow: %v", err)
			}
			<-e.this.Done()
			_, _, rerr := e.this.ReadMessage(ctx, nil)
			werr := e.this.WriteMessage(ctx, Text, []byte("x"))
			_, nerr := e.this.NextWriter(ctx, Text)
			for name, err := range map[string]error{"ReadMessage": rerr, "WriteMessage": werr, "NextWriter": nerr, "Err": e.this.Err()} {
				if !errors.Is(err, ErrClosed) || !errors.Is(err, net.ErrClosed) {
					t.Errorf("%s after CloseNow: %v, want ErrClosed", name, err)
				}
				if CloseStatus(err) != StatusAbnormalClosure {
					t.Errorf("CloseStatus(%s's error) = %d, want 1006", name, CloseStatus(err))
				}
			}
			if err := e.this.CloseNow(); !errors.Is(err, ErrClosed) {
				t.Errorf("second CloseNow: %v, want ErrClosed", err)
			}
			if err := e.this.Close(StatusNormalClosure, ""); !errors.Is(err, ErrClosed) {
				t.Errorf("Close after CloseNow: %v, want ErrClosed", err)
			}
			_, _, err := e.peer.ReadMessage(ctx, nil)
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != StatusAbnormalClosure || ce.WasClean {
				t.Errorf("the peer read %v, want a 1006 CloseError", err)
			}
		})
	}
}

// TestContractClose: a closing handshake ends both sides with the code
// and reason of the first close frame, cleanly.
func TestContractClose(t *testing.T) {
	for _, e := range pairEnds(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := testContext(t)
			peerRead := make(chan error, 1)
			go func() {
				_, _, err := e.peer.ReadMessage(ctx, nil)
				peerRead <- err
			}()
			if err := e.this.Close(4001, "done here"); err != nil {
				t.Fatalf("Close: %v", err)
			}
			want := &CloseError{Code: 4001, Reason: "done here", WasClean: true}
			for who, err := range map[string]error{"the peer's read": <-peerRead, "the peer's Err": e.peer.Err(), "Err": e.this.Err()} {
				var ce *CloseError
				if !errors.As(err, &ce) || *ce != *want {
					t.Errorf("%s: %v, want %v", who, err, want)
				}
				if !errors.Is(err, ErrClosed) {
					t.Errorf("%s: %v does not match ErrClosed", who, err)
				}
			}
			_, _, err := e.this.ReadMessage(ctx, nil)
			if CloseStatus(err) != 4001 {
				t.Errorf("ReadMessage after Close: %v, want the CloseError", err)
			}
			if err := e.this.WriteMessage(ctx, Text, []byte("late")); !errors.Is(err, ErrClosed) {
				t.Errorf("WriteMessage after Close: %v, want ErrClosed", err)
			}
			if err := e.this.Close(StatusNormalClosure, ""); !errors.Is(err, ErrClosed) {
				t.Errorf("second Close: %v, want ErrClosed", err)
			}
		})
	}
}

// TestContractOnlyDataMessages: control opcodes cannot be written as
// messages; before, a close "message" followed by text put a text frame
// after a close frame.
func TestContractOnlyDataMessages(t *testing.T) {
	for _, e := range pairEnds(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := testContext(t)
			for _, typ := range []MessageType{0, MessageType(wire.OpClose), MessageType(wire.OpPing), MessageType(wire.OpPong), 3, 255} {
				if err := e.this.WriteMessage(ctx, typ, nil); err == nil || !strings.Contains(err.Error(), "only Text and Binary") {
					t.Errorf("WriteMessage(%v): %v", typ, err)
				}
				if err := e.this.WriteMessages(ctx, typ, [][]byte{nil}); err == nil {
					t.Errorf("WriteMessages(%v) succeeded", typ)
				}
				if w, err := e.this.NextWriter(ctx, typ); err == nil {
					w.Close()
					t.Errorf("NextWriter(%v) succeeded", typ)
				}
			}
			// Nothing was sent: the connection carries on.
			if err := e.this.WriteMessage(ctx, Text, []byte("after")); err != nil {
				t.Fatal(err)
			}
			typ, got, err := e.peer.ReadMessage(ctx, nil)
			if err != nil || typ != Text || string(got) != "after" {
				t.Fatalf("the peer read %v %q %v, want the text", typ, got, err)
			}
		})
	}
}

// TestContractReadContext: a read whose context ends closes the
// connection (a frame may be half read); later calls say it is closed.
func TestContractReadContext(t *testing.T) {
	for _, e := range pairEnds(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			if _, _, err := e.this.ReadMessage(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("ReadMessage: %v, want context.DeadlineExceeded", err)
			}
			<-e.this.Done()
			if err := e.this.Err(); !errors.Is(err, ErrClosed) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Err: %v, want ErrClosed wrapping the context's error", err)
			}
			if err := e.this.WriteMessage(context.Background(), Text, nil); !errors.Is(err, ErrClosed) {
				t.Errorf("WriteMessage: %v, want ErrClosed", err)
			}
		})
	}
}

// TestSetReadLimitConcurrent changes the limit while another goroutine
// reads; run with -race, it shows the limit is shared safely.
func TestSetReadLimitConcurrent(t *testing.T) {
	server, client := connPair(t, nil, nil)
	ctx := testContext(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			server.SetReadLimit(int64(1000 + i))
		}
	}()
	for range 50 {
		if err := client.WriteMessage(ctx, Binary, binOf(500)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := server.ReadMessage(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	server.SetReadLimit(10)
	go client.ReadMessage(ctx, nil) // to answer the server's close
	client.WriteMessage(ctx, Binary, binOf(11))
	if _, _, err := server.ReadMessage(ctx, nil); CloseStatus(err) != StatusMessageTooBig {
		t.Fatalf("over the new limit: %v, want 1009", err)
	}
}

// deadlineSpy is a net.Conn that counts the calls that set its write
// deadline.
type deadlineSpy struct {
	net.Conn
	calls chan time.Time
}

func (d *deadlineSpy) SetWriteDeadline(t time.Time) error {
	d.calls <- t
	return d.Conn.SetWriteDeadline(t)
}

func (d *deadlineSpy) SetDeadline(t time.Time) error {
	d.calls <- t
	return d.Conn.SetDeadline(t)
}

// TestWriteDeadlineOneOwner: pings, pongs and messages with deadlines go
// out together, and nothing sets the socket's write deadline: a context's
// end is enforced by closing the connection, so one writer can no longer
// move or clear the deadline of another's frame.
func TestWriteDeadlineOneOwner(t *testing.T) {
	spy := &deadlineSpy{calls: make(chan time.Time, 1000)}
	addr := echoServer(t, nil)
	c, err := Dial(testContext(t), "ws://"+addr, &DialOptions{
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			spy.Conn = nc
			return spy, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	reads := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
				reads <- err
				return
			}
		}
	}()
	for i := range 200 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := c.WriteMessage(ctx, Binary, binOf(i*100))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := c.Ping(pctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			cancel()
		}
	}
	if n := len(spy.calls); n > 0 {
		t.Fatalf("the write deadline was set %d times after the handshake (first: %v)", n, <-spy.calls)
	}
	c.Close(StatusNormalClosure, "")
}
