//go:build js && wasm

package websocket

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"syscall/js"
	"time"

	"duplex/shared/conn"
)

// The browser's Conn is a conn.Conn, as the server's is.
var _ conn.Conn = (*Conn)(nil)

// The values of ReadyState, as the browser defines them.
const (
	Connecting = 0
	Open       = 1
	Closing    = 2
	Closed     = 3
)

// DefaultHighWater is the bufferedAmount above which WriteMessage waits for
// the browser to send what it holds.
const DefaultHighWater = 1 << 20

// closeTimeout is how long Close, and a Dial that gives up, wait for the
// close event.
const closeTimeout = 5 * time.Second

// Options configure a connection. The zero value is usable.
type Options struct {
	// Subprotocols offered to the server, in order of preference. If the
	// server chooses none of them, the browser fails the connection.
	Subprotocols []string

	// HighWater is the bufferedAmount, in bytes, above which WriteMessage
	// waits; 0 means DefaultHighWater.
	HighWater int

	// Transport is how Connect, Dialer and Reconnect connect (see Connect and
	// Transport); Dial and New always open a WebSocket.
	Transport Transport

	// FallbackAfter is how long Connect waits for a WebSocket to open before
	// it falls back to the HTTP stream; 0 means measured from the page's
	// own load (see Connect).
	FallbackAfter time.Duration

	// RememberFor is how long Connect remembers that WebSocket failed for a
	// host; 0 means DefaultRememberFor, and a negative value, never.
	RememberFor time.Duration

	// OnChoice, if set, is told each choice that Connect, Dialer and
	// Reconnect make: a page shows which transport it uses, and why.
	OnChoice func(Choice)

	// Hooks called on the browser's event loop as events arrive, like the
	// WebSocket's onopen, onmessage, onerror and onclose. They must not
	// block: to write, or close with Close, start a goroutine. If
	// OnMessage is set, messages go to it instead of ReadMessage.
	OnOpen    func()
	OnMessage func(typ MessageType, data []byte)
	OnError   func()
	OnClose   func(*CloseError)
}

// A Conn is a browser WebSocket.
type Conn struct {
	ws        js.Value
	send      js.Value // from newPipes
	stopPipes js.Value // from newPipes
	opts      Options
	highWater int
	funcs     []js.Func // released when the close event comes

	mu      sync.Mutex
	queue   []message     // received, not yet read
	inbox   js.Value      // the JavaScript side of the queue: its take function
	ready   chan struct{} // signalled when queue grows or the state changes
	opened  bool
	heard   bool        // a message has arrived
	proof   func(error) // set by Connect: told how the connection ended, before Done closes
	closing bool        // Close, StartClose or CloseNow was called: no more writes
	err     error       // why the connection ended; nil until then
	done    chan struct{}
	// released is closed when the close event has come and the js.Funcs
	// are released: after CloseNow, a while after done.
	released chan struct{}

	// unsent bounds bufferedAmount from above without asking the browser:
	// the amount last seen plus what WriteMessage has sent since. Only
	// WriteMessage changes it, under writeMu.
	writeMu sync.Mutex
	unsent  int
}

// newPipes makes the JavaScript half of a connection's two directions and
// returns them as [take, send, stop].
//
// Received messages wait in a queue on the JavaScript side. take() hands
// over all that arrived, packed into one Uint8Array (each as a type byte,
// 1 text or 2 binary, its length in 4 bytes, little-endian, and its bytes),
// so that Go copies a burst with one call; if none did, it returns null and
// asks for wake() at the next one. How soon: a message that may answer what
// Go just sent wakes it at once, as a request waits for its response; a
// message of a stream wakes it through a task posted behind the message
// events already queued, so that one wake takes them all. With eager, every
// message calls wake(), for the OnMessage hook.
//
// send(n, text) sends the first n bytes of buf, as text or binary, so that
// a small message crosses with one call and a text message as bytes;
// send(0, text, data) sends data, a string or an array, for larger ones.
var newPipes = js.Global().Get("Function").New("ws", "wake", "eager", "buf", `
	const queue = [];
	let waiting = false;
	let sent = false; // since Go last woke
	const later = new MessageChannel();
	later.port1.onmessage = () => wake();
	ws.onmessage = (ev) => {
		queue.push(ev.data);
		if (eager) {
			wake();
		} else if (waiting) {
			waiting = false;
			if (sent) {
				sent = false;
				wake();
			} else {
				later.port2.postMessage(null);
			}
		}
	};
	const encoder = new TextEncoder();
	let packBuf = new Uint8Array(4096);
	const grow = (used, need) => {
		if (packBuf.length >= need) return;
		let size = packBuf.length;
		while (size < need) size *= 2;
		const bigger = new Uint8Array(size);
		bigger.set(packBuf.subarray(0, used));
		packBuf = bigger;
	};
	const take = () => {
		waiting = queue.length === 0;
		if (waiting) return null;
		let off = 0;
		for (const data of queue) {
			let n;
			if (typeof data === "string") {
				grow(off, off + 5 + data.length); // at least a byte per UTF-16 unit
				let r = encoder.encodeInto(data, packBuf.subarray(off + 5));
				while (r.read < data.length) {
					grow(off, 2 * packBuf.length);
					r = encoder.encodeInto(data, packBuf.subarray(off + 5));
				}
				packBuf[off] = 1;
				n = r.written;
			} else {
				n = data.byteLength;
				grow(off, off + 5 + n);
				packBuf.set(new Uint8Array(data), off + 5);
				packBuf[off] = 2;
			}
			packBuf[off + 1] = n;
			packBuf[off + 2] = n >>> 8;
			packBuf[off + 3] = n >>> 16;
			packBuf[off + 4] = n >>> 24;
			off += 5 + n;
		}
		queue.length = 0;
		const packed = packBuf.subarray(0, off);
		// Go copies packed before JavaScript runs again, so packBuf serves
		// the next burst too, unless a large message made it large.
		if (packBuf.length > 1 << 20) packBuf = new Uint8Array(4096);
		return packed;
	};
	const decoder = new TextDecoder();
	const send = (n, text, data) => {
		sent = true;
		if (data === undefined) {
			data = text ? decoder.decode(buf.subarray(0, n)) : buf.slice(0, n);
		}
		ws.send(data);
	};
	// Once the connection has ended, and before wake is released, a wake
	// already posted behind the close event must find no listener.
	const stop = () => {
		later.port1.onmessage = null;
		later.port1.close();
	};
	return [take, send, stop];
`)

type message struct {
	typ  MessageType
	data []byte
}

// New starts connecting to url, as JavaScript's new WebSocket does, and
// returns at once, with ReadyState Connecting. A relative url is resolved
// against the page's address, and http(s) becomes ws(s). The hooks in opts
// report what follows. Unlike Dial, New may be called on the browser's
// event loop.
func New(url string, opts *Options) (*Conn, error) {
	c := &Conn{ready: make(chan struct{}, 1), done: make(chan struct{}), released: make(chan struct{})}
	if opts != nil {
		c.opts = *opts
	}
	c.highWater = c.opts.HighWater
	if c.highWater <= 0 {
		c.highWater = DefaultHighWater
	}

	abs, err := resolve(url)
	if err != nil {
		return nil, err
	}
	protocols := make([]any, len(c.opts.Subprotocols))
	for i, p := range c.opts.Subprotocols {
		protocols[i] = p
	}
	if err := catch(func() { c.ws = js.Global().Get("WebSocket").New(abs, protocols) }); err != nil {
		return nil, err
	}
	c.ws.Set("binaryType", "arraybuffer")
	c.on("open", c.onOpen)
	// Messages wait on the JavaScript side. Without OnMessage, Go is woken
	// only when ReadMessage waits for them: a burst costs one call into
	// Go, not one per message.
	wake := js.FuncOf(func(js.Value, []js.Value) any {
		if c.opts.OnMessage != nil {
			c.deliver()
		} else {
			c.signal()
		}
		return nil
	})
	c.funcs = append(c.funcs, wake)
	pipes := newPipes.Invoke(c.ws, wake, c.opts.OnMessage != nil, sendBuf)
	c.inbox, c.send, c.stopPipes = pipes.Index(0), pipes.Index(1), pipes.Index(2)
	c.on("error", c.onError)
	c.on("close", c.onClose)
	return c, nil
}

// Dial connects to url, as New does, and waits until the connection is
// open. If the close event comes instead, Dial returns it, a *CloseError;
// if ctx ends first, Dial closes the socket, waits for its close event,
// and returns ctx's error. A ctx that has already ended opens no
// connection. Dial waits: it must not be called on the browser's event
// loop.
func Dial(ctx context.Context, url string, opts *Options) (*Conn, error) {
	return dial(ctx, url, opts, nil)
}

// dial is Dial, and gives up, with errNotInTime, when expired fires (never
// if it is nil); a socket given up then closes in the background, without
// waiting for its close event.
func dial(ctx context.Context, url string, opts *Options, expired <-chan time.Time) (*Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := New(url, opts)
	if err != nil {
		return nil, err
	}
	for {
		c.mu.Lock()
		opened, err := c.opened, c.err
		c.mu.Unlock()
		switch {
		case err != nil:
			return nil, err
		case opened:
			return c, nil
		}
		select {
		case <-c.ready:
		case <-expired:
			c.CloseNow()
			return nil, errNotInTime
		case <-ctx.Done():
			c.CloseNow()
			c.awaitRelease()
			return nil, ctx.Err()
		}
	}
}

// awaitRelease waits, for up to closeTimeout, for the close event, which
// releases the connection's callbacks: if the browser takes longer, they
// are released later.
func (c *Conn) awaitRelease() {
	t := time.NewTimer(closeTimeout)
	defer t.Stop()
	select {
	case <-c.released:
	case <-t.C:
	}
}

func (c *Conn) on(event string, f func(ev js.Value)) {
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		f(args[0])
		return nil
	})
	c.funcs = append(c.funcs, fn)
	c.ws.Set("on"+event, fn)
}

func (c *Conn) onOpen(js.Value) {
	c.mu.Lock()
	c.opened = true
	c.mu.Unlock()
	c.signal()
	if c.opts.OnOpen != nil {
		c.opts.OnOpen()
	}
}

// deliver hands the messages that arrived to OnMessage, in order.
func (c *Conn) deliver() {
	c.mu.Lock()
	c.takeInbox()
	queue := c.queue
	c.queue = nil
	c.mu.Unlock()
	for _, m := range queue {
		c.opts.OnMessage(m.typ, m.data)
	}
}

func (c *Conn) onError(js.Value) {
	if c.opts.OnError != nil {
		c.opts.OnError()
	}
}

func (c *Conn) onClose(ev js.Value) {
	ce := &CloseError{
		Code:     StatusCode(ev.Get("code").Int()),
		Reason:   ev.Get("reason").String(),
		WasClean: ev.Get("wasClean").Bool(),
	}
	// Release the callbacks before announcing the end, so that whoever
	// waits for it wakes to a connection that holds no js.Func any more.
	for _, ev := range []string{"onopen", "onmessage", "onerror", "onclose"} {
		c.ws.Set(ev, js.Null())
	}
	c.stopPipes.Invoke()
	for _, f := range c.funcs { // allowed while one of them is running
		f.Release()
	}
	c.funcs = nil
	c.end(ce) // unless CloseNow has ended it already
	close(c.released)
	if c.opts.OnClose != nil {
		c.opts.OnClose(ce)
	}
}

// end records why the connection ended, the first time it is called, and
// wakes whoever waits. After CloseNow (err is ErrClosed), the messages not
// yet read are dropped.
func (c *Conn) end(err error) {
	c.mu.Lock()
	first := c.err == nil
	if first {
		c.err, c.closing = err, true
		if err == ErrClosed {
			c.queue = nil
		}
	}
	proof := c.proof
	c.mu.Unlock()
	if first {
		if proof != nil {
			proof(err) // before Done: whoever wakes to the end finds it judged
		}
		close(c.done) // wakes every waiting ReadMessage, not just one
		c.signal()
	}
}

// signal wakes a waiting ReadMessage or Dial without blocking.
func (c *Conn) signal() {
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

// ReadyState returns Connecting, Open, Closing or Closed: the browser's
// readyState, which after CloseNow stays Closing until the close event.
func (c *Conn) ReadyState() int { return c.ws.Get("readyState").Int() }

// BufferedAmount returns the bytes queued by WriteMessage but not yet sent.
func (c *Conn) BufferedAmount() int { return c.ws.Get("bufferedAmount").Int() }

// Subprotocol returns the subprotocol the server chose, or "".
func (c *Conn) Subprotocol() string { return c.ws.Get("protocol").String() }

// Extensions returns the extensions the server accepted, as the
// Sec-WebSocket-Extensions header listed them.
func (c *Conn) Extensions() string { return c.ws.Get("extensions").String() }

// URL returns the absolute URL the connection was opened with.
func (c *Conn) URL() string { return c.ws.Get("url").String() }

// resolve makes url absolute against the page's address and turns http(s)
// into ws(s).
func resolve(url string) (string, error) {
	var u js.Value
	err := catch(func() {
		u = js.Global().Get("URL").New(url, js.Global().Get("location").Get("href"))
	})
	if err != nil {
		return "", errors.New("websocket: invalid URL " + strconv.Quote(url))
	}
	switch u.Get("protocol").String() {
	case "http:":
		u.Set("protocol", "ws:")
	case "https:":
		u.Set("protocol", "wss:")
	}
	return u.Call("toString").String(), nil
}

// catch runs f and turns a JavaScript exception it throws into an error.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if jsErr, ok := r.(js.Error); ok {
				err = errors.New("websocket: " + jsErr.Get("message").String())
				return
			}
			panic(r)
		}
	}()
	f()
	return nil
}
