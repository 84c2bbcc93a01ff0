//go:build js && wasm

// Command app is the client side of Duplex's demos, compiled to
// WebAssembly: frontend/src/main.js starts it on every demo page, and it
// runs the demo named by the page's data-app attribute.
package main

import (
	"duplex/wasm/chat"
	"duplex/wasm/dom"
	"duplex/wasm/echo"
	"duplex/wasm/lab"
	"duplex/wasm/playground"
)

func main() {
	status := dom.ByID("status")
	switch app := dom.Body().Data("app"); app {
	case "chat":
		chat.Run(status)
	case "echo":
		echo.Run(status)
	case "lab":
		lab.Run(status)
		select {} // the page's event handlers and the trace channel's reader keep running
	case "playground":
		playground.Run(status)
		select {} // the page's event handlers keep running
	default:
		status.SetData("state", "error")
		status.SetText("This page has no Go app named " + app + ".")
	}
}
