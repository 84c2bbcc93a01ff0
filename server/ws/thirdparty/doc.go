// Package thirdparty holds the tests and benchmarks of duplex/server/ws
// that need another Go WebSocket library: interoperability with the
// gorilla/websocket and coder/websocket clients, and comparisons with the
// gws, gorilla and gobwas servers and with the gorilla and coder clients.
//
// It is a module of its own, duplex/server/ws/thirdparty, so that duplex's
// go.mod names no other WebSocket library: the product builds and tests
// without them. From this directory:
//
//	go test ./...
//	go test -run '^$' -bench 'EchoRoundTrip|Broadcast' -benchmem
//	go test -run '^$' -bench IdleConnMemory -benchtime=1x
//
// The module requires duplex at the checkout it sits in, through a replace
// directive, so it always measures the code next to it.
package thirdparty
