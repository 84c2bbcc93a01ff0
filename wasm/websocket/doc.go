// Package websocket is a Go API over the browser's WebSocket, for code
// compiled to WebAssembly (GOOS=js GOARCH=wasm). It follows Go's model —
// Dial with a context, blocking Read and Write with backpressure, errors as
// values — and, for code that prefers the browser's model, hooks that mirror
// onopen, onmessage, onerror and onclose.
//
// JavaScript callbacks never block: each one only hands its event to Go.
//
// Reconnecting, in reconnect.go, keeps a connection coming back: it
// redials with exponential backoff and jitter when the connection drops,
// waits for the network while the browser is offline, and calls a hook on
// each new connection, where an application restores its state.
//
// The API exists only in js/wasm builds; on other platforms the package is
// empty. Its tests run inside headless Chromium: see browser_test.go.
package websocket
