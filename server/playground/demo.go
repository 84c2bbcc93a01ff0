// Package playground is the API playground demo: a page that makes the
// browser's WebSocket API visible — connect, send, close with a code, and
// every event and readyState. It talks to the echo demo's endpoint, so it
// needs that demo too.
package playground

import (
	"github.com/a-h/templ"

	"duplex/server/web"
)

// Demo returns the playground demo, for the command's list of demos.
func Demo() web.Demo {
	return web.Demo{
		Name:  "playground",
		Nav:   "Playground",
		Path:  "/playground",
		Title: "API playground",
		About: "The browser's WebSocket API made visible: connect, send, close with a code, and watch every event and readyState — or the HTTP stream that stands in where WebSocket is blocked.",
		App:   "playground",
		Source: []web.SourceLink{
			{Label: "the client", File: "wasm/playground/playground.go"},
			{Label: "the Go WebSocket API", File: "wasm/websocket/websocket.go"},
			{Label: "choosing the transport", File: "wasm/websocket/connect.go"},
			{Label: "the handshake", File: "server/ws/upgrade.go"},
		},
		Page: func(p web.Page) templ.Component { return page(p) },
	}
}
