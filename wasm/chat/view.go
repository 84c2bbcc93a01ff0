//go:build js && wasm

package chat

import (
	"strconv"

	"duplex/shared/chatclient"
	"duplex/shared/conn"
	"duplex/shared/message"
	"duplex/wasm/dom"
	"duplex/wasm/websocket"
)

// This file is the page's side of chatclient.UI: what the client reports,
// shown in the DOM. The client calls these methods one at a time, with its
// lock held; each takes the page's.

var _ chatclient.UI = (*page)(nil)

// Status shows where the connection stands on the status line.
func (p *page) Status(s chatclient.Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Remember how the live connection ended: the failed redials that
	// follow have causes of their own (1006), but the reader wants to
	// know why the chat went away — the server going away, say (1001).
	switch {
	case s.Phase == conn.PhaseOpen:
		p.lostWith = nil
	case s.Phase == conn.PhaseReconnecting && p.last.Phase == conn.PhaseOpen:
		p.lostWith, _ = s.Err.(*websocket.CloseError) // a type assertion: errors.As would add 55 KB
	}
	p.last = s
	p.setStatus(statusText(s, p.lostWith))
	p.updateControls()
}

// RoomChanged adds a room that was joined, with a tab and a list of its
// own, hidden until shown, or updates one.
func (p *page) RoomChanged(r chatclient.Room) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rv := p.rooms[r.Name]
	if rv == nil {
		rv = &roomView{}
		rv.list = p.lists.Append("ul", "log chat-log", "")
		rv.list.SetData("room", r.Name)
		rv.list.SetAttr("aria-live", "polite")
		rv.list.SetHidden(true)
		rv.tab = p.tabs.Append("button", "secondary", "#"+r.Name)
		rv.tab.SetAttr("type", "button")
		rv.tab.SetData("room", r.Name)
		p.rooms[r.Name] = rv
	}
	if rv.room.Joined && r.Joined {
		p.presenceLines(rv, rv.room.Present, r.Present, r.Nick)
	}
	rv.room = r
	if r.Name == p.current {
		p.render()
	}
}

// presenceLines adds "joined" and "left" lines to the room's list for who
// came and went between two lists of who is here, both taken while the
// user was in the room: a reconnect, which lists everyone afresh, says
// nothing. The user's own nickname is left out.
func (p *page) presenceLines(rv *roomView, before, after []string, me string) {
	was := make(map[string]bool, len(before))
	for _, n := range before {
		was[n] = true
	}
	is := make(map[string]bool, len(after))
	for _, n := range after {
		is[n] = true
		if !was[n] && n != me {
			p.appendLine(rv, "presence joined", n+" joined")
		}
	}
	for _, n := range before {
		if !is[n] && n != me {
			p.appendLine(rv, "presence left", n+" left")
		}
	}
}

// appendLine adds a line of the page's own to the room's list, above the
// messages still pending.
func (p *page) appendLine(rv *roomView, class, text string) {
	rv.list.Append("li", class, text)
	for _, e := range rv.pending {
		rv.list.Value().Call("appendChild", e.Value())
	}
	rv.list.ScrollToEnd()
}

// RoomRemoved takes a room off the page, and shows the one joined last,
// if any.
func (p *page) RoomRemoved(name string, _ error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rv := p.rooms[name]
	if rv == nil {
		return
	}
	rv.list.Remove()
	rv.tab.Remove()
	delete(p.rooms, name)
	p.saved.left(name)
	if p.current == name {
		p.show(p.lastTab())
	}
}

// lastTab returns the room of the last tab, or "" if there is none.
func (p *page) lastTab() string {
	tab := p.tabs.Value().Get("lastElementChild")
	if tab.IsNull() {
		return ""
	}
	return tab.Get("dataset").Get("room").String()
}

// Message shows a chat message at the end of its room's list.
func (p *page) Message(m message.Chat, mine bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rv := p.rooms[m.Room]
	if rv == nil {
		return
	}
	class := "msg"
	if mine {
		class += " mine"
	}
	li := rv.list.Append("li", class, "")
	li.SetData("seq", strconv.FormatUint(m.Seq, 10))
	li.Append("time", "", clock(m.Time))
	li.Append("span", "nick", m.Nick)
	li.Append("span", "text", m.Text)
	for _, e := range rv.pending { // below the messages delivered
		rv.list.Value().Call("appendChild", e.Value())
	}
	rv.list.ScrollToEnd()
}

// Outbox shows, at the end of the room's list, the messages the user sent
// that have yet to come back: greyed, with what becomes of them.
func (p *page) Outbox(room string, pending []chatclient.Pending) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.saved.outbox(room, pending)
	rv := p.rooms[room]
	if rv == nil {
		return
	}
	for _, e := range rv.pending {
		e.Remove()
	}
	rv.pending = rv.pending[:0]
	for _, m := range pending {
		li := rv.list.Append("li", "pending", "")
		li.SetData("id", strconv.FormatUint(m.ID, 10))
		state := "sending…"
		switch {
		case m.Stored:
			state = "sent"
		case m.Err != nil:
			state = "waiting to be sent again"
			if e, ok := m.Err.(*message.Error); ok {
				state += " (" + e.Code.String() + ")"
			}
			state += "…"
		}
		li.Append("span", "state", state)
		li.Append("span", "nick", rv.room.Nick)
		li.Append("span", "text", m.Text)
		rv.pending = append(rv.pending, li)
	}
	rv.list.ScrollToEnd()
}

// Refused gives the text of a message the server refused back to the user,
// in the text box if it is empty; Error has shown why.
func (p *page) Refused(room, text string, _ error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if room == p.current && chatclient.Blank(p.text.Input()) {
		p.text.SetInput(text)
	}
}

// HistoryReset empties a room's list: its history comes afresh.
func (p *page) HistoryReset(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rv := p.rooms[name]; rv != nil {
		rv.list.Clear()
	}
}

// NickTaken says which nickname the user got.
func (p *page) NickTaken(room, asked, given string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notice.SetText("In #" + room + " you are " + given + ": " + asked + " was taken.")
}

// Error shows an error from the server, or about what it sent.
func (p *page) Error(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := err.(*message.Error); ok {
		p.notice.SetText("The server says: " + e.Error())
		return
	}
	p.notice.SetText("A message from the server could not be read: " + err.Error())
}

// show makes the room the one shown. p.mu must be held.
func (p *page) show(name string) {
	if p.rooms[name] == nil {
		name = ""
	}
	p.current = name
	for n, rv := range p.rooms {
		shown := n == name
		rv.list.SetHidden(!shown)
		rv.tab.SetAttr("aria-pressed", strconv.FormatBool(shown))
		if shown {
			rv.list.ScrollToEnd()
		}
	}
	p.render()
}

// render shows the current room's presence and typing, and enables the
// controls that can be used. p.mu must be held.
func (p *page) render() {
	rv := p.rooms[p.current]
	p.presence.Clear()
	p.typing.SetText("")
	p.updateControls()
	if rv == nil {
		return
	}
	for _, n := range rv.room.Present {
		class := ""
		if n == rv.room.Nick {
			class = "me"
		}
		p.presence.Append("li", class, n)
	}
	switch t := rv.room.Typing; len(t) {
	case 0:
	case 1:
		p.typing.SetText(t[0] + " is typing…")
	case 2:
		p.typing.SetText(t[0] + " and " + t[1] + " are typing…")
	default:
		p.typing.SetText(t[0] + ", " + t[1] + " and " + count(len(t)-2, "other") + " are typing…")
	}
}

// updateControls enables the controls that can be used. p.mu must be
// held.
func (p *page) updateControls() {
	rv := p.rooms[p.current]
	p.join.SetDisabled(p.last.Opens == 0 || p.last.Phase == conn.PhaseClosed)
	p.text.SetDisabled(rv == nil)
	p.leave.SetDisabled(rv == nil)
	// Sending needs only a room: what is sent while the connection is
	// down waits in the outbox.
	p.send.SetDisabled(rv == nil || p.last.Phase == conn.PhaseClosed)
}

func (p *page) setStatus(state, text string) {
	p.status.SetData("state", state)
	p.status.SetText(text)
}

// statusText returns the status line's state and text for s.
func statusText(s chatclient.Status, lostWith *websocket.CloseError) (state, text string) {
	attempt := "attempt " + strconv.Itoa(s.Attempt)
	switch s.Phase {
	case conn.PhaseConnecting:
		if s.Attempt == 0 {
			return "loading", "Connecting to the chat server…"
		}
		return "reconnecting", "Reconnecting (" + attempt + ")…"
	case conn.PhaseOpen:
		if s.Opens > 1 {
			return "live", resumedText(s)
		}
		return "live", "Live: connected to the chat server."
	case conn.PhaseReconnecting:
		lost := "Connection lost"
		if s.Opens == 0 {
			lost = "Could not connect"
		}
		// A type assertion, not CloseStatus: errors.As would add 55 KB.
		ce, _ := s.Err.(*websocket.CloseError)
		if lostWith != nil {
			ce = lostWith // why the live connection ended, not the last redial
		}
		switch {
		case ce != nil && ce.Code == websocket.StatusGoingAway:
			lost = "The server went away (1001 going away"
			if ce.Reason != "" {
				lost += ": " + ce.Reason
			}
			lost += ")"
		case ce != nil:
			lost += " (" + strconv.Itoa(int(ce.Code)) + " " + ce.Code.String() + ")"
		}
		if s.Offline {
			return "reconnecting", lost + ". Offline: waiting for the network (" + attempt + ")…"
		}
		return "reconnecting", lost + ". Reconnecting (" + attempt + ", in " + dom.Fixed(s.Delay.Seconds(), 1) + " s)…"
	}
	return "closed", "Closed. Reload the page to connect again."
}

// resumedText says that the connection is back, and how much it caught
// up with.
func resumedText(s chatclient.Status) string {
	text := "Live again: reconnected."
	switch {
	case s.CatchingUp:
		text = "Live again: reconnected, catching up…"
	case s.Rooms > 0:
		text = "Live again: reconnected, resumed (" + count(s.Missed, "missed message") + ")."
	}
	if s.Reloaded {
		text += " The server had lost track of a room, so its history was loaded afresh."
	}
	return text
}
