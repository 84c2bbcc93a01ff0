//go:build js && wasm

package lab

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"duplex/shared/lab"
	"duplex/shared/wire"
	"duplex/wasm/dom"
	"duplex/wasm/websocket"
)

// The lab's endpoints, as server/web mounts them.
const (
	tracePath = "/ws/lab/trace"
	connPath  = "/ws/lab"
)

// app is the lab page: the trace channel, the lab connection when there is
// one, and the panels that show them.
type app struct {
	status  dom.Element
	trace   *websocket.Conn
	session string
	conn    *websocket.Conn // the lab connection; nil when there is none

	connect, disconnect                dom.Element
	whileOpen                          []dom.Element // the controls that act on an open lab connection
	state                              dom.Element
	closeCode, closeReason, closeClean dom.Element
	closeWhy                           dom.Element // why the close event's code is not the browser's
	compress                           dom.Element // the checkbox: may the lab connection compress
	messages                           dom.Element

	// How the last lab connection ended, as the page and the frames saw
	// it; set on the browser's event loop (closed, and the trace's reports).
	pageCode    wire.StatusCode // the close event's code; 0 while open
	browserCode wire.StatusCode // the code of the browser's close frame; 0 if none seen
	browserWhy  string

	handshake *handshakePanel
	frames    *frameLog
}

// Run opens the trace channel and wires up the page; status is the page's
// status line. It returns once the page is live, or has failed to be.
func Run(status dom.Element) {
	a := &app{
		status:      status,
		connect:     dom.ByID("lab-connect"),
		disconnect:  dom.ByID("lab-disconnect"),
		state:       dom.ByID("lab-state"),
		closeCode:   dom.ByID("lab-close-code"),
		closeReason: dom.ByID("lab-close-reason"),
		closeClean:  dom.ByID("lab-close-clean"),
		closeWhy:    dom.ByID("lab-close-why"),
		compress:    dom.ByID("lab-compress"),
		messages:    dom.ByID("lab-messages"),
		handshake:   newHandshakePanel(),
		frames:      newFrameLog(newDetailPanel()),
	}
	for _, id := range []string{"lab-send", "lab-fragment", "lab-ping", "lab-close", "lab-violate"} {
		a.whileOpen = append(a.whileOpen, dom.ByID(id))
	}
	a.frames.onBrowserClose = func(code wire.StatusCode, reason string) {
		a.browserCode, a.browserWhy = code, reason
		a.explainClose()
	}
	startComposer() // client-side only: it works whatever the server does

	status.SetText("Opening the trace channel…")
	if err := a.openTrace(); err != nil {
		a.fail("The trace channel did not open: " + err.Error() + ". Reload the page to try again.")
		return
	}
	a.listen()
	a.connect.SetDisabled(false)
	status.SetData("state", "live")
	status.SetText("Ready: connect to open a lab connection, and watch its bytes.")
	go a.readReports()
}

// openTrace opens the trace channel and reads the session's ID, which the
// server sends first.
func (a *app) openTrace() error {
	ctx := context.Background()
	trace, err := websocket.Dial(ctx, tracePath, &websocket.Options{Subprotocols: []string{lab.Subprotocol}})
	if err != nil {
		return err
	}
	_, b, err := trace.ReadMessage(ctx, nil)
	if err != nil {
		return err
	}
	m, err := lab.Decode(b)
	if err != nil {
		return err
	}
	s, ok := m.(*lab.Session)
	if !ok {
		trace.StartClose(websocket.StatusNormalClosure, "")
		return errors.New("the server's first message was not the session")
	}
	a.trace, a.session = trace, s.ID
	return nil
}

// listen connects the controls to what they do.
func (a *app) listen() {
	a.connect.On("click", a.openConn)
	a.disconnect.On("click", func() {
		if a.conn != nil {
			a.conn.StartClose(websocket.StatusNormalClosure, "")
		}
	})
	dom.ByID("lab-send-form").On("submit", a.send)
	dom.ByID("lab-fragment-form").On("submit", func() {
		n, err := strconv.ParseUint(dom.ByID("lab-fragments").Input(), 10, 64)
		if err != nil {
			a.logMessage("err", "The number of frames must be a whole number.")
			return
		}
		a.command(&lab.Fragment{N: n, Text: dom.ByID("lab-fragment-text").Input()})
	})
	dom.ByID("lab-ping").On("click", func() { a.command(&lab.Ping{}) })
	dom.ByID("lab-close-form").On("submit", func() {
		code, err := strconv.ParseUint(dom.ByID("lab-code").Input(), 10, 16)
		if err != nil {
			a.logMessage("err", "A close code is a number from 0 to 65535.")
			return
		}
		a.command(&lab.Close{Code: uint16(code), Reason: dom.ByID("lab-reason").Input()})
	})
	dom.ByID("lab-violate-form").On("submit", func() {
		rule, _ := strconv.Atoi(dom.ByID("lab-rule").Input())
		a.command(&lab.Violate{Rule: lab.Rule(rule)})
	})
}

// command sends a command to the server on the trace channel.
func (a *app) command(m lab.Message) {
	go func() { // WriteMessage may wait: not on the event loop
		if err := a.trace.WriteMessage(context.Background(), websocket.Binary, lab.Append(nil, m)); err != nil {
			a.logMessage("err", "The command did not go out: "+err.Error())
		}
	}()
}

// readReports shows the server's reports until the trace channel ends,
// which ends the session: the page must be reloaded for a new one.
func (a *app) readReports() {
	for {
		_, b, err := a.trace.ReadMessage(context.Background(), nil)
		if err != nil {
			a.connect.SetDisabled(true)
			a.fail("The trace channel closed (" + err.Error() + "). Reload the page to start again.")
			return
		}
		m, err := lab.Decode(b)
		if err != nil {
			a.frames.note("The page could not read a report: " + err.Error())
			continue
		}
		switch m := m.(type) {
		case *lab.Handshake:
			a.handshake.show(m)
			a.frames.deflate = strings.Contains(string(m.Response), "permessage-deflate")
			a.frames.newConnection()
		case *lab.Frame:
			a.frames.add(m)
		case *lab.Note:
			a.frames.note(m.Text)
		}
	}
}

// openConn opens a lab connection on the session.
func (a *app) openConn() {
	a.connect.SetDisabled(true)
	a.state.SetText("Connecting…")
	a.setStatus("loading", "Opening a lab connection…")
	for _, e := range []dom.Element{a.closeCode, a.closeReason, a.closeClean, a.closeWhy} {
		e.SetText("")
	}
	a.pageCode, a.browserCode, a.browserWhy = 0, 0, ""
	a.closeCode.SetData("code", "")
	go func() {
		url := connPath + "?session=" + a.session
		if a.compress.Checked() {
			url += "&compress=1"
		}
		conn, err := websocket.Dial(context.Background(), url, &websocket.Options{OnClose: a.closed})
		if err != nil {
			a.logMessage("err", "The lab connection did not open: "+err.Error())
			a.setStatus("live", "The lab connection did not open: connect to try again.")
			a.connect.SetDisabled(false)
			return
		}
		a.conn = conn
		state := "Open: " + conn.URL()
		if ext := conn.Extensions(); ext != "" {
			state += " · " + ext
		}
		a.state.SetText(state)
		a.setStatus("live", "Lab connection open: what you do shows in Frames; click a frame to see its bits.")
		a.setOpen(true)
		a.readMessages(conn)
	}()
}

// readMessages shows the messages the page's WebSocket delivers: one per
// message, however many frames carried it.
func (a *app) readMessages(conn *websocket.Conn) {
	for {
		typ, data, err := conn.ReadMessage(context.Background(), nil)
		if err != nil {
			return // closed shows how it ended
		}
		a.logMessage("in", "← "+describe(typ, data))
	}
}

// closed shows the browser's close event and makes ready for the next
// connection.
func (a *app) closed(e *websocket.CloseError) {
	a.closeCode.SetText(codeName(e.Code))
	a.closeCode.SetData("code", strconv.Itoa(int(e.Code)))
	a.closeReason.SetText(strconv.Quote(e.Reason))
	a.closeClean.SetText(strconv.FormatBool(e.WasClean))
	a.conn = nil
	a.state.SetText("Closed. Connect again for a new lab connection.")
	a.setStatus("live", "The lab connection closed with "+codeName(e.Code)+": connect again for a new one.")
	a.setOpen(false)
	a.connect.SetDisabled(false)
	a.pageCode = e.Code
	a.explainClose()
}

// explainClose says, beside the close event, why its code differs from
// the code the browser sent: when the browser fails a connection itself,
// because the server broke a rule, it sends a close frame with a code and
// a reason — the frames show them — but tells the page only 1006.
func (a *app) explainClose() {
	if a.pageCode != wire.StatusAbnormalClosure || a.browserCode == 0 || a.browserCode == a.pageCode {
		a.closeWhy.SetText("")
		return
	}
	reason := ""
	if a.browserWhy != "" {
		reason = ", " + strconv.Quote(a.browserWhy)
	}
	a.closeWhy.SetText("The browser itself sent close " + strconv.Itoa(int(a.browserCode)) + reason +
		" — see its frame in Frames — yet told this page 1006, not clean: when a browser fails a connection because the server broke a rule, the page never learns the code it sent.")
}

// setStatus sets the page's status line.
func (a *app) setStatus(state, text string) {
	a.status.SetData("state", state)
	a.status.SetText(text)
}

// codeName writes a close code with its registered name, if it has one.
func codeName(code websocket.StatusCode) string {
	n := strconv.Itoa(int(code))
	if name := code.String(); name != n {
		return n + " (" + name + ")"
	}
	return n
}

func (a *app) setOpen(open bool) {
	a.disconnect.SetDisabled(!open)
	for _, e := range a.whileOpen {
		e.SetDisabled(!open)
	}
}

// send sends the send box's text as a text or binary message.
func (a *app) send() {
	conn := a.conn
	if conn == nil {
		return
	}
	typ := websocket.Text
	if dom.ByID("lab-type").Input() == "binary" {
		typ = websocket.Binary
	}
	data := []byte(dom.ByID("lab-text").Input())
	go func() { // WriteMessage may wait for bufferedAmount to drain
		if err := conn.WriteMessage(context.Background(), typ, data); err != nil {
			a.logMessage("err", "Not sent: "+err.Error())
			return
		}
		a.logMessage("out", "→ "+describe(typ, data))
	}()
}

// maxMessages is how many lines the messages log keeps.
const maxMessages = 200

func (a *app) logMessage(class, text string) {
	a.messages.Append("li", class, text)
	if n := a.messages.Value().Get("childElementCount").Int(); n > maxMessages {
		a.messages.Value().Get("firstElementChild").Call("remove")
	}
	a.messages.ScrollToEnd()
}

func describe(typ websocket.MessageType, data []byte) string {
	if typ == websocket.Text {
		return "text, " + strconv.Itoa(len(data)) + " B: " + strconv.Quote(string(data))
	}
	return "binary, " + strconv.Itoa(len(data)) + " B: " + spacedHex(data[:min(len(data), 16)]) + ellipsis(len(data) > 16)
}

func (a *app) fail(text string) {
	a.status.SetData("state", "error")
	a.status.SetText(text)
	a.setOpen(false)
}
