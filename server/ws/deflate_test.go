package ws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"

	"duplex/shared/wire"
)

// This file tests permessage-deflate (RFC 7692): the negotiation at both
// ends, messages compressed and not with every combination of context
// takeover and window size, checked on the wire by the reference inflater
// of deflate_ref_test.go, and the frames a peer may or may not send. The
// conformance tables (runExchanges) play every case with compression
// agreed as well.

// TestDeflateAccept: what the server answers to offers, valid, malformed
// and several (RFC 7692 §5, §7.1).
func TestDeflateAccept(t *testing.T) {
	t.Parallel()
	const ct = "; client_no_context_takeover"
	tests := []struct {
		name   string
		opts   *CompressionOptions // nil: compression off
		offers []string            // header lines
		want   string              // the response's Sec-WebSocket-Extensions
	}{
		{"off", nil, []string{"permessage-deflate"}, ""},
		{"no-offer", &CompressionOptions{}, nil, ""},
		{"bare", &CompressionOptions{}, []string{"permessage-deflate"}, "permessage-deflate" + ct},
		{"browser", &CompressionOptions{}, []string{"permessage-deflate; client_max_window_bits"}, "permessage-deflate" + ct},
		{"client-window", &CompressionOptions{}, []string{"permessage-deflate; client_max_window_bits=10"}, "permessage-deflate" + ct},
		{"client-hint", &CompressionOptions{}, []string{"permessage-deflate; client_no_context_takeover"}, "permessage-deflate" + ct},
		{"server-no-takeover", &CompressionOptions{}, []string{"permessage-deflate; server_no_context_takeover"}, "permessage-deflate; server_no_context_takeover" + ct},
		{"server-window", &CompressionOptions{}, []string{"permessage-deflate; server_max_window_bits=10"}, "permessage-deflate" + ct + "; server_max_window_bits=10"},
		{"server-window-8", &CompressionOptions{}, []string{"permessage-deflate; server_max_window_bits=8"}, "permessage-deflate" + ct + "; server_max_window_bits=8"},
		{"quoted", &CompressionOptions{}, []string{`permessage-deflate; server_max_window_bits="12"`}, "permessage-deflate" + ct + "; server_max_window_bits=12"},
		{
			"all", &CompressionOptions{},
			[]string{"permessage-deflate; client_no_context_takeover; client_max_window_bits=9; server_no_context_takeover; server_max_window_bits=11"},
			"permessage-deflate; server_no_context_takeover" + ct + "; server_max_window_bits=11",
		},
		{"options-no-takeover", &CompressionOptions{NoContextTakeover: true}, []string{"permessage-deflate"}, "permessage-deflate; server_no_context_takeover" + ct},

		// Several offers: the first valid one is accepted.
		{
			"first-of-two", &CompressionOptions{},
			[]string{"permessage-deflate; server_max_window_bits=9, permessage-deflate"},
			"permessage-deflate" + ct + "; server_max_window_bits=9",
		},
		{
			"on-two-lines", &CompressionOptions{},
			[]string{"x-webkit-deflate-frame", "permessage-deflate; server_no_context_takeover", "permessage-deflate"},
			"permessage-deflate; server_no_context_takeover" + ct,
		},
		{
			"malformed-then-valid", &CompressionOptions{},
			[]string{"permessage-deflate; server_max_window_bits=16, permessage-deflate; foo, permessage-deflate; client_max_window_bits"},
			"permessage-deflate" + ct,
		},

		// Malformed offers are declined (§5); the handshake goes on.
		{"unknown-param", &CompressionOptions{}, []string{"permessage-deflate; foo"}, ""},
		{"duplicate", &CompressionOptions{}, []string{"permessage-deflate; server_no_context_takeover; server_no_context_takeover"}, ""},
		{"window-7", &CompressionOptions{}, []string{"permessage-deflate; server_max_window_bits=7"}, ""},
		{"window-16", &CompressionOptions{}, []string{"permessage-deflate; client_max_window_bits=16"}, ""},
		{"window-no-value", &CompressionOptions{}, []string{"permessage-deflate; server_max_window_bits"}, ""},
		{"window-leading-zero", &CompressionOptions{}, []string{"permessage-deflate; server_max_window_bits=09"}, ""},
		{"flag-with-value", &CompressionOptions{}, []string{"permessage-deflate; client_no_context_takeover=1"}, ""},
		{"other-extension", &CompressionOptions{}, []string{"x-webkit-deflate-frame; no_context_takeover"}, ""},
		{"header-syntax", &CompressionOptions{}, []string{"permessage-deflate; server_max_window_bits=\"10"}, ""},
		{"upper-case-name", &CompressionOptions{}, []string{"Permessage-Deflate"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			exts := make(chan string, 1)
			addr := connServer(t, &Upgrader{Compression: tc.opts}, func(c *Conn) {
				exts <- c.Extensions()
				c.ReadMessage(context.Background(), nil)
			})
			var lines []string
			for _, o := range tc.offers {
				lines = append(lines, "Sec-WebSocket-Extensions: "+o)
			}
			c := dialRaw(t, addr, lines...)
			if got := strings.Join(c.resp.Header.Values("Sec-WebSocket-Extensions"), ", "); got != tc.want {
				t.Errorf("response %q, want %q", got, tc.want)
			}
			if got := <-exts; got != tc.want {
				t.Errorf("Extensions() = %q, want %q", got, tc.want)
			}
			c.finish()
		})
	}
}

// TestDeflateUpgraderBadLevel: options that cannot work refuse the
// handshake with 500 and say why.
func TestDeflateUpgraderBadLevel(t *testing.T) {
	t.Parallel()
	addr := connServer(t, &Upgrader{Compression: &CompressionOptions{Level: 10}}, func(*Conn) {})
	_, resp := dialHandshake(t, addr, "Sec-WebSocket-Extensions: permessage-deflate")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "compression level 10") {
		t.Errorf("got %s %q, want 500 naming the level", resp.Status, body)
	}
	if _, err := Dial(testContext(t), "ws://"+addr, &DialOptions{Compression: &CompressionOptions{Level: -1}}); err == nil || !strings.Contains(err.Error(), "compression level -1") {
		t.Errorf("Dial with level -1: %v", err)
	}
}

// TestDeflateDial: the client's offer, and its checks of the server's
// answer: a response it did not allow fails the dial, and says why.
func TestDeflateDial(t *testing.T) {
	t.Parallel()
	ok := func(ext string) func(req *http.Request) string {
		return func(req *http.Request) string {
			resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept(req) + "\r\n"
			if ext != "" {
				resp += "Sec-WebSocket-Extensions: " + ext + "\r\n"
			}
			return resp + "\r\n"
		}
	}
	tests := []struct {
		name    string
		opts    CompressionOptions
		resp    string
		offer   string // what the client must offer
		wantErr string // in the error; "" for a dial that succeeds
		// the agreed state, for a dial that succeeds
		outBits             int
		outTakeover, inTake bool
		inBits              int
	}{
		{"declined", CompressionOptions{}, "", "permessage-deflate; client_max_window_bits", "", 0, false, false, 0},
		{"bare", CompressionOptions{}, "permessage-deflate", "permessage-deflate; client_max_window_bits", "", 15, true, true, 15},
		{"like-our-server", CompressionOptions{}, "permessage-deflate; client_no_context_takeover", "", "", 15, false, true, 15},
		{"client-window", CompressionOptions{}, "permessage-deflate; client_max_window_bits=9", "", "", 9, true, true, 15},
		{"server-window", CompressionOptions{}, "permessage-deflate; server_max_window_bits=10", "", "", 15, true, true, 10},
		{"server-no-takeover", CompressionOptions{}, "permessage-deflate; server_no_context_takeover", "", "", 15, true, false, 15},
		{
			"no-takeover", CompressionOptions{NoContextTakeover: true},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits", "", 15, false, false, 15,
		},
		{"no-takeover-without-client-param", CompressionOptions{NoContextTakeover: true}, "permessage-deflate; server_no_context_takeover", "", "", 15, false, false, 15},

		{"no-takeover-ignored", CompressionOptions{NoContextTakeover: true}, "permessage-deflate", "", "without server_no_context_takeover", 0, false, false, 0},
		{"unknown-param", CompressionOptions{}, "permessage-deflate; foo=1", "", `"foo"`, 0, false, false, 0},
		{"window-without-value", CompressionOptions{}, "permessage-deflate; client_max_window_bits", "", `"client_max_window_bits" needs a value`, 0, false, false, 0},
		{"window-out-of-range", CompressionOptions{}, "permessage-deflate; server_max_window_bits=7", "", `"server_max_window_bits"`, 0, false, false, 0},
		{"duplicate", CompressionOptions{}, "permessage-deflate; server_no_context_takeover; server_no_context_takeover", "", "more than once", 0, false, false, 0},
		{"twice", CompressionOptions{}, "permessage-deflate, permessage-deflate", "", "2 extensions", 0, false, false, 0},
		{"other", CompressionOptions{}, "x-webkit-deflate-frame", "", `"x-webkit-deflate-frame", which was not offered`, 0, false, false, 0},
		{"malformed", CompressionOptions{}, "permessage-deflate; =", "", "malformed", 0, false, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url, reqs := fakeServer(t, ok(tc.resp))
			c, err := Dial(testContext(t), url, &DialOptions{Compression: &tc.opts})
			req := <-reqs
			if tc.offer != "" {
				if got := strings.Join(req.Header.Values("Sec-WebSocket-Extensions"), ", "); got != tc.offer {
					t.Errorf("offered %q, want %q", got, tc.offer)
				}
			}
			if tc.wantErr != "" {
				if err == nil {
					c.CloseNow()
					t.Fatal("Dial succeeded")
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not say %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if c.Extensions() != tc.resp {
				t.Errorf("Extensions() = %q, want %q", c.Extensions(), tc.resp)
			}
			d := c.deflate
			if tc.resp == "" {
				if d != nil {
					t.Errorf("compression on without the server's agreement")
				}
				return
			}
			if d.inTakeover && d.received.max != 1<<tc.inBits {
				t.Errorf("keeps %d bytes of the server's context, want %d", d.received.max, 1<<tc.inBits)
			}
			if d.outBits != tc.outBits || d.outTakeover != tc.outTakeover || d.inTakeover != tc.inTake {
				t.Errorf("agreed outBits %d, outTakeover %v, inTakeover %v; want %d, %v, %v", d.outBits, d.outTakeover, d.inTakeover, tc.outBits, tc.outTakeover, tc.inTake)
			}
		})
	}
}

// deflatePair returns two connected Conns, a server and a client, that
// agreed on permessage-deflate with the given parameters, as
// (serverBits, serverTakeover) for what the server sends and
// (clientBits, clientTakeover) for what the client sends. Each side's
// writes are recorded, for the test to check on the wire.
func deflatePair(t *testing.T, opts CompressionOptions, serverBits int, serverTakeover bool, clientBits int, clientTakeover bool) (server, client *Conn, serverSent, clientSent *recorder) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- nc
	}()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc := <-accepted
	if sc == nil {
		t.Fatal("accept failed")
	}
	serverSent, clientSent = &recorder{Conn: sc}, &recorder{Conn: cc}
	server = newConn(serverSent, nil, false, 16<<20, nil)
	client = newConn(clientSent, nil, true, 16<<20, nil)
	server.deflate = newDeflateState(&opts, serverBits, serverTakeover, clientBits, clientTakeover)
	client.deflate = newDeflateState(&opts, clientBits, clientTakeover, serverBits, serverTakeover)
	t.Cleanup(func() { server.CloseNow(); client.CloseNow() })
	return server, client, serverSent, clientSent
}

// A recorder is a net.Conn that keeps a copy of what is written to it.
type recorder struct {
	net.Conn
	mu  sync.Mutex
	out []byte
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.out = append(r.out, p...)
	r.mu.Unlock()
	return r.Conn.Write(p)
}

// wireMessage is a data message as it crossed the wire.
type wireMessage struct {
	op         wire.Opcode
	compressed bool
	frames     int
	payload    []byte // reassembled, unmasked, as sent: compressed or not
}

// messages parses what r recorded into data messages, checking the frame
// rules of RFC 7692 §6 on the way: RSV1 only on a message's first frame.
func (r *recorder) messages(t *testing.T) []wireMessage {
	t.Helper()
	r.mu.Lock()
	in := bytes.NewReader(r.out)
	r.mu.Unlock()
	var msgs []wireMessage
	var cur *wireMessage
	for in.Len() > 0 {
		h, err := wire.ReadHeader(in)
		if err != nil {
			t.Fatalf("recorded frames: %v", err)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(in, p); err != nil {
			t.Fatalf("recorded frame cut short: %v", err)
		}
		if h.Masked {
			wire.Mask(h.Mask, 0, p)
		}
		if h.Rsv&^wire.Rsv1 != 0 || h.Rsv != 0 && (h.Opcode.IsControl() || h.Opcode == wire.OpContinuation) {
			t.Fatalf("a %v frame with reserved bits %x", h.Opcode, h.Rsv)
		}
		if h.Opcode.IsControl() {
			continue
		}
		if cur == nil {
			msgs = append(msgs, wireMessage{op: h.Opcode, compressed: h.Rsv != 0})
			cur = &msgs[len(msgs)-1]
		}
		cur.frames++
		cur.payload = append(cur.payload, p...)
		if h.Fin {
			cur = nil
		}
	}
	return msgs
}

// checkWire inflates each compressed message recorded with the reference
// inflater, which refuses any reference beyond the window of 2^bits bytes
// or, without context takeover, before the message, and checks that the
// messages are those sent.
func checkWire(t *testing.T, r *recorder, bits int, takeover bool, sent [][]byte) {
	t.Helper()
	msgs := r.messages(t)
	if len(msgs) != len(sent) {
		t.Fatalf("%d messages on the wire, %d sent", len(msgs), len(sent))
	}
	var history []byte
	for i, m := range msgs {
		content := m.payload
		if m.compressed {
			if !takeover {
				history = nil
			}
			got, err := refInflate(m.payload, history, 1<<bits)
			if err != nil {
				t.Fatalf("message %d (%d bytes, in %d frames): %v", i, len(sent[i]), m.frames, err)
			}
			content = got
			history = append(history, got...)
			if len(history) > 1<<bits {
				history = history[len(history)-1<<bits:]
			}
		}
		if !bytes.Equal(content, sent[i]) {
			t.Fatalf("message %d on the wire is %s, want %s", i, abbrev(content), abbrev(sent[i]))
		}
	}
}

// deflateMessages are what the round trips send: compressible text of
// every size around the threshold and the buffers, random bytes that do
// not compress, and repeats that refer far back.
func deflateMessages() [][]byte {
	json := func(n int) []byte {
		var b []byte
		for i := 0; len(b) < n; i++ {
			b = fmt.Appendf(b, `{"seq":%d,"from":"user%d","text":"message number %d of the test"},`, i, i%7, i*i)
		}
		return b[:n]
	}
	random := make([]byte, 3000)
	rand.NewChaCha8([32]byte{7}).Read(random)
	return [][]byte{
		json(200), json(200), nil, []byte("x"), json(127), json(128), json(129),
		random, json(1000), json(5000), random[:200], json(40 << 10), json(70 << 10),
		bytes.Repeat([]byte("abc"), 100), json(300), json(200 << 10), json(16),
	}
}

// TestDeflateRoundTrips sends deflateMessages each way, with every
// combination of context takeover and window size on each side, through
// WriteMessage, WriteMessages and NextWriter, and reads them with
// ReadMessage and with small reads from NextReader; on the wire, every
// compressed message must keep to its window.
func TestDeflateRoundTrips(t *testing.T) {
	t.Parallel()
	type params struct{ sBits, cBits int }
	var combos []params
	for bits := 8; bits <= 15; bits++ {
		combos = append(combos, params{bits, 15}, params{15, bits})
	}
	combos = append(combos, params{9, 11}, params{12, 8})
	for _, p := range combos {
		for _, st := range []bool{true, false} {
			for _, ct := range []bool{true, false} {
				name := fmt.Sprintf("server-%d-%s/client-%d-%s", p.sBits, takeoverName(st), p.cBits, takeoverName(ct))
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					testDeflateRoundTrip(t, p.sBits, st, p.cBits, ct)
				})
			}
		}
	}
}

func takeoverName(takeover bool) string {
	if takeover {
		return "takeover"
	}
	return "no-takeover"
}

func testDeflateRoundTrip(t *testing.T, sBits int, sTakeover bool, cBits int, cTakeover bool) {
	server, client, serverSent, clientSent := deflatePair(t, CompressionOptions{}, sBits, sTakeover, cBits, cTakeover)
	msgs := deflateMessages()
	ctx := testContext(t)

	// Each side writes the messages in turn by the three ways; the other
	// reads them by two.
	write := func(c *Conn) error {
		for i, m := range msgs {
			typ := Binary
			if i%2 == 0 && utf8.Valid(m) {
				typ = Text
			}
			var err error
			switch i % 3 {
			case 0:
				err = c.WriteMessage(ctx, typ, m)
			case 1:
				err = c.WriteMessages(ctx, typ, [][]byte{m})
			default:
				var w *MessageWriter
				if w, err = c.NextWriter(ctx, typ); err != nil {
					break
				}
				for p := m; len(p) > 0; {
					n := min(len(p), 1+len(p)/3)
					w.Write(p[:n])
					if n > 1000 {
						w.Flush()
					}
					p = p[n:]
				}
				err = w.Close()
			}
			if err != nil {
				return fmt.Errorf("writing message %d: %w", i, err)
			}
		}
		return nil
	}
	read := func(c *Conn) error {
		var buf []byte
		for i, m := range msgs {
			var got []byte
			if i%2 == 0 {
				_, r, err := c.NextReader(ctx)
				if err != nil {
					return fmt.Errorf("message %d: %w", i, err)
				}
				if got, err = io.ReadAll(iotest.OneByteReader(r)); err != nil {
					return fmt.Errorf("reading message %d: %w", i, err)
				}
			} else {
				var err error
				if _, buf, err = c.ReadMessage(ctx, buf); err != nil {
					return fmt.Errorf("message %d: %w", i, err)
				}
				got = buf
			}
			if !bytes.Equal(got, m) {
				return fmt.Errorf("message %d is %s, want %s", i, abbrev(got), abbrev(m))
			}
		}
		return nil
	}
	errs := make(chan error, 4)
	go func() { errs <- write(server) }()
	go func() { errs <- write(client) }()
	go func() { errs <- read(client) }()
	go func() { errs <- read(server) }()
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	checkWire(t, serverSent, sBits, sTakeover, msgs)
	checkWire(t, clientSent, cBits, cTakeover, msgs)

	// What crossed the wire compressed: what reached the threshold and
	// shrank.
	for _, m := range serverSent.messages(t) {
		if m.compressed && len(m.payload) == 0 {
			t.Error("an empty compressed payload")
		}
	}
	for i, m := range clientSent.messages(t) {
		small := len(msgs[i]) < DefaultCompressionThreshold
		if small && m.compressed {
			t.Errorf("message %d, of %d bytes, was compressed", i, len(msgs[i]))
		}
		if !small && len(m.payload) > len(msgs[i]) {
			t.Errorf("message %d grew from %d to %d bytes", i, len(msgs[i]), len(m.payload))
		}
	}
	if ms := clientSent.messages(t); ms[7].compressed || !ms[8].compressed {
		t.Errorf("random bytes compressed %v, text %v; want false, true", ms[7].compressed, ms[8].compressed)
	}
}

// TestDeflateHistoryBounded: what a connection keeps between messages is
// at most 2 KiB of what it sent, and nothing of what it received when the
// peer does not keep context; no compressor or decompressor stays with it.
func TestDeflateHistoryBounded(t *testing.T) {
	t.Parallel()
	server, client, _, _ := deflatePair(t, CompressionOptions{}, 15, true, 15, false)
	ctx := testContext(t)
	msgs := deflateMessages()
	go func() {
		for _, m := range msgs {
			server.WriteMessage(ctx, Binary, m)
		}
	}()
	for range msgs {
		if _, _, err := client.ReadMessage(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := cap(server.deflate.sent.buf); n != maxHistory {
		t.Errorf("the server keeps %d bytes of what it sent, want %d", n, maxHistory)
	}
	if server.deflate.received.buf != nil {
		t.Errorf("the server keeps %d bytes of what it received", cap(server.deflate.received.buf))
	}
	if client.deflate.received.buf == nil || cap(client.deflate.received.buf) != 40<<10 {
		t.Errorf("the client keeps %d bytes of the server's context, want 40 KiB: the window and a quarter", cap(client.deflate.received.buf))
	}
	if client.reader.inf != nil {
		t.Error("the client holds a decompressor between messages")
	}
}

// deflateBytes compresses p as a permessage-deflate message: flushed, the
// tail stripped, without a dictionary.
func deflateBytes(p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), deflateTail)
}

// compressedFrame is a final frame of type op carrying p compressed.
func compressedFrame(op wire.Opcode, p []byte) frame {
	return frame{fin: true, rsv: wire.Rsv1, op: op, payload: deflateBytes(p)}
}

// TestDeflateFrames plays compressed messages, well and badly formed, at
// both ends with compression agreed: fragmented, chopped, mixed with
// uncompressed ones and control frames, with RSV1 where it may not be,
// corrupt, and inflating past the read limit.
func TestDeflateFrames(t *testing.T) {
	t.Parallel()
	hello := []byte("Hello, compressed world! Hello, compressed world!")
	long := []byte(textOf(20000))
	longZ := deflateBytes(long)
	third := len(longZ) / 3
	split := []frame{
		{rsv: wire.Rsv1, op: wire.OpText, payload: longZ[:third]},
		pingFrame("between"),
		{op: wire.OpContinuation, payload: longZ[third : 2*third]},
		{fin: true, op: wire.OpContinuation, payload: longZ[2*third:]},
	}
	splitNoPing := append(split[:1:1], split[2:]...)
	var final bytes.Buffer // a stream that ends with a final block
	fw, _ := flate.NewWriter(&final, flate.BestSpeed)
	fw.Write(hello)
	fw.Close()
	invalidUTF8 := deflateBytes([]byte("valid, then \xff\xfe invalid"))
	helloZ := deflateBytes(hello)

	cases := []exchange{
		{name: "text", send: []frame{compressedFrame(wire.OpText, hello)}, want: []frame{textMsg(string(hello))}},
		{name: "binary", send: []frame{compressedFrame(wire.OpBinary, binOf(3000))}, want: []frame{binMsg(binOf(3000))}},
		{name: "empty", send: []frame{{fin: true, rsv: wire.Rsv1, op: wire.OpText, payload: []byte{0x00}}}, want: []frame{textMsg("")}},
		{name: "fragmented-with-ping", send: split, want: []frame{pongFrame("between"), textMsg(string(long))}},
		{name: "fragmented-one-write", send: split, mode: oneWrite, want: []frame{pongFrame("between"), textMsg(string(long))}},
		{name: "chopped", send: []frame{compressedFrame(wire.OpText, long)}, mode: chopped, chop: 7, want: []frame{textMsg(string(long))}},
		{
			name: "mixed",
			send: []frame{compressedFrame(wire.OpText, hello), textFrame("plain"), compressedFrame(wire.OpBinary, long), binFrame(binOf(300)), compressedFrame(wire.OpText, hello)},
			mode: oneWrite,
			want: []frame{textMsg(string(hello)), textMsg("plain"), binMsg(long), binMsg(binOf(300)), textMsg(string(hello))},
		},
		{
			name: "ends-with-final-block",
			send: []frame{{fin: true, rsv: wire.Rsv1, op: wire.OpText, payload: final.Bytes()}, textFrame("next")},
			want: []frame{textMsg(string(hello)), textMsg("next")},
		},

		// RSV1 marks the first frame only, and never a control frame.
		{
			name: "rsv1-on-continuation",
			send: []frame{{rsv: wire.Rsv1, op: wire.OpText, payload: helloZ[:5]}, {fin: true, rsv: wire.Rsv1, op: wire.OpContinuation, payload: helloZ[5:]}},
			fail: wire.StatusProtocolError,
		},
		{name: "rsv1-on-ping", send: []frame{{fin: true, rsv: wire.Rsv1, op: wire.OpPing, payload: []byte{0x00}}}, fail: wire.StatusProtocolError},
		{name: "rsv1-on-close", send: []frame{{fin: true, rsv: wire.Rsv1, op: wire.OpClose, payload: closePayload(1000, "")}}, fail: wire.StatusProtocolError},
		{name: "rsv2", send: []frame{{fin: true, rsv: wire.Rsv1 | wire.Rsv2, op: wire.OpText, payload: helloZ}}, fail: wire.StatusProtocolError},

		// Corrupt data fails the connection with 1007.
		{name: "garbage", send: []frame{{fin: true, rsv: wire.Rsv1, op: wire.OpBinary, payload: []byte{0xff, 0xff, 0xff, 0xff, 0xff}}}, fail: wire.StatusInvalidPayloadData},
		{name: "truncated", send: []frame{{fin: true, rsv: wire.Rsv1, op: wire.OpBinary, payload: longZ[:len(longZ)/2]}}, fail: wire.StatusInvalidPayloadData},
		{name: "empty-payload", send: []frame{{fin: true, rsv: wire.Rsv1, op: wire.OpText}}, fail: wire.StatusInvalidPayloadData},
		{name: "reserved-block-type", send: []frame{{fin: true, rsv: wire.Rsv1, op: wire.OpText, payload: []byte{0x07, 0x00}}}, fail: wire.StatusInvalidPayloadData},
		{name: "invalid-utf8-inside", send: []frame{{fin: true, rsv: wire.Rsv1, op: wire.OpText, payload: invalidUTF8}}, fail: wire.StatusInvalidPayloadData},
		{
			name: "corrupt-after-echo",
			send: []frame{compressedFrame(wire.OpText, hello), {fin: true, rsv: wire.Rsv1, op: wire.OpText, payload: []byte{0xff}}, pingFrame("unanswered")},
			want: []frame{textMsg(string(hello))},
			fail: wire.StatusInvalidPayloadData,
		},
	}
	runExchanges(t, withCompression(nil), cases)

	// The read limit applies to what a message inflates to: 20,000 bytes
	// compress to far fewer than the limit, and inflate past it.
	if len(longZ) >= 5000 {
		t.Fatalf("the test's text compresses to %d bytes", len(longZ))
	}
	limited := withCompression(&Upgrader{ReadLimit: 5000})
	runExchanges(t, limited, []exchange{
		{name: "inflates-past-limit", send: []frame{compressedFrame(wire.OpText, long)}, fail: wire.StatusMessageTooBig},
		{name: "fragmented-past-limit", send: splitNoPing, fail: wire.StatusMessageTooBig},
		{name: "at-limit", send: []frame{compressedFrame(wire.OpText, long[:5000])}, want: []frame{textMsg(string(long[:5000]))}},
	})
}

// TestDeflateBomb: a message of about 1 MB that inflates to a gigabyte
// is refused with 1009 once it inflates past the read limit, without the
// gigabyte ever being produced or allocated.
func TestDeflateBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("compresses a gigabyte")
	}
	// Not parallel: it measures what the process allocates.
	bomb := gigabyteBomb()
	const limit = 4 << 20
	if len(bomb) >= limit {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	res := newResult[error]()
	var allocated uint64
	addr := connServer(t, &Upgrader{ReadLimit: limit, Compression: &CompressionOptions{}}, func(c *Conn) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, msg, err := c.ReadMessage(context.Background(), nil)
		runtime.ReadMemStats(&after)
		allocated = after.TotalAlloc - before.TotalAlloc
		if err == nil {
			err = fmt.Errorf("read a message of %d bytes", len(msg))
		}
		res.set(err)
	})
	c := dialRaw(t, addr, "Sec-WebSocket-Extensions: permessage-deflate")
	c.deflate = true
	c.writeAfterViolation(c.encode(frame{fin: true, rsv: wire.Rsv1, op: wire.OpBinary, payload: bomb}))
	c.expectFail(wire.StatusMessageTooBig)
	if err := res.get(t); CloseStatus(err) != StatusMessageTooBig {
		t.Fatalf("ReadMessage: %v, want 1009", err)
	}
	// The message's buffer grows to the limit, in doublings; the rest is
	// the bomb's own frame, read by the connection, and slack.
	t.Logf("a %d-byte bomb refused after inflating to the %d-byte limit; %d KiB allocated meanwhile", len(bomb), limit, allocated>>10)
	if allocated > 4*limit+uint64(len(bomb)) {
		t.Errorf("reading the bomb allocated %d MiB", allocated>>20)
	}
}

// gigabyteBomb returns a permessage-deflate payload that inflates to a
// gigabyte of zeros, made once.
var gigabyteBomb = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	zeros := make([]byte, 1<<20)
	for range 1 << 10 {
		w.Write(zeros)
	}
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), deflateTail)
})

// TestDeflateStreamingWriter: a message written in pieces goes out
// compressed in several frames, RSV1 on the first only; Flush ends a frame;
// SetCompressed overrides the threshold either way, until the first frame.
func TestDeflateStreamingWriter(t *testing.T) {
	t.Parallel()
	server, client, serverSent, _ := deflatePair(t, CompressionOptions{}, 15, true, 15, true)
	ctx := testContext(t)
	big := wordsOf(300 << 10) // past the flate writer's 64 KiB blocks, and not too compressible
	sent := [][]byte{big, []byte("tiny, but compressed"), big[:3000], []byte("two parts")}
	go func() {
		w, _ := server.NextWriter(ctx, Text)
		for p := big; len(p) > 0; p = p[min(len(p), 700):] {
			w.Write(p[:min(len(p), 700)])
		}
		w.Close()

		w, _ = server.NextWriter(ctx, Text)
		w.SetCompressed(true)
		w.Write(sent[1])
		w.Close()

		w, _ = server.NextWriter(ctx, Binary)
		w.SetCompressed(false)
		w.Write(sent[2])
		w.Close()

		w, _ = server.NextWriter(ctx, Text)
		w.Write([]byte("two "))
		w.Flush()
		if err := w.SetCompressed(true); err == nil {
			t.Error("SetCompressed after the first frame succeeded")
		}
		w.Write([]byte("parts"))
		w.Close()
	}()
	for i, want := range sent {
		_, got, err := client.ReadMessage(ctx, nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("message %d: %s, %v; want %s", i, abbrev(got), err, abbrev(want))
		}
	}
	msgs := serverSent.messages(t)
	checks := []struct {
		compressed bool
		frames     int // 0: more than one
	}{{true, 0}, {true, 1}, {false, 1}, {false, 2}}
	for i, want := range checks {
		m := msgs[i]
		if m.compressed != want.compressed || want.frames != 0 && m.frames != want.frames || want.frames == 0 && m.frames < 2 {
			t.Errorf("message %d: compressed %v in %d frames, want %v in %d", i, m.compressed, m.frames, want.compressed, want.frames)
		}
	}
	if len(msgs[0].payload) > len(big)/2 {
		t.Errorf("the streamed message compressed to %d bytes of %d", len(msgs[0].payload), len(big))
	}
}

// wordsOf returns n bytes of text made of random words.
func wordsOf(n int) []byte {
	words := strings.Fields("the a of to and is in that it for on with hello world message room deploy build test release server client window socket frame compress")
	r := rand.New(rand.NewPCG(uint64(n), 1))
	var b []byte
	for len(b) < n {
		b = append(b, words[r.IntN(len(words))]...)
		b = append(b, ' ')
	}
	return b[:n]
}

// TestDeflateDiscardUnread: what a reader leaves of a compressed message
// is skipped or, if the peer keeps context, inflated, so that the next
// message still inflates.
func TestDeflateDiscardUnread(t *testing.T) {
	t.Parallel()
	for _, takeover := range []bool{true, false} {
		t.Run(takeoverName(takeover), func(t *testing.T) {
			t.Parallel()
			server, client, _, _ := deflatePair(t, CompressionOptions{}, 15, takeover, 15, takeover)
			ctx := testContext(t)
			first := []byte(strings.Repeat("the first message, read in part; ", 500))
			second := []byte(strings.Repeat("the second message, read in part; ", 500))
			go func() {
				server.WriteMessage(ctx, Text, first)
				server.WriteMessage(ctx, Text, second)
			}()
			_, r, err := client.NextReader(ctx)
			if err != nil {
				t.Fatal(err)
			}
			part := make([]byte, 10)
			if _, err := io.ReadFull(r, part); err != nil || !bytes.Equal(part, first[:10]) {
				t.Fatalf("first part %q, %v", part, err)
			}
			_, got, err := client.ReadMessage(ctx, nil)
			if err != nil || !bytes.Equal(got, second) {
				t.Fatalf("second message %s, %v", abbrev(got), err)
			}
		})
	}
}

// TestDeflateCloseMidMessage: a connection that ends in the middle of a
// compressed message gives its decompressor back, and the reader sees the
// end.
func TestDeflateCloseMidMessage(t *testing.T) {
	t.Parallel()
	server, client, _, _ := deflatePair(t, CompressionOptions{}, 15, false, 15, false)
	ctx := testContext(t)
	go func() {
		w, _ := server.NextWriter(ctx, Binary)
		w.Write(bytes.Repeat([]byte("partial "), 2000))
		w.Flush()
		time.Sleep(50 * time.Millisecond)
		server.CloseNow()
	}()
	_, r, err := client.NextReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); !errors.Is(err, ErrClosed) {
		t.Fatalf("reading on: %v, want the connection closed", err)
	}
	client.readMu.Lock()
	held := client.reader.inf != nil
	client.readMu.Unlock()
	if held {
		t.Error("the decompressor is still held")
	}
}

// TestHistory: a history keeps the last max bytes written, in order.
func TestHistory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		max    int
		writes []string
		want   string
	}{
		{4, nil, ""},
		{4, []string{"ab"}, "ab"},
		{4, []string{"ab", "cd"}, "abcd"},
		{4, []string{"ab", "cde"}, "bcde"},
		{4, []string{"abcdef"}, "cdef"},
		{4, []string{"abc", "", "d", "efgh", "i"}, "fghi"},
		{4, []string{"abcd", "efghij", "k"}, "hijk"},
		{1, []string{"a", "bc", "d"}, "d"},
		{maxHistory * 4, []string{strings.Repeat("a", maxHistory*4-1), "bc", "d", strings.Repeat("e", maxHistory*2)}, strings.Repeat("a", maxHistory*2-3) + "bcd" + strings.Repeat("e", maxHistory*2)},
	}
	for _, tc := range tests {
		h := history{max: tc.max}
		var all string
		for _, w := range tc.writes {
			h.write([]byte(w))
			all += w
			if got, want := string(h.bytes()), all[max(0, len(all)-tc.max):]; got != want {
				t.Fatalf("max %d, after %d bytes: %s, want %s", tc.max, len(all), abbrev([]byte(got)), abbrev([]byte(want)))
			}
		}
		if got := string(h.bytes()); got != tc.want {
			t.Errorf("max %d: %s, want %s", tc.max, abbrev([]byte(got)), abbrev([]byte(tc.want)))
		}
		if room := tc.max + tc.max/4; tc.max <= maxHistory && cap(h.buf) > tc.max || cap(h.buf) > room {
			t.Errorf("max %d: holds %d bytes", tc.max, cap(h.buf))
		}
	}
}

// TestDeflateFailureIsolated: a connection failed for corrupt compressed
// data, or for a message that inflates past the limit, disturbs no other
// connection of the server, whose compressed messages, with context
// takeover, go on.
func TestDeflateFailureIsolated(t *testing.T) {
	t.Parallel()
	addr := echoServer(t, &Upgrader{ReadLimit: 1 << 20, Compression: &CompressionOptions{}})
	offer := "Sec-WebSocket-Extensions: permessage-deflate"
	good := dialRaw(t, addr, offer)
	good.deflate = true
	text := wordsOf(5000)
	good.write(compressedFrame(wire.OpText, text))
	good.expectMessage(wire.OpText, text)

	for _, tc := range []struct {
		name    string
		payload []byte
		code    wire.StatusCode
	}{
		{"corrupt", []byte{0xff, 0xfe, 0xfd}, wire.StatusInvalidPayloadData},
		{"too-big", deflateBytes(make([]byte, 2<<20)), wire.StatusMessageTooBig},
	} {
		bad := dialRaw(t, addr, offer)
		bad.deflate = true
		bad.write(compressedFrame(wire.OpText, []byte("fine at first, fine at first")))
		bad.expectMessage(wire.OpText, []byte("fine at first, fine at first"))
		bad.write(frame{fin: true, rsv: wire.Rsv1, op: wire.OpBinary, payload: tc.payload})
		bad.expectFail(tc.code)

		good.write(compressedFrame(wire.OpText, text[:3000])) // echoed against the context of before
		good.expectMessage(wire.OpText, text[:3000])
	}
	good.finish()
}
