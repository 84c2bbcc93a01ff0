package ws

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"

	"duplex/shared/handshake"
	"duplex/shared/wire"
)

// FuzzCheck builds handshake requests from fuzzed parts. Check must never
// panic; what it accepts must follow every rule of RFC 6455 §4.2.1 and our
// origin policy, and what it refuses it must refuse with a 4xx and a
// one-line reason.
//
// A fuzzed header value may hold several values separated by "\n", each
// sent as a header line of its own; "" leaves the header out.
func FuzzCheck(f *testing.F) {
	f.Add("GET", "HTTP/1.1", "websocket", "Upgrade", "13", rfcKey, "", "")
	f.Add("GET", "HTTP/1.1", "WebSocket", "keep-alive, Upgrade", "13", rfcKey, "http://duplex.test:8080", "superchat, chat")
	f.Add("GET", "HTTP/1.1", "websocket", "upgrade", "13", rfcKey, "https://app.example.org", "x, superchat")
	f.Add("GET", "HTTP/1.1", "websocket", "Upgrade", "13", rfcKey, "http://localhost:5173", "chat;v=1")
	f.Add("GET", "HTTP/1.1", "websocket", "Upgrade", "13", rfcKey, "null", "")
	f.Add("GET", "HTTP/1.1", "websocket", "Upgrade", "13\n8", rfcKey+"\n"+rfcKey, "", "")
	f.Add("GET", "HTTP/1.1", "websocket", "Upgrade", "8", "AAAAAAAAAAAAAAAAAAAAAAA=", "", "")
	f.Add("GET", "HTTP/1.0", "websocket", "Upgrade", "13", rfcKey, "", "")
	f.Add("POST", "HTTP/1.1", "websocket", "Upgrade", "13", rfcKey, "", "")
	f.Add("GET", "HTTP/1.1", "", "", "", "", "", "")
	f.Add("GET", "HTTP/2.0", "h2c, websocket", "Upgrade, HTTP2-Settings", "13", "dGhlIHNhbXBsZSBub25jZQ", "http://evil.example", "chat\nsuperchat")

	u := &Upgrader{
		Subprotocols:   []string{"chat", "superchat"},
		AllowedOrigins: []string{"*.example.org", "localhost:5173"},
	}
	const host = "duplex.test:8080"
	f.Fuzz(func(t *testing.T, method, proto, upgrade, connection, version, key, origin, protocol string) {
		if !isHTTPToken(method) {
			return // net/http refuses such a request line before any handler
		}
		major, minor, ok := http.ParseHTTPVersion(proto)
		if !ok {
			return
		}
		r := &http.Request{
			Method: method, Proto: proto, ProtoMajor: major, ProtoMinor: minor,
			URL: &url.URL{Path: "/"}, Host: host, Header: http.Header{},
		}
		for _, h := range []struct{ name, value string }{
			{"Upgrade", upgrade}, {"Connection", connection}, {"Sec-WebSocket-Version", version},
			{"Sec-WebSocket-Key", key}, {"Origin", origin}, {"Sec-WebSocket-Protocol", protocol},
		} {
			if h.value == "" {
				continue
			}
			for _, v := range strings.Split(h.value, "\n") {
				if !isFieldValue(v) {
					return // net/http would not deliver this value
				}
				r.Header.Add(h.name, strings.Trim(v, " \t"))
			}
		}

		sub, err := u.Check(r)
		if err != nil {
			herr := err.(*HandshakeError)
			switch herr.Status {
			case 400, 403, 405, 426:
			default:
				t.Fatalf("refused with status %d", herr.Status)
			}
			if herr.Reason == "" || strings.ContainsAny(herr.Reason, "\r\n") {
				t.Fatalf("reason %q is not one non-empty line", herr.Reason)
			}
			switch herr.Status {
			case 405:
				if herr.Header.Get("Allow") != "GET" {
					t.Fatalf("405 without Allow: GET: %v", herr.Header)
				}
			case 426:
				if herr.Header.Get("Upgrade") != "websocket" && herr.Header.Get("Sec-WebSocket-Version") != "13" {
					t.Fatalf("426 says neither Upgrade: websocket nor Sec-WebSocket-Version: 13: %v", herr.Header)
				}
			}
			return
		}

		// Accepted: every rule must hold.
		h := r.Header
		switch {
		case method != http.MethodGet:
			t.Fatalf("accepted method %q", method)
		case !r.ProtoAtLeast(1, 1):
			t.Fatalf("accepted %s", proto)
		case !hasTokenASCII(h.Values("Upgrade"), "websocket"):
			t.Fatalf("accepted Upgrade %q", h.Values("Upgrade"))
		case !hasTokenASCII(h.Values("Connection"), "upgrade"):
			t.Fatalf("accepted Connection %q", h.Values("Connection"))
		case len(h.Values("Sec-WebSocket-Version")) != 1 || h.Get("Sec-WebSocket-Version") != "13":
			t.Fatalf("accepted Sec-WebSocket-Version %q", h.Values("Sec-WebSocket-Version"))
		case len(h.Values("Sec-WebSocket-Key")) != 1 || !handshake.ValidKey(h.Get("Sec-WebSocket-Key")):
			t.Fatalf("accepted Sec-WebSocket-Key %q", h.Values("Sec-WebSocket-Key"))
		}
		if origins := h.Values("Origin"); len(origins) > 0 {
			if len(origins) != 1 {
				t.Fatalf("accepted several origins %q", origins)
			}
			o, err := url.Parse(origins[0])
			if err != nil || o.Host == "" {
				t.Fatalf("accepted origin %q, which has no host", origins[0])
			}
			allowed := refLowerASCII(o.Host) == host
			for _, p := range u.AllowedOrigins {
				if ok, _ := path.Match(p, refLowerASCII(o.Host)); ok {
					allowed = true
				}
			}
			if !allowed {
				t.Fatalf("accepted foreign origin %q", origins[0])
			}
		}
		offered, err := handshake.ParseTokens(h.Values("Sec-WebSocket-Protocol"))
		if err != nil {
			t.Fatalf("accepted a malformed Sec-WebSocket-Protocol %q: %v", h.Values("Sec-WebSocket-Protocol"), err)
		}
		want := ""
		for _, p := range u.Subprotocols {
			if want == "" && contains(offered, p) {
				want = p
			}
		}
		if sub != want {
			t.Fatalf("chose subprotocol %q from %q, want %q", sub, offered, want)
		}
	})
}

// hasTokenASCII is handshake.HasToken written out independently: some
// element of the comma-separated lists is token, ignoring the case of ASCII
// letters only (so that, say, the Kelvin sign is not a k).
func hasTokenASCII(values []string, token string) bool {
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			if refLowerASCII(strings.Trim(elem, " \t")) == refLowerASCII(token) {
				return true
			}
		}
	}
	return false
}

// refLowerASCII lowercases the ASCII letters of s, and only those.
func refLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// isHTTPToken reports whether s is an RFC 7230 token, as a method must be.
func isHTTPToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// isFieldValue reports whether v may be a header field value as net/http
// delivers it: no control characters other than tab.
func isFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// FuzzConnRead feeds arbitrary bytes to a server connection as what the
// client sent, then ends the stream, and reads messages until an error. It
// must not panic, hang, or allocate beyond the read limit, and it must
// agree with a straightforward reference decoder (referenceRead) on the
// messages, the pongs, and how the connection ends.
func FuzzConnRead(f *testing.F) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	m := func(fin bool, rsv byte, op wire.Opcode, payload string) []byte {
		return maskedFrame(fin, rsv, op, []byte(payload), key)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	long := func(op wire.Opcode, length uint64) []byte { // a masked header with a 64-bit length
		b := []byte{0x80 | byte(op), 0x80 | 127}
		b = binary.BigEndian.AppendUint64(b, length)
		return append(b, key[:]...)
	}
	seeds := [][]byte{
		m(true, 0, wire.OpText, "Hello"),
		cat(m(true, 0, wire.OpBinary, "\x00\xff"), m(true, 0, wire.OpText, "")),
		cat(m(false, 0, wire.OpText, "frag"), m(true, 0, wire.OpPing, "p"), m(false, 0, wire.OpContinuation, "men"), m(true, 0, wire.OpContinuation, "t")),
		cat(m(true, 0, wire.OpPing, ""), m(true, 0, wire.OpPong, "x"), m(true, 0, wire.OpClose, "\x03\xe8bye")),
		m(true, 0, wire.OpClose, ""),
		m(true, 0, wire.OpClose, "\x03"),
		m(true, 0, wire.OpClose, "\x03\xe8\xff"),
		m(true, 0, wire.OpText, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"),
		cat(m(false, 0, wire.OpText, "\xf0\x9f"), m(true, 0, wire.OpContinuation, "\x98\x80")),
		cat(m(false, 0, wire.OpText, "ok\xf4"), m(true, 0, wire.OpContinuation, "\x90\x80\x80")),
		m(true, 0, wire.OpText, "hello\xce"),
		cat(m(true, 0, wire.OpText, "a"), m(true, wire.Rsv1, wire.OpText, "b")),
		m(true, 0, 0x3, "reserved"),
		m(true, 0, 0xb, ""),
		m(true, 0, wire.OpContinuation, "stray"),
		cat(m(false, 0, wire.OpText, "a"), m(true, 0, wire.OpText, "b")),
		m(false, 0, wire.OpPing, "fragmented ping"),
		m(true, 0, wire.OpPing, strings.Repeat("p", 126)),
		cat(long(wire.OpBinary, 1<<62), []byte("payload")),
		cat(long(wire.OpBinary, 1<<63|1), []byte("p")),
		long(wire.OpText, 70000),
		m(true, 0, wire.OpBinary, strings.Repeat("\xa5", 300)),
		cat(m(false, 0, wire.OpBinary, strings.Repeat("a", 600)), m(true, 0, wire.OpContinuation, strings.Repeat("b", 600))),
		[]byte{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}, // not masked
		m(true, 0, wire.OpText, "Hello")[:7],        // cut short
		{0x81},
		{},
	}
	for _, s := range seeds {
		f.Add(s, uint16(1024))
	}
	// At the limit and one byte over it, whole and in fragments.
	f.Add(m(true, 0, wire.OpText, "Hello"), uint16(4))
	f.Add(m(true, 0, wire.OpText, "Hello"), uint16(3))
	f.Add(cat(m(false, 0, wire.OpBinary, "abc"), m(true, 0, wire.OpContinuation, "de")), uint16(4))
	f.Add(cat(m(false, 0, wire.OpBinary, "abc"), m(true, 0, wire.OpContinuation, "de")), uint16(3))

	f.Fuzz(func(t *testing.T, input []byte, limitArg uint16) {
		limit := int64(limitArg) + 1 // 1 B to 64 KiB
		want := referenceRead(t, input, limit)

		// What reading allocates is bounded by the limit and the input,
		// not by lengths that headers announce. The count is the whole
		// process's, and the fuzzing engine allocates too: a reading over
		// the bound is taken only if a second one confirms it.
		bound := uint64(2*limit + 8*int64(len(input)) + 512<<10)
		var got readOutcome
		for try := 0; ; try++ {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got = serverRead(t, input, limit)
			runtime.ReadMemStats(&after)
			grew := after.TotalAlloc - before.TotalAlloc
			if grew <= bound {
				break
			}
			if try == 1 {
				t.Errorf("reading %d bytes with a %d-byte limit allocated %d bytes (bound %d)", len(input), limit, grew, bound)
				break
			}
		}
		for i, msg := range got.msgs {
			if int64(len(msg.payload)) > limit {
				t.Errorf("message %d has %d bytes, over the %d-byte limit", i, len(msg.payload), limit)
			}
			if msg.op == wire.OpText && !utf8.Valid(msg.payload) {
				t.Errorf("text message %d is not UTF-8: %q", i, msg.payload)
			}
		}
		var we *wire.Error
		if errors.As(got.err, &we) {
			switch we.Code {
			case wire.StatusProtocolError, wire.StatusInvalidPayloadData, wire.StatusMessageTooBig:
			default:
				t.Errorf("ReadMessage failed with code %d: %v", we.Code, we)
			}
		}
		if g, w := got.String(), want.String(); g != w {
			t.Errorf("input %x, limit %d:\nserver:    %s\nreference: %s", input, limit, g, w)
		}
	})
}

// maskedFrame encodes a client frame with the given masking key.
func maskedFrame(fin bool, rsv byte, op wire.Opcode, payload []byte, key [4]byte) []byte {
	b := wire.AppendHeader(nil, wire.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: true, Mask: key, Length: int64(len(payload))})
	start := len(b)
	b = append(b, payload...)
	wire.Mask(key, 0, b[start:])
	return b
}

// A readOutcome is what reading a client's byte stream comes to: the
// messages, the payloads of the pongs sent, and how the connection ended.
type readOutcome struct {
	msgs  []frame
	pongs [][]byte
	end   string // "fail <code>", "peer close <code> <reason>" or "eof"
	sent  string // the server's close frame: "close <code>" or "" for none
	err   error  // the error ReadMessage returned (server only)
}

func (o readOutcome) String() string {
	var b strings.Builder
	for _, m := range o.msgs {
		fmt.Fprintf(&b, "%v %q; ", m.op, m.payload)
	}
	for _, p := range o.pongs {
		fmt.Fprintf(&b, "pong %q; ", p)
	}
	fmt.Fprintf(&b, "end: %s; sent: %q", o.end, o.sent)
	return b.String()
}

// referenceRead decodes a client's byte stream the simple way, with all of
// it at hand: frame by frame, each payload whole.
func referenceRead(t *testing.T, in []byte, limit int64) readOutcome {
	var o readOutcome
	fail := func(code wire.StatusCode) readOutcome {
		o.end = fmt.Sprintf("fail %d", code)
		o.sent = fmt.Sprintf("close %d", code)
		return o
	}
	eof := func() readOutcome { o.end = "eof"; return o }
	var (
		active bool
		op     wire.Opcode
		msg    []byte
		size   int64
		v      wire.UTF8Validator
	)
	for {
		if len(in) < 2 || len(in) < wire.HeaderSize(in[0], in[1]) {
			return eof()
		}
		h, n, err := wire.ParseHeader(in)
		if err != nil {
			return fail(err.(*wire.Error).Code)
		}
		if err := h.Check(0, true); err != nil {
			return fail(err.(*wire.Error).Code)
		}
		in = in[n:]
		if h.Opcode.IsControl() {
			if int64(len(in)) < h.Length {
				return eof()
			}
			p := bytes.Clone(in[:h.Length])
			wire.Mask(h.Mask, 0, p)
			in = in[h.Length:]
			switch h.Opcode {
			case wire.OpPing:
				o.pongs = append(o.pongs, p)
			case wire.OpClose:
				code, reason, err := wire.ParseClose(p)
				if err != nil {
					return fail(err.(*wire.Error).Code)
				}
				reply := code
				if reply == wire.StatusNoStatusReceived {
					reply = wire.StatusNormalClosure
				}
				o.end = fmt.Sprintf("peer close %d %q", code, reason)
				o.sent = fmt.Sprintf("close %d", reply)
				return o
			}
			continue
		}
		switch {
		case !active && h.Opcode == wire.OpContinuation:
			return fail(wire.StatusProtocolError)
		case active && h.Opcode != wire.OpContinuation:
			return fail(wire.StatusProtocolError)
		case !active:
			active, op, msg, size = true, h.Opcode, nil, 0
			v.Reset()
		}
		size += h.Length
		if size > limit {
			return fail(wire.StatusMessageTooBig)
		}
		p := bytes.Clone(in[:min(int64(len(in)), h.Length)])
		wire.Mask(h.Mask, 0, p)
		in = in[len(p):]
		msg = append(msg, p...)
		if op == wire.OpText && !v.Write(p) {
			return fail(wire.StatusInvalidPayloadData)
		}
		if int64(len(p)) < h.Length {
			return eof()
		}
		if h.Fin {
			if op == wire.OpText {
				if v.Complete() != utf8.Valid(msg) {
					t.Fatalf("the UTF-8 validator says %v for %q", v.Complete(), msg)
				}
				if !utf8.Valid(msg) {
					return fail(wire.StatusInvalidPayloadData)
				}
			}
			o.msgs = append(o.msgs, frame{op: op, payload: msg})
			active = false
		}
	}
}

// serverRead plays in as the client's side of a Conn and reads messages
// until ReadMessage fails.
func serverRead(t *testing.T, in []byte, limit int64) readOutcome {
	return serverReadWith(t, in, limit, nil)
}

// serverReadWith is serverRead on a connection that agreed on
// permessage-deflate with state d, if not nil.
func serverReadWith(t *testing.T, in []byte, limit int64, d *deflateState) readOutcome {
	inR, inW := net.Pipe()   // client to server
	outR, outW := net.Pipe() // server to client
	c := newConn(&pipeConn{r: inR, w: outW}, nil, false, limit, nil)
	c.deflate = d

	wrote := make(chan struct{})
	go func() {
		inW.Write(in) // fails if the server stops reading first
		inW.Close()   // the client is done sending: the server reads EOF
		close(wrote)
	}()
	sent := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(outR) // all the server sends, until it closes
		sent <- b
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var o readOutcome
	for {
		typ, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			o.err = err
			break
		}
		o.msgs = append(o.msgs, frame{op: typ.Opcode(), payload: msg})
		if len(o.msgs) > len(in)/2+1 {
			t.Fatalf("%d messages from %d bytes", len(o.msgs), len(in))
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("ReadMessage hung: %v", o.err)
	}
	if _, _, err := c.ReadMessage(ctx, nil); err == nil {
		t.Fatal("ReadMessage succeeded after failing")
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("the connection is still open after ReadMessage failed")
	}
	c.CloseNow()

	var out []byte
	select {
	case out = <-sent:
	case <-time.After(10 * time.Second):
		t.Fatal("the server's side did not close")
	}
	select {
	case <-wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("the client's writes did not finish")
	}

	var ce *CloseError
	var we *wire.Error
	switch {
	case errors.As(o.err, &we):
		o.end = fmt.Sprintf("fail %d", we.Code)
	case errors.As(o.err, &ce) && ce.Code == wire.StatusAbnormalClosure:
		o.end = "eof"
	case errors.As(o.err, &ce):
		o.end = fmt.Sprintf("peer close %d %q", ce.Code, ce.Reason)
	default:
		t.Fatalf("ReadMessage failed with %T %v", o.err, o.err)
	}

	// What the server sent: pongs, then perhaps a close frame, nothing else.
	r := bytes.NewReader(out)
	for r.Len() > 0 {
		h, err := wire.ReadHeader(r)
		if err != nil {
			t.Fatalf("the server sent a bad frame header: %v (all: %x)", err, out)
		}
		if err := h.Check(0, false); err != nil {
			t.Fatalf("the server sent a bad frame: %v", err)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(r, p); err != nil {
			t.Fatalf("the server's frame is cut short (all: %x)", out)
		}
		if o.sent != "" {
			t.Fatalf("the server sent a %v frame after its close frame", h.Opcode)
		}
		switch h.Opcode {
		case wire.OpPong:
			o.pongs = append(o.pongs, p)
		case wire.OpClose:
			code, _, err := wire.ParseClose(p)
			if err != nil {
				t.Fatalf("the server's close frame %x: %v", p, err)
			}
			o.sent = fmt.Sprintf("close %d", code)
		default:
			t.Fatalf("the server sent a %v frame", h.Opcode)
		}
	}
	return o
}

// pipeConn is the server's end of an in-memory connection made of two
// net.Pipes, one each way, so that the client can stop sending and still
// receive, as with a TCP half-close.
type pipeConn struct {
	r net.Conn // reads what the client sends
	w net.Conn // writes to the client
}

func (p *pipeConn) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *pipeConn) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p *pipeConn) Close() error {
	p.w.Close()
	return p.r.Close()
}
func (p *pipeConn) LocalAddr() net.Addr  { return p.r.LocalAddr() }
func (p *pipeConn) RemoteAddr() net.Addr { return p.r.RemoteAddr() }
func (p *pipeConn) SetDeadline(t time.Time) error {
	p.w.SetWriteDeadline(t)
	return p.r.SetReadDeadline(t)
}
func (p *pipeConn) SetReadDeadline(t time.Time) error  { return p.r.SetReadDeadline(t) }
func (p *pipeConn) SetWriteDeadline(t time.Time) error { return p.w.SetWriteDeadline(t) }

// FuzzReadResponse feeds the client's handshake check with any answer a
// server could send to the RFC's sample key, offering subprotocols v1 and
// v2. It must never panic, and it may accept only a 101 that meets every
// rule of RFC 6455 §4.1, checked here independently of readResponse.
func FuzzReadResponse(f *testing.F) {
	ok := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + rfcAccept + "\r\n"
	f.Add([]byte(ok + "\r\n"))
	f.Add([]byte(ok + "Sec-WebSocket-Protocol: v2\r\n\r\n\x81\x05hello"))
	f.Add([]byte(ok + "Sec-WebSocket-Protocol: v3\r\n\r\n"))
	f.Add([]byte(ok + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"))
	f.Add([]byte(ok + "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=9\r\n\r\n"))
	f.Add([]byte(ok + "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16\r\n\r\n"))
	f.Add([]byte(ok + "Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket, h2c\r\nConnection: keep-alive, upgrade\r\nSec-WebSocket-Accept: " + rfcAccept + "\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nno, thanks"))
	f.Add([]byte("HTTP/1.1 426 Upgrade Required\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 101 Switching Protocols\r\n\r\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Offering compression, only a valid permessage-deflate response
		// may add to what is accepted.
		br := bufio.NewReader(io.LimitReader(bytes.NewReader(data), maxResponseHead))
		_, ext, d, err := readResponse(br, rfcKey, &DialOptions{Subprotocols: []string{"v1", "v2"}, Compression: &CompressionOptions{}})
		if err == nil && d != nil {
			resp, _ := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), nil)
			exts, perr := handshake.ParseExtensions(resp.Header.Values("Sec-WebSocket-Extensions"))
			if perr != nil || len(exts) != 1 || exts[0].Name != "permessage-deflate" || ext != strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", ") {
				t.Fatalf("accepted extensions %q as %q", resp.Header.Values("Sec-WebSocket-Extensions"), ext)
			}
			if _, perr := handshake.ParseDeflateResponse(exts[0].Params); perr != nil {
				t.Fatalf("accepted %q: %v", ext, perr)
			}
			if d.outBits < 8 || d.outBits > 15 || d.inTakeover && (d.received.max < 256 || d.received.max > 32<<10) {
				t.Fatalf("accepted %q as %+v", ext, d)
			}
		}

		br = bufio.NewReader(io.LimitReader(bytes.NewReader(data), maxResponseHead))
		sub, ext, _, err := readResponse(br, rfcKey, &DialOptions{Subprotocols: []string{"v1", "v2"}})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		resp, perr := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), nil)
		if perr != nil {
			t.Fatalf("accepted what net/http cannot parse: %v", perr)
		}
		h := resp.Header
		switch {
		case resp.StatusCode != 101:
			t.Fatalf("accepted status %d", resp.StatusCode)
		case !handshake.HasToken(h.Values("Upgrade"), "websocket"):
			t.Fatalf("accepted Upgrade %q", h.Values("Upgrade"))
		case !handshake.HasToken(h.Values("Connection"), "upgrade"):
			t.Fatalf("accepted Connection %q", h.Values("Connection"))
		case len(h.Values("Sec-WebSocket-Accept")) != 1 || h.Get("Sec-WebSocket-Accept") != rfcAccept:
			t.Fatalf("accepted Sec-WebSocket-Accept %q", h.Values("Sec-WebSocket-Accept"))
		case sub != h.Get("Sec-WebSocket-Protocol") || sub != "" && sub != "v1" && sub != "v2":
			t.Fatalf("subprotocol %q from %q", sub, h.Values("Sec-WebSocket-Protocol"))
		case ext != "" || len(h.Values("Sec-WebSocket-Extensions")) > 0 && strings.Join(h.Values("Sec-WebSocket-Extensions"), "") != "":
			t.Fatalf("accepted extensions %q", h.Values("Sec-WebSocket-Extensions"))
		}
	})
}

// FuzzInflate reads any bytes as the payload of a compressed message,
// whole or cut into two frames, followed by a plain message, on a
// connection with a read limit of 64 KiB. It must never panic, and its
// outcome must be the reference's: the message as the flate package
// inflates it, 1009 once that passes the limit, 1007 for data that does
// not inflate or, in a text message, is not UTF-8; and after a message
// read whole, the next one.
//
//	go test ./server/ws -run '^$' -fuzz '^FuzzInflate$' -fuzztime 1m
func FuzzInflate(f *testing.F) {
	var final bytes.Buffer
	fw, _ := flate.NewWriter(&final, flate.BestSpeed)
	fw.Write([]byte("a stream that ends with a final block"))
	fw.Close()
	zeros := deflateBytes(make([]byte, 1<<20)) // inflates past the limit
	seeds := [][]byte{
		deflateBytes([]byte("Hello, compressed world")),
		deflateBytes([]byte(textOf(5000))),
		deflateBytes(binOf(300)),
		deflateBytes([]byte("\xff\xfe not UTF-8")),
		final.Bytes(),
		zeros,
		zeros[:len(zeros)/2],
		{0x00},
		{},
		{0xff, 0xff},
		{0x07, 0x00},
	}
	for i, seed := range seeds {
		f.Add(seed, uint16(len(seed)/2), i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, payload []byte, cut uint16, text bool) {
		const limit = 64 << 10
		op := wire.OpBinary
		if text {
			op = wire.OpText
		}
		key := [4]byte{0x11, 0x22, 0x33, 0x44}
		var in []byte
		if c := int(cut); c > 0 && c < len(payload) {
			in = maskedFrame(false, wire.Rsv1, op, payload[:c], key)
			in = append(in, maskedFrame(true, 0, wire.OpContinuation, payload[c:], key)...)
		} else {
			in = maskedFrame(true, wire.Rsv1, op, payload, key)
		}
		in = append(in, maskedFrame(true, 0, wire.OpText, []byte("end"), key)...)

		// The reference: the flate package, reading no more than the
		// limit and one byte.
		ref := flate.NewReader(io.MultiReader(bytes.NewReader(payload), bytes.NewReader(inflateTail)))
		want, err := io.ReadAll(io.LimitReader(ref, limit+1))
		wantEnd := ""
		switch {
		case len(want) > limit:
			wantEnd = fmt.Sprintf("fail %d", wire.StatusMessageTooBig)
		case err != nil:
			wantEnd = fmt.Sprintf("fail %d", wire.StatusInvalidPayloadData)
		case text && !utf8.Valid(want):
			wantEnd = fmt.Sprintf("fail %d", wire.StatusInvalidPayloadData)
		}

		got := serverReadWith(t, in, limit, newDeflateState(&CompressionOptions{}, 15, true, 15, false))
		if wantEnd == "" {
			if got.end != "eof" || len(got.msgs) != 2 || !bytes.Equal(got.msgs[0].payload, want) || string(got.msgs[1].payload) != "end" {
				t.Fatalf("got %v; want %s, then \"end\"", got, abbrev(want))
			}
			return
		}
		// In text, invalid UTF-8 may show before the reference's verdict.
		utf8First := text && got.end == fmt.Sprintf("fail %d", wire.StatusInvalidPayloadData)
		if got.end != wantEnd && !utf8First || len(got.msgs) != 0 {
			t.Fatalf("got %v; want %s", got, wantEnd)
		}
	})
}
