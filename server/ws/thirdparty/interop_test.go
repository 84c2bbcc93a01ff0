package thirdparty

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	"duplex/server/ws"
	"duplex/shared/wire"
)

// This file checks that independent client libraries, gorilla/websocket and
// coder/websocket, interoperate with a server built on ws.Upgrader. Every
// connection also passes through a sniffer that decodes the frame headers
// going each way, so the tests can tell what actually crossed the wire.

// interopTimeout bounds every step of the interop tests.
const interopTimeout = 10 * time.Second

// interopSubprotocols are the test server's, in its order of preference.
var interopSubprotocols = []string{"chat.v2", "chat.v1"}

// interopSizes are the message sizes sent whole: around the 7-bit and 16-bit
// length encodings, a 64-bit one, and the default read limit.
var interopSizes = []int{0, 1, 125, 126, 64 << 10, 1 << 20}

// interopServer serves several WebSocket endpoints built on ws.Upgrader and
// records how each server-side connection ended.
type interopServer struct {
	url   string     // ws://host:port, without a path
	ended chan error // the error each connection's handler returned
}

func newInteropServer(t *testing.T) *interopServer {
	t.Helper()
	s := &interopServer{ended: make(chan error, 64)}
	plain := &ws.Upgrader{Subprotocols: interopSubprotocols}
	deflate := &ws.Upgrader{Subprotocols: interopSubprotocols, ReadLimit: 2 << 20, Compression: &ws.CompressionOptions{}}
	mux := http.NewServeMux()
	handle := func(path string, serve func(context.Context, *ws.Conn) error) {
		u := plain
		if strings.HasPrefix(path, "/deflate/") {
			u = deflate
		}
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			c, err := u.Upgrade(w, r)
			if err == nil {
				err = serve(r.Context(), c)
				c.CloseNow()
			}
			select {
			case s.ended <- err:
			default: // nobody is going to look
			}
		})
	}
	handle("/echo", interopEcho)
	handle("/stream", interopStream)
	handle("/goaway", interopGoAway)
	handle("/serverping", interopServerPing)
	handle("/deflate/echo", interopEcho)     // with compression: interop_deflate_test.go
	handle("/deflate/stream", interopStream) // the same
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return s
}

// waitEnded returns the error with which the next server connection ended.
func (s *interopServer) waitEnded(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.ended:
		return err
	case <-time.After(interopTimeout):
		t.Fatal("the server connection did not end")
		return nil
	}
}

// checkPeerClose checks that the server's read ended with the client's close
// frame: code and reason.
func (s *interopServer) checkPeerClose(t *testing.T, code wire.StatusCode, reason string) {
	t.Helper()
	err := s.waitEnded(t)
	var ce *ws.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("server read ended with %v (%T), want a *ws.CloseError", err, err)
	}
	if ce.Code != code || ce.Reason != reason {
		t.Fatalf("server saw close %d %q, want %d %q", ce.Code, ce.Reason, code, reason)
	}
	if got := ws.CloseStatus(err); got != code {
		t.Fatalf("ws.CloseStatus = %d, want %d", got, code)
	}
}

// interopEcho echoes every message with ReadMessage and WriteMessage.
func interopEcho(ctx context.Context, c *ws.Conn) error {
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(ctx, buf)
		if err != nil {
			return err
		}
		if err := c.WriteMessage(ctx, typ, msg); err != nil {
			return err
		}
		buf = msg
	}
}

// interopStream echoes every message as a stream, from NextReader to
// NextWriter, so large messages go back in several frames.
func interopStream(ctx context.Context, c *ws.Conn) error {
	for {
		typ, r, err := c.NextReader(ctx)
		if err != nil {
			return err
		}
		w, err := c.NextWriter(ctx, typ)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, r); err != nil {
			w.Close()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
}

// interopGoAway closes the connection at once with 1001 "going away", and
// fails unless the client answers the close frame promptly.
func interopGoAway(_ context.Context, c *ws.Conn) error {
	start := time.Now()
	if err := c.Close(wire.StatusGoingAway, "going away"); err != nil {
		return fmt.Errorf("Close: %w", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		return fmt.Errorf("Close took %v: the client did not answer the close frame", d)
	}
	return nil
}

// interopServerPing pings the client while reading, then tells it in a
// text message whether the pong came back.
func interopServerPing(ctx context.Context, c *ws.Conn) error {
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(ctx, nil); err != nil {
				readErr <- err
				return
			}
		}
	}()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := c.Ping(pctx)
	cancel()
	reply := "pong received"
	if err != nil {
		reply = "ping failed: " + err.Error()
	}
	if err := c.WriteMessage(ctx, ws.Text, []byte(reply)); err != nil {
		return err
	}
	return <-readErr
}

// interopText returns n bytes of valid UTF-8 that mix 1- to 4-byte
// characters, so that characters straddle frame and buffer boundaries.
func interopText(n int) []byte {
	runes := []rune("Grüße, κόσμε! 日本語のテキスト 🎉🚀 plain ASCII too. ")
	b := make([]byte, 0, n)
	for i := 0; len(b) < n; i++ {
		r := runes[i%len(runes)]
		if len(b)+utf8.RuneLen(r) > n {
			r = '.'
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}

// interopBinary returns n pseudo-random bytes, seeded by n.
func interopBinary(n int) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), 6455))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func interopPayload(op wire.Opcode, n int) []byte {
	if op == wire.OpText {
		return interopText(n)
	}
	return interopBinary(n)
}

// split cuts p into pieces of step bytes; the last may be shorter.
func split(p []byte, step int) [][]byte {
	var parts [][]byte
	for len(p) > step {
		parts = append(parts, p[:step])
		p = p[step:]
	}
	return append(parts, p)
}

// A frameLog decodes one direction of a WebSocket connection: the HTTP
// message of the handshake, then frame headers, skipping their payloads.
type frameLog struct {
	mu     sync.Mutex
	inHead bool   // still reading the HTTP message
	head   []byte // the HTTP message, up to its blank line
	hdr    []byte // a partly received frame header
	skip   int64  // payload bytes of the current frame still to come
	frames []wire.Header
	err    error
}

func (l *frameLog) feed(p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(p) > 0 && l.err == nil {
		switch {
		case l.inHead:
			from := max(0, len(l.head)-3)
			l.head = append(l.head, p...)
			i := bytes.Index(l.head[from:], []byte("\r\n\r\n"))
			if i < 0 {
				return
			}
			end := from + i + 4
			p = l.head[end:]
			l.head = l.head[:end:end]
			l.inHead = false
		case l.skip > 0:
			k := min(int64(len(p)), l.skip)
			l.skip -= k
			p = p[k:]
		default:
			l.hdr = append(l.hdr, p[0])
			p = p[1:]
			h, _, err := wire.ParseHeader(l.hdr)
			if err == wire.ErrShortHeader {
				continue
			}
			if err != nil {
				l.err = err
				return
			}
			l.frames = append(l.frames, h)
			l.hdr = l.hdr[:0]
			l.skip = h.Length
		}
	}
}

// take returns the frame headers decoded since the last call.
func (l *frameLog) take(t *testing.T) []wire.Header {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		t.Fatalf("undecodable frame on the wire: %v", l.err)
	}
	frames := l.frames
	l.frames = nil
	return frames
}

// httpHead returns the HTTP message that preceded the frames.
func (l *frameLog) httpHead() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.head)
}

// sniffConn is a client's TCP connection, recording what goes each way.
type sniffConn struct {
	net.Conn
	sent, received *frameLog
}

func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.received.feed(p[:n])
	return n, err
}

func (c *sniffConn) Write(p []byte) (int, error) {
	c.sent.feed(p) // before the peer can answer
	return c.Conn.Write(p)
}

// sniffDialer returns a dial function that wraps the connection it makes
// in a sniffConn, which it stores in *sc.
func sniffDialer(sc **sniffConn) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c.SetDeadline(time.Now().Add(4 * interopTimeout)) // no test hangs forever
		*sc = &sniffConn{Conn: c, sent: &frameLog{inHead: true}, received: &frameLog{inHead: true}}
		return *sc, nil
	}
}

// checkFrames checks that frames (control frames aside) carry exactly one
// message of type op and n bytes, well formed for the sending side, and
// returns the number of its frames.
func checkFrames(t *testing.T, who string, frames []wire.Header, op wire.Opcode, n int, fromServer bool) int {
	t.Helper()
	var data []wire.Header
	for _, h := range frames {
		if !h.Opcode.IsControl() {
			data = append(data, h)
		}
	}
	if len(data) == 0 {
		t.Fatalf("%s sent no data frame", who)
	}
	var total int64
	for i, h := range data {
		want := wire.OpContinuation
		if i == 0 {
			want = op
		}
		switch {
		case h.Opcode != want:
			t.Fatalf("%s: frame %d of %d is %v, want %v", who, i+1, len(data), h.Opcode, want)
		case h.Fin != (i == len(data)-1):
			t.Fatalf("%s: frame %d of %d has FIN=%v", who, i+1, len(data), h.Fin)
		case h.Rsv != 0:
			t.Fatalf("%s: frame %d has reserved bits %#x", who, i+1, h.Rsv)
		case h.Masked == fromServer:
			t.Fatalf("%s: frame %d has MASK=%v", who, i+1, h.Masked)
		}
		total += h.Length
	}
	if total != int64(n) {
		t.Fatalf("%s sent %d payload bytes, want %d", who, total, n)
	}
	return len(data)
}

// checkEcho compares a received message with the one sent.
func checkEcho(t *testing.T, gotOp, wantOp wire.Opcode, got, want []byte) {
	t.Helper()
	if gotOp != wantOp {
		t.Fatalf("echo is a %v message, want %v", gotOp, wantOp)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("echo of %d bytes differs: got %d bytes, first difference at offset %d", len(want), len(got), i)
	}
}

// subprotocolCases: what the client offers, and what the server must pick.
var subprotocolCases = []struct {
	offer []string
	want  string
}{
	{[]string{"chat.v1", "chat.v2"}, "chat.v2"}, // the server's preference wins
	{[]string{"chat.v1"}, "chat.v1"},
	{[]string{"other", "chat.v1"}, "chat.v1"},
	{[]string{"other"}, ""},
	{nil, ""},
}

var dataTypes = []wire.Opcode{wire.OpText, wire.OpBinary}

// --- gorilla/websocket ---

func dialGorilla(t *testing.T, url string, d gorilla.Dialer) (*gorilla.Conn, *http.Response, *sniffConn) {
	t.Helper()
	var sc *sniffConn
	d.NetDialContext = sniffDialer(&sc)
	d.HandshakeTimeout = interopTimeout
	c, resp, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("gorilla dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, resp, sc
}

func TestInteropGorilla(t *testing.T) {
	s := newInteropServer(t)

	t.Run("messages", func(t *testing.T) {
		c, _, sc := dialGorilla(t, s.url+"/echo", gorilla.Dialer{})
		for _, op := range dataTypes {
			for _, n := range interopSizes {
				p := interopPayload(op, n)
				if err := c.WriteMessage(int(op), p); err != nil {
					t.Fatalf("%v %d B: write: %v", op, n, err)
				}
				typ, got, err := c.ReadMessage()
				if err != nil {
					t.Fatalf("%v %d B: read: %v", op, n, err)
				}
				checkEcho(t, wire.Opcode(typ), op, got, p)
				checkFrames(t, "client", sc.sent.take(t), op, n, false)
				if k := checkFrames(t, "server", sc.received.take(t), op, n, true); k != 1 {
					t.Fatalf("%v %d B: WriteMessage sent %d frames, want 1", op, n, k)
				}
			}
		}
	})

	t.Run("streamed", func(t *testing.T) {
		for _, path := range []string{"/echo", "/stream"} {
			c, _, sc := dialGorilla(t, s.url+path, gorilla.Dialer{WriteBufferSize: 4096})
			for _, op := range dataTypes {
				const n = 300_000
				p := interopPayload(op, n)
				w, err := c.NextWriter(int(op))
				if err != nil {
					t.Fatal(err)
				}
				for _, part := range split(p, 7777) { // cuts characters in two
					if _, err := w.Write(part); err != nil {
						t.Fatalf("write: %v", err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				typ, got, err := c.ReadMessage()
				if err != nil {
					t.Fatalf("%s %v: read: %v", path, op, err)
				}
				checkEcho(t, wire.Opcode(typ), op, got, p)
				if k := checkFrames(t, "client", sc.sent.take(t), op, n, false); k < 2 {
					t.Fatalf("the client sent the message in %d frame(s); the test needs several", k)
				}
				k := checkFrames(t, "server", sc.received.take(t), op, n, true)
				if path == "/stream" && k < 2 {
					t.Fatalf("%s: the server streamed the message in %d frame(s), want several", path, k)
				}
				if path == "/echo" && k != 1 {
					t.Fatalf("%s: WriteMessage sent %d frames, want 1", path, k)
				}
			}
		}
	})

	t.Run("ping", func(t *testing.T) {
		c, _, sc := dialGorilla(t, s.url+"/echo", gorilla.Dialer{})
		pongs := make(chan string, 1)
		c.SetPongHandler(func(data string) error {
			pongs <- data
			return nil
		})
		const ping = "are you there?"
		if err := c.WriteControl(gorilla.PingMessage, []byte(ping), time.Now().Add(interopTimeout)); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteMessage(gorilla.TextMessage, []byte("after the ping")); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.ReadMessage() // handles the pong, which comes first
		if err != nil {
			t.Fatal(err)
		}
		checkEcho(t, wire.Opcode(typ), wire.OpText, got, []byte("after the ping"))
		select {
		case p := <-pongs:
			if p != ping {
				t.Fatalf("pong carries %q, want %q", p, ping)
			}
		default:
			t.Fatal("no pong arrived before the echo")
		}
		var pongFrames int
		for _, h := range sc.received.take(t) {
			if h.Opcode == wire.OpPong {
				pongFrames++
				if h.Length != int64(len(ping)) || h.Masked {
					t.Fatalf("pong frame: length %d, masked %v", h.Length, h.Masked)
				}
			}
		}
		if pongFrames != 1 {
			t.Fatalf("the server sent %d pong frames, want 1", pongFrames)
		}
	})

	t.Run("server ping", func(t *testing.T) {
		c, _, _ := dialGorilla(t, s.url+"/serverping", gorilla.Dialer{})
		_, got, err := c.ReadMessage() // answers the ping on the way
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "pong received" {
			t.Fatalf("server says %q", got)
		}
	})

	t.Run("subprotocol", func(t *testing.T) {
		for _, tc := range subprotocolCases {
			c, resp, _ := dialGorilla(t, s.url+"/echo", gorilla.Dialer{Subprotocols: tc.offer})
			if got := c.Subprotocol(); got != tc.want {
				t.Errorf("offered %q: client sees subprotocol %q, want %q", tc.offer, got, tc.want)
			}
			if got := resp.Header.Values("Sec-WebSocket-Protocol"); tc.want == "" && len(got) != 0 || tc.want != "" && (len(got) != 1 || got[0] != tc.want) {
				t.Errorf("offered %q: response Sec-WebSocket-Protocol %q, want %q", tc.offer, got, tc.want)
			}
			c.Close()
		}
	})

	t.Run("client close", func(t *testing.T) {
		s := newInteropServer(t)
		c, _, _ := dialGorilla(t, s.url+"/echo", gorilla.Dialer{})
		if err := c.WriteMessage(gorilla.TextMessage, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		msg := gorilla.FormatCloseMessage(4000, "bye")
		if err := c.WriteControl(gorilla.CloseMessage, msg, time.Now().Add(interopTimeout)); err != nil {
			t.Fatal(err)
		}
		_, _, err := c.ReadMessage()
		var ce *gorilla.CloseError
		if !errors.As(err, &ce) || ce.Code != 4000 {
			t.Fatalf("after closing, the client read %v; want the server's close frame echoing 4000", err)
		}
		s.checkPeerClose(t, 4000, "bye")
	})

	t.Run("server close", func(t *testing.T) {
		s := newInteropServer(t)
		c, _, _ := dialGorilla(t, s.url+"/goaway", gorilla.Dialer{})
		_, _, err := c.ReadMessage()
		var ce *gorilla.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("client read %v, want a *websocket.CloseError", err)
		}
		if ce.Code != gorilla.CloseGoingAway || ce.Text != "going away" {
			t.Fatalf("client saw close %d %q, want 1001 \"going away\"", ce.Code, ce.Text)
		}
		if err := s.waitEnded(t); err != nil {
			t.Fatalf("server: %v", err)
		}
	})

	t.Run("deflate offered", func(t *testing.T) {
		c, resp, sc := dialGorilla(t, s.url+"/echo", gorilla.Dialer{EnableCompression: true})
		checkDeflateRefused(t, resp, sc)
		c.EnableWriteCompression(true)
		for _, n := range []int{0, 10, 1000, 64 << 10} {
			p := bytes.Repeat([]byte("compress me "), n/12+1)[:n]
			if err := c.WriteMessage(gorilla.TextMessage, p); err != nil {
				t.Fatal(err)
			}
			typ, got, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("%d B: %v", n, err)
			}
			checkEcho(t, wire.Opcode(typ), wire.OpText, got, p)
			checkFrames(t, "client", sc.sent.take(t), wire.OpText, n, false)
			checkFrames(t, "server", sc.received.take(t), wire.OpText, n, true)
		}
	})
}

// checkDeflateRefused checks that the client offered permessage-deflate and
// that the server's answer left it out.
func checkDeflateRefused(t *testing.T, resp *http.Response, sc *sniffConn) {
	t.Helper()
	if req := strings.ToLower(sc.sent.httpHead()); !strings.Contains(req, "sec-websocket-extensions:") || !strings.Contains(req, "permessage-deflate") {
		t.Fatalf("the client did not offer permessage-deflate:\n%s", req)
	}
	if ext := resp.Header.Values("Sec-WebSocket-Extensions"); len(ext) != 0 {
		t.Fatalf("the server negotiated extensions %q", ext)
	}
	if head := strings.ToLower(sc.received.httpHead()); strings.Contains(head, "sec-websocket-extensions") {
		t.Fatalf("the response carries Sec-WebSocket-Extensions:\n%s", head)
	}
}

// --- coder/websocket ---

func dialCoder(t *testing.T, url string, opts coder.DialOptions) (*coder.Conn, *http.Response, *sniffConn) {
	t.Helper()
	var sc *sniffConn
	opts.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: sniffDialer(&sc)}}
	ctx, cancel := context.WithTimeout(context.Background(), interopTimeout)
	defer cancel()
	c, resp, err := coder.Dial(ctx, url, &opts)
	if err != nil {
		t.Fatalf("coder dial %s: %v", url, err)
	}
	c.SetReadLimit(2 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c, resp, sc
}

func coderType(op wire.Opcode) coder.MessageType {
	if op == wire.OpText {
		return coder.MessageText
	}
	return coder.MessageBinary
}

func fromCoderType(typ coder.MessageType) wire.Opcode {
	switch typ {
	case coder.MessageText:
		return wire.OpText
	case coder.MessageBinary:
		return wire.OpBinary
	}
	return wire.Opcode(0xf)
}

func interopContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), interopTimeout)
	t.Cleanup(cancel)
	return ctx
}

func TestInteropCoder(t *testing.T) {
	s := newInteropServer(t)

	t.Run("messages", func(t *testing.T) {
		ctx := interopContext(t)
		c, _, sc := dialCoder(t, s.url+"/echo", coder.DialOptions{})
		for _, op := range dataTypes {
			for _, n := range interopSizes {
				p := interopPayload(op, n)
				if err := c.Write(ctx, coderType(op), p); err != nil {
					t.Fatalf("%v %d B: write: %v", op, n, err)
				}
				typ, got, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("%v %d B: read: %v", op, n, err)
				}
				checkEcho(t, fromCoderType(typ), op, got, p)
				checkFrames(t, "client", sc.sent.take(t), op, n, false)
				if k := checkFrames(t, "server", sc.received.take(t), op, n, true); k != 1 {
					t.Fatalf("%v %d B: WriteMessage sent %d frames, want 1", op, n, k)
				}
			}
		}
	})

	t.Run("streamed", func(t *testing.T) {
		ctx := interopContext(t)
		for _, path := range []string{"/echo", "/stream"} {
			c, _, sc := dialCoder(t, s.url+path, coder.DialOptions{})
			for _, op := range dataTypes {
				const n = 300_000
				p := interopPayload(op, n)
				w, err := c.Writer(ctx, coderType(op))
				if err != nil {
					t.Fatal(err)
				}
				parts := split(p, 7777) // cuts characters in two
				for _, part := range parts {
					if _, err := w.Write(part); err != nil {
						t.Fatalf("write: %v", err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				typ, got, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("%s %v: read: %v", path, op, err)
				}
				checkEcho(t, fromCoderType(typ), op, got, p)
				if k := checkFrames(t, "client", sc.sent.take(t), op, n, false); k < len(parts) {
					t.Fatalf("the client sent the message in %d frame(s), want one per write", k)
				}
				k := checkFrames(t, "server", sc.received.take(t), op, n, true)
				if path == "/stream" && k < 2 {
					t.Fatalf("%s: the server streamed the message in %d frame(s), want several", path, k)
				}
				if path == "/echo" && k != 1 {
					t.Fatalf("%s: WriteMessage sent %d frames, want 1", path, k)
				}
			}
		}
	})

	t.Run("ping", func(t *testing.T) {
		ctx := interopContext(t)
		c, _, _ := dialCoder(t, s.url+"/echo", coder.DialOptions{})
		type result struct {
			typ coder.MessageType
			p   []byte
			err error
		}
		read := make(chan result, 1)
		go func() { // Ping needs a reader to see the pong
			typ, p, err := c.Read(ctx)
			read <- result{typ, p, err}
		}()
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := c.Ping(pctx); err != nil {
			t.Fatalf("ping: %v", err)
		}
		if err := c.Write(ctx, coder.MessageText, []byte("after the ping")); err != nil {
			t.Fatal(err)
		}
		r := <-read
		if r.err != nil {
			t.Fatal(r.err)
		}
		checkEcho(t, fromCoderType(r.typ), wire.OpText, r.p, []byte("after the ping"))
	})

	t.Run("server ping", func(t *testing.T) {
		ctx := interopContext(t)
		c, _, _ := dialCoder(t, s.url+"/serverping", coder.DialOptions{})
		_, got, err := c.Read(ctx) // answers the ping on the way
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "pong received" {
			t.Fatalf("server says %q", got)
		}
	})

	t.Run("subprotocol", func(t *testing.T) {
		for _, tc := range subprotocolCases {
			c, resp, _ := dialCoder(t, s.url+"/echo", coder.DialOptions{Subprotocols: tc.offer})
			if got := c.Subprotocol(); got != tc.want {
				t.Errorf("offered %q: client sees subprotocol %q, want %q", tc.offer, got, tc.want)
			}
			if got := resp.Header.Values("Sec-WebSocket-Protocol"); tc.want == "" && len(got) != 0 || tc.want != "" && (len(got) != 1 || got[0] != tc.want) {
				t.Errorf("offered %q: response Sec-WebSocket-Protocol %q, want %q", tc.offer, got, tc.want)
			}
			c.CloseNow()
		}
	})

	t.Run("client close", func(t *testing.T) {
		ctx := interopContext(t)
		s := newInteropServer(t)
		c, _, _ := dialCoder(t, s.url+"/echo", coder.DialOptions{})
		if err := c.Write(ctx, coder.MessageText, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatal(err)
		}
		// Close succeeds only if the server answers with a close frame
		// echoing 4000.
		if err := c.Close(4000, "bye"); err != nil {
			t.Fatalf("close handshake: %v", err)
		}
		s.checkPeerClose(t, 4000, "bye")
	})

	t.Run("server close", func(t *testing.T) {
		ctx := interopContext(t)
		s := newInteropServer(t)
		c, _, _ := dialCoder(t, s.url+"/goaway", coder.DialOptions{})
		_, _, err := c.Read(ctx)
		var ce coder.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("client read %v, want a websocket.CloseError", err)
		}
		if ce.Code != coder.StatusGoingAway || ce.Reason != "going away" {
			t.Fatalf("client saw close %d %q, want 1001 \"going away\"", ce.Code, ce.Reason)
		}
		if err := s.waitEnded(t); err != nil {
			t.Fatalf("server: %v", err)
		}
	})

	t.Run("deflate offered", func(t *testing.T) {
		ctx := interopContext(t)
		c, resp, sc := dialCoder(t, s.url+"/echo", coder.DialOptions{
			CompressionMode:      coder.CompressionContextTakeover,
			CompressionThreshold: 1,
		})
		checkDeflateRefused(t, resp, sc)
		for _, n := range []int{0, 10, 1000, 64 << 10} {
			p := bytes.Repeat([]byte("compress me "), n/12+1)[:n]
			if err := c.Write(ctx, coder.MessageText, p); err != nil {
				t.Fatal(err)
			}
			typ, got, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("%d B: %v", n, err)
			}
			checkEcho(t, fromCoderType(typ), wire.OpText, got, p)
			checkFrames(t, "client", sc.sent.take(t), wire.OpText, n, false)
			checkFrames(t, "server", sc.received.take(t), wire.OpText, n, true)
		}
	})
}
