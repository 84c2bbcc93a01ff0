//go:build js && wasm

// Package chat is the client of the chat demo: rooms, nicknames, presence,
// typing, and messages that survive a dropped connection. It speaks the
// protocol of duplex/shared/message over a websocket.Reconnecting. The
// server numbers each room's messages; the client remembers the last
// number it has seen in each room and, every time the connection comes
// back, joins its rooms again asking for what came after, so that it shows
// every message once, in order, however often the network fails.
//
// Everything the page shows is set as text, never parsed as HTML.
package chat

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"syscall/js"

	"duplex/shared/message"
	"duplex/wasm/dom"
	"duplex/wasm/websocket"
)

// typingEvery is how often, at most, in milliseconds, the client tells a
// room that its user is still typing; the server forgets after 5 s.
const typingEvery = 2000

type client struct {
	rc     *websocket.Reconnecting
	status dom.Element

	nick, room, join  dom.Element // the join form
	text, send, leave dom.Element // the send form
	tabs, lists       dom.Element // a button and a list of messages per room
	presence, typing  dom.Element
	notice            dom.Element // errors, the server's and the page's

	// UI events hand their work to a goroutine, which runs it in order:
	// the browser's event loop must not wait for a lock or a write.
	actions chan func()

	// Everything below is guarded by mu: the actions, the messages read
	// and the Reconnecting's hooks each run on their own goroutine.
	mu         sync.Mutex
	conn       *websocket.Conn // the connection the rooms were joined on, from OnOpen
	live       bool            // conn is open, as far as OnState has said
	closed     bool            // the Reconnecting is closed for good
	opens      int             // connections opened so far
	missed     int             // messages resumed since the last reconnect
	reloaded   bool            // a room's history was reset since the last reconnect
	rooms      map[string]*room
	order      []string // the rooms, in the order of their tabs
	current    string   // the room shown; "" for none
	typingRoom string   // the room told that the user is typing; "" for none
	typingAt   float64  // dom.Now() when it was last told
}

// A room is a room the user has joined, or asked to join.
type room struct {
	name    string
	nick    string // the nickname asked for, then the one the server gave
	joined  bool   // Joined came on the current connection
	synced  bool   // a History came once: lastSeq is a place to resume from
	caught  bool   // a History came on the current connection
	lastSeq uint64 // the sequence number of the last message shown
	list    dom.Element
	tab     dom.Element
	nicks   []string // who is here, sorted
	typists []string // who is typing, in the order they started
}

// Run connects, wires up the page and shows what the server sends, for as
// long as the page lives; status is the page's status line.
func Run(status dom.Element) {
	c := &client{
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
		rooms:    map[string]*room{},
	}
	if trimSpace(c.nick.Input()) == "" {
		c.nick.SetInput(friendlyNick())
	}
	c.setStatus("loading", "Connecting to the chat server…")
	rc, err := websocket.Reconnect("/ws/chat", &websocket.ReconnectOptions{
		Subprotocols: []string{message.Subprotocol},
		OnOpen:       c.onOpen,
		OnState:      c.onState,
	})
	if err != nil {
		c.setStatus("error", "Cannot connect: "+err.Error())
		return
	}
	c.rc = rc
	go c.runActions()

	dom.ByID("join-form").On("submit", func() {
		nick, name := c.nick.Input(), c.room.Input()
		c.do(func() { c.joinRoom(nick, name) })
	})
	dom.ByID("send-form").On("submit", func() {
		text := c.text.Input()
		c.do(func() { c.sendText(text) })
	})
	c.text.On("input", func() {
		empty := trimSpace(c.text.Input()) == ""
		c.do(func() { c.typed(empty) })
	})
	c.text.On("blur", func() { c.do(c.stopTyping) })
	c.leave.On("click", func() { c.do(c.leaveRoom) })
	c.tabs.OnTarget("click", func(target dom.Element) {
		if name := target.Data("room"); name != "" {
			c.do(func() { c.show(name) })
		}
	})
	c.readAll()
}

// do queues f for the actions goroutine, without waiting.
func (c *client) do(f func()) {
	select {
	case c.actions <- f:
	default:
		c.notice.SetText("Too much at once: try again in a moment.")
	}
}

func (c *client) runActions() {
	for f := range c.actions {
		c.mu.Lock()
		f()
		c.mu.Unlock()
	}
}

// write sends m on the connection the rooms were joined on. c.mu must be
// held, so that nothing goes out between OnOpen's Joins.
func (c *client) write(m message.Message) error {
	if c.conn == nil {
		return websocket.ErrDisconnected
	}
	return c.conn.WriteValue(context.Background(), message.Envelope{Message: m})
}

// onOpen is the Reconnecting's OnOpen: on every new connection, before
// anything else goes out, it joins the rooms again — resuming after the
// last message seen in each.
func (c *client) onOpen(conn *websocket.Conn) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn = conn
	c.opens++
	c.missed, c.reloaded = 0, false
	c.typingRoom = "" // the server forgot it with the old connection
	for _, name := range c.order {
		r := c.rooms[name]
		r.joined, r.caught = false, false
		j := &message.Join{Room: name, Nick: r.nick}
		if r.synced {
			j.Resume, j.After = true, r.lastSeq
		}
		if err := c.write(j); err != nil {
			return err
		}
	}
	return nil
}

// onState is the Reconnecting's OnState: the status line shows where the
// connection stands.
func (c *client) onState(s websocket.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = s.Phase == websocket.PhaseOpen
	c.closed = s.Phase == websocket.PhaseClosed
	attempt := "attempt " + strconv.Itoa(s.Attempt)
	switch s.Phase {
	case websocket.PhaseConnecting:
		if s.Attempt == 0 {
			c.setStatus("loading", "Connecting to the chat server…")
		} else {
			c.setStatus("reconnecting", "Reconnecting ("+attempt+")…")
		}
	case websocket.PhaseOpen:
		if c.opens > 1 {
			c.resumedStatus()
		} else {
			c.setStatus("live", "Live: connected to the chat server.")
		}
	case websocket.PhaseReconnecting:
		lost := "Connection lost"
		if c.opens == 0 {
			lost = "Could not connect"
		}
		if ce, ok := s.Err.(*websocket.CloseError); ok {
			lost += " (" + strconv.Itoa(int(ce.Code)) + " " + ce.Code.String() + ")"
		}
		if s.Offline {
			c.setStatus("reconnecting", lost+". Offline: waiting for the network ("+attempt+")…")
		} else {
			c.setStatus("reconnecting", lost+". Reconnecting ("+attempt+", in "+
				dom.Fixed(s.Delay.Seconds(), 1)+" s)…")
		}
	case websocket.PhaseClosed:
		c.setStatus("closed", "Closed. Reload the page to connect again.")
	}
	c.updateControls()
}

// resumedStatus says that the connection is back, and how much it caught
// up with.
func (c *client) resumedStatus() {
	caught := true
	for _, r := range c.rooms {
		caught = caught && r.caught
	}
	text := "Live again: reconnected."
	switch {
	case !caught:
		text = "Live again: reconnected, catching up…"
	case len(c.rooms) > 0:
		text = "Live again: reconnected, resumed (" + count(c.missed, "missed message") + ")."
	}
	if c.reloaded {
		text += " The server had lost track of a room, so its history was loaded afresh."
	}
	c.setStatus("live", text)
}

func (c *client) setStatus(state, text string) {
	c.status.SetData("state", state)
	c.status.SetText(text)
}

// readAll shows what the server sends until the Reconnecting closes.
func (c *client) readAll() {
	ctx := context.Background()
	for {
		var env message.Envelope
		err := c.rc.ReadValue(ctx, &env)
		// No errors.Is here: it would add 60 KB of reflection to the module.
		switch {
		case err == websocket.ErrClosed:
			return
		case errors.Unwrap(err) == message.ErrUnknownKind:
			continue // from a newer server: skip it
		case err != nil:
			c.mu.Lock()
			c.notice.SetText("A message from the server could not be read: " + err.Error())
			c.mu.Unlock()
			continue
		}
		c.mu.Lock()
		c.handle(env.Message)
		c.mu.Unlock()
	}
}

func (c *client) handle(msg message.Message) {
	if e, ok := msg.(*message.Error); ok {
		c.serverError(e)
		return
	}
	r := c.rooms[roomOf(msg)]
	if r == nil {
		return // a room left meanwhile, or a message for no room
	}

	switch m := msg.(type) {
	case *message.Joined:
		if m.Nick != r.nick {
			c.notice.SetText("In #" + r.name + " you are " + m.Nick + ": " + r.nick + " was taken.")
		}
		r.nick, r.joined = m.Nick, true
		r.typists = nil // it may have missed the ends while away
	case *message.History:
		if m.Reset {
			c.reloaded = c.reloaded || r.synced
			r.list.Clear()
			r.lastSeq = 0
		}
		added := 0
		for i := range m.Messages {
			if c.addChat(r, &m.Messages[i]) {
				added++
			}
		}
		r.synced, r.caught = true, true
		if c.opens > 1 {
			if !m.Reset {
				c.missed += added
			}
			if c.live {
				c.resumedStatus()
			}
		}
	case *message.Chat:
		c.addChat(r, m)
		r.typists = without(r.typists, m.Nick)
	case *message.Presence:
		r.nicks = r.nicks[:0]
		for _, n := range m.Nicks {
			r.nicks = insertSorted(r.nicks, n)
		}
	case *message.PresenceChange:
		r.nicks = without(r.nicks, m.Nick)
		if m.Joined {
			r.nicks = insertSorted(r.nicks, m.Nick)
		} else {
			r.typists = without(r.typists, m.Nick)
		}
	case *message.Typing:
		r.typists = without(r.typists, m.Nick)
		if m.Active {
			r.typists = append(r.typists, m.Nick)
		}
	}
	if r.name == c.current {
		c.render()
	}
}

// roomOf returns the room a message from the server is about.
func roomOf(msg message.Message) string {
	switch m := msg.(type) {
	case *message.Joined:
		return m.Room
	case *message.History:
		return m.Room
	case *message.Chat:
		return m.Room
	case *message.Presence:
		return m.Room
	case *message.PresenceChange:
		return m.Room
	case *message.Typing:
		return m.Room
	}
	return ""
}

// addChat shows m at the end of r's messages, unless it has been shown
// already, and reports whether it did. The server never sends a message
// twice, but a resume that overlaps live messages would.
func (c *client) addChat(r *room, m *message.Chat) bool {
	if m.Seq <= r.lastSeq {
		return false
	}
	r.lastSeq = m.Seq
	class := "msg"
	if m.Nick == r.nick {
		class += " mine"
	}
	li := r.list.Append("li", class, "")
	li.SetData("seq", strconv.FormatUint(m.Seq, 10))
	li.Append("time", "", clock(m.Time))
	li.Append("span", "nick", m.Nick)
	li.Append("span", "text", m.Text)
	r.list.ScrollToEnd()
	return true
}

// serverError shows an Error from the server. One about a room the client
// was joining means that it is not in that room.
func (c *client) serverError(e *message.Error) {
	c.notice.SetText("The server says: " + e.Error())
	r := c.rooms[e.Room]
	if r == nil || r.joined {
		return
	}
	switch e.Code {
	case message.CodeBadRoom, message.CodeBadNick, message.CodeInternal:
		c.removeRoom(r)
	}
}

// joinRoom joins the room, or shows it if it is joined already.
func (c *client) joinRoom(nick, name string) {
	nick = trimSpace(nick)
	name = asciiLower(strings.TrimPrefix(trimSpace(name), "#"))
	if err := message.ValidNick(nick); err != nil {
		c.notice.SetText(err.Error())
		return
	}
	if err := message.ValidRoom(name); err != nil {
		c.notice.SetText(err.Error())
		return
	}
	c.notice.SetText("")
	if c.rooms[name] != nil {
		c.show(name)
		return
	}
	r := &room{name: name, nick: nick}
	r.list = c.lists.Append("ul", "log chat-log", "")
	r.list.SetData("room", name)
	r.list.SetAttr("aria-live", "polite")
	r.tab = c.tabs.Append("button", "secondary", "#"+name)
	r.tab.SetAttr("type", "button")
	r.tab.SetData("room", name)
	c.rooms[name] = r
	c.order = append(c.order, name)
	c.show(name)
	// If the connection is down, the next OnOpen joins.
	c.write(&message.Join{Room: name, Nick: nick})
}

func (c *client) leaveRoom() {
	r := c.rooms[c.current]
	if r == nil {
		return
	}
	if r.joined {
		c.write(&message.Leave{Room: r.name}) // if it fails, the server has let go already
	}
	c.removeRoom(r)
}

// removeRoom forgets r and shows another room, if there is one.
func (c *client) removeRoom(r *room) {
	if c.typingRoom == r.name {
		c.typingRoom = "" // the server stops it when the client leaves
	}
	r.list.Remove()
	r.tab.Remove()
	delete(c.rooms, r.name)
	c.order = without(c.order, r.name)
	if c.current == r.name {
		next := ""
		if n := len(c.order); n > 0 {
			next = c.order[n-1]
		}
		c.show(next)
	}
}

// show makes the room the one shown.
func (c *client) show(name string) {
	if c.typingRoom != "" && c.typingRoom != name {
		c.stopTyping()
	}
	if c.rooms[name] == nil {
		name = ""
	}
	c.current = name
	for _, r := range c.rooms {
		shown := r.name == name
		r.list.SetHidden(!shown)
		r.tab.SetAttr("aria-pressed", strconv.FormatBool(shown))
		if shown {
			r.list.ScrollToEnd()
		}
	}
	c.render()
}

// render shows the current room's presence and typing, and enables the
// controls that can be used.
func (c *client) render() {
	r := c.rooms[c.current]
	c.presence.Clear()
	c.typing.SetText("")
	c.updateControls()
	if r == nil {
		return
	}
	for _, n := range r.nicks {
		class := ""
		if n == r.nick {
			class = "me"
		}
		c.presence.Append("li", class, n)
	}
	var typists []string
	for _, n := range r.typists {
		if n != r.nick { // the server does not relay one's own, but nicknames change
			typists = append(typists, n)
		}
	}
	switch len(typists) {
	case 0:
	case 1:
		c.typing.SetText(typists[0] + " is typing…")
	case 2:
		c.typing.SetText(typists[0] + " and " + typists[1] + " are typing…")
	default:
		c.typing.SetText(typists[0] + ", " + typists[1] + " and " + count(len(typists)-2, "other") + " are typing…")
	}
}

func (c *client) updateControls() {
	r := c.rooms[c.current]
	c.join.SetDisabled(c.opens == 0 || c.closed)
	c.text.SetDisabled(r == nil)
	c.leave.SetDisabled(r == nil)
	c.send.SetDisabled(r == nil || !r.joined || !c.live)
}

func (c *client) sendText(text string) {
	r := c.rooms[c.current]
	if r == nil {
		return
	}
	if err := message.ValidText(text); err != nil {
		c.notice.SetText(err.Error())
		return
	}
	if !r.joined || c.write(&message.Send{Room: r.name, Text: text}) != nil {
		c.notice.SetText("Not sent: the connection is down. Your text is still there, to send once the chat is live again.")
		return
	}
	c.notice.SetText("")
	if c.text.Input() == text {
		c.text.SetInput("")
	}
	c.text.Focus() // a click on Send took it: the next message starts here
	if c.typingRoom == r.name {
		c.typingRoom = "" // the server ends "typing" when the message arrives
	}
}

// typed tells the current room that the user is typing, at most every
// typingEvery, or, once the text is empty again, that the user stopped.
func (c *client) typed(empty bool) {
	r := c.rooms[c.current]
	if r == nil || !r.joined {
		return
	}
	if empty {
		c.stopTyping()
		return
	}
	now := dom.Now()
	if c.typingRoom == r.name && now-c.typingAt < typingEvery {
		return
	}
	if c.write(&message.Typing{Room: r.name, Active: true}) == nil {
		c.typingRoom, c.typingAt = r.name, now
	}
}

// stopTyping tells the room it was typing in that the user stopped.
func (c *client) stopTyping() {
	name := c.typingRoom
	if name == "" {
		return
	}
	c.typingRoom = ""
	if r := c.rooms[name]; r != nil && r.joined {
		c.write(&message.Typing{Room: name, Active: false})
	}
}

// The helpers below do what package slices, strings.ToLower and
// strings.TrimSpace would, for a fraction of the module size: those add
// 50 KB, with the Unicode tables they need.

// without returns list without s, reusing its array: assign the result to
// the list.
func without(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	clear(list[len(out):])
	return out
}

// insertSorted inserts s into the sorted list, keeping it sorted.
func insertSorted(list []string, s string) []string {
	i := len(list)
	for i > 0 && list[i-1] > s {
		i--
	}
	list = append(list, "")
	copy(list[i+1:], list[i:])
	list[i] = s
	return list
}

// asciiLower lowercases the ASCII letters of s, which is all a room name
// may have.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// count returns "1 thing" or "n things".
func count(n int, thing string) string {
	s := strconv.Itoa(n) + " " + thing
	if n != 1 {
		s += "s"
	}
	return s
}

// clock returns the time of day of a Unix time in milliseconds, as the
// page's clock shows it: "09:41". It asks the browser's Date, which knows
// the time zone's rules: Go's time.Local in the browser is the offset the
// page started with, wrong after a change to or from summer time, and its
// time-of-day code adds to the module.
func clock(ms int64) string {
	t := js.Global().Get("Date").New(ms)
	return pad2(t.Call("getHours").Int()) + ":" + pad2(t.Call("getMinutes").Int())
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

var (
	adjectives = [...]string{"brave", "calm", "clever", "cosy", "curious", "gentle", "happy", "jolly", "kind", "lucky", "merry", "quiet", "sunny", "swift"}
	animals    = [...]string{"badger", "beaver", "fox", "heron", "koala", "lynx", "otter", "owl", "panda", "puffin", "robin", "seal", "wombat", "wren"}
)

// friendlyNick returns a nickname to start with, such as "curious-otter".
func friendlyNick() string {
	math := js.Global().Get("Math")
	pick := func(n int) int { return int(math.Call("random").Float() * float64(n)) }
	return adjectives[pick(len(adjectives))] + "-" + animals[pick(len(animals))]
}

// trimSpace returns s without the ASCII spaces, tabs and line breaks around
// it: what a text box's value may have that a nickname or message may not.
func trimSpace(s string) string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for s != "" && isSpace(s[0]) {
		s = s[1:]
	}
	for s != "" && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
