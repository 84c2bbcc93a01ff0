//go:build js && wasm

// Command echo is the client of the echo page, compiled to WebAssembly.
package main

import (
	"duplex/wasm/dom"
	"duplex/wasm/echo"
)

func main() {
	echo.Run(dom.ByID("status"))
	select {} // stay loaded: ending would replace the status Run left with "The Go app stopped"
}
