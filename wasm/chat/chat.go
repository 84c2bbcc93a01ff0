//go:build js && wasm

// Package chat is the chat page: rooms, nicknames, presence, typing, and
// messages that survive a dropped connection or a server's restart. The
// protocol — joining again on every new connection, resuming after the
// last message shown, dropping duplicates, keeping what the user sent in
// an outbox until the server has stored it — is duplex/shared/chatclient's,
// which runs natively too and is tested there; this package connects it to
// the browser's WebSocket and shows what it reports in the DOM (view.go):
// a message sent shows at once, greyed and marked "sending…", until it
// comes back from the server. A reload of the page joins its rooms again
// and sends what was still waiting (saved.go).
//
// Everything the page shows is set as text, never parsed as HTML.
package chat

import (
	"sync"

	"duplex/shared/chatclient"
	"duplex/shared/conn"
	"duplex/shared/message"
	"duplex/wasm/dom"
	"duplex/wasm/websocket"
)

// page is the chat page: the client, and the elements that show it.
type page struct {
	client *chatclient.Client
	status dom.Element

	nick, room, join  dom.Element // the join form
	text, send, leave dom.Element // the send form
	tabs, lists       dom.Element // a button and a list of messages per room
	presence, typing  dom.Element
	notice            dom.Element // errors, the server's and the page's

	// UI events hand their work to a goroutine, which runs it in order:
	// the browser's event loop must not wait for a lock or a write.
	actions chan func()

	// mu guards what follows, and the DOM: the client's reports and the
	// actions each run on their own goroutine. The client calls the
	// methods of view.go with its own lock held, so the actions must not
	// hold mu while they call the client.
	mu      sync.Mutex
	rooms   map[string]*roomView
	current string            // the room shown; "" for none
	last    chatclient.Status // the connection's, as reported last
	// lostWith is how the last live connection ended, while the client
	// redials; nil while a connection is open.
	lostWith *websocket.CloseError
	saved    saved // what a reload of the page takes up again (saved.go)
}

// A roomView is a room's elements, and what the client said of it last.
type roomView struct {
	list, tab dom.Element
	pending   []dom.Element // the outbox's messages, at the end of list
	room      chatclient.Room
}

// Run connects, and wires up the page; status is the page's status line.
// It returns at once: the client and the page's event handlers go on.
func Run(status dom.Element) {
	p := &page{
		status:   status,
		nick:     dom.ByID("chat-nick"),
		room:     dom.ByID("chat-room"),
		join:     dom.ByID("chat-join"),
		text:     dom.ByID("chat-text"),
		send:     dom.ByID("chat-send"),
		leave:    dom.ByID("chat-leave"),
		tabs:     dom.ByID("chat-rooms"),
		lists:    dom.ByID("chat-messages"),
		presence: dom.ByID("chat-presence"),
		typing:   dom.ByID("chat-typing"),
		notice:   dom.ByID("chat-error"),
		actions:  make(chan func(), 64),
		rooms:    map[string]*roomView{},
	}
	p.saved = loadSaved()
	switch {
	case p.saved.Nick != "":
		p.nick.SetInput(p.saved.Nick)
	case chatclient.Blank(p.nick.Input()):
		p.nick.SetInput(friendlyNick())
	}
	p.setStatus("loading", "Connecting to the chat server…")
	dial := websocket.Dialer("/ws/chat", &websocket.Options{Subprotocols: []string{message.Subprotocol}})
	p.client = chatclient.Start(p, dial, &conn.ReconnectOptions{Network: websocket.Network()})
	go p.runActions()
	// A reload joins the rooms the page was in again, and passes on what
	// waited in their outboxes. (A copy of its own: p.saved changes as the
	// rooms are joined.)
	restore := loadSaved()
	for _, r := range restore.Rooms {
		p.do(func() {
			if p.joinRoom(restore.Nick, r.Name) {
				p.client.Requeue(r.Name, r.Pending)
			}
		})
	}

	dom.ByID("join-form").On("submit", func() {
		nick, name := p.nick.Input(), p.room.Input()
		p.do(func() { p.joinRoom(nick, name) })
	})
	dom.ByID("send-form").On("submit", func() {
		text := p.text.Input()
		p.do(func() { p.sendText(text) })
	})
	p.text.On("input", func() {
		active := !chatclient.Blank(p.text.Input())
		p.do(func() { p.client.Typing(p.currentRoom(), active) })
	})
	p.text.On("blur", func() { p.do(p.client.StopTyping) })
	p.leave.On("click", func() {
		p.do(func() {
			if name := p.currentRoom(); name != "" {
				p.client.Leave(name) // RoomRemoved takes the room off the page
			}
		})
	})
	p.tabs.OnTarget("click", func(target dom.Element) {
		if name := target.Data("room"); name != "" {
			p.do(func() { p.switchTo(name) })
		}
	})
}

// do queues f for the actions goroutine, without waiting.
func (p *page) do(f func()) {
	select {
	case p.actions <- f:
	default:
		// No lock: this runs on the event loop, which must not wait.
		p.notice.SetText("Too much at once: try again in a moment.")
	}
}

func (p *page) runActions() {
	for f := range p.actions {
		f()
	}
}

// currentRoom returns the room shown, or "".
func (p *page) currentRoom() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current
}

// joinRoom joins the room, or shows it if it is joined already, and
// reports whether it is in it.
func (p *page) joinRoom(nick, room string) bool {
	name, err := p.client.Join(nick, room) // RoomChanged adds the room to the page
	if err != nil {
		p.mu.Lock()
		p.notice.SetText(err.Error())
		p.mu.Unlock()
		return false
	}
	p.mu.Lock()
	p.notice.SetText("")
	p.saved.joined(nick, name)
	p.mu.Unlock()
	p.switchTo(name)
	return true
}

// switchTo shows the room; the user stops typing in the one shown before.
func (p *page) switchTo(name string) {
	if name != p.currentRoom() {
		p.client.StopTyping()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.show(name)
}

// sendText sends text to the room shown. Once the client has it in its
// outbox, the text box is emptied: the message shows as pending, and the
// client sends it, again if need be, until the server has it.
func (p *page) sendText(text string) {
	name := p.currentRoom()
	if name == "" {
		return
	}
	err := p.client.Send(name, text)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.notice.SetText("Not sent: " + err.Error())
		return // the text stays in the box
	}
	p.notice.SetText("")
	if p.text.Input() == text {
		p.text.SetInput("")
	}
	p.text.Focus() // a click on Send took it: the next message starts here
}
