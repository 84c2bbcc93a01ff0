package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync"

	"duplex/server/ws"
)

// EchoReadLimit is the largest message the echo endpoint accepts.
const EchoReadLimit = 16 << 20

// echo serves /ws/echo: every message comes back unchanged, with its type.
type echo struct {
	upgrader *ws.Upgrader
	log      *slog.Logger
	buffers  sync.Pool // *bytes.Buffer, held only while a message is echoed
}

func (e *echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := e.upgrader.Upgrade(w, r)
	if err != nil {
		e.log.Debug("echo: upgrade refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	defer c.CloseNow()
	err = e.serve(r.Context(), c)
	e.log.Debug("echo: connection ended", "remote", r.RemoteAddr, "err", err)
}

func (e *echo) serve(ctx context.Context, c *ws.Conn) error {
	for {
		typ, msg, err := c.NextReader(ctx)
		if err != nil {
			return err
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
			return err
		}
	}
}
