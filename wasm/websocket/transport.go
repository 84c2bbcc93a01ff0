//go:build js && wasm

package websocket

import (
	"strconv"
	"syscall/js"
	"time"
)

// A Transport is how Connect connects.
type Transport uint8

// The transports. The zero value, TransportAuto, is what a page wants
// unless it is showing one of the others.
const (
	// TransportAuto follows the page's ?transport= parameter if it has one
	// (see PageTransport), and otherwise tries WebSocket first and falls
	// back to the HTTP stream if WebSocket cannot open, or opens and dies
	// before its first message.
	TransportAuto Transport = iota

	// TransportWebSocket opens a WebSocket, and fails if it cannot.
	TransportWebSocket

	// TransportStream opens a session of the HTTP stream
	// (duplex/shared/streamclient), without trying WebSocket.
	TransportStream
)

// String returns the transport's name as the ?transport= parameter spells
// it: "auto", "ws" or "stream".
func (t Transport) String() string {
	switch t {
	case TransportWebSocket:
		return "ws"
	case TransportStream:
		return "stream"
	}
	return "auto"
}

// ParseTransport returns the transport named s, as String spells it.
func ParseTransport(s string) (Transport, bool) {
	switch s {
	case "auto":
		return TransportAuto, true
	case "ws":
		return TransportWebSocket, true
	case "stream":
		return TransportStream, true
	}
	return TransportAuto, false
}

// PageTransport returns the transport that the page's address asks for
// with its ?transport= parameter — ws, stream or auto — for demos and
// tests that must show or test one; TransportAuto if it has none, or one
// that names no transport.
func PageTransport() Transport {
	var v js.Value
	if catch(func() {
		v = js.Global().Get("URLSearchParams").New(js.Global().Get("location").Get("search")).Call("get", "transport")
	}) != nil || v.Type() != js.TypeString {
		return TransportAuto
	}
	t, _ := ParseTransport(v.String())
	return t
}

// A Choice is the transport Connect chose, and why.
type Choice struct {
	// Transport is TransportWebSocket or TransportStream.
	Transport Transport

	// Reason says, for people, why the transport is not simply WebSocket
	// tried first: "WebSocket did not open within 1.5 s", "forced by the
	// page (?transport=stream)", "remembered for 15 min: …"; "" for a
	// WebSocket that opened at the first try.
	Reason string

	// Took is how long Connect took, the failed WebSocket attempt included.
	Took time.Duration
}

// String describes the choice in a line: "WebSocket", or "HTTP stream:"
// and the reason.
func (c Choice) String() string {
	name := "WebSocket"
	if c.Transport == TransportStream {
		name = "HTTP stream"
	}
	if c.Reason == "" {
		return name
	}
	return name + ": " + c.Reason
}

// seconds formats d in seconds with one decimal, "1.5 s", without
// time.Duration.String, which would add 4 KB to the module.
func seconds(d time.Duration) string {
	tenths := (d + 50*time.Millisecond) / (100 * time.Millisecond)
	return strconv.FormatInt(int64(tenths/10), 10) + "." + strconv.FormatInt(int64(tenths%10), 10) + " s"
}

// minutes formats d in whole minutes, "15 min", at least 1.
func minutes(d time.Duration) string {
	return strconv.FormatInt(max(int64((d+30*time.Second)/time.Minute), 1), 10) + " min"
}
