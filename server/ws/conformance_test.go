package ws

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"duplex/shared/wire"
)

// This file is our own version of the Autobahn|Testsuite fuzzingclient
// groups that must pass (see shared/CONFORMANCE.md): one test function per
// group, each case modelled on the suite's, played against the echo server
// by the raw-socket client of client_test.go. The tests of the Conn API
// (NextReader, NextWriter, Close, Ping, contexts, KeepAlive, Group) follow.

// dropWithin bounds how long the server may take to close the TCP
// connection once the closing handshake is over. It is well below
// closeTimeout, so a server that waits out its own timeout for a close frame
// that is not coming, or that has lost its place in the stream, fails.
const dropWithin = closeTimeout / 2

// pause separates the pieces of a chopped write, so that they reach the
// server in separate reads.
const pause = time.Millisecond

// sendMode says how the frames of an exchange are written.
type sendMode int

const (
	perFrame sendMode = iota // one write per frame
	oneWrite                 // all frames in a single write
	slowly                   // one write per frame, pausing between frames
	chopped                  // the bytes of all frames in pieces of chop bytes, pausing between pieces
)

// An exchange is one conformance case: frames the client sends, what the
// server must send back, and how the connection must end.
type exchange struct {
	name string
	send []frame
	mode sendMode
	chop int
	// want lists what the server sends back, in order: data messages,
	// reassembled, and control frames.
	want []frame
	// fail, if set, is the code with which the server must then fail the
	// connection. Otherwise the client closes normally afterwards.
	fail wire.StatusCode
	// deflateFail, if set, replaces fail when compression was agreed: a
	// frame with RSV1 then holds compressed data, and is no longer a
	// protocol error.
	deflateFail wire.StatusCode
}

func (ex exchange) run(t *testing.T, c *rawPeer) {
	t.Helper()
	if c.deflate && ex.deflateFail != 0 {
		ex.fail = ex.deflateFail
	}
	write := c.writeRaw
	if ex.fail != 0 {
		// The server may fail the connection before it has read all that
		// follows the violation, and close it: writing the rest then
		// fails, which is not what the case is about.
		write = c.writeAfterViolation
	}
	var all []byte
	for _, f := range ex.send {
		b := c.encode(f)
		switch ex.mode {
		case perFrame:
			write(b)
		case slowly:
			write(b)
			time.Sleep(10 * pause)
		default:
			all = append(all, b...)
		}
	}
	switch ex.mode {
	case oneWrite:
		write(all)
	case chopped:
		for len(all) > 0 {
			n := min(ex.chop, len(all))
			write(all[:n])
			if all = all[n:]; len(all) > 0 {
				time.Sleep(pause)
			}
		}
	}
	for _, w := range ex.want {
		if w.op.IsControl() {
			c.expectFrame(w.op, w.payload)
		} else {
			c.expectMessage(w.op, w.payload)
		}
	}
	if ex.fail != 0 {
		c.expectFail(ex.fail)
	} else {
		c.finish()
	}
}

// An end is a way to open a connection for a case: as a client to an echo
// server, or as a server to the native client, which echoes too. The rules
// are the same for both ends but for masking, so one table checks both.
type end struct {
	name string
	open func(t testing.TB) *rawPeer
}

// ends returns both ends, for one echo server made with u; u's read limit
// and compression options apply to the native client too. If u has
// compression, the raw peer agrees to it at both ends, and the ends are
// named with a "-deflate" suffix.
func ends(t testing.TB, u *Upgrader) []end {
	addr := echoServer(t, u)
	opts := &DialOptions{}
	if u != nil {
		opts.ReadLimit = u.ReadLimit
		opts.Compression = u.Compression
	}
	if opts.Compression != nil {
		return []end{
			{"server-deflate", func(t testing.TB) *rawPeer {
				c := dialRaw(t, addr, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
				if ext := c.resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
					t.Fatalf("the server answered Sec-WebSocket-Extensions %q", ext)
				}
				c.deflate = true
				return c
			}},
			{"client-deflate", func(t testing.TB) *rawPeer { return acceptRaw(t, opts) }},
		}
	}
	return []end{
		{"server", func(t testing.TB) *rawPeer { return dialRaw(t, addr) }},
		{"client", func(t testing.TB) *rawPeer { return acceptRaw(t, opts) }},
	}
}

// withCompression returns a copy of u (nil for a zero Upgrader) that
// compresses every message it can, to make the most of the compressed
// path.
func withCompression(u *Upgrader) *Upgrader {
	c := &Upgrader{}
	if u != nil {
		c.ReadLimit = u.ReadLimit
	}
	c.Compression = &CompressionOptions{Threshold: -1}
	return c
}

// runExchanges plays each case at both ends, each time on a connection of
// its own; unless u has compression already, once more at both ends with
// compression agreed, the echo compressing what it sends back.
func runExchanges(t *testing.T, u *Upgrader, cases []exchange) {
	t.Helper()
	both := ends(t, u)
	if u == nil || u.Compression == nil {
		both = append(both, ends(t, withCompression(u))...)
	}
	seen := map[string]bool{}
	for _, ex := range cases {
		if seen[ex.name] {
			t.Fatalf("two cases named %q", ex.name)
		}
		seen[ex.name] = true
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			for _, e := range both {
				t.Run(e.name, func(t *testing.T) {
					t.Parallel()
					ex.run(t, e.open(t))
				})
			}
		})
	}
}

// Frame constructors.

func textFrame(s string) frame  { return frame{fin: true, op: wire.OpText, payload: []byte(s)} }
func binFrame(b []byte) frame   { return frame{fin: true, op: wire.OpBinary, payload: b} }
func pingFrame(s string) frame  { return frame{fin: true, op: wire.OpPing, payload: []byte(s)} }
func pongFrame(s string) frame  { return frame{fin: true, op: wire.OpPong, payload: []byte(s)} }
func closeFrame(b []byte) frame { return frame{fin: true, op: wire.OpClose, payload: b} }
func textMsg(s string) frame    { return textFrame(s) }
func binMsg(b []byte) frame     { return binFrame(b) }
func cont(s string, fin bool) frame {
	return frame{fin: fin, op: wire.OpContinuation, payload: []byte(s)}
}
func first(op wire.Opcode, s string) frame { return frame{op: op, payload: []byte(s)} }

// closePayload is the payload of a close frame with code and reason.
func closePayload(code wire.StatusCode, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

// textOf returns n bytes of printable ASCII; binOf n bytes of every value.
// Both are made once per size and shared: callers must not modify them.
func textOf(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ!"
	v, _ := payloads.LoadOrStore(payloadKey{false, n}, sync.OnceValue(func() any {
		return strings.Repeat(alphabet, n/len(alphabet)+1)[:n]
	}))
	return v.(func() any)().(string)
}

func binOf(n int) []byte {
	v, _ := payloads.LoadOrStore(payloadKey{true, n}, sync.OnceValue(func() any {
		b := make([]byte, n)
		rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16)}).Read(b)
		return b
	}))
	return v.(func() any)().([]byte)
}

type payloadKey struct {
	binary bool
	n      int
}

var payloads sync.Map // payloadKey → func() any, returning textOf's or binOf's result

// fragments splits payload into frames of at most size bytes, the first
// with opcode op and the others continuations; the last is final.
func fragments(op wire.Opcode, payload []byte, size int) []frame {
	var fs []frame
	for {
		n := min(size, len(payload))
		f := frame{op: wire.OpContinuation, payload: payload[:n]}
		if len(fs) == 0 {
			f.op = op
		}
		payload = payload[n:]
		f.fin = len(payload) == 0
		fs = append(fs, f)
		if f.fin {
			return fs
		}
	}
}

// Client helpers on top of those of client_test.go.

// writeChopped writes b in pieces of size bytes, pausing between them.
func (c *rawPeer) writeChopped(b []byte, size int) {
	c.t.Helper()
	for len(b) > 0 {
		n := min(size, len(b))
		c.writeRaw(b[:n])
		b = b[n:]
		if len(b) > 0 {
			time.Sleep(pause)
		}
	}
}

// writeAfterViolation writes b, which may follow a protocol violation: the
// server may have closed the connection already, so a reset is no error.
func (c *rawPeer) writeAfterViolation(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil && !isReset(err) && !errors.Is(err, syscall.EPIPE) {
		c.t.Fatalf("write: %v", err)
	}
}

// readWithin reads the next frame, waiting at most d.
func (c *rawPeer) readWithin(d time.Duration) (frame, error) {
	c.conn.SetReadDeadline(time.Now().Add(d))
	defer c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	return c.read()
}

// expectCloseFrame reads the server's close frame, arriving within d, and
// checks its code and that its payload is well formed.
func (c *rawPeer) expectCloseFrame(code wire.StatusCode, d time.Duration) frame {
	c.t.Helper()
	f, err := c.readWithin(d)
	if err != nil {
		c.t.Fatalf("waiting for close %d: %v", code, err)
	}
	if f.op != wire.OpClose {
		c.t.Fatalf("got %v frame %s, want close %d", f.op, abbrev(f.payload), code)
	}
	got, reason, err := wire.ParseClose(f.payload)
	if err != nil {
		c.t.Fatalf("server's close payload %x: %v", f.payload, err)
	}
	if got != code {
		c.t.Fatalf("server closed with %d %q, want %d", got, reason, code)
	}
	return f
}

// expectFail checks that the server fails the connection with code: its
// next frame is a close frame with that code, which the client answers, and
// then the server closes TCP.
func (c *rawPeer) expectFail(code wire.StatusCode) {
	c.t.Helper()
	f := c.expectCloseFrame(code, 10*time.Second)
	// The server may take the frame in violation for the end of the
	// stream and have closed the connection already.
	c.writeAfterViolation(c.encode(closeFrame(f.payload)))
	c.expectDrop()
}

// expectCloseReply checks the server's answer to a close frame the client
// sent: a close frame with code, after which the server closes TCP without
// waiting for anything more (the client has already sent its close).
func (c *rawPeer) expectCloseReply(code wire.StatusCode) {
	c.t.Helper()
	c.expectCloseFrame(code, 10*time.Second)
	c.expectDrop()
}

// finish performs a normal closing handshake started by the client.
func (c *rawPeer) finish() {
	c.t.Helper()
	c.write(closeFrame(closePayload(wire.StatusNormalClosure, "")))
	c.expectCloseReply(wire.StatusNormalClosure)
}

// expectDrop checks that the server closes the TCP connection, sending
// nothing more, within dropWithin. Against the native client, the raw
// peer is the server: it checks that the client waits for the server to
// close first (RFC 6455 §7.1.1), closes, and checks that the client then
// closes its end.
func (c *rawPeer) expectDrop() {
	c.t.Helper()
	if c.server {
		if f, err := c.readWithin(5 * time.Millisecond); err == nil {
			c.t.Fatalf("got %v frame %s after the closing handshake", f.op, abbrev(f.payload))
		} else if !isTimeout(err) {
			c.t.Fatalf("the client closed TCP before the server did: %v", err)
		}
		c.conn.(*net.TCPConn).CloseWrite()
	}
	f, err := c.readWithin(dropWithin)
	switch {
	case err == nil:
		c.t.Fatalf("got %v frame %s, want the connection closed", f.op, abbrev(f.payload))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), isReset(err):
	default:
		c.t.Fatalf("got %v, want the server to close the connection", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// expectSilence checks that the server sends nothing for a while: it has
// not failed the connection over what it has been sent so far.
func (c *rawPeer) expectSilence(d time.Duration) {
	c.t.Helper()
	f, err := c.readWithin(d)
	var ne net.Error
	switch {
	case err == nil:
		c.t.Fatalf("got %v frame %s, want nothing yet", f.op, abbrev(f.payload))
	case errors.As(err, &ne) && ne.Timeout():
	default:
		c.t.Fatalf("got %v, want nothing yet", err)
	}
}

// TestFraming is Autobahn group 1: text and binary messages of every length
// encoding, echoed byte-exact however their bytes are chopped.
func TestFraming(t *testing.T) {
	t.Parallel()
	var cases []exchange
	for _, n := range []int{0, 1, 125, 126, 127, 128, 65535, 65536} {
		s := textOf(n)
		cases = append(cases, exchange{
			name: fmt.Sprintf("text/%d", n),
			send: []frame{textFrame(s)},
			want: []frame{textMsg(s)},
		}, exchange{
			name: fmt.Sprintf("binary/%d", n),
			send: []frame{binFrame(binOf(n))},
			want: []frame{binMsg(binOf(n))},
		})
	}
	for _, chop := range []int{1, 2, 3, 5, 7, 13} {
		cases = append(cases, exchange{
			name: fmt.Sprintf("text/300/chops-of-%d", chop),
			send: []frame{textFrame(textOf(300))},
			mode: chopped, chop: chop,
			want: []frame{textMsg(textOf(300))},
		})
	}
	cases = append(cases,
		exchange{
			name: "text/65536/chops-of-997",
			send: []frame{textFrame(textOf(65536))},
			mode: chopped, chop: 997,
			want: []frame{textMsg(textOf(65536))},
		},
		exchange{
			name: "binary/65536/chops-of-997",
			send: []frame{binFrame(binOf(65536))},
			mode: chopped, chop: 997,
			want: []frame{binMsg(binOf(65536))},
		},
		exchange{
			name: "binary/200/chops-of-1",
			send: []frame{binFrame(binOf(200))},
			mode: chopped, chop: 1,
			want: []frame{binMsg(binOf(200))},
		},
		exchange{
			name: "binary/70000/chops-of-4093",
			send: []frame{binFrame(binOf(70000))},
			mode: chopped, chop: 4093,
			want: []frame{binMsg(binOf(70000))},
		},
		exchange{
			name: "ten-messages-in-one-write",
			send: []frame{
				textFrame("0"), binFrame(binOf(1)), textFrame(textOf(126)), binFrame(binOf(300)), textFrame(""),
				binFrame(nil), textFrame(textOf(5000)), binFrame(binOf(65536)), textFrame("κόσμε"), textFrame("end"),
			},
			mode: oneWrite,
			want: []frame{
				textMsg("0"), binMsg(binOf(1)), textMsg(textOf(126)), binMsg(binOf(300)), textMsg(""),
				binMsg(nil), textMsg(textOf(5000)), binMsg(binOf(65536)), textMsg("κόσμε"), textMsg("end"),
			},
		},
		exchange{
			name: "messages-chopped-across-frame-boundaries",
			send: []frame{textFrame("first"), binFrame(binOf(130)), textFrame("third")},
			mode: chopped, chop: 4,
			want: []frame{textMsg("first"), binMsg(binOf(130)), textMsg("third")},
		},
	)
	runExchanges(t, nil, cases)

	// The header alone, then the payload after a pause: the server must
	// wait for the payload rather than take the header for the message.
	t.Run("header-then-payload", func(t *testing.T) {
		t.Parallel()
		c := dialRaw(t, echoServer(t, nil))
		b := encodeFrame(textFrame(textOf(1000)), true)
		c.writeRaw(b[:8])
		c.expectSilence(50 * time.Millisecond)
		c.writeRaw(b[8:])
		c.expectMessage(wire.OpText, []byte(textOf(1000)))
		c.finish()
	})
}

// TestPingPong is Autobahn group 2.
func TestPingPong(t *testing.T) {
	t.Parallel()
	binaryPayload := string([]byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff})
	var tenPings, tenPongs []frame
	for i := range 10 {
		tenPings = append(tenPings, pingFrame(fmt.Sprintf("ping %d", i)))
		tenPongs = append(tenPongs, pongFrame(fmt.Sprintf("ping %d", i)))
	}
	runExchanges(t, nil, []exchange{
		{name: "empty", send: []frame{pingFrame("")}, want: []frame{pongFrame("")}},
		{name: "text-payload", send: []frame{pingFrame("Hello, world!")}, want: []frame{pongFrame("Hello, world!")}},
		{name: "binary-payload", send: []frame{pingFrame(binaryPayload)}, want: []frame{pongFrame(binaryPayload)}},
		{name: "125-bytes", send: []frame{pingFrame(textOf(125))}, want: []frame{pongFrame(textOf(125))}},
		{name: "126-bytes", send: []frame{pingFrame(textOf(126))}, fail: wire.StatusProtocolError},
		{name: "126-bytes-then-text", send: []frame{pingFrame(textOf(126)), textFrame("not echoed")}, mode: oneWrite, fail: wire.StatusProtocolError},
		{name: "125-bytes-chopped", send: []frame{pingFrame(textOf(125))}, mode: chopped, chop: 1, want: []frame{pongFrame(textOf(125))}},
		{name: "unsolicited-empty-pong", send: []frame{pongFrame(""), pingFrame("after")}, want: []frame{pongFrame("after")}},
		{name: "unsolicited-pong", send: []frame{pongFrame("unsolicited"), textFrame("after")}, want: []frame{textMsg("after")}},
		{name: "unsolicited-pong-then-ping", send: []frame{pongFrame("unsolicited"), pingFrame("solicited")}, want: []frame{pongFrame("solicited")}},
		{name: "unsolicited-125-byte-pong", send: []frame{pongFrame(textOf(125)), pingFrame("x")}, want: []frame{pongFrame("x")}},
		{name: "126-byte-pong", send: []frame{pongFrame(textOf(126))}, fail: wire.StatusProtocolError},
		{name: "ten-pings", send: tenPings, want: tenPongs},
		{name: "ten-pings-one-write", send: tenPings, mode: oneWrite, want: tenPongs},
		{name: "ten-pings-chopped", send: tenPings, mode: chopped, chop: 1, want: tenPongs},
		{
			name: "pings-between-messages",
			send: []frame{textFrame("one"), pingFrame("p1"), binFrame([]byte("two")), pingFrame("p2")},
			mode: oneWrite,
			want: []frame{textMsg("one"), pongFrame("p1"), binMsg([]byte("two")), pongFrame("p2")},
		},
	})
}

// TestReservedBits is Autobahn group 3: a reserved bit on any frame fails
// the connection with 1002, after what came before has been echoed, and
// nothing after it is answered.
func TestReservedBits(t *testing.T) {
	t.Parallel()
	var cases []exchange
	for rsv := byte(1); rsv <= 7; rsv++ {
		bits := rsv << 4 // RSV3 is 0x10, RSV2 0x20, RSV1 0x40
		name := fmt.Sprintf("rsv%03b", rsv)
		// With permessage-deflate agreed, RSV1 alone marks a compressed
		// message, whose payload here is not DEFLATE data.
		var notDeflate wire.StatusCode
		if bits == wire.Rsv1 {
			notDeflate = wire.StatusInvalidPayloadData
		}
		cases = append(cases,
			exchange{name: name + "/text", send: []frame{{fin: true, rsv: bits, op: wire.OpText, payload: []byte("Hello")}}, fail: wire.StatusProtocolError, deflateFail: notDeflate},
			exchange{name: name + "/empty-text", send: []frame{{fin: true, rsv: bits, op: wire.OpText}}, fail: wire.StatusProtocolError, deflateFail: notDeflate},
			exchange{name: name + "/binary", send: []frame{{fin: true, rsv: bits, op: wire.OpBinary, payload: binOf(10)}}, fail: wire.StatusProtocolError, deflateFail: notDeflate},
			exchange{name: name + "/ping", send: []frame{{fin: true, rsv: bits, op: wire.OpPing, payload: []byte("Hello")}}, fail: wire.StatusProtocolError},
			exchange{name: name + "/pong", send: []frame{{fin: true, rsv: bits, op: wire.OpPong, payload: []byte("Hello")}}, fail: wire.StatusProtocolError},
			exchange{name: name + "/close", send: []frame{{fin: true, rsv: bits, op: wire.OpClose, payload: closePayload(1000, "")}}, fail: wire.StatusProtocolError},
			exchange{
				name: name + "/continuation",
				send: []frame{first(wire.OpText, "frag"), {fin: true, rsv: bits, op: wire.OpContinuation, payload: []byte("ment")}},
				fail: wire.StatusProtocolError,
			},
			exchange{
				name: name + "/after-echo",
				send: []frame{textFrame("Hello"), {fin: true, rsv: bits, op: wire.OpText, payload: []byte("Hello")}, pingFrame("unanswered")},
				want: []frame{textMsg("Hello")},
				fail: wire.StatusProtocolError, deflateFail: notDeflate,
			},
		)
	}
	afterEcho := []frame{textFrame("Hello"), {fin: true, rsv: wire.Rsv1 | wire.Rsv3, op: wire.OpText, payload: []byte("Hello")}, pingFrame("unanswered")}
	cases = append(cases,
		exchange{name: "after-echo/one-write", send: afterEcho, mode: oneWrite, want: []frame{textMsg("Hello")}, fail: wire.StatusProtocolError},
		exchange{name: "after-echo/chopped", send: afterEcho, mode: chopped, chop: 1, want: []frame{textMsg("Hello")}, fail: wire.StatusProtocolError},
		exchange{name: "after-echo/slowly", send: afterEcho, mode: slowly, want: []frame{textMsg("Hello")}, fail: wire.StatusProtocolError},
		exchange{
			name: "binary-after-echo",
			send: []frame{binFrame(binOf(300)), {fin: true, rsv: wire.Rsv2, op: wire.OpBinary, payload: binOf(300)}},
			want: []frame{binMsg(binOf(300))},
			fail: wire.StatusProtocolError,
		},
	)
	runExchanges(t, nil, cases)
}

// TestOpcodes is Autobahn group 4: reserved opcodes fail the connection.
func TestOpcodes(t *testing.T) {
	t.Parallel()
	var cases []exchange
	for _, op := range []wire.Opcode{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf} {
		name := fmt.Sprintf("0x%x", byte(op))
		cases = append(cases,
			exchange{name: name + "/empty", send: []frame{{fin: true, op: op}}, fail: wire.StatusProtocolError},
			exchange{
				name: name + "/after-echo",
				send: []frame{textFrame("Hello"), {fin: true, op: op, payload: []byte("reserved")}, pingFrame("unanswered")},
				want: []frame{textMsg("Hello")},
				fail: wire.StatusProtocolError,
			},
			exchange{
				name: name + "/after-echo-one-write",
				send: []frame{textFrame("Hello"), {fin: true, op: op, payload: binOf(100)}, pingFrame("unanswered")},
				mode: oneWrite,
				want: []frame{textMsg("Hello")},
				fail: wire.StatusProtocolError,
			},
			exchange{
				name: name + "/mid-message",
				send: []frame{first(wire.OpText, "frag"), {fin: true, op: op, payload: []byte("x")}, cont("ment", true)},
				fail: wire.StatusProtocolError,
			},
		)
	}
	runExchanges(t, nil, cases)
}

// TestFragmentation is Autobahn group 5.
func TestFragmentation(t *testing.T) {
	t.Parallel()
	inFive := []frame{
		first(wire.OpText, "fragment1"), pingFrame("pongme 1!"),
		cont("fragment2", false), pingFrame("pongme 2!"),
		cont("fragment3", false), pingFrame("pongme 3!"),
		cont("fragment4", false), pingFrame("pongme 4!"),
		cont("fragment5", true),
	}
	inFiveWant := []frame{
		pongFrame("pongme 1!"), pongFrame("pongme 2!"), pongFrame("pongme 3!"), pongFrame("pongme 4!"),
		textMsg("fragment1fragment2fragment3fragment4fragment5"),
	}
	var oneByte []frame
	for i := range 100 {
		oneByte = append(oneByte, frame{op: wire.OpContinuation, payload: []byte{"abcdefghij"[i%10]}})
	}
	oneByte[0].op = wire.OpBinary
	oneByte[99].fin = true
	cases := []exchange{
		{name: "ping-in-two-fragments", send: []frame{{op: wire.OpPing, payload: []byte("frag")}, cont("ment", true)}, fail: wire.StatusProtocolError},
		{name: "pong-in-two-fragments", send: []frame{{op: wire.OpPong, payload: []byte("frag")}, cont("ment", true)}, fail: wire.StatusProtocolError},
		{name: "close-in-two-fragments", send: []frame{{op: wire.OpClose, payload: []byte{0x03}}, cont("\xe8", true)}, fail: wire.StatusProtocolError},
		{name: "unfinished-empty-ping", send: []frame{{op: wire.OpPing}}, fail: wire.StatusProtocolError},
		{name: "text-in-two-fragments", send: []frame{first(wire.OpText, "fragment1"), cont("fragment2", true)}, want: []frame{textMsg("fragment1fragment2")}},
		{name: "binary-in-two-fragments", send: []frame{first(wire.OpBinary, "\x00\xff"), cont("\xfe\x01", true)}, want: []frame{binMsg([]byte{0, 0xff, 0xfe, 1})}},
		{name: "two-fragments-slowly", send: []frame{first(wire.OpText, "fragment1"), cont("fragment2", true)}, mode: slowly, want: []frame{textMsg("fragment1fragment2")}},
		{name: "two-fragments-chopped", send: []frame{first(wire.OpText, "fragment1"), cont("fragment2", true)}, mode: chopped, chop: 1, want: []frame{textMsg("fragment1fragment2")}},
		{
			name: "ping-between-fragments",
			send: []frame{first(wire.OpText, "fragment1"), pingFrame("pongme!"), cont("fragment2", true)},
			want: []frame{pongFrame("pongme!"), textMsg("fragment1fragment2")},
		},
		{
			name: "ping-between-fragments-slowly",
			send: []frame{first(wire.OpText, "fragment1"), pingFrame("pongme!"), cont("fragment2", true)},
			mode: slowly,
			want: []frame{pongFrame("pongme!"), textMsg("fragment1fragment2")},
		},
		{
			name: "ping-between-fragments-chopped",
			send: []frame{first(wire.OpText, "fragment1"), pingFrame("pongme!"), cont("fragment2", true)},
			mode: chopped, chop: 1,
			want: []frame{pongFrame("pongme!"), textMsg("fragment1fragment2")},
		},
		{
			name: "pong-between-fragments",
			send: []frame{first(wire.OpBinary, "frag"), pongFrame("ignored"), cont("ment", true)},
			want: []frame{binMsg([]byte("fragment"))},
		},
		{name: "five-fragments-with-pings", send: inFive, want: inFiveWant},
		{name: "five-fragments-with-pings-slowly", send: inFive, mode: slowly, want: inFiveWant},
		{name: "five-fragments-with-pings-one-write", send: inFive, mode: oneWrite, want: inFiveWant},
		{
			name: "final-continuation-without-start",
			send: []frame{cont("non-continuation payload", true), textFrame("Hello, world!")},
			fail: wire.StatusProtocolError,
		},
		{
			name: "final-continuation-without-start-one-write",
			send: []frame{cont("non-continuation payload", true), first(wire.OpText, "fragment1"), cont("fragment2", true)},
			mode: oneWrite,
			fail: wire.StatusProtocolError,
		},
		{
			name: "final-continuation-without-start-chopped",
			send: []frame{cont("non-continuation payload", true), textFrame("Hello, world!")},
			mode: chopped, chop: 1,
			fail: wire.StatusProtocolError,
		},
		{
			name: "continuation-without-start",
			send: []frame{cont("non-continuation payload", false), textFrame("Hello, world!")},
			fail: wire.StatusProtocolError,
		},
		{
			name: "continuation-without-start-slowly",
			send: []frame{cont("non-continuation payload", false), first(wire.OpText, "fragment1"), cont("fragment2", true)},
			mode: slowly,
			fail: wire.StatusProtocolError,
		},
		{
			name: "continuation-after-finished-message",
			send: []frame{first(wire.OpText, "fragment1"), cont("fragment2", true), cont("fragment3", false), cont("fragment4", true)},
			want: []frame{textMsg("fragment1fragment2")},
			fail: wire.StatusProtocolError,
		},
		{
			name: "continuation-after-single-frame-message",
			send: []frame{textFrame("whole"), cont("stray", true)},
			want: []frame{textMsg("whole")},
			fail: wire.StatusProtocolError,
		},
		{
			name: "new-text-while-text-in-progress",
			send: []frame{first(wire.OpText, "fragment1"), textFrame("fragment2")},
			fail: wire.StatusProtocolError,
		},
		{
			name: "new-unfinished-text-while-text-in-progress",
			send: []frame{first(wire.OpText, "fragment1"), first(wire.OpText, "fragment2"), cont("fragment3", true)},
			fail: wire.StatusProtocolError,
		},
		{
			name: "new-binary-while-text-in-progress",
			send: []frame{first(wire.OpText, "fragment1"), binFrame([]byte("fragment2"))},
			mode: oneWrite,
			fail: wire.StatusProtocolError,
		},
		{name: "hundred-one-byte-fragments", send: oneByte, want: []frame{binMsg(bytes.Repeat([]byte("abcdefghij"), 10))}},
		{name: "hundred-one-byte-fragments-one-write", send: oneByte, mode: oneWrite, want: []frame{binMsg(bytes.Repeat([]byte("abcdefghij"), 10))}},
		{
			name: "empty-fragments",
			send: []frame{first(wire.OpText, ""), cont("", false), cont("", true)},
			want: []frame{textMsg("")},
		},
		{
			name: "empty-fragments-around-data",
			send: []frame{first(wire.OpBinary, ""), cont("", false), cont("data", false), cont("", false), cont("", true)},
			want: []frame{binMsg([]byte("data"))},
		},
		{
			name: "many-fragments-with-pings",
			send: append(fragments(wire.OpText, []byte(textOf(1000)), 100), pingFrame("after")),
			mode: oneWrite,
			want: []frame{textMsg(textOf(1000)), pongFrame("after")},
		},
	}
	runExchanges(t, nil, cases)
}

// A utf8Case is one of Markus Kuhn's UTF-8 decoder test sequences, as the
// suite's group 6 uses them.
type utf8Case struct {
	name  string
	text  string
	valid bool
}

var utf8Cases = []utf8Case{
	// Some correct UTF-8 text.
	{"hello-dollar", "hello\x24world", true},
	{"hello-cent", "hello\xc2\xa2world", true},
	{"hello-euro", "hello\xe2\x82\xacworld", true},
	{"hello-U+24B62", "hello\xf0\xa4\xad\xa2world", true},
	{"kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", true},
	{"hello-umlauts", "Hello-µ@ßöäüàá-UTF-8!!", true},
	{"languages", "Ελληνικά, 日本語, 한국어, русский, עברית, العربية, हिन्दी, ไทย, 😀🎉", true},
	// First and last sequence of each length, and other boundaries.
	{"U+0000", "\x00", true},
	{"U+007F", "\x7f", true},
	{"U+0080", "\xc2\x80", true},
	{"U+07FF", "\xdf\xbf", true},
	{"U+0800", "\xe0\xa0\x80", true},
	{"U+D7FF", "\xed\x9f\xbf", true},
	{"U+E000", "\xee\x80\x80", true},
	{"U+FFFD", "\xef\xbf\xbd", true},
	{"U+FFFF", "\xef\xbf\xbf", true},
	{"U+10000", "\xf0\x90\x80\x80", true},
	{"U+10FFFF", "\xf4\x8f\xbf\xbf", true},
	{"U+110000", "\xf4\x90\x80\x80", false},
	{"U+1FFFFF", "\xf7\xbf\xbf\xbf", false},
	{"5-byte-first", "\xf8\x88\x80\x80\x80", false},
	{"6-byte-first", "\xfc\x84\x80\x80\x80\x80", false},
	{"5-byte-last", "\xfb\xbf\xbf\xbf\xbf", false},
	{"6-byte-last", "\xfd\xbf\xbf\xbf\xbf\xbf", false},
	// Non-characters and specials are valid UTF-8.
	{"U+FFFE", "\xef\xbf\xbe", true},
	{"U+1FFFE", "\xf0\x9f\xbf\xbe", true},
	{"U+10FFFE", "\xf4\x8f\xbf\xbe", true},
	{"U+FFF9", "\xef\xbf\xb9", true},
	// Unexpected continuation bytes.
	{"lone-80", "\x80", false},
	{"lone-bf", "\xbf", false},
	{"continuations-2", "\x80\xbf", false},
	{"continuations-3", "\x80\xbf\x80", false},
	{"continuations-6", "\x80\xbf\x80\xbf\x80\xbf", false},
	{"all-continuations", continuationBytes(), false},
	{"continuation-after-ascii", "hello\x80world", false},
	// Lonely start characters.
	{"lonely-2-byte-starts", lonelyStarts(0xc0, 0xdf), false},
	{"lonely-3-byte-starts", lonelyStarts(0xe0, 0xef), false},
	{"lonely-4-byte-starts", lonelyStarts(0xf0, 0xf7), false},
	{"lonely-5-byte-starts", lonelyStarts(0xf8, 0xfb), false},
	{"lonely-6-byte-starts", lonelyStarts(0xfc, 0xfd), false},
	// Sequences with the last continuation byte missing, at message end.
	{"truncated-c0", "\xc0", false},
	{"truncated-e0-80", "\xe0\x80", false},
	{"truncated-f0-80-80", "\xf0\x80\x80", false},
	{"truncated-df", "\xdf", false},
	{"truncated-ef-bf", "\xef\xbf", false},
	{"truncated-f4-8f-bf", "\xf4\x8f\xbf", false},
	{"truncated-after-text", "hello\xce", false},
	{"truncated-euro-after-text", "hello\xe2\x82", false},
	{"truncated-concatenated", "\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80\xdf\xef\xbf\xf7\xbf\xbf\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf", false},
	// Impossible bytes.
	{"fe", "\xfe", false},
	{"ff", "\xff", false},
	{"fe-fe-ff-ff", "\xfe\xfe\xff\xff", false},
	{"f5", "\xf5\x80\x80\x80", false},
	// Overlong forms.
	{"overlong-slash-2", "\xc0\xaf", false},
	{"overlong-slash-3", "\xe0\x80\xaf", false},
	{"overlong-slash-4", "\xf0\x80\x80\xaf", false},
	{"overlong-slash-5", "\xf8\x80\x80\x80\xaf", false},
	{"overlong-max-2", "\xc1\xbf", false},
	{"overlong-max-3", "\xe0\x9f\xbf", false},
	{"overlong-max-4", "\xf0\x8f\xbf\xbf", false},
	{"overlong-nul-2", "\xc0\x80", false},
	{"overlong-nul-3", "\xe0\x80\x80", false},
	{"overlong-nul-4", "\xf0\x80\x80\x80", false},
	// UTF-16 surrogates, single and paired.
	{"surrogate-D800", "\xed\xa0\x80", false},
	{"surrogate-DB7F", "\xed\xad\xbf", false},
	{"surrogate-DC00", "\xed\xb0\x80", false},
	{"surrogate-DFFF", "\xed\xbf\xbf", false},
	{"surrogate-pair", "\xed\xa0\x80\xed\xb0\x80", false},
	{"surrogate-pair-max", "\xed\xaf\xbf\xed\xbf\xbf", false},
	{"kosme-surrogate-edited", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", false},
	{"kosme-U+110000-edited", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64", false},
}

func continuationBytes() string {
	var b []byte
	for c := 0x80; c <= 0xbf; c++ {
		b = append(b, byte(c))
	}
	return string(b)
}

func lonelyStarts(lo, hi byte) string {
	var b []byte
	for c := int(lo); c <= int(hi); c++ {
		b = append(b, byte(c), ' ')
	}
	return string(b)
}

// utf8Split lists the sequences that are also sent in two fragments split
// at every position, and in fragments of one byte.
var utf8Split = map[string]bool{
	"kosme": true, "hello-euro": true, "hello-umlauts": true, "U+10FFFF": true,
	"U+110000": true, "surrogate-D800": true, "overlong-slash-2": true,
	"kosme-surrogate-edited": true, "kosme-U+110000-edited": true, "truncated-after-text": true, "fe-fe-ff-ff": true,
}

// TestUTF8 is Autobahn group 6: text must be valid UTF-8, however it is
// fragmented, and invalid text fails the connection with 1007 as soon as it
// can no longer become valid.
func TestUTF8(t *testing.T) {
	t.Parallel()
	var cases []exchange
	outcome := func(name string, send []frame, tc utf8Case, mode sendMode) exchange {
		ex := exchange{name: name, send: send, mode: mode}
		if tc.valid {
			ex.want = []frame{textMsg(tc.text)}
		} else {
			ex.fail = wire.StatusInvalidPayloadData
		}
		return ex
	}
	for name := range utf8Split {
		if !slices.ContainsFunc(utf8Cases, func(tc utf8Case) bool { return tc.name == name }) {
			t.Fatalf("utf8Split names %q, which is not in utf8Cases", name)
		}
	}
	for _, tc := range utf8Cases {
		if utf8.ValidString(tc.text) != tc.valid {
			t.Fatalf("%s: the table says valid=%v, the standard library disagrees", tc.name, tc.valid)
		}
		cases = append(cases, outcome(tc.name, []frame{textFrame(tc.text)}, tc, perFrame))
		if !utf8Split[tc.name] {
			continue
		}
		for i := 1; i < len(tc.text); i++ {
			cases = append(cases, outcome(fmt.Sprintf("%s/split-at-%d", tc.name, i),
				[]frame{first(wire.OpText, tc.text[:i]), cont(tc.text[i:], true)}, tc, oneWrite))
		}
		cases = append(cases, outcome(tc.name+"/one-byte-fragments", fragments(wire.OpText, []byte(tc.text), 1), tc, oneWrite))
		cases = append(cases, outcome(tc.name+"/chopped", []frame{textFrame(tc.text)}, tc, chopped))
		cases[len(cases)-1].chop = 1
	}
	// Every prefix of a valid text: valid exactly where it ends on a
	// character boundary.
	const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	for i := 1; i < len(kosme); i++ {
		tc := utf8Case{text: kosme[:i], valid: utf8.ValidString(kosme[:i])}
		cases = append(cases, outcome(fmt.Sprintf("kosme-prefix-%d", i), []frame{textFrame(tc.text)}, tc, perFrame))
	}
	cases = append(cases,
		exchange{name: "empty", send: []frame{textFrame("")}, want: []frame{textMsg("")}},
		exchange{name: "empty-fragments", send: []frame{first(wire.OpText, ""), cont("", false), cont("", true)}, want: []frame{textMsg("")}},
		exchange{
			name: "empty-fragments-around-text",
			send: []frame{first(wire.OpText, ""), cont("middle frame payload", false), cont("", true)},
			want: []frame{textMsg("middle frame payload")},
		},
		exchange{
			name: "character-split-with-ping-between",
			send: []frame{first(wire.OpText, "\xf0\x9f"), pingFrame("p"), cont("\x98\x80", true)},
			want: []frame{pongFrame("p"), textMsg("😀")},
		},
		exchange{
			name: "truncated-at-end-of-fragmented-message",
			send: []frame{first(wire.OpText, "hello"), cont("\xe2\x82", false), cont("", true)},
			fail: wire.StatusInvalidPayloadData,
		},
		exchange{
			// Invalid bytes in a binary message are not checked.
			name: "binary-is-not-checked",
			send: []frame{binFrame([]byte("\xff\xfe\xed\xa0\x80\xc0"))},
			want: []frame{binMsg([]byte("\xff\xfe\xed\xa0\x80\xc0"))},
		},
		exchange{
			name: "valid-then-invalid-message",
			send: []frame{textFrame("κόσμε"), textFrame("\xce\xba\xff")},
			want: []frame{textMsg("κόσμε")},
			fail: wire.StatusInvalidPayloadData,
		},
	)
	runExchanges(t, nil, cases)

	t.Run("fail-fast", testUTF8FailFast)
}

// testUTF8FailFast is Autobahn 6.4: the server must fail the connection as
// soon as the text can no longer be valid, without waiting for the rest of
// the message, which is sent only once the server's close has arrived.
func testUTF8FailFast(t *testing.T) {
	t.Parallel()
	both := ends(t, nil)
	const (
		part1 = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5" // κόσμε, valid
		part2 = "\xf4\x90\x80\x80"                             // U+110000: invalid at its second byte
		part3 = "\x65\x64\x69\x74\x65\x64"                     // "edited", valid
	)
	// The close must arrive while the client still holds the rest back.
	const wait = 5 * time.Second

	// Fragments: the first is valid; the second makes the text invalid.
	for _, tc := range []struct{ name, frag1, frag2, frag3 string }{
		{"frames", part1, part2, part3},
		{"frames-split-in-character", part1 + "\xf4", "\x90\x80\x80", part3},
		{"frames-surrogate", part1 + "\xed", "\xa0\x80", part3},
		{"frames-impossible-byte", part1, "ab\xffcd", part3},
	} {
		for _, e := range both {
			t.Run(tc.name+"/"+e.name, func(t *testing.T) {
				t.Parallel()
				c := e.open(t)
				c.write(first(wire.OpText, tc.frag1))
				// The first fragment is accepted: a ping behind it is answered.
				c.write(pingFrame("alive"))
				c.expectFrame(wire.OpPong, []byte("alive"))
				c.write(cont(tc.frag2, false))
				f := c.expectCloseFrame(wire.StatusInvalidPayloadData, wait)
				// Only now the rest of the message, then the answer to the close.
				c.write(cont(tc.frag3, true))
				c.write(closeFrame(f.payload))
				c.expectDrop()
			})
		}
	}

	// One frame, of which only the first part is sent: its header announces
	// the whole payload. The server sees valid, then bad, which makes the
	// text invalid; rest is sent only after the close has arrived.
	for _, tc := range []struct{ name, valid, bad, rest string }{
		{"one-frame", part1, part2, part3},
		{"one-frame-split-in-character", part1 + "\xf4", "\x90", "\x80\x80" + part3},
		{"one-frame-impossible-byte", part1, "\xff", part3},
		{"one-frame-surrogate", "edit", "\xed\xa0", "\x80" + part3},
	} {
		for _, e := range both {
			t.Run(tc.name+"/"+e.name, func(t *testing.T) {
				t.Parallel()
				c := e.open(t)
				payload := tc.valid + tc.bad + tc.rest
				b := c.encode(textFrame(payload))
				hdr := len(b) - len(payload)
				mid, end := hdr+len(tc.valid), hdr+len(tc.valid)+len(tc.bad)
				c.writeRaw(b[:mid])
				c.expectSilence(100 * time.Millisecond) // the valid part is accepted
				c.writeRaw(b[mid:end])
				f := c.expectCloseFrame(wire.StatusInvalidPayloadData, wait)
				// The rest of the frame, then the answer to the close: the
				// server must skip the rest to find it.
				c.writeRaw(b[end:])
				c.write(closeFrame(f.payload))
				c.expectDrop()
			})
		}
	}
}

// TestClose is Autobahn group 7.
func TestClose(t *testing.T) {
	t.Parallel()
	both := ends(t, nil)
	type closeCase struct {
		name    string
		before  []frame // sent before the close frame
		payload []byte  // of the client's close frame
		after   []frame // sent right after it, in the same write
		want    []frame // answers to before
		code    wire.StatusCode
	}
	cases := []closeCase{
		{name: "after-echo", before: []frame{textFrame("Hello World!")}, want: []frame{textMsg("Hello World!")}, payload: closePayload(1000, ""), code: 1000},
		{name: "empty", payload: nil, code: 1000},
		{name: "one-byte", payload: []byte{0x03}, code: wire.StatusProtocolError},
		{name: "1000-no-reason", payload: closePayload(1000, ""), code: 1000},
		{name: "1000-reason", payload: closePayload(1000, "Hello World!"), code: 1000},
		{name: "1000-utf8-reason", payload: closePayload(1000, "κόσμε 😀"), code: 1000},
		{name: "1000-123-byte-reason", payload: closePayload(1000, textOf(123)), code: 1000},
		{name: "1000-124-byte-reason", payload: closePayload(1000, textOf(124)), code: wire.StatusProtocolError},
		{name: "invalid-utf8-reason", payload: closePayload(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64"), code: wire.StatusInvalidPayloadData},
		{name: "truncated-utf8-reason", payload: closePayload(1000, "bye\xe2\x82"), code: wire.StatusInvalidPayloadData},
		{name: "close-twice", payload: closePayload(1000, ""), after: []frame{closeFrame(closePayload(1000, ""))}, code: 1000},
		{name: "ping-after-close", payload: closePayload(1000, ""), after: []frame{pingFrame("unanswered")}, code: 1000},
		{name: "text-after-close", payload: closePayload(1000, ""), after: []frame{textFrame("not echoed")}, code: 1000},
		{name: "invalid-frame-after-close", payload: closePayload(1000, ""), after: []frame{{fin: true, rsv: wire.Rsv1, op: 5}}, code: 1000},
		{
			name:    "close-between-fragments",
			before:  []frame{first(wire.OpText, "fragment1")},
			payload: closePayload(1000, ""),
			after:   []frame{cont("fragment2", true)},
			code:    1000,
		},
		{
			name:    "close-after-big-message",
			before:  []frame{binFrame(binOf(256 << 10))},
			want:    []frame{binMsg(binOf(256 << 10))},
			payload: closePayload(1000, ""),
			after:   []frame{pingFrame("unanswered")},
			code:    1000,
		},
	}
	for _, code := range []wire.StatusCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		cases = append(cases, closeCase{name: fmt.Sprintf("code-%d", code), payload: closePayload(code, ""), code: code})
	}
	cases = append(cases, closeCase{name: "code-4000-with-reason", payload: closePayload(4000, "app says bye"), code: 4000})
	for _, code := range []wire.StatusCode{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		cases = append(cases, closeCase{name: fmt.Sprintf("code-%d", code), payload: closePayload(code, ""), code: wire.StatusProtocolError})
	}
	for _, tc := range cases {
		for _, e := range both {
			t.Run(tc.name+"/"+e.name, func(t *testing.T) {
				t.Parallel()
				c := e.open(t)
				for _, f := range tc.before {
					c.write(f)
				}
				for _, w := range tc.want {
					c.expectMessage(w.op, w.payload)
				}
				b := c.encode(closeFrame(tc.payload))
				for _, f := range tc.after {
					b = append(b, c.encode(f)...)
				}
				c.writeRaw(b)
				// The peer answers with one close frame and sends
				// nothing else; a server closes TCP without waiting for
				// another close, a client waits for the server to.
				c.expectCloseReply(tc.code)
			})
		}
	}

	// The close frame itself arrives one byte at a time.
	for _, e := range both {
		t.Run("chopped/"+e.name, func(t *testing.T) {
			t.Parallel()
			c := e.open(t)
			c.writeChopped(c.encode(closeFrame(closePayload(3000, "chopped"))), 1)
			c.expectCloseReply(3000)
		})
	}
}

// TestLimits is Autobahn group 9 (sizes, fragment counts and chops; the
// suite also times them, we do not), plus the read limit.
func TestLimits(t *testing.T) {
	t.Parallel()
	const limit = 16 << 20
	big := &Upgrader{ReadLimit: limit}
	var cases []exchange
	for _, n := range []int{64 << 10, 256 << 10, 1 << 20, 16 << 20} {
		cases = append(cases,
			exchange{name: fmt.Sprintf("text/%d", n), send: []frame{textFrame(textOf(n))}, want: []frame{textMsg(textOf(n))}},
			exchange{name: fmt.Sprintf("binary/%d", n), send: []frame{binFrame(binOf(n))}, want: []frame{binMsg(binOf(n))}},
		)
	}
	for _, size := range []int{256, 64 << 10} {
		cases = append(cases, exchange{
			name: fmt.Sprintf("text/4M-in-%d-byte-fragments", size),
			send: fragments(wire.OpText, []byte(textOf(4<<20)), size),
			mode: oneWrite,
			want: []frame{textMsg(textOf(4 << 20))},
		})
	}
	cases = append(cases,
		exchange{
			name: "text/16M-in-64K-fragments",
			send: fragments(wire.OpText, []byte(textOf(limit)), 64<<10),
			mode: oneWrite,
			want: []frame{textMsg(textOf(limit))},
		},
		exchange{
			name: "binary/16M-in-64K-fragments",
			send: fragments(wire.OpBinary, binOf(limit), 64<<10),
			mode: oneWrite,
			want: []frame{binMsg(binOf(limit))},
		},
		exchange{
			name: "binary/1M-in-4K-chops",
			send: []frame{binFrame(binOf(1 << 20))},
			mode: chopped, chop: 4 << 10,
			want: []frame{binMsg(binOf(1 << 20))},
		},
	)
	runExchanges(t, big, cases)

	// Many small messages, each waiting for its echo, then pipelined.
	t.Run("1000-small-messages", func(t *testing.T) {
		t.Parallel()
		c := dialRaw(t, echoServer(t, big))
		for i := range 1000 {
			msg := fmt.Sprintf("message %04d", i)
			c.text(msg)
			c.expectMessage(wire.OpText, []byte(msg))
		}
		var b []byte
		for i := range 1000 {
			b = append(b, encodeFrame(binFrame(binOf(i%64)), true)...)
		}
		c.writeRaw(b)
		for i := range 1000 {
			c.expectMessage(wire.OpBinary, binOf(i%64))
		}
		c.finish()
	})

	t.Run("over-limit", func(t *testing.T) {
		t.Parallel()
		testOverLimit(t, limit, false)
		testOverLimit(t, 64<<10, true)
	})

	// Control frames are not subject to the read limit.
	t.Run("control-frames-are-not-limited", func(t *testing.T) {
		t.Parallel()
		runExchanges(t, &Upgrader{ReadLimit: 10}, []exchange{
			{name: "ping", send: []frame{pingFrame(textOf(125))}, want: []frame{pongFrame(textOf(125))}},
			{name: "message-at-limit", send: []frame{textFrame(textOf(10))}, want: []frame{textMsg(textOf(10))}},
			{name: "message-over-limit", send: []frame{textFrame(textOf(11))}, fail: wire.StatusMessageTooBig},
			{name: "fragments-over-limit", send: []frame{first(wire.OpBinary, "12345"), pingFrame("p"), cont("67890", false), cont("x", true)}, want: []frame{pongFrame("p")}, fail: wire.StatusMessageTooBig},
		})
	})
}

// testOverLimit checks the read limit of an echo server with ReadLimit
// limit: a message that exceeds it is refused with 1009 as soon as a frame
// header shows it does. Cases that send about limit bytes run only if all.
func testOverLimit(t *testing.T, limit int64, all bool) {
	addr := echoServer(t, &Upgrader{ReadLimit: limit})
	// header encodes a masked frame header announcing length bytes; a
	// length over 16 bits is written as given, top bit and all.
	header := func(f frame, length uint64) []byte {
		h := wire.Header{Fin: f.fin, Opcode: f.op, Masked: true, Length: int64(length)}
		if length > 0xffff {
			h.Length = 1 << 32
		}
		b := wire.AppendHeader(nil, h)
		if length > 0xffff {
			binary.BigEndian.PutUint64(b[2:10], length)
		}
		return b
	}
	name := func(s string) string { return fmt.Sprintf("limit-%d/%s", limit, s) }

	// Only the header is sent; the close must arrive before the payload,
	// which is sent afterwards, before the answer to the close.
	for _, op := range []wire.Opcode{wire.OpText, wire.OpBinary} {
		t.Run(name("header-only-"+op.String()), func(t *testing.T) {
			t.Parallel()
			c := dialRaw(t, addr)
			c.writeRaw(header(frame{fin: true, op: op}, uint64(limit+1)))
			f := c.expectCloseFrame(wire.StatusMessageTooBig, 5*time.Second)
			c.writeRaw(make([]byte, limit+1)) // the rest of the refused frame
			c.write(closeFrame(f.payload))
			c.expectDrop()
		})
	}
	testHugeFrames(t, addr, name, header)
	if !all {
		return
	}
	t.Run(name("whole-frame"), func(t *testing.T) {
		t.Parallel()
		c := dialRaw(t, addr)
		c.text(textOf(int(limit + 1)))
		c.expectFail(wire.StatusMessageTooBig)
	})
	t.Run(name("exactly-at-limit"), func(t *testing.T) {
		t.Parallel()
		c := dialRaw(t, addr)
		c.binary(binOf(int(limit)))
		c.expectMessage(wire.OpBinary, binOf(int(limit)))
		c.finish()
	})
	t.Run(name("fragments-sum-over-limit"), func(t *testing.T) {
		t.Parallel()
		c := dialRaw(t, addr)
		half := textOf(int(limit / 2))
		c.write(first(wire.OpText, half))
		c.write(cont(half, false)) // exactly at the limit so far
		c.writeRaw(header(frame{fin: true, op: wire.OpContinuation}, 1))
		f := c.expectCloseFrame(wire.StatusMessageTooBig, 5*time.Second)
		c.writeRaw([]byte{'x'})
		c.write(closeFrame(f.payload))
		c.expectDrop()
	})
	t.Run(name("fragments-sum-over-limit-one-write"), func(t *testing.T) {
		t.Parallel()
		c := dialRaw(t, addr)
		var b []byte
		for _, f := range fragments(wire.OpBinary, binOf(int(limit)+100), int(limit/3)) {
			b = append(b, encodeFrame(f, true)...)
		}
		c.writeRaw(b)
		c.expectFail(wire.StatusMessageTooBig)
	})
}

// testHugeFrames sends frames whose lengths no limit allows.
func testHugeFrames(t *testing.T, addr string, name func(string) string, header func(frame, uint64) []byte) {
	// A frame announcing 2^62 bytes: refused at once, without an attempt
	// to allocate or read it. The client cannot finish the frame, so it
	// half-closes the connection after the close arrives.
	for _, op := range []wire.Opcode{wire.OpText, wire.OpBinary, wire.OpContinuation} {
		t.Run(name("2^62-bytes-"+op.String()), func(t *testing.T) {
			t.Parallel()
			c := dialRaw(t, addr)
			if op == wire.OpContinuation {
				c.write(first(wire.OpBinary, "start"))
			}
			c.writeRaw(header(frame{fin: true, op: op}, 1<<62))
			c.writeRaw([]byte("some of the payload"))
			c.expectCloseFrame(wire.StatusMessageTooBig, 5*time.Second)
			c.conn.(*net.TCPConn).CloseWrite()
			c.expectDrop()
		})
	}
	// A 64-bit length with its top bit set is not a length: 1002.
	t.Run(name("length-top-bit-set"), func(t *testing.T) {
		t.Parallel()
		c := dialRaw(t, addr)
		c.writeRaw(header(frame{fin: true, op: wire.OpBinary}, 1<<63|5))
		c.writeRaw([]byte("12345"))
		c.expectCloseFrame(wire.StatusProtocolError, 5*time.Second)
		c.conn.(*net.TCPConn).CloseWrite()
		c.expectDrop()
	})
}

// TestHugeHeaderDoesNotAllocate checks that a frame announcing 2^62 bytes
// is refused before any memory is set aside for it. It does not run in
// parallel, so that the allocation count is the server's and ours alone.
func TestHugeHeaderDoesNotAllocate(t *testing.T) {
	addr := echoServer(t, &Upgrader{ReadLimit: 16 << 20})
	c := dialRaw(t, addr)
	h := wire.AppendHeader(nil, wire.Header{Fin: true, Opcode: wire.OpBinary, Masked: true, Length: 1 << 62})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c.writeRaw(h)
	c.expectCloseFrame(wire.StatusMessageTooBig, 5*time.Second)
	c.conn.(*net.TCPConn).CloseWrite()
	c.expectDrop()
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("refusing a 2^62-byte frame allocated %d bytes", grew)
	}
}

// TestMisc is Autobahn group 10: a message auto-fragmented into 1300-byte
// frames, as a client with a small frame size sends it.
func TestMisc(t *testing.T) {
	t.Parallel()
	runExchanges(t, nil, []exchange{
		{name: "text-64K-in-1300-byte-frames", send: fragments(wire.OpText, []byte(textOf(65536)), 1300), want: []frame{textMsg(textOf(65536))}},
		{name: "binary-64K-in-1300-byte-frames", send: fragments(wire.OpBinary, binOf(65536), 1300), want: []frame{binMsg(binOf(65536))}},
		{
			name: "utf8-64K-in-1300-byte-frames",
			send: fragments(wire.OpText, []byte(strings.Repeat("κόσμε😀", 65536/15)), 1300),
			mode: oneWrite,
			want: []frame{textMsg(strings.Repeat("κόσμε😀", 65536/15))},
		},
	})
}

// TestViolationIsolated checks that a protocol violation on one connection
// does not disturb another one open on the same server.
func TestViolationIsolated(t *testing.T) {
	t.Parallel()
	addr := echoServer(t, nil)
	good := dialRaw(t, addr)
	bad := dialRaw(t, addr)
	good.text("before")
	good.expectMessage(wire.OpText, []byte("before"))
	bad.text("before")
	bad.expectMessage(wire.OpText, []byte("before"))
	bad.write(frame{fin: true, op: 0xb, payload: []byte("reserved")})
	bad.expectFail(wire.StatusProtocolError)

	good.write(first(wire.OpText, "after "))
	good.write(pingFrame("still here"))
	good.expectFrame(wire.OpPong, []byte("still here"))
	good.write(cont("the failure", true))
	good.expectMessage(wire.OpText, []byte("after the failure"))
	good.finish()
}

// The Conn API.

// connServer starts a server that upgrades every request with u and hands
// the connection to handle, in the handler's goroutine; the connection is
// closed when handle returns.
func connServer(t testing.TB, u *Upgrader, handle func(c *Conn)) string {
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
		handle(c)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// result carries what a server-side handler saw back to the test.
type result[T any] struct {
	ch chan T
}

func newResult[T any]() result[T] { return result[T]{make(chan T, 1)} }

func (r result[T]) set(v T) { r.ch <- v }

func (r result[T]) get(t *testing.T) T {
	t.Helper()
	select {
	case v := <-r.ch:
		return v
	case <-time.After(15 * time.Second):
		t.Fatal("the server-side handler did not report back")
		panic("unreachable")
	}
}

// TestNextReaderSmallReads reads a fragmented message, with a ping between
// its fragments and a character split across them, three bytes at a time.
func TestNextReaderSmallReads(t *testing.T) {
	t.Parallel()
	type got struct {
		typ   MessageType
		msg   []byte
		reads int
		err   error
	}
	res := newResult[got]()
	addr := connServer(t, nil, func(c *Conn) {
		ctx := context.Background()
		typ, r, err := c.NextReader(ctx)
		if err != nil {
			res.set(got{err: err})
			return
		}
		var msg []byte
		var buf [3]byte
		reads := 0
		for {
			n, err := r.Read(buf[:])
			if n > 3 || n < 0 {
				res.set(got{err: fmt.Errorf("Read returned %d", n)})
				return
			}
			msg = append(msg, buf[:n]...)
			reads++
			if err == io.EOF {
				break
			}
			if err != nil {
				res.set(got{err: err})
				return
			}
		}
		// The reader keeps returning io.EOF at the end.
		if n, err := r.Read(buf[:]); n != 0 || err != io.EOF {
			res.set(got{err: fmt.Errorf("Read after the end = %d, %v; want 0, io.EOF", n, err)})
			return
		}
		res.set(got{typ: typ, msg: msg, reads: reads})
		c.WriteMessage(ctx, typ, msg)
		c.ReadMessage(ctx, nil) // until the close
	})
	c := dialRaw(t, addr)
	want := "κόσμε: " + textOf(40) + " 😀 end"
	c.write(first(wire.OpText, want[:5]))
	c.write(pingFrame("between"))
	c.expectFrame(wire.OpPong, []byte("between"))
	c.write(cont(want[5:len(want)-6], false)) // splits the emoji
	c.write(cont(want[len(want)-6:], true))
	g := res.get(t)
	if g.err != nil {
		t.Fatal(g.err)
	}
	if g.typ != Text || string(g.msg) != want {
		t.Fatalf("NextReader read %v %q, want text %q", g.typ, g.msg, want)
	}
	if g.reads < len(want)/3 {
		t.Errorf("%d reads of at most 3 bytes gave %d bytes", g.reads, len(want))
	}
	c.expectMessage(wire.OpText, []byte(want))
	c.finish()
}

// TestNextReaderDiscardsUnread checks that a message left half read is
// skipped by the next NextReader, including its later fragments.
func TestNextReaderDiscardsUnread(t *testing.T) {
	t.Parallel()
	res := newResult[string]()
	addr := connServer(t, nil, func(c *Conn) {
		ctx := context.Background()
		_, r, err := c.NextReader(ctx)
		if err != nil {
			res.set(err.Error())
			return
		}
		var buf [4]byte
		io.ReadFull(r, buf[:])
		_, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			res.set(err.Error())
			return
		}
		res.set(string(buf[:]) + "|" + string(msg))
		c.ReadMessage(ctx, nil)
	})
	c := dialRaw(t, addr)
	var b []byte
	for _, f := range fragments(wire.OpText, []byte("skip"+textOf(10000)), 3000) {
		b = append(b, encodeFrame(f, true)...)
	}
	b = append(b, encodeFrame(binFrame([]byte("second")), true)...)
	c.writeRaw(b)
	if got := res.get(t); got != "skip|second" {
		t.Fatalf("got %q, want %q", got, "skip|second")
	}
	c.finish()
}

// TestNextWriterStreams writes a message in pieces, small and large; the
// client must see it in several frames that reassemble to the message.
func TestNextWriterStreams(t *testing.T) {
	t.Parallel()
	pieces := [][]byte{[]byte("a"), binOf(100), binOf(5000), []byte("tail"), binOf(70000), nil, []byte("z")}
	var want []byte
	for _, p := range pieces {
		want = append(want, p...)
	}
	res := newResult[error]()
	addr := connServer(t, nil, func(c *Conn) {
		ctx := context.Background()
		w, err := c.NextWriter(ctx, Binary)
		if err != nil {
			res.set(err)
			return
		}
		for _, p := range pieces {
			if n, err := w.Write(p); err != nil || n != len(p) {
				res.set(fmt.Errorf("Write(%d bytes) = %d, %v", len(p), n, err))
				return
			}
		}
		if err := w.Close(); err != nil {
			res.set(err)
			return
		}
		if _, err := w.Write([]byte("late")); err == nil {
			res.set(errors.New("Write after Close succeeded"))
			return
		}
		// A second message, written whole, follows the streamed one.
		res.set(c.WriteMessage(ctx, Text, []byte("next")))
		c.ReadMessage(ctx, nil)
	})
	c := dialRaw(t, addr)
	var got []byte
	frames := 0
	for {
		f, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		wantOp := wire.OpContinuation
		if frames == 0 {
			wantOp = wire.OpBinary
		}
		if f.op != wantOp {
			t.Fatalf("frame %d is %v, want %v", frames, f.op, wantOp)
		}
		if f.rsv != 0 {
			t.Fatalf("frame %d has reserved bits %x", frames, f.rsv)
		}
		frames++
		got = append(got, f.payload...)
		if f.fin {
			break
		}
	}
	if err := res.get(t); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("reassembled %s, want %s", abbrev(got), abbrev(want))
	}
	if frames < 2 {
		t.Errorf("the message came in %d frame, want it streamed in several", frames)
	}
	c.expectMessage(wire.OpText, []byte("next"))
	c.finish()
}

// TestMessageWriterFlush checks that Flush ends a frame where it is called:
// parts written with a Flush after each but the last arrive as exactly one
// frame each, and a Flush with nothing held sends nothing.
func TestMessageWriterFlush(t *testing.T) {
	t.Parallel()
	parts := []string{"frag", "ment", "ed"}
	res := newResult[error]()
	addr := connServer(t, nil, func(c *Conn) {
		ctx := context.Background()
		w, err := c.NextWriter(ctx, Text)
		if err != nil {
			res.set(err)
			return
		}
		for i, p := range parts {
			if _, err := io.WriteString(w, p); err != nil {
				res.set(err)
				return
			}
			if i < len(parts)-1 {
				if err := errors.Join(w.Flush(), w.Flush()); err != nil { // the second has nothing to send
					res.set(err)
					return
				}
			}
		}
		if err := w.Close(); err != nil {
			res.set(err)
			return
		}
		if err := w.Flush(); err != ErrClosed {
			res.set(fmt.Errorf("Flush after Close = %v, want ErrClosed", err))
			return
		}
		res.set(nil)
		c.ReadMessage(ctx, nil)
	})
	c := dialRaw(t, addr)
	for i, p := range parts {
		f, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		wantOp, wantFin := wire.OpContinuation, i == len(parts)-1
		if i == 0 {
			wantOp = wire.OpText
		}
		if f.op != wantOp || f.fin != wantFin || string(f.payload) != p {
			t.Fatalf("frame %d: %v fin=%v %q, want %v fin=%v %q", i, f.op, f.fin, f.payload, wantOp, wantFin, p)
		}
	}
	if err := res.get(t); err != nil {
		t.Fatal(err)
	}
	c.finish()
}

// TestServerClose checks Close started by the server: the client sees the
// close frame with the code and reason, answers it, Close returns, and the
// server closes TCP. Data the client sends before its answer is discarded.
func TestServerClose(t *testing.T) {
	t.Parallel()
	for _, reading := range []bool{false, true} {
		t.Run(fmt.Sprintf("while-reading=%v", reading), func(t *testing.T) {
			t.Parallel()
			res := newResult[error]()
			readErr := newResult[error]()
			start := make(chan struct{})
			addr := connServer(t, nil, func(c *Conn) {
				if reading {
					go func() {
						_, _, err := c.ReadMessage(context.Background(), nil)
						readErr.set(err)
					}()
				}
				<-start
				err := c.Close(4000, "server says bye")
				select {
				case <-c.Done():
				default:
					err = errors.Join(err, errors.New("Done is not closed after Close returned"))
				}
				res.set(err)
			})
			c := dialRaw(t, addr)
			close(start)
			f := c.expectCloseFrame(4000, 5*time.Second)
			if _, reason, _ := wire.ParseClose(f.payload); reason != "server says bye" {
				t.Errorf("close reason %q, want %q", reason, "server says bye")
			}
			if !reading {
				// Discarded while Close waits for the answer.
				c.text("ignored")
				c.write(pingFrame("ignored"))
			}
			c.write(closeFrame(f.payload))
			c.expectDrop()
			if err := res.get(t); err != nil {
				t.Errorf("Close: %v", err)
			}
			if reading {
				err := readErr.get(t)
				if CloseStatus(err) != 4000 {
					t.Errorf("the concurrent ReadMessage returned %v, want the peer's close 4000", err)
				}
			}
		})
	}
	// Close(1005) sends a close frame without a status code.
	t.Run("no-status-code", func(t *testing.T) {
		t.Parallel()
		res := newResult[error]()
		addr := connServer(t, nil, func(c *Conn) { res.set(c.Close(wire.StatusNoStatusReceived, "")) })
		c := dialRaw(t, addr)
		f, err := c.read()
		if err != nil || f.op != wire.OpClose || len(f.payload) != 0 {
			t.Fatalf("got %v frame %s, %v; want an empty close frame", f.op, abbrev(f.payload), err)
		}
		c.write(closeFrame(nil))
		c.expectDrop()
		if err := res.get(t); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	// Close with a code that may not be sent fails without sending it.
	for _, code := range []wire.StatusCode{1006, 1015, 2000} {
		t.Run(fmt.Sprintf("invalid-code-%d", code), func(t *testing.T) {
			t.Parallel()
			res := newResult[error]()
			addr := connServer(t, nil, func(c *Conn) { res.set(c.Close(code, "")) })
			c := dialRaw(t, addr)
			if err := res.get(t); err == nil {
				t.Errorf("Close(%d) succeeded", code)
			}
			c.expectDrop()
		})
	}
	// A reason that does not fit a control frame is refused too.
	t.Run("reason-too-long", func(t *testing.T) {
		t.Parallel()
		res := newResult[error]()
		addr := connServer(t, nil, func(c *Conn) { res.set(c.Close(1000, textOf(124))) })
		c := dialRaw(t, addr)
		if err := res.get(t); err == nil {
			t.Error("Close with a 124-byte reason succeeded")
		}
		c.expectDrop()
	})
}

// TestPing checks Conn.Ping against a client that answers and one that
// does not.
func TestPing(t *testing.T) {
	t.Parallel()
	serve := func(res result[error], timeout time.Duration) string {
		return connServer(t, nil, func(c *Conn) {
			go c.ReadMessage(context.Background(), nil) // pongs are seen by the reader
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			res.set(c.Ping(ctx))
			<-c.Done()
		})
	}
	t.Run("answered", func(t *testing.T) {
		t.Parallel()
		res := newResult[error]()
		c := dialRaw(t, serve(res, 10*time.Second))
		f, err := c.read()
		if err != nil || f.op != wire.OpPing {
			t.Fatalf("got %v frame, %v; want a ping", f.op, err)
		}
		// An unrelated pong does not complete the Ping.
		c.write(pongFrame("not yours"))
		select {
		case err := <-res.ch:
			t.Fatalf("Ping returned %v after an unrelated pong", err)
		case <-time.After(50 * time.Millisecond):
		}
		c.write(pongFrame(string(f.payload)))
		if err := res.get(t); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		c.finish()
	})
	t.Run("unanswered", func(t *testing.T) {
		t.Parallel()
		res := newResult[error]()
		c := dialRaw(t, serve(res, 200*time.Millisecond))
		if f, err := c.read(); err != nil || f.op != wire.OpPing {
			t.Fatalf("got %v frame, %v; want a ping", f.op, err)
		}
		if err := res.get(t); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Ping returned %v, want context.DeadlineExceeded", err)
		}
		c.finish()
	})
}

// TestReadContextCancel checks that cancelling the context of a blocked
// ReadMessage makes it return ctx.Err() and closes the connection.
func TestReadContextCancel(t *testing.T) {
	t.Parallel()
	type got struct {
		err, again error
		done       bool
	}
	res := newResult[got]()
	reading := make(chan struct{})
	addr := connServer(t, nil, func(c *Conn) {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-reading
			time.Sleep(50 * time.Millisecond) // let ReadMessage block
			cancel()
		}()
		close(reading)
		_, _, err := c.ReadMessage(ctx, nil)
		var g got
		g.err = err
		select {
		case <-c.Done():
			g.done = true
		case <-time.After(5 * time.Second):
		}
		_, _, g.again = c.ReadMessage(context.Background(), nil)
		res.set(g)
	})
	c := dialRaw(t, addr)
	g := res.get(t)
	if !errors.Is(g.err, context.Canceled) {
		t.Errorf("ReadMessage returned %v, want context.Canceled", g.err)
	}
	if !g.done {
		t.Error("the connection is not closed after the cancelled read")
	}
	if g.again == nil {
		t.Error("a later ReadMessage succeeded")
	}
	c.expectDrop()
}

// TestContextPerCall passes a fresh context with a timeout to every
// ReadMessage (or WriteMessage) and cancels it as soon as the call returns,
// as is usual: a context that ends after its call has returned must not
// close the connection.
func TestContextPerCall(t *testing.T) {
	t.Parallel()
	perCall := func(call func(ctx context.Context) error) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return call(ctx)
	}
	for _, tc := range []struct {
		name              string
		readCtx, writeCtx bool // whether ReadMessage, WriteMessage get a per-call context
	}{
		{"read", true, false},
		{"write", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := connServer(t, nil, func(c *Conn) {
				for {
					var typ MessageType
					var msg []byte
					read := func(ctx context.Context) (err error) {
						typ, msg, err = c.ReadMessage(ctx, nil)
						return err
					}
					write := func(ctx context.Context) error { return c.WriteMessage(ctx, typ, msg) }
					var err error
					if tc.readCtx {
						err = perCall(read)
					} else {
						err = read(context.Background())
					}
					if err != nil {
						return
					}
					if tc.writeCtx {
						err = perCall(write)
					} else {
						err = write(context.Background())
					}
					if err != nil {
						return
					}
				}
			})
			c := dialRaw(t, addr)
			for i := range 3 {
				msg := fmt.Sprintf("message %d", i)
				c.text(msg)
				c.expectMessage(wire.OpText, []byte(msg))
			}
			c.finish()
		})
	}
}

// TestConcurrentWrites has 8 goroutines send messages with WriteMessage at
// once, and a ninth stream messages with NextWriter; the client must
// receive each message whole, its frames not interleaved with another's,
// and each goroutine's messages in order.
func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	const writers, perWriter = 8, 40
	sizes := []int{10, 4000, 5000, 70000} // both sides of the buffered and the vectored write paths
	body := func(g, i int) []byte {
		prefix := fmt.Sprintf("%d:%d:", g, i)
		return append([]byte(prefix), bytes.Repeat([]byte{byte('a' + g)}, sizes[(g+i)%len(sizes)])...)
	}
	addr := connServer(t, nil, func(c *Conn) {
		ctx := context.Background()
		go func() { // answers the client's pings meanwhile
			for {
				if _, _, err := c.ReadMessage(ctx, nil); err != nil {
					return
				}
			}
		}()
		start := make(chan struct{})
		var wg sync.WaitGroup
		for g := range writers {
			wg.Go(func() {
				<-start
				for i := range perWriter {
					if err := c.WriteMessage(ctx, Binary, body(g, i)); err != nil {
						return
					}
				}
			})
		}
		wg.Go(func() { // the streamer, writer number 8
			<-start
			for i := range perWriter {
				w, err := c.NextWriter(ctx, Binary)
				if err != nil {
					return
				}
				msg := body(writers, i)
				for len(msg) > 0 {
					n := min(len(msg), 3000)
					w.Write(msg[:n])
					msg = msg[n:]
					runtime.Gosched() // as a streamer producing its data would
				}
				if w.Close() != nil {
					return
				}
			}
		})
		close(start)
		wg.Wait()
		<-c.Done()
	})
	c := dialRaw(t, addr)
	// Pings, whose pongs go out between the frames of the messages.
	const pings = 50
	for i := range pings {
		c.write(pingFrame(fmt.Sprint(i)))
	}
	pongs := 0
	// read returns the next frame that is not a pong, checking pongs.
	read := func() (frame, error) {
		for {
			f, err := c.read()
			if err != nil || f.op != wire.OpPong {
				return f, err
			}
			if string(f.payload) != fmt.Sprint(pongs) {
				t.Fatalf("got pong %q, want %q", f.payload, fmt.Sprint(pongs))
			}
			pongs++
		}
	}
	next := make([]int, writers+1)
	streamed := 0
	for range (writers + 1) * perWriter {
		f, err := read()
		if err != nil {
			t.Fatal(err)
		}
		if f.op != wire.OpBinary {
			t.Fatalf("got %v frame, want the start of a binary message", f.op)
		}
		msg := f.payload
		frames := 1
		for !f.fin { // the rest of a streamed message comes next, alone
			if f, err = read(); err != nil {
				t.Fatal(err)
			}
			if f.op != wire.OpContinuation {
				t.Fatalf("got %v frame inside a fragmented message", f.op)
			}
			msg = append(msg, f.payload...)
			frames++
		}
		var g, i int
		if _, err := fmt.Sscanf(string(msg), "%d:%d:", &g, &i); err != nil || g < 0 || g > writers {
			t.Fatalf("message %s has no valid prefix", abbrev(msg))
		}
		if i != next[g] {
			t.Fatalf("writer %d: got message %d, want %d", g, i, next[g])
		}
		next[g]++
		if !bytes.Equal(msg, body(g, i)) {
			t.Fatalf("writer %d message %d is corrupt: %s", g, i, abbrev(msg))
		}
		if frames > 1 {
			streamed++
		}
		if g < writers && frames != 1 {
			t.Fatalf("writer %d message %d came in %d frames, want 1", g, i, frames)
		}
	}
	if streamed == 0 {
		t.Error("no message came in several frames: the streamer was not exercised")
	}
	c.write(closeFrame(closePayload(1000, "")))
	f, err := read() // after the last pongs, which may come before the close
	if err != nil {
		t.Fatal(err)
	}
	if f.op != wire.OpClose {
		t.Fatalf("got %v frame, want close", f.op)
	}
	if pongs != pings {
		t.Errorf("got %d pongs, want %d", pongs, pings)
	}
	c.expectDrop()
}

// TestKeepAlive checks the Upgrader's keepalive pings: a client that never
// answers is disconnected, one that answers stays connected. A pong must
// come back within one interval, so this test does not run in parallel with
// the others, which could starve the client of that long, and the client
// that answers gets a more generous interval than the 50 ms of the one that
// does not.
func TestKeepAlive(t *testing.T) {
	t.Run("unanswered", func(t *testing.T) {
		t.Parallel()
		c := dialRaw(t, echoServer(t, &Upgrader{KeepAlive: 50 * time.Millisecond}))
		c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		pings := 0
		for {
			f, err := c.read()
			if err != nil {
				if pings == 0 {
					t.Fatalf("connection ended (%v) without a ping", err)
				}
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatalf("still connected after %d unanswered pings", pings)
				}
				return // disconnected
			}
			if f.op == wire.OpPing {
				pings++
			}
		}
	})
	t.Run("answered", func(t *testing.T) {
		t.Parallel()
		// A generous interval: the pong must reach the server within one,
		// even on a loaded machine.
		c := dialRaw(t, echoServer(t, &Upgrader{KeepAlive: time.Second}))
		c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		// Answer several pings: each came an interval after the last
		// pong, so the connection has lived through several intervals.
		for pings := 0; pings < 3; {
			f, err := c.read()
			if err != nil {
				t.Fatalf("after %d answered pings: %v", pings, err)
			}
			if f.op != wire.OpPing {
				t.Fatalf("got %v frame, want a ping", f.op)
			}
			c.write(pongFrame(string(f.payload)))
			pings++
		}
		c.text("still here")
		for {
			f, err := c.read()
			if err != nil {
				t.Fatal(err)
			}
			if f.op == wire.OpPing {
				c.write(pongFrame(string(f.payload)))
				continue
			}
			if f.op != wire.OpText || string(f.payload) != "still here" {
				t.Fatalf("got %v frame %s, want the echo", f.op, abbrev(f.payload))
			}
			break
		}
		c.write(closeFrame(closePayload(1000, "")))
		for { // pings may still cross our close
			f, err := c.readWithin(10 * time.Second)
			if err != nil {
				t.Fatalf("waiting for the close answer: %v", err)
			}
			if f.op == wire.OpClose {
				break
			}
			if f.op != wire.OpPing {
				t.Fatalf("got %v frame, want close", f.op)
			}
		}
		c.expectDrop()
	})
}

// TestGroupClose checks that Group.Close sends 1001 to every connection and
// returns once all have closed.
func TestGroupClose(t *testing.T) {
	t.Parallel()
	var g Group
	addr := echoServer(t, &Upgrader{Group: &g})
	const n = 3
	var clients []*rawPeer
	for range n {
		c := dialRaw(t, addr)
		c.text("hi")
		c.expectMessage(wire.OpText, []byte("hi")) // the server has the connection
		clients = append(clients, c)
	}
	if g.Len() != n {
		t.Fatalf("Group.Len() = %d, want %d", g.Len(), n)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- g.Close(ctx, wire.StatusGoingAway, "shutting down")
	}()
	for _, c := range clients {
		f := c.expectCloseFrame(wire.StatusGoingAway, 5*time.Second)
		if _, reason, _ := wire.ParseClose(f.payload); reason != "shutting down" {
			t.Errorf("reason %q, want %q", reason, "shutting down")
		}
		c.write(closeFrame(f.payload))
		c.expectDrop()
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Group.Close: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Group.Close did not return")
	}
	if g.Len() != 0 {
		t.Fatalf("Group.Len() = %d after Close, want 0", g.Len())
	}
}

// WriteMessages sends every message whole and in order, small ones packed
// together and large ones on their own.
func TestWriteMessages(t *testing.T) {
	t.Parallel()
	sizes := []int{0, 1, 125, 126, 3000, 5000, 10, 70000, 2, 4082, 4083}
	var msgs [][]byte
	for i, n := range sizes {
		msgs = append(msgs, bytes.Repeat([]byte{byte('a' + i)}, n))
	}
	addr := connServer(t, nil, func(c *Conn) {
		c.WriteMessages(context.Background(), Binary, msgs)
		c.WriteMessages(context.Background(), Text, nil)
		c.WriteMessage(context.Background(), Text, []byte("end"))
	})
	c := dialRaw(t, addr)
	for _, m := range msgs {
		c.expectMessage(wire.OpBinary, m)
	}
	c.expectMessage(wire.OpText, []byte("end"))
}
