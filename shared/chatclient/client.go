// Package chatclient is the client side of Duplex's chat protocol
// (duplex/shared/message), apart from any page: joining rooms, sending,
// typing, and keeping what a UI shows right across dropped connections.
//
// The server numbers each room's messages. The client remembers the last
// number it has shown in each room and, every time the connection comes
// back, joins its rooms again asking for what came after, so that the UI
// shows every message once, in order, however often the network fails;
// a message that comes twice — from the history and live — is dropped.
//
// What the user sends is not lost either (outbox.go): each message gets an
// ID and waits in the room's outbox, which the UI shows as pending, until
// the server acknowledges it or delivers it; after a reconnection it is
// sent again, and the server stores it once; a page that keeps its outbox
// across a reload gives it to the next client (Requeue). The client also
// keeps the resume token the server gives it in each room, with which it
// gets its nickname back when it returns.
//
// A Client talks over the Reconnecting of duplex/shared/conn, so it runs
// wherever a conn.Conn does: in the browser (duplex/wasm/chat gives it the
// browser's WebSocket and a DOM UI), natively, and in tests, against a
// fake connection. It reports what to show through the UI interface.
package chatclient

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"duplex/shared/conn"
	"duplex/shared/message"
	"duplex/shared/wire"
)

// TypingEvery is how often, at most, the client tells a room that its
// user is still typing; the server forgets after 5 s.
const TypingEvery = 2 * time.Second

// ErrNotJoined is what Send returns for a room the user has not joined, or
// has left. The text was not sent.
var ErrNotJoined = errors.New("chatclient: not sent: not in the room")

// A Client is one user's chat session: the rooms they are in, over a
// connection that reconnects by itself.
type Client struct {
	ui    UI
	rc    *conn.Reconnecting
	now   func() time.Time // the clock, for typing; a test may set its own
	newID func() uint64    // picks a message's ID; a test may set its own
	retry time.Duration    // how long a message the server refused for now waits to be sent again
	done  chan struct{}    // closed when the reading goroutine ends

	// mu guards what follows. The reading goroutine, the Reconnecting's
	// hooks and the callers of the methods each run on their own
	// goroutine.
	mu         sync.Mutex
	link       conn.Conn // the connection the rooms were joined on, from OnOpen
	state      conn.State
	opens      int  // connections opened so far
	missed     int  // messages resumed since the last reconnect
	reloaded   bool // a room's history was reset since the last reconnect
	rooms      map[string]*roomState
	order      []string  // the rooms, in the order they were joined
	typingRoom string    // the room told that the user is typing; "" for none
	typingAt   time.Time // when it was last told
}

// A roomState is a room the user has joined, or asked to join.
type roomState struct {
	name    string
	nick    string // the nickname asked for, then the one the server gave
	token   string // the resume token the server gave, "" until the first Joined
	joined  bool   // Joined came on the current connection
	synced  bool   // a History came once: lastSeq is a place to resume from
	caught  bool   // a History came on the current connection
	current bool   // caught up on the current connection: lastSeq reached target
	target  uint64 // the room's last message when the current Joined was sent
	lastSeq uint64 // the sequence number of the last message shown
	nicks   []string
	typists []string
	outbox  outbox
	rejoin  *time.Timer // set while a join the server could not take waits to be made again
}

// Start starts a client: it connects with dial, as conn.Reconnect does
// with opts — whose OnOpen and OnState are the client's own, whatever opts
// sets — and reads what the server sends until Close. It returns at once;
// ui hears what follows.
func Start(ui UI, dial conn.DialFunc, opts *conn.ReconnectOptions) *Client {
	c := &Client{ui: ui, now: time.Now, newID: randomID, retry: RetryAfter, done: make(chan struct{}), rooms: map[string]*roomState{}}
	var o conn.ReconnectOptions
	if opts != nil {
		o = *opts
	}
	o.OnOpen, o.OnState = c.onOpen, c.onState
	c.rc = conn.Reconnect(dial, &o)
	go c.readAll()
	return c
}

// Close leaves the chat: it closes the connection for good, and returns
// once it is closed (see conn.Reconnecting.Close). In a browser, call it
// from a goroutine, not from an event handler.
func (c *Client) Close() error {
	return c.rc.Close(wire.StatusNormalClosure, "")
}

// Done returns a channel that is closed after Close, once the client has
// read the last of what the server sent.
func (c *Client) Done() <-chan struct{} { return c.done }

// write sends m on the connection the rooms were joined on. c.mu must be
// held, so that nothing goes out between OnOpen's Joins.
func (c *Client) write(m message.Message) error {
	if c.link == nil {
		return conn.ErrDisconnected
	}
	return conn.WriteValue(context.Background(), c.link, message.Envelope{Message: m})
}

// onOpen is the Reconnecting's OnOpen: on every new connection, before
// anything else goes out, it joins the rooms again — resuming after the
// last message shown in each.
func (c *Client) onOpen(link conn.Conn) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.link = link
	c.opens++
	c.missed, c.reloaded = 0, false
	c.typingRoom = "" // the server forgot it with the old connection
	for _, name := range c.order {
		r := c.rooms[name]
		r.joined, r.caught, r.current = false, false, false
		r.outbox.disconnected() // what was in flight is sent again once the room is back
		if err := c.write(r.join()); err != nil {
			return err
		}
		c.changed(r)
	}
	return nil
}

// join returns the Join for r: resuming after the last message shown, if
// there is one, with the token the server gave, if any.
func (r *roomState) join() *message.Join {
	j := &message.Join{Room: r.name, Nick: r.nick, Token: r.token}
	if r.synced {
		j.Resume, j.After = true, r.lastSeq
	}
	return j
}

// joinLater asks the server again for a room it could not let the user
// into for the moment, after RetryAfter, keeping what waits to be sent
// there. c.mu must be held.
func (c *Client) joinLater(r *roomState) {
	if r.rejoin != nil {
		return
	}
	r.rejoin = time.AfterFunc(c.retry, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.rooms[r.name] != r || r.rejoin == nil {
			return // left meanwhile
		}
		r.rejoin = nil
		if !r.joined {
			c.write(r.join()) // if it fails, OnOpen joins
		}
	})
}

// onState is the Reconnecting's OnState.
func (c *Client) onState(s conn.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = s
	c.ui.Status(c.status())
}

// status returns the Status to report. c.mu must be held.
func (c *Client) status() Status {
	s := Status{State: c.state, Opens: c.opens, Rooms: len(c.rooms), Missed: c.missed, Reloaded: c.reloaded}
	for _, r := range c.rooms {
		s.CatchingUp = s.CatchingUp || !r.caught
	}
	s.CatchingUp = s.CatchingUp && c.opens > 1
	return s
}

// changed reports r to the UI. c.mu must be held.
func (c *Client) changed(r *roomState) {
	var typing []string
	for _, n := range r.typists {
		if n != r.nick { // the server does not relay one's own, but nicknames change
			typing = append(typing, n)
		}
	}
	c.ui.RoomChanged(Room{
		Name:    r.name,
		Nick:    r.nick,
		Joined:  r.joined,
		Present: append([]string(nil), r.nicks...),
		Typing:  typing,
	})
}

// Join joins the room as nick — both as the user typed them: it trims the
// spaces around them, and a leading '#' and the room's capitals — and
// returns the room's name. If the client is in the room already, it does
// nothing more. Otherwise it reports the room to the UI, and asks the
// server, now or, if the connection is down, as soon as it is back. The
// error is a *message.Error for a nickname or room name that is not valid.
func (c *Client) Join(nick, room string) (string, error) {
	nick = trimSpace(nick)
	name := asciiLower(strings.TrimPrefix(trimSpace(room), "#"))
	if err := message.ValidNick(nick); err != nil {
		return "", err
	}
	if err := message.ValidRoom(name); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rooms[name] != nil {
		return name, nil
	}
	r := &roomState{name: name, nick: nick}
	c.rooms[name] = r
	c.order = append(c.order, name)
	c.changed(r)
	c.write(&message.Join{Room: name, Nick: nick}) // if it fails, OnOpen joins
	return name, nil
}

// Leave leaves the room, and reports it removed. The messages still in its
// outbox are dropped.
func (c *Client) Leave(room string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.rooms[room]
	if r == nil {
		return
	}
	if r.joined {
		c.write(&message.Leave{Room: r.name}) // if it fails, the server has let go already
	}
	c.removeRoom(r, nil)
}

// removeRoom forgets r, and reports it removed. c.mu must be held.
func (c *Client) removeRoom(r *roomState, err error) {
	if c.typingRoom == r.name {
		c.typingRoom = "" // the server stops it when the client leaves
	}
	r.outbox.drop()
	if r.rejoin != nil {
		r.rejoin.Stop()
	}
	delete(c.rooms, r.name)
	c.order = without(c.order, r.name)
	c.ui.RoomRemoved(r.name, err)
}

// Typing tells the room whether the user is typing: that they are, at most
// every TypingEvery, or that they stopped. Typing in one room stops it in
// another. It does nothing in a room the user is not in at the moment.
func (c *Client) Typing(room string, active bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.rooms[room]
	if r == nil || !r.joined {
		return
	}
	if !active {
		c.stopTyping()
		return
	}
	now := c.now()
	if c.typingRoom == room && now.Sub(c.typingAt) < TypingEvery {
		return
	}
	if c.typingRoom != room {
		c.stopTyping()
	}
	if c.write(&message.Typing{Room: room, Active: true}) == nil {
		c.typingRoom, c.typingAt = room, now
	}
}

// StopTyping tells the room the user was typing in, if any, that they
// stopped: call it when the text box loses focus, or another room is shown.
func (c *Client) StopTyping() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopTyping()
}

func (c *Client) stopTyping() {
	name := c.typingRoom
	if name == "" {
		return
	}
	c.typingRoom = ""
	if r := c.rooms[name]; r != nil && r.joined {
		c.write(&message.Typing{Room: name, Active: false})
	}
}
