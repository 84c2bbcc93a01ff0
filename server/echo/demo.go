package echo

import (
	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"duplex/server/web"
	"duplex/server/ws"
)

// Demo returns the echo demo, for the command's list of demos.
func Demo() web.Demo {
	return web.Demo{
		Name:  "echo",
		Nav:   "Echo",
		Path:  "/echo",
		Title: "Echo",
		About: "Send text or binary — up to megabytes — and watch it come back, with the round-trip time.",
		App:   "echo",
		Source: []web.SourceLink{
			{Label: "the client", File: "wasm/echo/echo.go"},
			{Label: "the endpoint", File: "server/echo/echo.go"},
			{Label: "the connection", File: "server/ws/conn.go"},
		},
		Page:  func(p web.Page) templ.Component { return page(p) },
		Mount: Mount,
	}
}

// Mount routes the echo endpoint, which the playground uses too.
func Mount(r chi.Router, env *web.Env) error {
	stats := &ws.Stats{}
	env.Metrics.Endpoint("echo", stats)
	r.Handle(Path, &Handler{
		upgrader: &ws.Upgrader{
			Subprotocols: []string{Subprotocol},
			ReadLimit:    ReadLimit,
			KeepAlive:    env.KeepAlive,
			Group:        env.Conns,
			Stats:        stats,
		},
		log: env.Log,
	})
	return nil
}
