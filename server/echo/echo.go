// Package echo is the echo demo: a page that sends text or binary messages
// and shows them come back, and its endpoint, /ws/echo, which sends every
// message back unchanged.
package echo

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync"

	"duplex/server/ws"
)

// ReadLimit is the largest message the echo endpoint accepts.
const ReadLimit = 16 << 20

// Path is the echo endpoint.
const Path = "/ws/echo"

// Subprotocol is the one the endpoint offers: it lets the playground show
// a negotiation.
const Subprotocol = "echo"

// Handler serves the echo endpoint: every message comes back unchanged,
// with its type.
type Handler struct {
	upgrader *ws.Upgrader
	log      *slog.Logger
	buffers  sync.Pool // *bytes.Buffer, held only while a message is echoed
}

func (e *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := e.upgrader.Upgrade(w, r)
	if err != nil {
		e.log.Debug("echo: upgrade refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	// Serve the connection from a goroutine of its own and return: net/http
	// then lets go of the request and its buffers, and the new goroutine
	// starts with a small stack. An idle connection costs a few KiB this
	// way, against more than 20 KiB when served inside the handler.
	go e.serve(c)
}

// serve echoes messages until the connection ends. Shutdown closes it
// through the Upgrader's Group.
func (e *Handler) serve(c *ws.Conn) {
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
