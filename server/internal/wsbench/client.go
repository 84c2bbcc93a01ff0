// Package wsbench holds what the WebSocket servers' benchmarks share: a raw
// client that does not allocate once connected, the reference servers
// (a floor that does the least work possible, and the leanest echo package
// ws allows), and the three benchmarks' harnesses, so that each package
// only lists the servers it measures:
//
//   - duplex/server/ws: duplex alone;
//   - duplex/server/web: the production router, with and without the
//     protocol lab's listener;
//   - duplex/server/ws/thirdparty, a module of its own: other Go WebSocket
//     libraries, side by side with duplex.
//
// It is for tests only: its functions take a testing.TB and fail it.
package wsbench

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"duplex/shared/handshake"
	"duplex/shared/wire"
)

// Key is the Sec-WebSocket-Key of every client of this package.
const Key = "dGhlIHNhbXBsZSBub25jZQ=="

// maskKey is the masking key of every frame a Client sends.
var maskKey = [4]byte{0x5a, 0xc3, 0x0f, 0x96}

// dialTimeout bounds a Client's dial and handshake.
const dialTimeout = 10 * time.Second

var (
	errFrame   = errors.New("wsbench client: unexpected masked or control frame from the server")
	errTooLong = errors.New("wsbench client: message longer than expected")
	errLength  = errors.New("wsbench client: message shorter than expected")
	errOpcode  = errors.New("wsbench client: unexpected message type")
)

// HandshakeRequest returns the opening handshake for path on host, with Key.
func HandshakeRequest(host, path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + Key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
}

// A Client is a WebSocket client that sends one prepared message and reads
// messages into a buffer of the expected size, without allocating, so
// that the allocations a benchmark reports are the server's. It checks
// what it reads only as far as it must to find the messages' ends.
type Client struct {
	Conn net.Conn // the TCP connection, for deadlines and closing

	br  *bufio.Reader
	out []byte      // the masked frame to send
	op  wire.Opcode // type of the message expected back
	in  []byte      // room for the message expected back
	hdr [wire.MaxHeaderSize]byte
}

// Dial connects to addr and performs the opening handshake for path. The
// connection is closed when tb ends.
func Dial(tb testing.TB, addr, path string) *Client {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		tb.Fatalf("wsbench: dial %s: %v", addr, err)
	}
	tb.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(dialTimeout))
	if _, err := io.WriteString(conn, HandshakeRequest(addr, path)); err != nil {
		tb.Fatalf("wsbench: sending the handshake to %s: %v", addr, err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		tb.Fatalf("wsbench: reading the handshake response of %s%s: %v", addr, path, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != handshake.AcceptKey(Key) {
		tb.Fatalf("wsbench: handshake with %s%s: %s, Sec-WebSocket-Accept %q", addr, path, resp.Status, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	conn.SetDeadline(time.Time{})
	return &Client{Conn: conn, br: br}
}

// SetMessage prepares the message that Send writes, and makes room for an
// echo of it.
func (c *Client) SetMessage(op wire.Opcode, p []byte) {
	h := wire.Header{Fin: true, Opcode: op, Masked: true, Mask: maskKey, Length: int64(len(p))}
	c.out = wire.AppendHeader(c.out[:0], h)
	start := len(c.out)
	c.out = append(c.out, p...)
	wire.Mask(maskKey, 0, c.out[start:])
	c.Expect(op, len(p))
}

// Expect makes room for messages of type op and n bytes.
func (c *Client) Expect(op wire.Opcode, n int) {
	c.op = op
	if cap(c.in) < n {
		c.in = make([]byte, n)
	}
	c.in = c.in[:n]
}

// Received returns the payload of the last message received. It is valid
// until the next Receive.
func (c *Client) Received() []byte { return c.in }

// Send writes the prepared message.
func (c *Client) Send() error {
	_, err := c.Conn.Write(c.out)
	return err
}

// Receive reads one message, in as many frames as the server used, and
// checks its type and length.
func (c *Client) Receive() error {
	n := 0
	for i := 0; ; i++ {
		if _, err := io.ReadFull(c.br, c.hdr[:2]); err != nil {
			return err
		}
		size := wire.HeaderSize(c.hdr[0], c.hdr[1])
		if _, err := io.ReadFull(c.br, c.hdr[2:size]); err != nil {
			return err
		}
		h, _, err := wire.ParseHeader(c.hdr[:size])
		switch {
		case err != nil:
			return err
		case h.Masked || h.Opcode.IsControl():
			return errFrame
		case i == 0 && h.Opcode != c.op, i > 0 && h.Opcode != wire.OpContinuation:
			return errOpcode
		case h.Length > int64(len(c.in)-n):
			return errTooLong
		}
		m := n + int(h.Length)
		if _, err := io.ReadFull(c.br, c.in[n:m]); err != nil {
			return err
		}
		n = m
		if h.Fin {
			break
		}
	}
	if n != len(c.in) {
		return errLength
	}
	return nil
}

// RoundTrip sends the prepared message and receives its echo.
func (c *Client) RoundTrip() error {
	if err := c.Send(); err != nil {
		return err
	}
	return c.Receive()
}
