package chat

import (
	"log/slog"
	"net/http"

	"duplex/server/ws"
)

// Path is the chat's WebSocket endpoint.
const Path = "/ws/chat"

// endpoint serves /ws/chat: each connection is a client of hub.
type endpoint struct {
	hub      *Hub
	upgrader *ws.Upgrader
	log      *slog.Logger
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := e.upgrader.Upgrade(w, r)
	if err != nil {
		e.log.Debug("chat: upgrade refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	go e.hub.Serve(c) // and return, as echo does, to free the request's memory
}
