package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"duplex/server/lab"
)

// The protocol lab's endpoints (package lab): the page's trace channel, and
// the lab connection whose frames it shows.
const (
	LabTracePath = "/ws/lab/trace"
	LabConnPath  = "/ws/lab"
)

// mountLab routes the lab's endpoints.
func mountLab(r chi.Router, cfg Config) {
	s := lab.NewServer(cfg.Log, cfg.Conns, keepAlive)
	r.Handle(LabTracePath, http.HandlerFunc(s.ServeTrace))
	r.Handle(LabConnPath, http.HandlerFunc(s.ServeConn))
}
