//go:build js && wasm

package websocket

import (
	"context"
	"errors"
	"strconv"
	"syscall/js"
	"time"

	"duplex/shared/conn"
	"duplex/shared/streamclient"
)

// This file chooses the transport: WebSocket first, and the HTTP stream
// (duplex/shared/streamclient, over fetch.go) when WebSocket cannot open in
// time, or opens and dies before its first message — what proxies that
// strip Upgrade, and middleboxes that kill upgraded connections, do.

// The bounds of the measured fallback timeout, and what it is when the page
// has no timing to measure it from.
const (
	MinFallbackAfter     = 1500 * time.Millisecond
	MaxFallbackAfter     = 6 * time.Second
	DefaultFallbackAfter = 2 * time.Second
)

// DefaultProveAfter is how long a WebSocket must stay open, if no message
// comes, for its end not to count against WebSocket: a connection killed
// by a middlebox dies at once; one that dies later died of something else.
const DefaultProveAfter = 10 * time.Second

// Connect connects to url as Options.Transport says, and returns the
// connection, a *Conn or a *streamclient.Conn (which have the same
// methods, and both are a conn.Conn), with the Choice it made.
//
// With TransportAuto, and no ?transport= parameter on the page, it tries
// WebSocket first, for up to Options.FallbackAfter, and falls back to the
// HTTP stream at the same url if WebSocket fails or does not open in time.
// A fall back is remembered for the host, in localStorage, for
// Options.RememberFor, so that the pages that follow open the stream at
// once; so is a WebSocket that opens and then dies — 1006, without a
// close frame — before its first message arrives or DefaultProveAfter
// has passed, which the next Connect then avoids: for an endpoint where the
// server speaks first, its first message; for the others, the answer to
// the client's first. Once the memory expires, WebSocket is tried again.
//
// A relative url is resolved against the page's address; http(s) and
// ws(s) are both accepted. The hooks of Options are not used: Connect's
// connection is read with ReadMessage. Connect waits, so it must not be
// called on the browser's event loop. If both transports fail, it returns
// the WebSocket's error.
func Connect(ctx context.Context, url string, opts *Options) (conn.Conn, Choice, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.OnOpen, o.OnMessage, o.OnError, o.OnClose = nil, nil, nil, nil
	start := time.Now()
	choice := func(t Transport, reason string) Choice {
		ch := Choice{Transport: t, Reason: reason, Took: time.Since(start)}
		if o.OnChoice != nil {
			o.OnChoice(ch)
		}
		return ch
	}
	wsURL, err := resolve(url)
	if err != nil {
		return nil, Choice{}, err
	}
	httpURL, host := httpOf(wsURL)

	transport, forcedBy := o.Transport, "Options.Transport"
	if transport == TransportAuto {
		transport = PageTransport()
		forcedBy = "the page (?transport=" + transport.String() + ")"
	}
	switch transport {
	case TransportWebSocket:
		c, err := Dial(ctx, wsURL, &o)
		if err != nil {
			return nil, Choice{}, err
		}
		return c, choice(TransportWebSocket, "forced by "+forcedBy), nil
	case TransportStream:
		c, err := dialStream(ctx, httpURL, &o)
		if err != nil {
			return nil, Choice{}, err
		}
		return c, choice(TransportStream, "forced by "+forcedBy), nil
	}

	rememberFor := o.RememberFor
	if rememberFor == 0 {
		rememberFor = DefaultRememberFor
	}
	if m, ok := recall(host); ok {
		c, err := dialStream(ctx, httpURL, &o)
		if err == nil {
			return c, choice(TransportStream, "remembered for "+minutes(time.Until(m.until))+": "+m.reason), nil
		}
		// An endpoint that refuses the stream has none: WebSocket it is.
		// Any other failure, such as a server that cannot be reached, is
		// the dial's.
		if _, refused := err.(*streamclient.StatusError); !refused {
			return nil, Choice{}, err
		}
		forget(host)
	}

	wait := o.FallbackAfter
	if wait <= 0 {
		wait = measuredFallbackAfter()
	}
	ws, wsErr := dialWithin(ctx, wsURL, &o, wait)
	if wsErr == nil {
		judge(ws, host, rememberFor)
		return ws, choice(TransportWebSocket, ""), nil
	}
	if ctx.Err() != nil {
		return nil, Choice{}, ctx.Err()
	}
	reason := "WebSocket did not open within " + seconds(wait)
	if wsErr != errNotInTime {
		reason = "WebSocket could not connect (" + describeFailure(wsErr) + ")"
	}
	c, err := dialStream(ctx, httpURL, &o)
	if err != nil {
		return nil, Choice{}, wsErr
	}
	remember(host, reason, rememberFor)
	return c, choice(TransportStream, reason), nil
}

// errNotInTime is why dialWithin gave up.
var errNotInTime = errors.New("websocket: the connection did not open in time")

// dialWithin opens a WebSocket as Dial does, but gives up after wait. A
// socket given up closes in the background: the fall back does not wait
// for its close event.
func dialWithin(ctx context.Context, url string, opts *Options, wait time.Duration) (*Conn, error) {
	t := time.NewTimer(wait)
	defer t.Stop()
	return dial(ctx, url, opts, t.C)
}

// describeFailure says how a WebSocket failed to open: the browser tells a
// page no more than the close event's code.
func describeFailure(err error) string {
	if ce, ok := err.(*CloseError); ok {
		return "closed with " + strconv.Itoa(int(ce.Code)) + " before it opened"
	}
	return err.Error()
}

// judge has c remember, when it ends, for host, that WebSocket does not
// work there, if it ends as middleboxes end upgraded connections: with
// 1006, no close frame, before any message came and before
// DefaultProveAfter has passed. A message, a close frame or time proves
// that WebSocket works. The verdict is in before c's Done closes, so that
// a page that connects again at once follows it.
func judge(c *Conn, host string, rememberFor time.Duration) {
	opened := time.Now()
	c.mu.Lock()
	c.proof = func(err error) {
		ce, ok := err.(*CloseError)
		if ok && ce.Code == StatusAbnormalClosure && time.Since(opened) < DefaultProveAfter && !c.heardFrom() {
			remember(host, "WebSocket opened but died before its first message", rememberFor)
		}
	}
	c.mu.Unlock()
}

// heardFrom reports whether a message has arrived on c.
func (c *Conn) heardFrom() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.heard && c.err != ErrClosed {
		c.takeInbox() // those that arrived just before the end
	}
	return c.heard
}

// measuredFallbackAfter returns how long to wait for a WebSocket: about
// four times what opening a connection and making a request took when the
// page itself loaded — a WebSocket needs the same, a connection and an
// upgrade — plus a second, within MinFallbackAfter and MaxFallbackAfter.
func measuredFallbackAfter() time.Duration {
	var nav js.Value
	if catch(func() { nav = js.Global().Get("performance").Call("getEntriesByType", "navigation").Index(0) }) != nil ||
		nav.Type() != js.TypeObject {
		return DefaultFallbackAfter
	}
	ms := func(name string) float64 { return nav.Get(name).Float() }
	took := (ms("connectEnd") - ms("connectStart")) + (ms("responseStart") - ms("requestStart"))
	d := time.Second + time.Duration(4*took*float64(time.Millisecond))
	return min(max(d, MinFallbackAfter), MaxFallbackAfter)
}

// httpOf returns the http(s) URL of a ws(s) URL, and its host.
func httpOf(wsURL string) (url, host string) {
	u := js.Global().Get("URL").New(wsURL)
	switch u.Get("protocol").String() {
	case "ws:":
		u.Set("protocol", "http:")
	case "wss:":
		u.Set("protocol", "https:")
	}
	return u.Call("toString").String(), u.Get("host").String()
}

// dialStream opens a session of the HTTP stream at url, an http(s) URL.
// The session ends when the page is hidden for good, as a WebSocket does:
// its pagehide listener aborts it, with a request that outlives the page.
func dialStream(ctx context.Context, url string, o *Options) (*streamclient.Conn, error) {
	c, err := streamclient.Dial(ctx, fetcher{}, url, &streamclient.Options{Subprotocols: o.Subprotocols, HighWater: o.HighWater})
	if err != nil {
		return nil, err
	}
	onHide := js.FuncOf(func(js.Value, []js.Value) any {
		c.CloseNow()
		return nil
	})
	window := js.Global()
	window.Call("addEventListener", "pagehide", onHide)
	go func() {
		<-c.Done()
		window.Call("removeEventListener", "pagehide", onHide)
		onHide.Release()
	}()
	return c, nil
}
