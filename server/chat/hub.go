// Package chat is Duplex's chat server: rooms created on demand, nicknames,
// presence, typing indicators, history, and resume without loss after a
// dropped connection.
//
// hub.go holds the rooms, client.go serves one connection, and broker.go
// keeps each room's log of messages and carries its events: in memory for
// one process, or through NATS across instances. The messages themselves
// are defined in duplex/shared/message, which the browser client uses too.
package chat

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"duplex/shared/message"
)

// Config tunes a Hub. The zero value gives the defaults.
type Config struct {
	History   int           // messages sent on join, and per batch on resume; default 100
	QueueSize int           // messages waiting to be written to one connection; default 256
	Rate      float64       // messages a connection may send per second, sustained; default 5
	Burst     int           // and in a burst; default 10
	TypingTTL time.Duration // how long "typing" lasts without being renewed; default 5s
	Broker    Broker        // nil for a Memory broker
	Log       *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.History <= 0 {
		c.History = 100
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 256
	}
	if c.Rate <= 0 {
		c.Rate = 5
	}
	if c.Burst <= 0 {
		c.Burst = 10
	}
	if c.TypingTTL <= 0 {
		c.TypingTTL = 5 * time.Second
	}
	if c.Broker == nil {
		c.Broker = &Memory{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// A Hub holds the rooms that the clients of this server instance are in.
type Hub struct {
	cfg Config

	mu    sync.Mutex
	rooms map[string]*room
}

// NewHub returns a hub configured by cfg.
func NewHub(cfg Config) *Hub {
	return &Hub{cfg: cfg.withDefaults(), rooms: map[string]*room{}}
}

// join puts c in the room under nick, or the first free variant of it, and
// returns the room and the nickname given.
func (h *Hub) join(c *client, name, nick string) (*room, string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[name]
	if r == nil {
		r = &room{name: name, hub: h, members: map[*client]*member{}, nicks: map[string]*client{}, typing: map[string]*time.Timer{}}
		stop, err := h.cfg.Broker.Subscribe(name, r.deliver)
		if err != nil {
			return nil, "", err
		}
		r.stop = stop
		h.rooms[name] = r
	}
	return r, r.add(c, nick), nil
}

// leave takes c out of the room, and drops the room when it is empty.
func (h *Hub) leave(c *client, r *room) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.remove(c) == 0 {
		r.stop()
		delete(h.rooms, r.name)
	}
}

// A room is this instance's view of a chat room: the local members.
type room struct {
	name string
	hub  *Hub
	stop func() // ends the broker subscription

	mu      sync.Mutex
	members map[*client]*member
	nicks   map[string]*client
	typing  map[string]*time.Timer // nick → when "typing" expires
}

// A member is a client in a room. Until it has been sent the room's
// history, the messages delivered to it wait in pending, so that none is
// lost or sent twice between the history and the live messages.
type member struct {
	nick    string
	syncing bool
	pending []*message.Chat
	lastSeq uint64 // the latest message it was sent
}

// add makes c a member under nick or, if that is taken, the first free
// variant of it; it returns the nickname given.
func (r *room) add(c *client, nick string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	given := nick
	for n := 2; r.nicks[given] != nil; n++ {
		given = message.AltNick(nick, n)
	}
	r.members[c] = &member{nick: given, syncing: true}
	r.nicks[given] = c
	return given
}

// remove takes c out and returns how many members are left.
func (r *room) remove(c *client) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.members[c]; m != nil {
		delete(r.nicks, m.nick)
		delete(r.members, c)
		if t := r.typing[m.nick]; t != nil {
			t.Stop()
			delete(r.typing, m.nick)
		}
	}
	return len(r.members)
}

// nick returns c's nickname in the room, or "" if c is not a member.
func (r *room) nick(c *client) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.members[c]; m != nil {
		return m.nick
	}
	return ""
}

// synced sends c its Joined answer, the room's presence, and what it
// missed — the history batches, already encoded — then the messages
// delivered meanwhile that come after them; from then on the room
// delivers to c directly. Presence is taken here, under the lock that
// deliveries take, so that no join or leave falls between the list and
// the changes that follow it.
func (r *room) synced(c *client, joined []byte, history [][]byte, lastSeq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.members[c]
	if m == nil {
		return
	}
	nicks := make([]string, 0, len(r.nicks))
	for n := range r.nicks {
		nicks = append(nicks, n)
	}
	c.enqueue(joined)
	c.enqueue(message.Append(nil, &message.Presence{Room: r.name, Nicks: nicks}))
	for _, f := range history {
		c.enqueue(f)
	}
	m.lastSeq = lastSeq
	for _, msg := range m.pending {
		if msg.Seq > m.lastSeq {
			c.enqueue(message.Append(nil, msg))
			m.lastSeq = msg.Seq
		}
	}
	m.syncing, m.pending = false, nil
}

// deliver passes a message from the broker to the members: each chat to
// all, once; presence changes and typing to all but the member concerned.
// It encodes the message once for everyone.
func (r *room) deliver(msg message.Message) {
	var frame []byte
	r.mu.Lock()
	defer r.mu.Unlock()
	chat, _ := msg.(*message.Chat)
	about := ""
	switch m := msg.(type) {
	case *message.PresenceChange:
		about = m.Nick
	case *message.Typing:
		about = m.Nick
	}
	for c, m := range r.members {
		switch {
		case about != "" && m.nick == about:
			continue
		case m.syncing && chat == nil:
			continue // the presence it will be sent is newer
		case m.syncing:
			if len(m.pending) < r.hub.cfg.QueueSize {
				m.pending = append(m.pending, chat)
			} else {
				c.tooSlow()
			}
			continue
		case chat != nil && chat.Seq <= m.lastSeq:
			continue // it had it in its history
		case chat != nil:
			m.lastSeq = chat.Seq
		}
		if frame == nil {
			frame = message.Append(nil, msg)
		}
		c.enqueue(frame)
	}
}

// setTyping records that nick is typing, or not any more, and tells the
// room. A typing indicator that is not renewed expires after TypingTTL.
func (r *room) setTyping(ctx context.Context, nick string, active bool) {
	r.mu.Lock()
	t := r.typing[nick]
	switch {
	case active && t != nil:
		t.Reset(r.hub.cfg.TypingTTL)
		r.mu.Unlock()
		return // the others know already
	case active:
		r.typing[nick] = time.AfterFunc(r.hub.cfg.TypingTTL, func() {
			r.setTyping(context.Background(), nick, false)
		})
	case t != nil:
		t.Stop()
		delete(r.typing, nick)
	default:
		r.mu.Unlock()
		return // it was not typing
	}
	r.mu.Unlock()
	r.hub.announce(ctx, r.name, &message.Typing{Room: r.name, Nick: nick, Active: active})
}

func (h *Hub) announce(ctx context.Context, room string, m message.Message) {
	if err := h.cfg.Broker.Announce(ctx, room, m); err != nil {
		h.cfg.Log.Warn("chat: announce failed", "room", room, "kind", m.Kind(), "err", err)
	}
}
