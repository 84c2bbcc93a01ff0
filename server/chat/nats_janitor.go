package chat

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Rooms do not accumulate. A room's messages age out after MaxAge; the
// leader among the instances (nats_instances.go) then deletes its stream,
// once nobody reads it — no consumer — and it has been idle for
// janitorGrace, or MaxAge if shorter. The room, if joined again, starts
// afresh, from message 1: its members resuming are sent its history anew.
//
// Each instance also forgets, after janitorGrace, the streams it set up
// and has not used since, so that its own record of them stays small.
//
// A join that subscribes to a room in the instant between the leader's
// look at its stream and the deletion would lose its subscription: the
// leader looks at the stream again just before, which makes that window a
// round trip wide, for a room nobody used for MaxAge.

// janitorGrace is how long a stream must have been idle to be deleted,
// and how long an instance remembers a stream it set up and no longer
// uses.
const janitorGrace = 10 * time.Minute

// janitorEvery returns how often the janitor runs: a quarter of the time
// the messages are kept, between a second and a minute.
func (b *NATS) janitorEvery() time.Duration {
	return min(max(b.opts.MaxAge/4, time.Second), time.Minute)
}

// janitorLoop runs the janitor until Close.
func (b *NATS) janitorLoop() {
	tick := time.NewTicker(b.janitorEvery())
	defer tick.Stop()
	for {
		select {
		case <-b.stopping:
			return
		case <-tick.C:
		}
		b.forgetStreams()
		if b.instances.leader() {
			ctx, cancel := context.WithTimeout(context.Background(), 4*b.opts.Timeout)
			if n, err := b.deleteAgedOut(ctx); err != nil {
				b.opts.Log.Warn("chat: deleting the rooms that aged out", "err", err)
			} else if n > 0 {
				b.opts.Log.Info("chat: deleted the rooms that aged out", "rooms", n)
			}
			cancel()
		}
	}
}

// forgetStreams forgets the streams this process has not used for
// janitorGrace: it sets them up again if it needs them.
func (b *NATS) forgetStreams() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for room, used := range b.streams {
		if time.Since(used) > janitorGrace {
			delete(b.streams, room)
		}
	}
}

// deleteAgedOut deletes the rooms' streams that hold no message, have no
// consumer, and have been idle long enough, and returns how many.
func (b *NATS) deleteAgedOut(ctx context.Context) (int, error) {
	grace := min(janitorGrace, b.opts.MaxAge)
	idle := func(info *jetstream.StreamInfo) bool {
		st := info.State
		last := st.LastTime
		if info.Created.After(last) {
			last = info.Created
		}
		return st.Msgs == 0 && st.Consumers == 0 && time.Since(last) > grace
	}
	var candidates []string
	list := b.js.ListStreams(ctx, jetstream.WithStreamListSubject(b.opts.Prefix+".room.*"))
	for info := range list.Info() {
		if strings.HasPrefix(info.Config.Name, b.stream) && idle(info) {
			candidates = append(candidates, info.Config.Name)
		}
	}
	if err := list.Err(); err != nil && !errors.Is(err, jetstream.ErrEndOfData) {
		return 0, err
	}
	deleted := 0
	for _, name := range candidates {
		s, err := b.js.Stream(ctx, name) // a last look: joined meanwhile?
		if err != nil || !idle(s.CachedInfo()) {
			continue
		}
		if err := b.js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return deleted, err
		}
		deleted++
		room := strings.TrimPrefix(name, b.stream)
		b.mu.Lock()
		delete(b.streams, room)
		b.mu.Unlock()
	}
	return deleted, nil
}
