// Package web routes Duplex's HTTP endpoints.
package web

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"duplex/server/ws"
)

// keepAlive is how often idle WebSocket peers are pinged; one that does
// not answer within the next interval is disconnected.
const keepAlive = 30 * time.Second

// Config holds what the routes need from the program.
type Config struct {
	Log   *slog.Logger
	Conns *ws.Group // every WebSocket connection, for shutdown
}

// NewRouter returns the handler for all of Duplex's endpoints.
func NewRouter(cfg Config) http.Handler {
	r := chi.NewRouter()
	r.Get("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Duplex: a WebSocket echo endpoint is at /ws/echo\n")
	})
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	r.Handle("/ws/echo", &echo{
		upgrader: &ws.Upgrader{ReadLimit: EchoReadLimit, KeepAlive: keepAlive, Group: cfg.Conns},
		log:      cfg.Log,
	})
	return r
}
