package chat

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"duplex/shared/message"
)

// Each instance sharing the rooms says that it is alive on
// <prefix>.instance every Heartbeat, and listens to the others. One not
// heard from for HeartbeatTimeout is taken for dead: its members cannot
// leave any more, so the others release their nicknames, and announce
// them gone, within seconds of the crash.
//
// One instance releases them, the leader: the live one with the smallest
// ID. It reads every claim, and deletes those of instances that are not
// alive at the revision it read, so that none is deleted twice, nor one
// that a returning client has taken over meanwhile; it announces each it
// deleted. An instance that has just started does the same, once it has
// listened for HeartbeatTimeout: so the claims of instances that died
// while none ran — a single instance's crash and restart — go too. A claim
// written within the last HeartbeatTimeout by an instance not heard from
// yet is left for the next round: it may be a newcomer's.
//
// An instance cut off from NATS hears nobody: it takes nobody for dead
// until it has been connected again for HeartbeatTimeout, and renews its
// own claims as soon as it is back (nats_presence.go), in case the others
// took it for dead meanwhile.
//
// The leader also deletes the rooms that have aged out (nats_janitor.go).
type instances struct {
	b           *NATS
	sub         *nats.Subscription
	reconnected chan struct{} // receives a token each time the connection to NATS comes back

	mu    sync.Mutex
	seen  map[string]time.Time // the other instances alive → when last heard
	since time.Time            // since when this instance has listened, connected; zero while cut off
	due   bool                 // claims of dead instances may be left: a sweep is due
}

// instanceSubject is where the instances say they are alive.
func (b *NATS) instanceSubject() string { return b.opts.Prefix + ".instance" }

// startInstances starts listening to the others and telling them this
// instance is alive.
func (b *NATS) startInstances() error {
	in := &instances{b: b, seen: map[string]time.Time{}, since: time.Now(), due: true, reconnected: make(chan struct{}, 1)}
	sub, err := b.nc.Subscribe(b.instanceSubject(), in.heard)
	if err != nil {
		return fmt.Errorf("chat: listening to the other instances: %w", err)
	}
	in.sub = sub
	b.instances = in
	in.beat()
	b.background(in.run)
	return nil
}

// stop stops listening.
func (in *instances) stop() {
	in.sub.Unsubscribe()
}

func (in *instances) beat() {
	if err := in.b.nc.Publish(in.b.instanceSubject(), []byte(in.b.id)); err != nil {
		in.b.opts.Log.Debug("chat: telling the other instances this one is alive", "err", err)
	}
}

func (in *instances) heard(m *nats.Msg) {
	id := string(m.Data)
	if id == in.b.id {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.seen[id] = time.Now()
}

// run beats and watches until Close.
func (in *instances) run() {
	b := in.b
	tick := time.NewTicker(b.opts.Heartbeat)
	defer tick.Stop()
	reconnects := b.nc.Stats().Reconnects
	for {
		select {
		case <-b.stopping:
			return
		case <-tick.C:
		}
		in.beat()
		now := time.Now()
		in.mu.Lock()
		r := b.nc.Stats().Reconnects
		switch {
		case !b.nc.IsConnected():
			in.since = time.Time{}
		case in.since.IsZero() || r != reconnects:
			// Back: the silence was this instance's. Start listening
			// again, and renew the claims at once.
			in.since = now
			for id := range in.seen {
				in.seen[id] = now
			}
			select {
			case in.reconnected <- struct{}{}:
			default:
			}
		}
		reconnects = r
		due := in.check(now)
		in.mu.Unlock()
		if due {
			in.sweep()
		}
	}
}

// check forgets the instances not heard from for HeartbeatTimeout, and
// reports whether this instance is to sweep their claims now. in.mu must
// be held.
func (in *instances) check(now time.Time) bool {
	timeout := in.b.opts.HeartbeatTimeout
	if in.since.IsZero() || now.Sub(in.since) < timeout {
		return false // not listening long enough to tell
	}
	for id, t := range in.seen {
		if now.Sub(t) > timeout {
			delete(in.seen, id)
			in.due = true
			in.b.opts.Log.Info("chat: an instance sharing the rooms is gone: its members are released", "instance", id)
		}
	}
	if !in.due || !in.leaderLocked() {
		return false
	}
	in.due = false
	return true
}

// leader reports whether this instance is the leader: the live one with
// the smallest ID.
func (in *instances) leader() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.leaderLocked()
}

func (in *instances) leaderLocked() bool {
	for id := range in.seen {
		if id < in.b.id {
			return false
		}
	}
	return true
}

// alive reports whether the instance id is alive, or may be: this one,
// one heard from, or — for a claim written at written — one that may
// have started too recently to have been heard.
func (in *instances) alive(id string, written time.Time) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	_, seen := in.seen[id]
	return id == in.b.id || seen || time.Since(written) < in.b.opts.HeartbeatTimeout
}

// sweep releases the claims of the instances that are not alive, and
// announces each released nickname gone. What it cannot settle now, it
// leaves for the next round.
func (in *instances) sweep() {
	b := in.b
	ctx, cancel := context.WithTimeout(context.Background(), 4*b.opts.Timeout)
	defer cancel()
	released, again, err := in.release(ctx)
	if err != nil || again {
		in.mu.Lock()
		in.due = true
		in.mu.Unlock()
	}
	if err != nil {
		b.opts.Log.Warn("chat: releasing the nicknames of instances gone", "err", err)
	}
	if released > 0 {
		b.opts.Log.Info("chat: released the nicknames of instances gone", "nicknames", released)
	}
}

// release does sweep's work: it returns how many claims it released, and
// whether some are to be looked at again.
func (in *instances) release(ctx context.Context) (released int, again bool, err error) {
	b := in.b
	w, err := b.presence.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return 0, false, err
	}
	defer w.Stop()
	var stale []jetstream.KeyValueEntry
	for e := range w.Updates() {
		if e == nil {
			break // the end of the current values
		}
		instance, _, ok := parseClaim(e.Value())
		switch {
		case !ok: // not a claim this version writes: from an older one
			stale = append(stale, e)
		case in.alive(instance, e.Created()):
			if instance != b.id && !in.knows(instance) {
				again = true
			}
		default:
			stale = append(stale, e)
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, true, err
	}
	for _, e := range stale {
		err := b.presence.Delete(ctx, e.Key(), jetstream.LastRevision(e.Revision()))
		if err != nil {
			continue // written meanwhile: claimed again, or taken over
		}
		released++
		room, nick, ok := parseKey(e.Key())
		if !ok {
			continue
		}
		if err := b.Announce(ctx, room, &message.PresenceChange{Room: room, Nick: nick}); err != nil {
			b.opts.Log.Warn("chat: announcing a nickname released", "room", room, "err", err)
		}
	}
	return released, again, nil
}

// knows reports whether the instance id has been heard from.
func (in *instances) knows(id string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	_, ok := in.seen[id]
	return ok
}
