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
	"errors"
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
	Stats     *Stats // nil if nobody counts
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

// maxNickTries bounds the variants of a nickname tried by join.
const maxNickTries = 100

// errNickTaken is returned by join when nick and its variants are taken.
var errNickTaken = errors.New("chat: too many members go by this nickname")

// join claims nick in the room, or the first free variant of it (see
// message.AltNick), on every instance, then puts c in the room under it. It
// returns the room and the nickname given.
func (h *Hub) join(ctx context.Context, c *client, name, nick string) (*room, string, error) {
	given := ""
	for n := 1; given == ""; n++ {
		if n > maxNickTries {
			return nil, "", errNickTaken
		}
		try := nick
		if n > 1 {
			try = message.AltNick(nick, n)
		}
		ok, err := h.cfg.Broker.Claim(ctx, name, try)
		if err != nil {
			return nil, "", err
		}
		if ok {
			given = try
		}
	}
	r, err := h.enter(c, name, given)
	if err != nil {
		h.release(ctx, name, given)
		return nil, "", err
	}
	return r, given, nil
}

// enter puts c in the room under nick, subscribing to the room first if c
// is the instance's first member there.
func (h *Hub) enter(c *client, name, nick string) (*room, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[name]
	if r == nil {
		r = &room{name: name, hub: h, members: map[*client]*member{}, typing: map[string]*time.Timer{}}
		stop, err := h.cfg.Broker.Subscribe(name, r.deliver)
		if err != nil {
			return nil, err
		}
		r.stop = stop
		h.rooms[name] = r
	}
	r.add(c, nick)
	return r, nil
}

// leave takes c out of the room, drops the room when it is empty, and
// releases c's nickname.
func (h *Hub) leave(ctx context.Context, c *client, r *room) {
	h.mu.Lock()
	nick, left := r.remove(c)
	if left == 0 {
		r.stop()
		delete(h.rooms, r.name)
	}
	h.mu.Unlock()
	if nick != "" {
		h.release(ctx, r.name, nick)
	}
}

func (h *Hub) release(ctx context.Context, room, nick string) {
	if err := h.cfg.Broker.Release(ctx, room, nick); err != nil {
		h.cfg.Log.Warn("chat: releasing a nickname failed", "room", room, "nick", nick, "err", err)
	}
}

// A room is this instance's view of a chat room: the local members.
type room struct {
	name string
	hub  *Hub
	stop func() // ends the broker subscription

	mu      sync.Mutex
	members map[*client]*member
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

// add makes c a member under nick, which it has claimed.
func (r *room) add(c *client, nick string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.members[c] = &member{nick: nick, syncing: true}
}

// remove takes c out and returns its nickname, "" if it was not a
// member, and how many members are left.
func (r *room) remove(c *client) (nick string, left int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.members[c]; m != nil {
		nick = m.nick
		delete(r.members, c)
		if t := r.typing[m.nick]; t != nil {
			t.Stop()
			delete(r.typing, m.nick)
		}
	}
	return nick, len(r.members)
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
// delivers to c directly.
//
// Presence, the members of every instance, is asked of the broker here,
// under the lock that deliveries take, so that no join or leave falls
// between the list and the changes that follow it: a member claims its
// nickname before its PresenceChange is announced, and releases it
// before announcing that it left, so a change delivered before the list
// is taken is reflected in it, and one delivered after is sent after it.
// A change may thus reach c twice, in the list and after it, when it is
// delivered here after another instance made it: harmless, since applying
// a change twice leaves the same set. If the broker fails, Presence lists
// the members of this instance.
func (r *room) synced(ctx context.Context, c *client, joined []byte, history [][]byte, lastSeq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.members[c]
	if m == nil {
		return
	}
	nicks, err := r.hub.cfg.Broker.Members(ctx, r.name)
	if err != nil {
		r.hub.cfg.Log.Warn("chat: listing a room's members failed", "room", r.name, "err", err)
		nicks = nicks[:0]
		for _, m := range r.members {
			nicks = append(nicks, m.nick)
		}
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
