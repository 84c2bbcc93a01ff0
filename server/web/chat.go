package web

import (
	"log/slog"
	"net/http"

	"duplex/server/chat"
	"duplex/server/ws"
)

// chatEndpoint serves /ws/chat: each connection is a chat client of hub.
type chatEndpoint struct {
	hub      *chat.Hub
	upgrader *ws.Upgrader
	log      *slog.Logger
}

func (e *chatEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := e.upgrader.Upgrade(w, r)
	if err != nil {
		e.log.Debug("chat: upgrade refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	go e.hub.Serve(c) // and return, as echo does, to free the request's memory
}
