package thirdparty

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	"duplex/server/internal/wsbench"
	"duplex/server/ws"
)

// This file compares clients: duplex's own, ws.Dial, against the gorilla
// and coder clients, all talking to the same duplex echo server in the same
// run. From this directory:
//
//	go test -run '^$' -bench ClientEchoRoundTrip -benchmem
//
// The server runs in the benchmark's process, so the allocations reported
// are the client's plus the server's; the server's are zero (see
// BenchmarkEchoRoundTrip/duplex-min). Each library is used through its
// fastest idiomatic API, with a -stream variant where reading into a
// buffer of one's own avoids the allocation of a fresh one per message.

// An echoClient connects to an echo server and returns a function that
// sends msg as one binary message and returns the echo, which is valid
// until the next call.
type echoClient struct {
	name string
	dial func(tb testing.TB, url string) (roundTrip func(msg []byte) ([]byte, error))
}

var echoClients = []echoClient{
	{"duplex", duplexEchoClient},
	{"gorilla", gorillaEchoClient(false)},
	{"gorilla-stream", gorillaEchoClient(true)},
	{"coder", coderEchoClient(false)},
	{"coder-stream", coderEchoClient(true)},
}

// clientDialTimeout bounds each client's handshake.
const clientDialTimeout = 10 * time.Second

// clientReadLimit is the read limit set on clients that have one, above
// the largest message of wsbench.Sizes (coder's default is 32 KiB).
const clientReadLimit = 1 << 20

var errEchoType = errors.New("the echo is not a binary message")

// duplexEchoClient uses ws.Dial's Conn: WriteMessage, and ReadMessage
// into the previous echo's memory.
func duplexEchoClient(tb testing.TB, url string) func([]byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clientDialTimeout)
	defer cancel()
	c, err := ws.Dial(ctx, url, &ws.DialOptions{ReadLimit: clientReadLimit})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.CloseNow() })
	ctx = context.Background()
	var buf []byte
	return func(msg []byte) ([]byte, error) {
		if err := c.WriteMessage(ctx, ws.Binary, msg); err != nil {
			return nil, err
		}
		typ, p, err := c.ReadMessage(ctx, buf)
		if err != nil {
			return nil, err
		}
		buf = p
		if typ != ws.Binary {
			return nil, errEchoType
		}
		return p, nil
	}
}

// gorillaEchoClient uses gorilla's default Dialer. Plain, with
// WriteMessage and ReadMessage, which reads each message into a fresh
// buffer; with stream, with NextWriter and NextReader, read into a buffer
// of its own. (A client's WriteMessage is NextWriter, Write and Close.)
func gorillaEchoClient(stream bool) func(tb testing.TB, url string) func([]byte) ([]byte, error) {
	return func(tb testing.TB, url string) func([]byte) ([]byte, error) {
		d := gorilla.Dialer{HandshakeTimeout: clientDialTimeout}
		c, _, err := d.Dial(url, nil)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { c.Close() })
		c.SetReadLimit(clientReadLimit)
		if !stream {
			return func(msg []byte) ([]byte, error) {
				if err := c.WriteMessage(gorilla.BinaryMessage, msg); err != nil {
					return nil, err
				}
				typ, p, err := c.ReadMessage()
				if err == nil && typ != gorilla.BinaryMessage {
					err = errEchoType
				}
				return p, err
			}
		}
		var buf []byte
		return func(msg []byte) ([]byte, error) {
			w, err := c.NextWriter(gorilla.BinaryMessage)
			if err != nil {
				return nil, err
			}
			if _, err := w.Write(msg); err != nil {
				return nil, err
			}
			if err := w.Close(); err != nil {
				return nil, err
			}
			typ, r, err := c.NextReader()
			if err != nil {
				return nil, err
			}
			if typ != gorilla.BinaryMessage {
				return nil, errEchoType
			}
			buf, err = readInto(buf[:0], r)
			return buf, err
		}
	}
}

// coderEchoClient uses coder's Dial. Plain, with Write and Read, which
// reads each message into a fresh buffer; with stream, with Writer and
// Reader, read into a buffer of its own.
func coderEchoClient(stream bool) func(tb testing.TB, url string) func([]byte) ([]byte, error) {
	return func(tb testing.TB, url string) func([]byte) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), clientDialTimeout)
		defer cancel()
		c, _, err := coder.Dial(ctx, url, nil)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { c.CloseNow() })
		c.SetReadLimit(clientReadLimit)
		ctx = context.Background()
		if !stream {
			return func(msg []byte) ([]byte, error) {
				if err := c.Write(ctx, coder.MessageBinary, msg); err != nil {
					return nil, err
				}
				typ, p, err := c.Read(ctx)
				if err == nil && typ != coder.MessageBinary {
					err = errEchoType
				}
				return p, err
			}
		}
		var buf []byte
		return func(msg []byte) ([]byte, error) {
			w, err := c.Writer(ctx, coder.MessageBinary)
			if err != nil {
				return nil, err
			}
			if _, err := w.Write(msg); err != nil {
				return nil, err
			}
			if err := w.Close(); err != nil {
				return nil, err
			}
			typ, r, err := c.Reader(ctx)
			if err != nil {
				return nil, err
			}
			if typ != coder.MessageBinary {
				return nil, errEchoType
			}
			buf, err = readInto(buf[:0], r)
			return buf, err
		}
	}
}

// readInto appends what r holds up to io.EOF to buf, growing it only when
// it is full, and returns it.
func readInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// BenchmarkClientEchoRoundTrip measures one client sending a binary message
// and waiting for its echo, for each client in turn, at each of
// wsbench.Sizes, from one duplex echo server: wsbench.DuplexEcho, which
// reads each message into the previous one's memory.
func BenchmarkClientEchoRoundTrip(b *testing.B) {
	addr, path := wsbench.StartDuplexEcho(b)
	url := "ws://" + addr + path
	for _, c := range echoClients {
		for _, size := range wsbench.Sizes {
			b.Run(c.name+"/"+size.Name, func(b *testing.B) {
				roundTrip := c.dial(b, url)
				msg := wsbench.Message(size.N)
				echo, err := roundTrip(msg)
				if err != nil {
					b.Fatal(err)
				}
				if !bytes.Equal(echo, msg) {
					b.Fatalf("the echo of %d bytes differs: %d bytes came back", len(msg), len(echo))
				}
				b.SetBytes(int64(size.N))
				b.ReportAllocs()
				for b.Loop() {
					echo, err := roundTrip(msg)
					if err != nil {
						b.Fatal(err)
					}
					if len(echo) != len(msg) {
						b.Fatalf("the echo has %d bytes, want %d", len(echo), len(msg))
					}
				}
			})
		}
	}
}

// TestEchoClients checks the clients of BenchmarkClientEchoRoundTrip
// against its server: every size comes back intact, twice, so that
// reused buffers are exercised.
func TestEchoClients(t *testing.T) {
	addr, path := wsbench.StartDuplexEcho(t)
	url := "ws://" + addr + path
	for _, c := range echoClients {
		t.Run(c.name, func(t *testing.T) {
			roundTrip := c.dial(t, url)
			for i, size := range append(wsbench.Sizes, wsbench.Sizes...) {
				msg := wsbench.Message(size.N)
				msg[0] = byte(i) // never the bytes of the previous echo
				echo, err := roundTrip(msg)
				if err != nil {
					t.Fatalf("%s: %v", size.Name, err)
				}
				if !bytes.Equal(echo, msg) {
					t.Fatalf("%s: %s", size.Name, describeDiff(echo, msg))
				}
			}
		})
	}
}

// describeDiff says how got differs from want.
func describeDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("the echo of %d bytes differs: got %d bytes, first difference at offset %d", len(want), len(got), i)
}
