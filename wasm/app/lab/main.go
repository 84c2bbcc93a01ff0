//go:build js && wasm

// Command lab is the client of the protocol lab page, compiled to
// WebAssembly.
package main

import (
	"duplex/wasm/dom"
	"duplex/wasm/lab"
)

func main() {
	lab.Run(dom.ByID("status"))
	select {} // the page's event handlers and the trace channel's reader keep running
}
