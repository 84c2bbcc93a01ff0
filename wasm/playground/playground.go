//go:build js && wasm

// Package playground is the client of the API playground. With the
// transport WebSocket, it uses the browser's model of the WebSocket API —
// hooks called as events arrive — and shows each event and each change of
// readyState. With auto or the HTTP stream, it connects with Go's Connect,
// which chooses the transport, and shows what Go's API reports: Connect
// returning, with its choice and why, each message read, and the end.
package playground

import (
	"context"
	"strconv"
	"strings"

	"duplex/shared/conn"
	"duplex/wasm/dom"
	"duplex/wasm/websocket"
)

var stateNames = [...]string{"CONNECTING", "OPEN", "CLOSING", "CLOSED"}

// A socket is what the page shows of a connection: the WebSocket's
// *websocket.Conn and the HTTP stream's *streamclient.Conn both have it.
type socket interface {
	conn.Conn
	ReadyState() int
	URL() string
	BufferedAmount() int
	StartClose(code websocket.StatusCode, reason string) error
}

type playground struct {
	conn   socket
	events dom.Element

	connect, send, close dom.Element
	transport            dom.Element // the select
	used                 dom.Element // the fact: which transport, and why
	state, url, protocol dom.Element
	extensions, buffered dom.Element
	closeEvent           dom.Element
	lastState            int
}

// Run wires up the page; status is the page's status line.
func Run(status dom.Element) {
	p := &playground{
		events:     dom.ByID("pg-events"),
		connect:    dom.ByID("pg-connect"),
		send:       dom.ByID("pg-send"),
		close:      dom.ByID("pg-close"),
		transport:  dom.ByID("pg-transport"),
		used:       dom.ByID("pg-transport-used"),
		state:      dom.ByID("pg-ready-state"),
		url:        dom.ByID("pg-socket-url"),
		protocol:   dom.ByID("pg-protocol"),
		extensions: dom.ByID("pg-extensions"),
		buffered:   dom.ByID("pg-buffered"),
		closeEvent: dom.ByID("pg-close-event"),
		lastState:  -1,
	}
	p.transport.SetInput(websocket.PageTransport().String())
	dom.ByID("connect-form").On("submit", p.doConnect)
	dom.ByID("send-form").On("submit", p.doSend)
	dom.ByID("close-form").On("submit", p.doClose)
	p.connect.SetDisabled(false)
	status.SetData("state", "live")
	status.SetText("Ready: the buttons call the browser's WebSocket API, or Go's, from Go.")
}

// doConnect runs new WebSocket(url, protocols), or, unless the transport
// is WebSocket, Go's Connect.
func (p *playground) doConnect() {
	var protocols []string
	for _, s := range strings.Split(dom.ByID("pg-protocols").Input(), ",") {
		if s = strings.TrimSpace(s); s != "" {
			protocols = append(protocols, s)
		}
	}
	url := dom.ByID("pg-url").Input()
	// One socket at a time: a socket still connecting or open is closed
	// first, or it could never be closed from the page again.
	if old := p.conn; old != nil && old.ReadyState() <= websocket.Open {
		old.StartClose(websocket.StatusNormalClosure, "replaced by a new connection")
		p.event("out", `close(1000, "replaced by a new connection"): the page's socket is closed before a new one opens`)
	}
	p.closeEvent.SetText("")
	p.used.SetText("")
	p.conn, p.lastState = nil, -1
	transport, _ := websocket.ParseTransport(p.transport.Input())
	if transport != websocket.TransportWebSocket {
		p.event("out", "Connect("+strconv.Quote(url)+", "+quoteList(protocols)+"), transport "+transport.String())
		// Connect waits: not on the event loop.
		go p.connectGo(url, &websocket.Options{Subprotocols: protocols, Transport: transport})
		return
	}
	p.used.SetText("WebSocket: chosen on this page")
	var conn *websocket.Conn
	conn, err := websocket.New(url, &websocket.Options{
		Subprotocols: protocols,
		OnOpen:       func() { p.event("in", "open") },
		OnMessage: func(typ websocket.MessageType, data []byte) {
			p.event("in", "message: "+describe(typ, data))
		},
		OnError: func() {
			p.event("err", "error — all a browser tells a page: why the connection failed is only in DevTools' console (F12)")
		},
		OnClose: func(e *websocket.CloseError) {
			if socket(conn) != p.conn {
				p.event("in", "close of the replaced socket: "+describeClose(e))
				return
			}
			p.closed(e)
		},
	})
	if err != nil {
		p.event("err", "new WebSocket failed: "+err.Error())
		return
	}
	p.conn = conn
	p.event("out", "new WebSocket("+strconv.Quote(url)+", "+quoteList(protocols)+")")
}

// connectGo connects with Connect and reports what Go's API reports.
func (p *playground) connectGo(url string, opts *websocket.Options) {
	c, choice, err := websocket.Connect(context.Background(), url, opts)
	if err != nil {
		p.event("err", "Connect failed: "+err.Error())
		return
	}
	p.used.SetText(choice.String())
	p.conn = c.(socket)
	p.event("in", "open: "+choice.String())
	for {
		typ, data, err := c.ReadMessage(context.Background(), nil)
		if err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				p.closed(ce)
			} else {
				p.event("err", "ReadMessage: "+err.Error())
			}
			return
		}
		p.event("in", "message: "+describe(typ, data))
	}
}

// closed reports the end of the connection: the close event, or the
// *CloseError that Go's API returns.
func (p *playground) closed(e *websocket.CloseError) {
	p.closeEvent.SetText("code " + strconv.Itoa(int(e.Code)) + ", reason " + strconv.Quote(e.Reason) +
		", wasClean " + strconv.FormatBool(e.WasClean))
	p.event("in", "close: "+describeClose(e))
}

// describeClose writes a close event's code, with what it means, its
// reason and wasClean.
func describeClose(e *websocket.CloseError) string {
	return "code " + strconv.Itoa(int(e.Code)) + " (" + codeMeaning(e.Code) + "), reason " +
		strconv.Quote(e.Reason) + ", wasClean " + strconv.FormatBool(e.WasClean)
}

// codeMeaning names a close code: its registered name, or the range it
// belongs to (RFC 6455 §7.4.2).
func codeMeaning(code websocket.StatusCode) string {
	switch {
	case code >= 4000 && code <= 4999:
		return "private use: the application's own"
	case code >= 3000 && code <= 3999:
		return "registered for libraries and frameworks"
	}
	return code.String()
}

// doSend runs send(data).
func (p *playground) doSend() {
	if p.conn == nil {
		return
	}
	typ := websocket.Text
	if dom.ByID("pg-type").Input() == "binary" {
		typ = websocket.Binary
	}
	data := []byte(dom.ByID("pg-message").Input())
	// WriteMessage may wait for bufferedAmount to drain: not on the event
	// loop.
	go func() {
		if err := p.conn.WriteMessage(context.Background(), typ, data); err != nil {
			p.event("err", "send failed: "+err.Error())
			return
		}
		p.event("out", "send: "+describe(typ, data))
	}()
}

// doClose runs close(code, reason) and does not wait: the close event
// reports how it ended.
func (p *playground) doClose() {
	if p.conn == nil {
		return
	}
	code, err := strconv.Atoi(dom.ByID("pg-code").Input())
	if err != nil {
		p.event("err", "the close code must be a number")
		return
	}
	reason := dom.ByID("pg-reason").Input()
	if err := p.conn.StartClose(websocket.StatusCode(code), reason); err != nil {
		p.event("err", "close failed: "+err.Error())
		return
	}
	p.event("out", "close("+strconv.Itoa(code)+", "+strconv.Quote(reason)+")")
}

// event logs an event with the socket's state after it, and updates the
// facts; a change of readyState gets its own line.
func (p *playground) event(class, text string) {
	p.events.Append("li", class, text)
	if p.conn != nil {
		state := p.conn.ReadyState()
		if state != p.lastState {
			p.events.Append("li", "", "readyState → "+strconv.Itoa(state)+" "+stateNames[state])
			p.lastState = state
		}
		p.state.SetText(strconv.Itoa(state) + " " + stateNames[state])
		p.url.SetText(p.conn.URL())
		p.protocol.SetText(orNone(p.conn.Subprotocol()))
		p.extensions.SetText(orNone(p.conn.Extensions()))
		p.buffered.SetText(strconv.Itoa(p.conn.BufferedAmount()))
		open := state == websocket.Open
		p.send.SetDisabled(!open)
		p.close.SetDisabled(state >= websocket.Closing)
	}
	p.events.ScrollToEnd()
}

func describe(typ websocket.MessageType, data []byte) string {
	if typ == websocket.Text {
		return "text, " + strconv.Itoa(len(data)) + " B: " + strconv.Quote(string(data))
	}
	return "binary, " + strconv.Itoa(len(data)) + " B"
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func orNone(s string) string {
	if s == "" {
		return `"" (none)`
	}
	return strconv.Quote(s)
}
