package chat

import (
	"context"
	"sync"

	"duplex/shared/message"
)

// A Broker keeps each room's log of messages and carries what happens in a
// room to every server instance that has members there. Memory, the
// default, serves one process; a NATS broker spans instances.
type Broker interface {
	// Publish gives c the room's next sequence number, stores it in the
	// room's log, and delivers it to the room's subscribers, on every
	// instance, in sequence order.
	Publish(ctx context.Context, c *message.Chat) error

	// Since returns up to limit of the room's messages with sequence
	// numbers above after, oldest first. ok is false if the log no longer
	// holds the message after after: the caller is too far behind.
	Since(ctx context.Context, room string, after uint64, limit int) (msgs []message.Chat, ok bool, err error)

	// Latest returns the room's latest n messages, oldest first, and the
	// sequence number of the latest, 0 if there are none.
	Latest(ctx context.Context, room string, n int) (msgs []message.Chat, last uint64, err error)

	// Announce delivers an event that is not logged, such as presence or
	// typing, to the room's subscribers on every instance.
	Announce(ctx context.Context, room string, m message.Message) error

	// Subscribe calls deliver with each message published and each event
	// announced in the room, one at a time, until stop is called.
	Subscribe(room string, deliver func(message.Message)) (stop func(), err error)

	// Claim takes nick in the room for a member of this instance: ok is
	// false if a member of any instance has it already. A nickname is
	// held by one member of a room at a time until Release gives it up.
	Claim(ctx context.Context, room, nick string) (ok bool, err error)

	// Release gives up a nickname that Claim took.
	Release(ctx context.Context, room, nick string) error

	// Members returns the nicknames claimed in the room, on every
	// instance, in no particular order.
	Members(ctx context.Context, room string) ([]string, error)
}

// Memory is a Broker for a single process. Each room's log keeps its
// latest Keep messages. The zero value keeps 1000.
type Memory struct {
	Keep int

	mu      sync.Mutex // taken last: never held while another lock is taken
	rooms   map[string]*memoryRoom
	members map[string]map[string]bool // room → nicknames claimed
}

type memoryRoom struct {
	mu   sync.Mutex // held while a message is published, so delivery is in order
	log  []message.Chat
	last uint64 // sequence number of the latest message
	subs map[*func(message.Message)]struct{}
}

func (m *Memory) room(name string) *memoryRoom {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rooms == nil {
		m.rooms = map[string]*memoryRoom{}
	}
	r := m.rooms[name]
	if r == nil {
		r = &memoryRoom{subs: map[*func(message.Message)]struct{}{}}
		m.rooms[name] = r
	}
	return r
}

func (m *Memory) keep() int {
	if m.Keep > 0 {
		return m.Keep
	}
	return 1000
}

// Publish implements Broker.
func (m *Memory) Publish(_ context.Context, c *message.Chat) error {
	r := m.room(c.Room)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last++
	c.Seq = r.last
	if len(r.log) == m.keep() {
		copy(r.log, r.log[1:])
		r.log = r.log[:len(r.log)-1]
	}
	r.log = append(r.log, *c)
	for deliver := range r.subs {
		(*deliver)(c)
	}
	return nil
}

// Since implements Broker.
func (m *Memory) Since(_ context.Context, room string, after uint64, limit int) ([]message.Chat, bool, error) {
	r := m.room(room)
	r.mu.Lock()
	defer r.mu.Unlock()
	if after >= r.last {
		return nil, after == r.last, nil
	}
	first := r.last - uint64(len(r.log)) + 1 // sequence number of log[0]
	if after+1 < first {
		return nil, false, nil
	}
	msgs := r.log[after+1-first:]
	return append([]message.Chat(nil), msgs[:min(limit, len(msgs))]...), true, nil
}

// Latest implements Broker.
func (m *Memory) Latest(_ context.Context, room string, n int) ([]message.Chat, uint64, error) {
	r := m.room(room)
	r.mu.Lock()
	defer r.mu.Unlock()
	msgs := r.log[max(0, len(r.log)-n):]
	return append([]message.Chat(nil), msgs...), r.last, nil
}

// Announce implements Broker.
func (m *Memory) Announce(_ context.Context, room string, msg message.Message) error {
	r := m.room(room)
	r.mu.Lock()
	defer r.mu.Unlock()
	for deliver := range r.subs {
		(*deliver)(msg)
	}
	return nil
}

// Subscribe implements Broker.
func (m *Memory) Subscribe(room string, deliver func(message.Message)) (func(), error) {
	r := m.room(room)
	key := &deliver
	r.mu.Lock()
	r.subs[key] = struct{}{}
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.subs, key)
		r.mu.Unlock()
	}, nil
}

// Claim implements Broker.
func (m *Memory) Claim(_ context.Context, room, nick string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.members[room][nick] {
		return false, nil
	}
	if m.members == nil {
		m.members = map[string]map[string]bool{}
	}
	if m.members[room] == nil {
		m.members[room] = map[string]bool{}
	}
	m.members[room][nick] = true
	return true, nil
}

// Release implements Broker.
func (m *Memory) Release(_ context.Context, room, nick string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.members[room], nick)
	if len(m.members[room]) == 0 {
		delete(m.members, room)
	}
	return nil
}

// Members implements Broker.
func (m *Memory) Members(_ context.Context, room string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	nicks := make([]string, 0, len(m.members[room]))
	for nick := range m.members[room] {
		nicks = append(nicks, nick)
	}
	return nicks, nil
}
