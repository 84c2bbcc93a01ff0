package chat

import (
	"context"
	"sync"
	"time"

	"duplex/shared/message"
)

// A room is this instance's view of a chat room: its local members, and
// who is in it on every instance.
type room struct {
	name string
	hub  *Hub

	// Set by open before ready is closed; read-only afterwards.
	ready chan struct{}
	err   error  // why the room could not be opened
	stop  func() // ends the broker subscription

	// mu guards what follows. It is held while the broker delivers, and
	// never across a call to the broker.
	mu      sync.Mutex
	members map[*client]*member
	closed  bool // the last member left: the hub opens a new room for the next

	// present holds the nicknames in the room on every instance: the
	// broker's list, taken once the subscription is on, and the presence
	// changes delivered since. Changes delivered before the list came wait
	// in early.
	present map[string]bool
	early   []*message.PresenceChange
	listed  bool

	typing map[string]*time.Timer // nick → when "typing" expires
}

// A member is a client in a room. Until it has been sent the room's
// history, the chats the room delivers wait in pending, so that none is
// lost or sent twice between the history and the live messages.
type member struct {
	nick    string
	session string // its claim of nick (see Holder)
	owner   string // its resume token's owner
	version byte   // the protocol version of its connection
	syncing bool
	pending []*message.Chat
	lastSeq uint64 // the latest message it was sent
}

// maxPending bounds what waits for a member that is being sent the
// history: one that has more waiting is too slow.
const maxPending = 4096

func newRoom(name string, hub *Hub) *room {
	return &room{
		name:    name,
		hub:     hub,
		ready:   make(chan struct{}),
		members: map[*client]*member{},
		present: map[string]bool{},
		typing:  map[string]*time.Timer{},
	}
}

// open subscribes to the room, then lists who is in it, and closes ready.
// A room that cannot be opened leaves the hub, and its err says why.
func (r *room) open(ctx context.Context) {
	defer close(r.ready)
	broker := r.hub.cfg.Broker
	r.stop, r.err = broker.Subscribe(r.name, r.deliver)
	if r.err != nil {
		r.hub.drop(r)
		return
	}
	// Listed after the subscription is on, so that every change after the
	// list is delivered: a member claims its nickname before it is
	// announced, and releases it before it is announced gone.
	nicks, err := broker.Members(ctx, r.name)
	if err != nil {
		r.hub.cfg.Log.Warn("chat: listing a room's members failed", "room", r.name, "err", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range nicks {
		r.present[n] = true
	}
	for _, pc := range r.early {
		r.applyPresence(pc)
	}
	r.early, r.listed = nil, true
}

// add makes c a member, unless the room has closed.
func (r *room) add(c *client, m *member) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.members[c] = m
	return true
}

// remove takes c out and returns its membership, nil if it was not a
// member, and whether the room is now empty, and so closed.
func (r *room) remove(c *client) (m *member, empty bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m = r.members[c]; m != nil {
		delete(r.members, c)
		if t := r.typing[m.nick]; t != nil && !r.hasNick(m.nick) {
			t.Stop()
			delete(r.typing, m.nick)
		}
	}
	if len(r.members) == 0 && !r.closed {
		r.closed, empty = true, true
	}
	return m, empty
}

// hasNick reports whether a local member goes by nick: after a takeover,
// an old session and its successor may both be here for a while. r.mu
// must be held.
func (r *room) hasNick(nick string) bool {
	for _, m := range r.members {
		if m.nick == nick {
			return true
		}
	}
	return false
}

// member returns c's membership, or nil.
func (r *room) member(c *client) *member {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.members[c]
}

// applyPresence applies a presence change to the list. r.mu must be held.
func (r *room) applyPresence(pc *message.PresenceChange) {
	if pc.Joined {
		r.present[pc.Nick] = true
	} else {
		delete(r.present, pc.Nick)
	}
}

// synced sends c its Joined answer, the room's presence, and what it
// missed — the history batches, already encoded — then the chats
// delivered meanwhile that come after them; from then on the room
// delivers to c directly.
//
// The presence list is the room's, kept up to date by what the broker
// delivers, with this instance's members, some of whom may not have been
// announced yet: nothing asks the broker, under the room's lock. Since
// deliver applies a change to the list under the same lock, a change
// delivered before the list is taken is reflected in it, and one
// delivered after it is sent after it; a change may reach c twice, in the
// list and after it — a local member's arrival, announced after — which
// is harmless since applying one twice leaves the same set.
func (r *room) synced(c *client, joined []byte, history [][]byte, lastSeq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.members[c]
	if m == nil {
		return
	}
	nicks := make([]string, 0, len(r.present)+1)
	for n := range r.present {
		nicks = append(nicks, n)
	}
	var local map[string]bool // the members not announced yet
	for _, o := range r.members {
		if !r.present[o.nick] && !local[o.nick] {
			if local == nil {
				local = map[string]bool{}
			}
			local[o.nick] = true
			nicks = append(nicks, o.nick)
		}
	}
	c.enqueue(joined)
	c.enqueue(message.AppendVersion(nil, m.version, &message.Presence{Room: r.name, Nicks: nicks}))
	for _, f := range history {
		c.enqueue(f)
	}
	m.lastSeq = lastSeq
	for _, chat := range m.pending {
		if chat.Seq > m.lastSeq {
			c.enqueue(message.AppendVersion(nil, m.version, chat))
			m.lastSeq = chat.Seq
		}
	}
	m.syncing, m.pending = false, nil
}

// deliver passes a message from the broker to the members: each chat to
// all, once; presence changes and typing to all but the member concerned.
// It encodes the message once for each protocol version in use.
func (r *room) deliver(msg message.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	chat, _ := msg.(*message.Chat)
	about := ""
	switch m := msg.(type) {
	case *message.PresenceChange:
		about = m.Nick
		if !r.listed {
			r.early = append(r.early, m)
		} else {
			r.applyPresence(m)
		}
	case *message.Typing:
		about = m.Nick
	}
	var frames [message.Version + 1][]byte
	queued := 0 // counted once, not once per member
	defer func() { r.hub.cfg.Stats.delivered(queued) }()
	for c, m := range r.members {
		switch {
		case about != "" && m.nick == about:
			continue
		case m.syncing && chat == nil:
			continue // the presence it will be sent is newer
		case m.syncing:
			if len(m.pending) < maxPending {
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
		if frames[m.version] == nil {
			frames[m.version] = message.AppendVersion(nil, m.version, msg)
		}
		if c.push(frames[m.version]) {
			queued++
		}
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
