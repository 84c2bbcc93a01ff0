//go:build js && wasm

package websocket

import (
	"context"
	"encoding"
	"errors"
	"strconv"
	"sync"
	"syscall/js"
	"time"

	"duplex/shared/wire"
)

// A MessageType is the kind of a data message.
type MessageType = wire.Opcode

// The two kinds of data message.
const (
	Text   MessageType = wire.OpText
	Binary MessageType = wire.OpBinary
)

// The values of ReadyState, as the browser defines them.
const (
	Connecting = 0
	Open       = 1
	Closing    = 2
	Closed     = 3
)

// DefaultHighWater is the bufferedAmount above which Write waits for the
// browser to send what it holds.
const DefaultHighWater = 1 << 20

// Options configure a connection. The zero value is usable.
type Options struct {
	// Subprotocols offered to the server, in order of preference. If the
	// server chooses none of them, the browser fails the connection.
	Subprotocols []string

	// HighWater is the bufferedAmount, in bytes, above which Write waits;
	// 0 means DefaultHighWater.
	HighWater int

	// Hooks called on the browser's event loop as events arrive, like the
	// WebSocket's onopen, onmessage, onerror and onclose. They must not
	// block. If OnMessage is set, messages go to it instead of Read.
	OnOpen    func()
	OnMessage func(typ MessageType, data []byte)
	OnError   func()
	OnClose   func(*CloseError)
}

// A CloseError is how a connection ended: the code and reason of the close
// event, and whether the closing handshake completed.
type CloseError struct {
	Code     wire.StatusCode
	Reason   string
	WasClean bool
}

func (e *CloseError) Error() string {
	s := "websocket: closed: " + strconv.Itoa(int(e.Code)) + " (" + e.Code.String() + ")"
	if e.Reason != "" {
		s += " " + strconv.Quote(e.Reason)
	}
	if !e.WasClean {
		s += ", not clean"
	}
	return s
}

// ErrNotOpen is returned by Write on a connection that is not open.
var ErrNotOpen = errors.New("websocket: connection is not open")

// A Conn is a browser WebSocket.
type Conn struct {
	ws        js.Value
	send      js.Value // from newPipes
	opts      Options
	highWater int
	funcs     []js.Func // released when the connection closes

	mu       sync.Mutex
	queue    []message     // received, not yet read
	inbox    js.Value      // the JavaScript side of the queue: its take function
	ready    chan struct{} // signalled when queue grows or the state changes
	opened   bool
	closing  bool        // StartClose was called
	closeErr *CloseError // set by the close event
	closed   chan struct{}

	// unsent bounds bufferedAmount from above without asking the browser:
	// the amount last seen plus what Write has sent since. Only Write
	// changes it, under writeMu.
	writeMu sync.Mutex
	unsent  int
}

// newPipes makes the JavaScript half of a connection's two directions and
// returns them as [take, send].
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
	return [take, send];
`)

// sendBufSize is the size of the buffer through which Write sends small
// messages; larger ones get a buffer of their own.
const sendBufSize = 16 << 10

// sendBuf is that buffer. One serves every connection: the Go code runs on
// the browser's only thread, and nothing runs between Write's copy into it
// and the send.
var sendBuf = js.Global().Get("Uint8Array").New(sendBufSize)

type message struct {
	typ  MessageType
	data []byte
}

// New starts connecting to url, as JavaScript's new WebSocket does, and
// returns at once, with ReadyState
// Connecting. A relative url is resolved against the page's address, and
// http(s) becomes ws(s). The hooks in opts report what follows.
func New(url string, opts *Options) (*Conn, error) {
	c := &Conn{ready: make(chan struct{}, 1), closed: make(chan struct{})}
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
	// only when Read waits for them: a burst costs one call into Go, not
	// one per message.
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
	c.inbox, c.send = pipes.Index(0), pipes.Index(1)
	c.on("error", c.onError)
	c.on("close", c.onClose)
	return c, nil
}

// Dial connects to url and waits until the connection is open, or fails with
// the close event that came instead, or with ctx's error. A ctx that has
// already ended opens no connection.
func Dial(ctx context.Context, url string, opts *Options) (*Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := New(url, opts)
	if err != nil {
		return nil, err
	}
	for {
		c.mu.Lock()
		opened, closeErr := c.opened, c.closeErr
		c.mu.Unlock()
		switch {
		case opened:
			return c, nil
		case closeErr != nil:
			return nil, closeErr
		}
		select {
		case <-c.ready:
		case <-ctx.Done():
			c.ws.Call("close")
			return nil, ctx.Err()
		}
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
		Code:     wire.StatusCode(ev.Get("code").Int()),
		Reason:   ev.Get("reason").String(),
		WasClean: ev.Get("wasClean").Bool(),
	}
	// Release the callbacks before announcing the end, so that whoever
	// Closed wakes sees a connection that holds no js.Func any more.
	for _, ev := range []string{"onopen", "onmessage", "onerror", "onclose"} {
		c.ws.Set(ev, js.Null())
	}
	for _, f := range c.funcs { // allowed while one of them is running
		f.Release()
	}
	c.funcs = nil
	c.mu.Lock()
	c.closeErr = ce
	c.mu.Unlock()
	close(c.closed)
	c.signal()
	if c.opts.OnClose != nil {
		c.opts.OnClose(ce)
	}
}

// signal wakes a waiting Read or Dial without blocking.
func (c *Conn) signal() {
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

// Read waits for the next message. After the connection closes and every
// message has been read, it returns the *CloseError. Reads may run
// concurrently; each message goes to one of them.
func (c *Conn) Read(ctx context.Context) (MessageType, []byte, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue[0] = message{}
			c.queue = c.queue[1:]
			more := len(c.queue) > 0
			c.mu.Unlock()
			if more { // pass the wake-up on to another waiting Read
				c.signal()
			}
			return m.typ, m.data, nil
		}
		if c.takeInbox() {
			c.mu.Unlock()
			continue
		}
		closeErr := c.closeErr
		c.mu.Unlock()
		if closeErr != nil {
			return 0, nil, closeErr
		}
		select {
		case <-c.ready:
		case <-c.closed: // wakes every waiting Read, not just one
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
	}
}

// takeInbox moves the messages waiting on the JavaScript side into queue,
// and reports whether there were any. The caller holds mu.
func (c *Conn) takeInbox() bool {
	packed := c.inbox.Invoke()
	if packed.IsNull() {
		return false
	}
	// One allocation holds the whole burst; each message is a slice of it
	// whose capacity ends where the message does, so that an append to one
	// cannot overwrite the next.
	b := make([]byte, packed.Length())
	js.CopyBytesToGo(b, packed)
	for len(b) >= 5 {
		typ := Text
		if b[0] == 2 {
			typ = Binary
		}
		n := int(b[1]) | int(b[2])<<8 | int(b[3])<<16 | int(b[4])<<24
		c.queue = append(c.queue, message{typ: typ, data: b[5 : 5+n : 5+n]})
		b = b[5+n:]
	}
	return true
}

// Write sends p as one message of type typ. If the browser already holds
// more than the high-water mark of unsent data, Write first waits for it to
// drain, so a fast writer cannot grow the page's memory without bound.
func (c *Conn) Write(ctx context.Context, typ MessageType, p []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.waitDrain(ctx, len(p)); err != nil {
		return err
	}
	c.mu.Lock()
	open := c.opened && !c.closing && c.closeErr == nil
	c.mu.Unlock()
	if !open {
		return ErrNotOpen
	}
	if typ != Text && typ != Binary {
		return errors.New("websocket: cannot send a message of type " + typ.String())
	}
	if err := catch(func() { c.sendJS(typ, p) }); err != nil {
		return err
	}
	c.unsent += len(p)
	return nil
}

// sendJS hands p to the browser's send. A small message goes through
// sendBuf with one call; a large one is copied into an array, or made a
// string, of its own.
func (c *Conn) sendJS(typ MessageType, p []byte) {
	if len(p) <= sendBufSize {
		js.CopyBytesToJS(sendBuf, p)
		c.send.Invoke(len(p), typ == Text)
		return
	}
	if typ == Text {
		c.send.Invoke(0, true, string(p))
		return
	}
	arr := js.Global().Get("Uint8Array").New(len(p))
	js.CopyBytesToJS(arr, p)
	c.send.Invoke(0, false, arr)
}

// waitDrain waits until sending n more bytes keeps bufferedAmount at or
// below the high-water mark. It asks the browser only when its own bound
// says the mark could be passed, which saves a call into JavaScript per
// small message. The browser has no event for bufferedAmount going down,
// so it polls, backing off up to 16ms.
func (c *Conn) waitDrain(ctx context.Context, n int) error {
	if c.unsent+n <= c.highWater {
		return nil
	}
	delay := time.Millisecond
	for c.unsent = c.BufferedAmount(); c.unsent > c.highWater; c.unsent = c.BufferedAmount() {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		case <-c.closed:
			return ErrNotOpen
		}
		delay = min(2*delay, 16*time.Millisecond)
	}
	return nil
}

// WriteValue sends v's binary encoding as a binary message; the types in
// duplex/shared implement encoding.BinaryAppender.
func (c *Conn) WriteValue(ctx context.Context, v encoding.BinaryAppender) error {
	b, err := v.AppendBinary(nil)
	if err != nil {
		return err
	}
	return c.Write(ctx, Binary, b)
}

// ReadValue reads the next message and decodes it into v.
func (c *Conn) ReadValue(ctx context.Context, v encoding.BinaryUnmarshaler) error {
	_, b, err := c.Read(ctx)
	if err != nil {
		return err
	}
	return v.UnmarshalBinary(b)
}

// Close starts the closing handshake with code (1000 or 3000–4999, as the
// browser allows) and reason, and waits for the close event or ctx's end.
// The returned error is the close event's, unless the handshake was clean.
func (c *Conn) Close(ctx context.Context, code wire.StatusCode, reason string) error {
	if err := c.StartClose(code, reason); err != nil {
		return err
	}
	select {
	case <-c.closed:
	case <-ctx.Done():
		return ctx.Err()
	}
	if ce := c.CloseError(); !ce.WasClean {
		return ce
	}
	return nil
}

// StartClose starts the closing handshake, as the browser's close(code,
// reason) does, and returns at once; the close event reports how it ended.
// The browser refuses other codes than 1000 and 3000–4999, and reasons
// longer than 123 bytes.
func (c *Conn) StartClose(code wire.StatusCode, reason string) error {
	if err := catch(func() { c.ws.Call("close", int(code), reason) }); err != nil {
		return err
	}
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	return nil
}

// Closed returns a channel that is closed when the close event arrives.
func (c *Conn) Closed() <-chan struct{} { return c.closed }

// CloseError returns how the connection ended, or nil while it is open.
func (c *Conn) CloseError() *CloseError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// ReadyState returns Connecting, Open, Closing or Closed.
func (c *Conn) ReadyState() int { return c.ws.Get("readyState").Int() }

// BufferedAmount returns the bytes queued by Write but not yet sent.
func (c *Conn) BufferedAmount() int { return c.ws.Get("bufferedAmount").Int() }

// Protocol returns the subprotocol the server chose, or "".
func (c *Conn) Protocol() string { return c.ws.Get("protocol").String() }

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
