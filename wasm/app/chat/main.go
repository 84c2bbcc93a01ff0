//go:build js && wasm

// Command chat is the client of the chat page, compiled to WebAssembly.
package main

import (
	"duplex/wasm/chat"
	"duplex/wasm/dom"
)

func main() {
	chat.Run(dom.ByID("status"))
	select {} // stay loaded: ending would replace the status Run left with "The Go app stopped"
}
