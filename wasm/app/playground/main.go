//go:build js && wasm

// Command playground is the client of the API playground page, compiled to
// WebAssembly.
package main

import (
	"duplex/wasm/dom"
	"duplex/wasm/playground"
)

func main() {
	playground.Run(dom.ByID("status"))
	select {} // the page's event handlers keep running
}
