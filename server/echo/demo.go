package echo

import (
	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"duplex/server/httpstream"
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
			{Label: "the fallback", File: "server/httpstream/doc.go"},
			{Label: "choosing the transport", File: "wasm/websocket/connect.go"},
		},
		Page:  func(p web.Page) templ.Component { return page(p) },
		Mount: Mount,
	}
}

// Mount routes the echo endpoint, which the playground uses too, over
// both transports, and the comparison page's probe (wire.go).
func Mount(r chi.Router, env *web.Env) error {
	stats, streams := &ws.Stats{}, &httpstream.Stats{}
	env.Metrics.Endpoint("echo", stats)
	env.Metrics.Stream("echo", streams)
	upgrader := &ws.Upgrader{
		Subprotocols: []string{Subprotocol},
		ReadLimit:    ReadLimit,
		KeepAlive:    env.KeepAlive,
		Group:        env.Conns,
		Stats:        stats,
		// Every browser offers permessage-deflate; the echo accepts it, so
		// the playground shows what was agreed and large text crosses
		// compressed.
		Compression: &ws.CompressionOptions{},
	}
	h := &Handler{log: env.Log}
	endpoint := httpstream.NewEndpoint(upgrader, httpstream.Config{Stopping: env.Stopping, Stats: streams, Log: env.Log}, h.serve)
	r.Handle(Path, endpoint)
	env.OnClose(endpoint.Streams().Drain) // the streams' last frames go out before the process ends
	r.Post(WirePath, serveWire)
	return nil
}
