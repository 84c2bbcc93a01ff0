// Package chat is Duplex's chat server: rooms created on demand, nicknames,
// presence, typing indicators, history, resume without loss after a
// dropped connection, and messages stored exactly once.
//
// hub.go holds the rooms this instance serves and room.go one of them;
// client.go serves one connection and requests.go what it asks for;
// endpoint.go admits the connections. A Broker keeps each room's log and
// carries its events: Memory in this process (memory.go), or NATS
// JetStream across instances (nats*.go), which the default single process
// runs embedded, storing under a data directory (embedded.go, backend.go).
// The messages themselves are defined in duplex/shared/message, which the
// browser client uses too.
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
	History    int           // messages sent on join, and per batch on resume; default 100
	QueueBytes int           // bytes waiting to be written to one connection before it is dropped as too slow; default 1 MiB
	Rate       float64       // messages a connection may send per second, sustained; default 5
	Burst      int           // and in a burst; default 10
	TypingTTL  time.Duration // how long "typing" lasts without being renewed; default 5s

	MaxRooms          int // rooms open on this instance at once; default 10,000
	MaxRoomsPerClient int // rooms one connection may be in; default 20

	// PublishTimeout bounds how long a message waits to be stored, while
	// the broker is out of reach, before its sender is told to send it
	// again; default 15s.
	PublishTimeout time.Duration

	Broker Broker // nil for a Memory broker
	Log    *slog.Logger
	Stats  *Stats // nil if nobody counts
}

func (c Config) withDefaults() Config {
	if c.History <= 0 {
		c.History = 100
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = 1 << 20
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
	if c.MaxRooms <= 0 {
		c.MaxRooms = 10_000
	}
	if c.MaxRoomsPerClient <= 0 {
		c.MaxRoomsPerClient = 20
	}
	if c.PublishTimeout <= 0 {
		c.PublishTimeout = 15 * time.Second
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
// It never holds its lock, nor a room's, across a call to the broker: a
// broker may be a network round trip away.
type Hub struct {
	cfg Config

	mu    sync.Mutex // guards rooms; never held with a room's lock
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

// join claims nick in the room for h, or the first free variant of it
// (see message.AltNick), on every instance, then puts c in the room under
// it. It returns the room and the nickname given.
func (hub *Hub) join(ctx context.Context, c *client, name, nick string, h Holder) (*room, string, error) {
	given := ""
	for n := 1; given == ""; n++ {
		if n > maxNickTries {
			return nil, "", errNickTaken
		}
		try := nick
		if n > 1 {
			try = message.AltNick(nick, n)
		}
		ok, err := hub.cfg.Broker.Claim(ctx, name, try, h)
		if err != nil {
			return nil, "", err
		}
		if ok {
			given = try
		}
	}
	r, err := hub.enter(ctx, c, name, &member{nick: given, session: h.Session, owner: h.Owner, version: c.version, syncing: true})
	if err != nil {
		hub.release(ctx, name, given, h.Session)
		return nil, "", err
	}
	return r, given, nil
}

// enter adds m, c's membership, to the room, opening the room first if
// it is not open on this instance: subscribing to it, then listing its
// members, with no lock held.
func (hub *Hub) enter(ctx context.Context, c *client, name string, m *member) (*room, error) {
	for {
		hub.mu.Lock()
		r := hub.rooms[name]
		opening := r == nil
		if opening {
			if len(hub.rooms) >= hub.cfg.MaxRooms {
				hub.mu.Unlock()
				return nil, ErrTooManyRooms
			}
			r = newRoom(name, hub)
			hub.rooms[name] = r
		}
		hub.mu.Unlock()

		if opening {
			r.open(ctx)
		}
		select {
		case <-r.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if r.err != nil {
			return nil, r.err
		}
		if r.add(c, m) {
			return r, nil
		}
		hub.drop(r) // emptied and closed meanwhile: open it again
	}
}

// drop forgets r, if it is still the hub's room of its name.
func (hub *Hub) drop(r *room) {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	if hub.rooms[r.name] == r {
		delete(hub.rooms, r.name)
	}
}

// leave takes c out of the room, closes the room when it is empty, and
// releases c's nickname. It returns the nickname, and whether the release
// gave it up — it did not if another session took it over, and then
// nobody is to be told that it left.
func (hub *Hub) leave(ctx context.Context, c *client, r *room) (nick string, released bool) {
	m, empty := r.remove(c)
	if empty {
		hub.drop(r)
		r.stop()
	}
	if m == nil {
		return "", false
	}
	return m.nick, hub.release(ctx, r.name, m.nick, m.session)
}

func (hub *Hub) release(ctx context.Context, room, nick, session string) bool {
	released, err := hub.cfg.Broker.Release(ctx, room, nick, session)
	if err != nil {
		hub.cfg.Log.Warn("chat: releasing a nickname failed", "room", room, "nick", nick, "err", err)
	}
	return released
}

func (hub *Hub) announce(ctx context.Context, room string, m message.Message) {
	if err := hub.cfg.Broker.Announce(ctx, room, m); err != nil {
		hub.cfg.Log.Warn("chat: announce failed", "room", room, "kind", m.Kind(), "err", err)
	}
}
