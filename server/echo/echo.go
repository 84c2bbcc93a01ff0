// Package echo is the echo demo: a page that sends text or binary messages
// and shows them come back, and its endpoint, /ws/echo, which sends every
// message back unchanged, over WebSocket or, where WebSocket is blocked,
// the HTTP stream fallback (duplex/server/httpstream).
package echo

import (
	"bytes"
	"context"
	"log/slog"
	"sync"

	"duplex/server/httpstream"
)

// ReadLimit is the largest message the echo endpoint accepts.
const ReadLimit = 16 << 20

// Path is the echo endpoint.
const Path = "/ws/echo"

// Subprotocol is the one the endpoint offers: it lets the playground show
// a negotiation.
const Subprotocol = "echo"

// Handler serves the echo endpoint's connections: every message comes
// back unchanged, with its type.
type Handler struct {
	log     *slog.Logger
	buffers sync.Pool // *bytes.Buffer, held only while a message is echoed
}

// serve echoes messages until c ends, over either transport. Shutdown
// closes it: a WebSocket through the Upgrader's Group, a stream session
// through the Server's Stopping.
func (e *Handler) serve(c httpstream.Peer) {
	defer c.CloseNow()
	ctx := context.Background()
	for {
		typ, msg, err := c.NextReader(ctx)
		if err != nil {
			e.log.Debug("echo: connection ended", "remote", c.RemoteAddr(), "err", err)
			return
		}
		buf, _ := e.buffers.Get().(*bytes.Buffer)
		if buf == nil {
			buf = new(bytes.Buffer)
		}
		buf.Reset()
		if _, err = buf.ReadFrom(msg); err == nil {
			err = c.WriteMessage(ctx, typ, buf.Bytes())
		}
		e.buffers.Put(buf)
		if err != nil {
			e.log.Debug("echo: connection ended", "remote", c.RemoteAddr(), "err", err)
			return
		}
	}
}
