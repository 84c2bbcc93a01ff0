package chat

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"duplex/shared/message"
)

// The nicknames claimed in the rooms are the keys of a JetStream key-value
// bucket, <prefix>_presence: <room>.<nick>, the nickname base64url-encoded
// since keys allow only ASCII letters, digits and -/_=. A key's value
// says who holds it: "<instance> <owner> <session>" (see Holder).
//
// A claim creates the key, which fails if it exists — unless its owner is
// the claimant's, a client come back with its resume token: the claim
// then takes the key over, updating it at the revision it read. A release
// deletes the key at the revision this instance wrote last, so that it
// never deletes a claim taken over; Members lists the keys under <room>.
//
// The bucket drops a key PresenceTTL after it was last written, and each
// instance renews the keys it claimed every PresenceTTL/3, and at once
// after a reconnection to NATS, claiming again those that were dropped
// meanwhile — and announcing them, since the others may have been told
// they left. The claims of an instance that stops are released by the
// others within seconds (nats_instances.go): the TTL is the backstop.

// A natsClaim is a key this instance claimed.
type natsClaim struct {
	rev        uint64 // the revision it wrote last
	value      []byte
	session    string
	room, nick string
}

// setUpPresence creates the presence bucket, or brings its configuration
// up to date.
func (b *NATS) setUpPresence(ctx context.Context) error {
	kv, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      b.opts.Prefix + "_presence",
		Description: "Duplex chat: the nicknames claimed in each room",
		TTL:         b.opts.PresenceTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    b.opts.Replicas,
	})
	if err != nil {
		return fmt.Errorf("chat: setting up the presence bucket: %w", err)
	}
	b.presence = kv
	return nil
}

// presenceKey returns the key of nick in room.
func presenceKey(room, nick string) string {
	return room + "." + base64.RawURLEncoding.EncodeToString([]byte(nick))
}

// parseKey returns the room and nickname of a presence key.
func parseKey(key string) (room, nick string, ok bool) {
	room, enc, ok := strings.Cut(key, ".")
	if !ok {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	return room, string(b), err == nil
}

// claimValue returns the value of a key claimed by this instance for h.
func (b *NATS) claimValue(h Holder) []byte {
	return []byte(b.id + " " + h.Owner + " " + h.Session)
}

// parseClaim returns the instance and the owner that a key's value names.
func parseClaim(value []byte) (instance, owner string, ok bool) {
	f := strings.Fields(string(value))
	if len(f) != 3 {
		return "", "", false
	}
	return f[0], f[1], true
}

// Claim implements Broker.
func (b *NATS) Claim(ctx context.Context, room, nick string, h Holder) (bool, error) {
	if err := checkRoom(room); err != nil {
		return false, err
	}
	ctx, cancel := b.bound(ctx)
	defer cancel()
	key, value := presenceKey(room, nick), b.claimValue(h)
	for range 3 { // a key released or taken over between the reads is read again
		rev, err := b.presence.Create(ctx, key, value)
		if err == nil {
			b.hold(key, natsClaim{rev: rev, value: value, session: h.Session, room: room, nick: nick})
			return true, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return false, fmt.Errorf("chat: claiming nickname %q in room %q: %w", nick, room, err)
		}
		e, err := b.presence.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("chat: claiming nickname %q in room %q: %w", nick, room, err)
		}
		if _, owner, ok := parseClaim(e.Value()); !ok || owner != h.Owner {
			return false, nil
		}
		rev, err = b.presence.Update(ctx, key, value, e.Revision())
		if err == nil {
			b.hold(key, natsClaim{rev: rev, value: value, session: h.Session, room: room, nick: nick})
			return true, nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return false, fmt.Errorf("chat: taking over nickname %q in room %q: %w", nick, room, err)
		}
	}
	return false, nil
}

// hold records a key this instance claimed, in place of an earlier claim
// of its own, such as one taken over.
func (b *NATS) hold(key string, c natsClaim) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.claims[key] = c
}

// Release implements Broker.
func (b *NATS) Release(ctx context.Context, room, nick, session string) (bool, error) {
	key := presenceKey(room, nick)
	b.mu.Lock()
	c, ok := b.claims[key]
	if ok && c.session == session {
		delete(b.claims, key)
	}
	b.mu.Unlock()
	if !ok || c.session != session {
		return false, nil // taken over
	}
	ctx, cancel := b.bound(ctx)
	defer cancel()
	err := b.presence.Delete(ctx, key, jetstream.LastRevision(c.rev))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		// Taken over by another instance, or lost while NATS was out of
		// reach; or renewed meanwhile, and renew deletes it.
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("chat: releasing nickname %q in room %q: %w", nick, room, err)
	}
	return true, nil
}

// Members implements Broker.
func (b *NATS) Members(ctx context.Context, room string) ([]string, error) {
	if err := checkRoom(room); err != nil {
		return nil, err
	}
	ctx, cancel := b.bound(ctx)
	defer cancel()
	keys, err := b.presence.ListKeysFiltered(ctx, room+".*")
	if err != nil {
		return nil, fmt.Errorf("chat: listing the members of room %q: %w", room, err)
	}
	seen := map[string]bool{} // a key written during the listing may come twice
	var nicks []string
	for key := range keys.Keys() {
		_, nick, ok := parseKey(key)
		if !ok || seen[nick] {
			continue
		}
		seen[nick] = true
		nicks = append(nicks, nick)
	}
	if err := ctx.Err(); err != nil { // the listing was cut short
		return nil, fmt.Errorf("chat: listing the members of room %q: %w", room, err)
	}
	return nicks, nil
}

// renewLoop renews the claims every PresenceTTL/3, and after each
// reconnection to NATS, until Close.
func (b *NATS) renewLoop() {
	tick := time.NewTicker(b.opts.PresenceTTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-b.stopping:
			return
		case <-tick.C:
		case <-b.instances.reconnected:
		}
		b.renew()
	}
}

// renew writes again each key this process claimed, so that the bucket
// keeps it another PresenceTTL, and claims again, and announces, those
// that were dropped: by their TTL, or by another instance that took this
// one for dead while it was cut off from NATS.
func (b *NATS) renew() {
	b.mu.Lock()
	claims := maps.Clone(b.claims)
	b.mu.Unlock()
	for key, c := range claims {
		ctx, cancel := context.WithTimeout(context.Background(), b.opts.Timeout)
		newRev, err := b.presence.Update(ctx, key, c.value, c.rev)
		reclaimed := false
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) && b.holds(key, c.rev) {
			// Dropped, or taken over: claim it again if it is free.
			newRev, err = b.presence.Create(ctx, key, c.value)
			reclaimed = err == nil
		}
		b.mu.Lock()
		held := b.claims[key].rev == c.rev && b.claims[key].session == c.session
		switch {
		case held && err == nil:
			c.rev = newRev
			b.claims[key] = c
		case held && errors.Is(err, jetstream.ErrKeyExists):
			delete(b.claims, key) // taken over by a newer session, or lost to another client
			b.opts.Log.Debug("chat: a nickname's claim was taken over, or lost", "room", c.room, "nick", c.nick)
		}
		b.mu.Unlock()
		switch {
		case err == nil && !held:
			// Released while being renewed: Release's deletion failed.
			if err := b.presence.Delete(ctx, key, jetstream.LastRevision(newRev)); err != nil {
				b.opts.Log.Debug("chat: releasing a nickname renewed meanwhile", "key", key, "err", err)
			}
		case reclaimed && held:
			if err := b.Announce(ctx, c.room, &message.PresenceChange{Room: c.room, Nick: c.nick, Joined: true}); err != nil {
				b.opts.Log.Warn("chat: announcing a nickname claimed again", "room", c.room, "err", err)
			}
		case err != nil && held && !errors.Is(err, jetstream.ErrKeyExists):
			b.opts.Log.Warn("chat: renewing a nickname's claim", "key", key, "err", err)
		}
		cancel()
	}
}

// holds reports whether this process holds key at revision rev.
func (b *NATS) holds(key string, rev uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.claims[key].rev == rev
}
