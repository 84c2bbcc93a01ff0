package chat

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"duplex/shared/message"
)

// Memory is a Broker for a single process that keeps everything in its
// memory, and so loses it when the process stops: for tests and demos
// (the command's -memory).
//
// Every bound has a default, taken when the field is zero. A room's log
// keeps its latest Keep messages, up to MaxBytes of them, none older than
// MaxAge; a room whose log is empty and that nobody subscribes to is
// forgotten. At most MaxRooms rooms are kept: to make room for a new one,
// the room that was least recently used among those nobody subscribes to
// is forgotten, history and all; if every room has subscribers, the new
// one is refused with ErrTooManyRooms. A message published again under
// the same msgID within Dedup, and among the room's latest dedupMax, is
// stored once.
type Memory struct {
	Keep     int           // messages kept per room; default 1000
	MaxBytes int           // bytes kept per room, counted as messageSize does; default 1 MiB
	MaxAge   time.Duration // how long a message is kept; default 7 days
	MaxRooms int           // rooms kept; default 1000
	Dedup    time.Duration // the de-duplication window; default 2 minutes

	clock func() time.Time // time.Now, unless a test sets its own

	// mu guards rooms and claims. It may be held while a room's lock is
	// taken, never the other way round.
	mu     sync.Mutex
	rooms  map[string]*memoryRoom
	claims map[string]map[string]Holder // room → nickname → who holds it
}

// dedupMax bounds the message IDs a room remembers for de-duplication.
const dedupMax = 10_000

// defaultMemoryRooms is Memory's default MaxRooms: each may hold MaxBytes.
const defaultMemoryRooms = 1000

// A memoryRoom is one room's log and subscribers.
type memoryRoom struct {
	// mu is held while a message is published and delivered, so that
	// deliveries are in order and never overlap.
	mu    sync.Mutex
	log   []message.Chat // oldest first
	stamp []int64        // when each message of log was stored, in Unix nanoseconds
	bytes int            // the log's size, as messageSize counts it
	last  uint64         // sequence number of the latest message
	ids   map[string]uint64
	idLog []idEntry // the keys of ids, oldest first
	subs  map[*func(message.Message)]struct{}
	gone  bool // forgotten: the next user looks the room up again

	nsubs  atomic.Int32 // len(subs), for eviction without the lock
	active atomic.Int64 // when it was last used, in Unix nanoseconds
}

type idEntry struct {
	id string
	at int64 // Unix nanoseconds
}

// messageSize is what a message counts against MaxBytes: its strings and
// a rough overhead.
func messageSize(c *message.Chat) int { return len(c.Nick) + len(c.Text) + 48 }

func (m *Memory) now() time.Time {
	if m.clock != nil {
		return m.clock()
	}
	return time.Now()
}

func (m *Memory) keep() int             { return orDefault(m.Keep, defaultKeep) }
func (m *Memory) maxBytes() int         { return orDefault(m.MaxBytes, defaultMaxBytes) }
func (m *Memory) maxRooms() int         { return orDefault(m.MaxRooms, defaultMemoryRooms) }
func (m *Memory) maxAge() time.Duration { return orDefault(m.MaxAge, defaultMaxAge) }
func (m *Memory) dedup() time.Duration  { return orDefault(m.Dedup, defaultDedup) }

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// lookup returns the room, locked, or nil if it does not exist and create
// is false. A room is created only to be written to: reading one that does
// not exist finds it empty.
func (m *Memory) lookup(name string, create bool) (*memoryRoom, error) {
	for {
		m.mu.Lock()
		r := m.rooms[name]
		if r == nil && create {
			if err := m.makeRoomLocked(); err != nil {
				m.mu.Unlock()
				return nil, err
			}
			r = &memoryRoom{subs: map[*func(message.Message)]struct{}{}, ids: map[string]uint64{}}
			if m.rooms == nil {
				m.rooms = map[string]*memoryRoom{}
			}
			m.rooms[name] = r
		}
		m.mu.Unlock()
		if r == nil {
			return nil, nil
		}
		r.mu.Lock()
		if !r.gone {
			r.active.Store(m.now().UnixNano())
			return r, nil
		}
		r.mu.Unlock() // forgotten meanwhile: look again
	}
}

// makeRoomLocked makes room for one more room, forgetting the least
// recently used of those that nobody subscribes to if need be. m.mu must
// be held.
func (m *Memory) makeRoomLocked() error {
	if len(m.rooms) < m.maxRooms() {
		return nil
	}
	var oldest string
	var oldestAt int64
	for name, r := range m.rooms {
		if r.nsubs.Load() == 0 && (oldest == "" || r.active.Load() < oldestAt) {
			oldest, oldestAt = name, r.active.Load()
		}
	}
	if oldest == "" {
		return ErrTooManyRooms
	}
	r := m.rooms[oldest]
	r.mu.Lock()
	r.gone = true
	r.mu.Unlock()
	delete(m.rooms, oldest)
	return nil
}

// forgetIfIdle forgets the room if its log is empty and nobody
// subscribes to it.
func (m *Memory) forgetIfIdle(name string, r *memoryRoom) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rooms[name] != r {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m.trim(r)
	if len(r.log) == 0 && len(r.subs) == 0 {
		r.gone = true
		delete(m.rooms, name)
	}
}

// trim drops the messages and message IDs beyond the room's bounds. r.mu
// must be held.
func (m *Memory) trim(r *memoryRoom) {
	now := m.now()
	oldest := now.Add(-m.maxAge()).UnixNano()
	n := 0
	for n < len(r.log) && (len(r.log)-n > m.keep() || r.bytes > m.maxBytes() || r.stamp[n] < oldest) {
		r.bytes -= messageSize(&r.log[n])
		n++
	}
	if n > 0 {
		clear(r.log[:n]) // let the strings go
		r.log, r.stamp = r.log[n:], r.stamp[n:]
	}
	window := now.Add(-m.dedup()).UnixNano()
	n = 0
	for n < len(r.idLog) && (len(r.idLog)-n > dedupMax || r.idLog[n].at < window) {
		delete(r.ids, r.idLog[n].id)
		n++
	}
	if n > 0 {
		clear(r.idLog[:n])
		r.idLog = r.idLog[n:]
	}
}

// Publish implements Broker.
func (m *Memory) Publish(_ context.Context, c *message.Chat, msgID string) (bool, error) {
	r, err := m.lookup(c.Room, true)
	if err != nil {
		return false, err
	}
	defer r.mu.Unlock()
	m.trim(r)
	if seq, ok := r.ids[msgID]; ok && msgID != "" {
		c.Seq = seq
		return true, nil
	}
	r.last++
	c.Seq = r.last
	now := m.now().UnixNano()
	r.log = append(r.log, *c)
	r.stamp = append(r.stamp, now)
	r.bytes += messageSize(c)
	if msgID != "" {
		r.ids[msgID] = c.Seq
		r.idLog = append(r.idLog, idEntry{msgID, now})
	}
	m.trim(r)
	for deliver := range r.subs {
		(*deliver)(c)
	}
	return false, nil
}

// Since implements Broker.
func (m *Memory) Since(_ context.Context, room string, after uint64, limit int) ([]message.Chat, bool, error) {
	r, _ := m.lookup(room, false)
	if r == nil {
		return nil, after == 0, nil
	}
	defer r.mu.Unlock()
	m.trim(r)
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
	r, _ := m.lookup(room, false)
	if r == nil {
		return nil, 0, nil
	}
	defer r.mu.Unlock()
	m.trim(r)
	msgs := r.log[max(0, len(r.log)-n):]
	return append([]message.Chat(nil), msgs...), r.last, nil
}

// Announce implements Broker.
func (m *Memory) Announce(_ context.Context, room string, msg message.Message) error {
	r, _ := m.lookup(room, false)
	if r == nil {
		return nil // nobody listens
	}
	defer r.mu.Unlock()
	for deliver := range r.subs {
		(*deliver)(msg)
	}
	return nil
}

// Subscribe implements Broker.
func (m *Memory) Subscribe(room string, deliver func(message.Message)) (func(), error) {
	r, err := m.lookup(room, true)
	if err != nil {
		return nil, err
	}
	key := &deliver
	r.subs[key] = struct{}{}
	r.nsubs.Store(int32(len(r.subs)))
	r.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			delete(r.subs, key)
			r.nsubs.Store(int32(len(r.subs)))
			r.mu.Unlock()
			m.forgetIfIdle(room, r)
		})
	}, nil
}

// Claim implements Broker.
func (m *Memory) Claim(_ context.Context, room, nick string, h Holder) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if held, ok := m.claims[room][nick]; ok && held.Owner != h.Owner {
		return false, nil
	}
	if m.claims == nil {
		m.claims = map[string]map[string]Holder{}
	}
	if m.claims[room] == nil {
		m.claims[room] = map[string]Holder{}
	}
	m.claims[room][nick] = h
	return true, nil
}

// Release implements Broker.
func (m *Memory) Release(_ context.Context, room, nick, session string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if held, ok := m.claims[room][nick]; !ok || held.Session != session {
		return false, nil
	}
	delete(m.claims[room], nick)
	if len(m.claims[room]) == 0 {
		delete(m.claims, room)
	}
	return true, nil
}

// Members implements Broker.
func (m *Memory) Members(_ context.Context, room string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	nicks := make([]string, 0, len(m.claims[room]))
	for nick := range m.claims[room] {
		nicks = append(nicks, nick)
	}
	return nicks, nil
}
