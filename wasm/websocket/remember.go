//go:build js && wasm

package websocket

import (
	"strconv"
	"strings"
	"syscall/js"
	"time"
)

// This file remembers, in the page's localStorage, that WebSocket failed
// for a host, so that the pages that follow do not wait for it to fail
// again: the HTTP stream is chosen at once until the memory expires, and
// then WebSocket is tried again.

// DefaultRememberFor is how long a fall back to the HTTP stream is
// remembered, unless Options.RememberFor says otherwise.
const DefaultRememberFor = 15 * time.Minute

// memoryKey is the localStorage key under which the choice for host is
// kept: a middlebox that blocks WebSocket does so for every path.
func memoryKey(host string) string { return "duplex.transport " + host }

// A memory is what is kept: until when the HTTP stream is to be chosen,
// and why WebSocket was given up.
type memory struct {
	until  time.Time
	reason string
}

// remember keeps, for d, that WebSocket failed for host, and why. Storage
// that the browser refuses, as in some private modes, keeps nothing.
func remember(host, reason string, d time.Duration) {
	if d <= 0 {
		return
	}
	value := strconv.FormatInt(time.Now().Add(d).UnixMilli(), 10) + " " + reason
	catch(func() { js.Global().Get("localStorage").Call("setItem", memoryKey(host), value) })
}

// recall returns what is kept for host, if it has not expired.
func recall(host string) (memory, bool) {
	var v js.Value
	if catch(func() { v = js.Global().Get("localStorage").Call("getItem", memoryKey(host)) }) != nil || v.Type() != js.TypeString {
		return memory{}, false
	}
	kept := v.String()
	space := strings.IndexByte(kept, ' ')
	if space < 0 {
		space = len(kept)
	}
	until, err := strconv.ParseInt(kept[:space], 10, 64)
	if err != nil || time.Now().UnixMilli() >= until {
		forget(host)
		return memory{}, false
	}
	return memory{until: time.UnixMilli(until), reason: kept[min(space+1, len(kept)):]}, true
}

// forget drops what is kept for host.
func forget(host string) {
	catch(func() { js.Global().Get("localStorage").Call("removeItem", memoryKey(host)) })
}
