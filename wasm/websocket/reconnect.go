//go:build js && wasm

package websocket

import (
	"context"
	"syscall/js"

	"duplex/shared/conn"
)

// This file fits the reconnecting connection of duplex/shared/conn, which
// knows nothing of browsers, to the browser: it dials with Dial, and asks
// navigator.onLine and the online event about the network.

// ReconnectOptions configure Reconnect. The zero value is usable.
type ReconnectOptions struct {
	// Subprotocols, HighWater, Transport and OnChoice apply to every
	// connection, as in Options: each redial chooses the transport again,
	// as Connect does.
	Subprotocols []string
	HighWater    int
	Transport    Transport
	OnChoice     func(Choice)

	// The backoff, the hooks and the rest, as conn.ReconnectOptions
	// describes them. Network nil means the browser's: Network().
	conn.ReconnectOptions
}

// Reconnect starts connecting to url, and reconnecting whenever the
// connection ends, as conn.Reconnect describes, and returns at once;
// opts.OnState reports the progress. Each dial chooses the transport as
// Connect does: a WebSocket, or the HTTP stream where WebSocket is blocked. A
// relative url is resolved against the page's address once, here, and
// Reconnect fails only if it is invalid. The connections that OnOpen and
// Conn return are *Conn or *streamclient.Conn.
func Reconnect(url string, opts *ReconnectOptions) (*conn.Reconnecting, error) {
	abs, err := resolve(url)
	if err != nil {
		return nil, err
	}
	var o ReconnectOptions
	if opts != nil {
		o = *opts
	}
	if o.Network == nil {
		o.Network = Network()
	}
	dial := Dialer(abs, &Options{Subprotocols: o.Subprotocols, HighWater: o.HighWater, Transport: o.Transport, OnChoice: o.OnChoice})
	return conn.Reconnect(dial, &o.ReconnectOptions), nil
}

// Dialer returns a conn.DialFunc that connects to url with Connect, for
// conn.Reconnect or code written against duplex/shared/conn: a WebSocket,
// or, where WebSocket is blocked, the HTTP stream, as opts.Transport
// says. A WebSocket dial that gives up waits for its socket's close event,
// so that none of its callbacks is left behind.
func Dialer(url string, opts *Options) conn.DialFunc {
	return func(ctx context.Context) (conn.Conn, error) {
		c, _, err := Connect(ctx, url, opts)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// Network returns the browser's view of the network, for
// conn.ReconnectOptions: offline only when navigator.onLine says so, and
// back at the window's online event.
func Network() conn.Network { return browserNetwork{} }

type browserNetwork struct{}

// Online reports whether the browser thinks it may be online: false only
// when navigator.onLine says it is not.
func (browserNetwork) Online() bool {
	nav := js.Global().Get("navigator")
	if nav.Type() != js.TypeObject {
		return true
	}
	v := nav.Get("onLine")
	return v.Type() != js.TypeBoolean || v.Bool()
}

// WaitOnline waits for the browser's online event, unless it is online
// already; it returns ctx's error if ctx ends first. The listener is
// removed and released either way.
func (n browserNetwork) WaitOnline(ctx context.Context) error {
	back := make(chan struct{}, 1)
	fn := js.FuncOf(func(js.Value, []js.Value) any {
		select {
		case back <- struct{}{}:
		default:
		}
		return nil
	})
	global := js.Global()
	global.Call("addEventListener", "online", fn)
	defer func() {
		global.Call("removeEventListener", "online", fn)
		fn.Release()
	}()
	if n.Online() {
		return nil
	}
	select {
	case <-back:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
