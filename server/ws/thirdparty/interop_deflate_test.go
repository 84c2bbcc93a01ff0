package thirdparty

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	"duplex/server/internal/wsbench"
	"duplex/server/ws"
	"duplex/shared/wire"
)

// This file checks permessage-deflate between duplex and other libraries:
// the gorilla and coder clients against a server built on ws.Upgrader
// with compression, and the native client against gorilla's and coder's
// servers. Each payload goes both ways, and the sniffer checks that the
// compressed frames were RSV1 on the first frame only, and smaller.

// deflateSizes are the sizes exchanged compressed: around the threshold,
// a frame buffer, a large flate block and the interop server's 2 MiB limit.
var deflateSizes = []int{0, 10, 127, 128, 1000, 5000, 64 << 10, 1 << 20}

// deflatePayload returns n bytes: JSON-like text for Text, which
// compresses, and random bytes for Binary, which do not.
func deflatePayload(op wire.Opcode, n int) []byte {
	if op == wire.OpText {
		return wsbench.JSONText(n)
	}
	return interopBinary(n)
}

// deflateFrames checks that frames (control frames aside) carry one
// message of type op, with RSV1 on its first frame at most, and returns
// whether it was compressed and the bytes its frames carried.
func deflateFrames(t *testing.T, who string, frames []wire.Header, op wire.Opcode) (compressed bool, total int64) {
	t.Helper()
	i := 0
	for _, h := range frames {
		if h.Opcode.IsControl() {
			continue
		}
		want, rsv := wire.OpContinuation, byte(0)
		if i == 0 {
			want, rsv = op, h.Rsv&wire.Rsv1
			compressed = rsv != 0
		}
		if h.Opcode != want || h.Rsv != rsv {
			t.Fatalf("%s: frame %d is %v with reserved bits %#x, want %v with %#x", who, i+1, h.Opcode, h.Rsv, want, rsv)
		}
		total += h.Length
		i++
	}
	if i == 0 {
		t.Fatalf("%s sent no data frame", who)
	}
	return compressed, total
}

// checkCompressed checks the frames duplex sent for a message of n bytes
// of type op: JSON-like text of 1000 bytes or more compressed and smaller,
// anything under the threshold or random as it was, and what is between
// either, smaller if compressed.
func checkCompressed(t *testing.T, who string, frames []wire.Header, op wire.Opcode, n int) {
	t.Helper()
	compressed, total := deflateFrames(t, who, frames, op)
	must := op == wire.OpText && n >= 1000
	mustNot := op == wire.OpBinary || n < ws.DefaultCompressionThreshold
	switch {
	case must && !compressed, mustNot && compressed:
		t.Fatalf("%s: %v message of %d bytes compressed: %v", who, op, n, compressed)
	case compressed && total >= int64(n):
		t.Fatalf("%s: %d bytes compressed to %d", who, n, total)
	case !compressed && total != int64(n):
		t.Fatalf("%s: %d bytes sent as %d", who, n, total)
	}
}

func TestInteropDeflateGorillaClient(t *testing.T) {
	s := newInteropServer(t)
	for _, path := range []string{"/deflate/echo", "/deflate/stream"} {
		t.Run(path, func(t *testing.T) {
			c, resp, sc := dialGorilla(t, s.url+path, gorilla.Dialer{EnableCompression: true})
			if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != "permessage-deflate; server_no_context_takeover; client_no_context_takeover" {
				t.Fatalf("the server answered %q", got)
			}
			c.EnableWriteCompression(true)
			for _, op := range dataTypes {
				for _, n := range deflateSizes {
					p := deflatePayload(op, n)
					if err := c.WriteMessage(int(op), p); err != nil {
						t.Fatalf("%v %d B: write: %v", op, n, err)
					}
					typ, got, err := c.ReadMessage()
					if err != nil {
						t.Fatalf("%v %d B: read: %v", op, n, err)
					}
					checkEcho(t, wire.Opcode(typ), op, got, p)
					if compressed, _ := deflateFrames(t, "client", sc.sent.take(t), op); !compressed {
						t.Fatalf("gorilla did not compress a message of %d bytes", n)
					}
					checkCompressed(t, "server", sc.received.take(t), op, n)
				}
			}
			if err := c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(1000, ""), deadline()); err != nil {
				t.Fatal(err)
			}
			s.checkPeerClose(t, 1000, "")
		})
	}
}

func TestInteropDeflateCoderClient(t *testing.T) {
	s := newInteropServer(t)
	for _, mode := range []struct {
		name string
		mode coder.CompressionMode
		want string // the server's answer
	}{
		{"context-takeover", coder.CompressionContextTakeover, "permessage-deflate; client_no_context_takeover"},
		{"no-context-takeover", coder.CompressionNoContextTakeover, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			ctx := interopContext(t)
			c, resp, sc := dialCoder(t, s.url+"/deflate/echo", coder.DialOptions{CompressionMode: mode.mode, CompressionThreshold: 1})
			if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != mode.want {
				t.Fatalf("the server answered %q, want %q", got, mode.want)
			}
			for _, op := range dataTypes {
				for _, n := range deflateSizes {
					p := deflatePayload(op, n)
					if err := c.Write(ctx, coderType(op), p); err != nil {
						t.Fatalf("%v %d B: write: %v", op, n, err)
					}
					typ, got, err := c.Read(ctx)
					if err != nil {
						t.Fatalf("%v %d B: read: %v", op, n, err)
					}
					checkEcho(t, fromCoderType(typ), op, got, p)
					sc.sent.take(t)
					checkCompressed(t, "server", sc.received.take(t), op, n)
				}
			}
			if err := c.Close(coder.StatusNormalClosure, "done"); err != nil {
				t.Fatal(err)
			}
			s.checkPeerClose(t, 1000, "done")
		})
	}
}

// nativeDeflateEcho sends every payload from the native client, offering
// compression, to an echo server at url, and checks what comes back and,
// through a sniffer, that what the client sent was compressed.
func nativeDeflateEcho(t *testing.T, url string, opts ws.CompressionOptions, wantExt string) {
	t.Helper()
	var sc *sniffConn
	ctx := interopContext(t)
	c, err := ws.Dial(ctx, url, &ws.DialOptions{Compression: &opts, ReadLimit: 2 << 20, NetDial: sniffDialer(&sc)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if c.Extensions() != wantExt {
		t.Fatalf("Extensions() = %q, want %q", c.Extensions(), wantExt)
	}
	for _, op := range dataTypes {
		for _, n := range deflateSizes {
			p := deflatePayload(op, n)
			if err := c.WriteMessage(ctx, ws.MessageType(op), p); err != nil {
				t.Fatalf("%v %d B: write: %v", op, n, err)
			}
			typ, got, err := c.ReadMessage(ctx, nil)
			if err != nil {
				t.Fatalf("%v %d B: read: %v", op, n, err)
			}
			checkEcho(t, typ.Opcode(), op, got, p)
			checkCompressed(t, "client", sc.sent.take(t), op, n)
			sc.received.take(t)
		}
	}
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
}

func TestInteropDeflateGorillaServer(t *testing.T) {
	u := &gorilla.Upgrader{EnableCompression: true}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c.EnableWriteCompression(true)
		gorillaEchoLoop(c)
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	const want = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	for _, opts := range []ws.CompressionOptions{{}, {NoContextTakeover: true}} {
		nativeDeflateEcho(t, url, opts, want)
	}
}

func TestInteropDeflateCoderServer(t *testing.T) {
	for _, mode := range []struct {
		name string
		mode coder.CompressionMode
		opts ws.CompressionOptions
		want string
	}{
		{"context-takeover", coder.CompressionContextTakeover, ws.CompressionOptions{}, "permessage-deflate"},
		{"no-context-takeover", coder.CompressionNoContextTakeover, ws.CompressionOptions{}, "permessage-deflate; client_no_context_takeover; server_no_context_takeover"},
		{"client-asks-no-takeover", coder.CompressionContextTakeover, ws.CompressionOptions{NoContextTakeover: true}, "permessage-deflate; client_no_context_takeover; server_no_context_takeover"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := coder.Accept(w, r, &coder.AcceptOptions{CompressionMode: mode.mode, CompressionThreshold: 1})
				if err != nil {
					return
				}
				defer c.CloseNow()
				c.SetReadLimit(4 << 20)
				ctx := context.Background()
				for {
					typ, r, err := c.Reader(ctx)
					if err != nil {
						return
					}
					w, err := c.Writer(ctx, typ)
					if err != nil {
						return
					}
					if _, err := io.Copy(w, r); err != nil {
						return
					}
					if err := w.Close(); err != nil {
						return
					}
				}
			}))
			defer srv.Close()
			nativeDeflateEcho(t, "ws"+strings.TrimPrefix(srv.URL, "http"), mode.opts, mode.want)
		})
	}
}

// deadline is when a control frame written now must have gone out.
func deadline() (d time.Time) { return time.Now().Add(interopTimeout) }
