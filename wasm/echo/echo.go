//go:build js && wasm

// Package echo is the client of the echo demo: it sends what the page asks
// for to /ws/echo and shows each echo with its round-trip time. It uses the
// Go model of the WebSocket API: Connect, then a goroutine that reads.
// Connect chooses the transport — WebSocket, or the HTTP stream where
// WebSocket is blocked — and the page says which, and why; compare.go
// measures both side by side.
package echo

import (
	"bytes"
	"context"
	"strconv"
	"sync"

	"duplex/shared/conn"
	"duplex/wasm/dom"
	"duplex/wasm/websocket"
)

// path is the echo endpoint.
const path = "/ws/echo"

// Run connects and wires up the page; status is the page's status line.
func Run(status dom.Element) {
	d := &demo{log: dom.ByID("echo-log"), count: dom.ByID("echo-count"), rtt: dom.ByID("echo-rtt"),
		outbox: make(chan sent, 16)}
	sendText, sendBinary := dom.ByID("send-text"), dom.ByID("send-binary")
	dom.ByID("text-form").On("submit", func() {
		d.queue(websocket.Text, []byte(dom.ByID("echo-text").Input()))
	})
	dom.ByID("binary-form").On("submit", func() {
		n, err := strconv.Atoi(dom.ByID("echo-size").Input())
		if err != nil || n < 0 || n > 16<<20 {
			d.entry("err", "The size must be a number of bytes from 0 to 16777216.")
			return
		}
		d.queue(websocket.Binary, pattern(n))
	})
	startComparison()
	go d.sendAll()

	// A WebSocket that a middlebox kills before its first echo is tried
	// once more: Connect has learnt from it, and opens the HTTP stream.
	for retried := false; ; retried = true {
		status.SetText("Connecting to " + path + "…")
		c, choice, err := websocket.Connect(context.Background(), path, nil)
		if err != nil {
			status.SetData("state", "error")
			status.SetText("Could not connect: " + err.Error())
			return
		}
		d.use(c)
		dom.ByID("echo-transport").SetText(choice.String() + " (chosen in " + dom.Fixed(float64(choice.Took.Microseconds())/1000, 1) + " ms)")
		if u, ok := c.(interface{ URL() string }); ok {
			dom.ByID("echo-url").SetText(u.URL())
		}
		status.SetData("state", "live")
		if choice.Transport == websocket.TransportStream {
			status.SetText("Connected over the HTTP stream, because " + choice.Reason + ": the same messages, in POSTs up and a long response down.")
		} else {
			status.SetText("Connected: this page's Go code talks to the server over a WebSocket.")
		}
		sendText.SetDisabled(false)
		sendBinary.SetDisabled(false)

		err = d.readEchoes(c)
		sendText.SetDisabled(true)
		sendBinary.SetDisabled(true)
		// err.(*CloseError), not CloseStatus, whose errors.As adds 30 KB.
		if ce, ok := err.(*websocket.CloseError); ok && ce.Code == websocket.StatusAbnormalClosure &&
			!retried && choice.Transport == websocket.TransportWebSocket && !d.echoed() {
			d.entry("err", "The WebSocket died before its first echo, as when a middlebox kills upgraded connections: connecting again.")
			continue
		}
		status.SetData("state", "error")
		status.SetText("Disconnected: " + err.Error() + ". Reload the page to connect again.")
		return
	}
}

// demo matches each echo with the message that caused it: the server
// answers in order, so a queue of what was sent is enough.
type demo struct {
	log, count, rtt dom.Element

	outbox chan sent // what the page asked to send, in order

	mu      sync.Mutex
	conn    conn.Conn // the connection, nil before the first
	ready   chan struct{}
	pending []sent // sent, echo not yet seen
	trips   int
}

type sent struct {
	typ  websocket.MessageType
	data []byte
	at   float64 // dom.Now() when sent
}

// use makes c the connection that messages go on; what was waiting for an
// echo on the one before is forgotten.
func (d *demo) use(c conn.Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.conn, d.pending = c, nil
	if d.ready != nil {
		close(d.ready)
		d.ready = nil
	}
}

// current returns the connection, waiting for the first.
func (d *demo) current() conn.Conn {
	d.mu.Lock()
	c := d.conn
	if c == nil && d.ready == nil {
		d.ready = make(chan struct{})
	}
	ready := d.ready
	d.mu.Unlock()
	if c != nil {
		return c
	}
	<-ready
	return d.current()
}

// echoed reports whether an echo has come.
func (d *demo) echoed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.trips > 0
}

// queue hands a message to sendAll; it runs on the browser's event loop,
// so it does not wait.
func (d *demo) queue(typ websocket.MessageType, data []byte) {
	select {
	case d.outbox <- sent{typ: typ, data: data}:
	default:
		d.entry("err", "Too many messages waiting to be sent: try again in a moment.")
	}
}

// sendAll sends queued messages one at a time, so that they leave, and
// their echoes come back, in the order of pending.
func (d *demo) sendAll() {
	for s := range d.outbox {
		c := d.current()
		d.entry("out", "→ "+s.typ.String()+" "+size(len(s.data))+preview(s.typ, s.data))
		d.mu.Lock()
		s.at = dom.Now()
		d.pending = append(d.pending, s)
		d.mu.Unlock()
		if err := c.WriteMessage(context.Background(), s.typ, s.data); err != nil {
			d.entry("err", "send failed: "+err.Error())
		}
	}
}

// readEchoes shows each echo that comes on c until it ends, and returns
// why it ended.
func (d *demo) readEchoes(c conn.Conn) error {
	for {
		typ, data, err := c.ReadMessage(context.Background(), nil)
		if err != nil {
			return err
		}
		now := dom.Now()
		d.mu.Lock()
		var s sent
		if len(d.pending) > 0 {
			s, d.pending = d.pending[0], d.pending[1:]
		}
		d.trips++
		trips := d.trips
		d.mu.Unlock()

		rtt := dom.Fixed(now-s.at, 1) + " ms"
		check := " ✓ identical"
		if s.typ != typ || !bytes.Equal(s.data, data) {
			check = " ✗ differs from what was sent"
		}
		d.entry("in", "← "+typ.String()+" "+size(len(data))+preview(typ, data)+" in "+rtt+check)
		d.count.SetText(strconv.Itoa(trips))
		d.rtt.SetText(rtt + " for " + size(len(data)))
	}
}

func (d *demo) entry(class, text string) {
	d.log.Append("li", class, text)
	d.log.ScrollToEnd()
}

// pattern returns n bytes that make a lost or reordered byte visible.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func preview(typ websocket.MessageType, data []byte) string {
	if typ != websocket.Text {
		return ""
	}
	const max = 60
	if len(data) > max {
		return " " + strconv.Quote(string(data[:max])) + "…"
	}
	return " " + strconv.Quote(string(data))
}

func size(n int) string {
	switch {
	case n >= 1<<20:
		return dom.Fixed(float64(n)/(1<<20), 2) + " MiB"
	case n >= 1<<10:
		return dom.Fixed(float64(n)/(1<<10), 1) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}
