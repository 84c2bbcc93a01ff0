//go:build js && wasm

// Package echo is the client of the echo demo: it sends what the page asks
// for to /ws/echo and shows each echo with its round-trip time. It uses the
// Go model of the WebSocket API: Dial, then a goroutine that reads.
package echo

import (
	"bytes"
	"context"
	"strconv"
	"sync"

	"duplex/wasm/dom"
	"duplex/wasm/websocket"
)

// Run connects and wires up the page; status is the page's status line.
func Run(status dom.Element) {
	status.SetText("Connecting to /ws/echo…")
	conn, err := websocket.Dial(context.Background(), "/ws/echo", nil)
	if err != nil {
		status.SetData("state", "error")
		status.SetText("Could not connect: " + err.Error())
		return
	}
	status.SetData("state", "live")
	status.SetText("Connected: this page's Go code talks to the server over a WebSocket.")
	dom.ByID("echo-url").SetText(conn.URL())

	d := &demo{conn: conn, log: dom.ByID("echo-log"), count: dom.ByID("echo-count"), rtt: dom.ByID("echo-rtt"),
		outbox: make(chan sent, 16)}
	go d.sendAll()
	sendText, sendBinary := dom.ByID("send-text"), dom.ByID("send-binary")
	sendText.SetDisabled(false)
	sendBinary.SetDisabled(false)
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

	err = d.readEchoes()
	sendText.SetDisabled(true)
	sendBinary.SetDisabled(true)
	status.SetData("state", "error")
	status.SetText("Disconnected: " + err.Error() + ". Reload the page to connect again.")
}

// demo matches each echo with the message that caused it: the server
// answers in order, so a queue of what was sent is enough.
type demo struct {
	conn            *websocket.Conn
	log, count, rtt dom.Element

	outbox chan sent // what the page asked to send, in order

	mu      sync.Mutex
	pending []sent // sent, echo not yet seen
	trips   int
}

type sent struct {
	typ  websocket.MessageType
	data []byte
	at   float64 // dom.Now() when sent
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
		d.entry("out", "→ "+s.typ.String()+" "+size(len(s.data))+preview(s.typ, s.data))
		d.mu.Lock()
		s.at = dom.Now()
		d.pending = append(d.pending, s)
		d.mu.Unlock()
		if err := d.conn.WriteMessage(context.Background(), s.typ, s.data); err != nil {
			d.entry("err", "send failed: "+err.Error())
			return
		}
	}
}

// readEchoes shows each echo until the connection ends, and returns why it
// ended.
func (d *demo) readEchoes() error {
	for {
		typ, data, err := d.conn.ReadMessage(context.Background(), nil)
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
