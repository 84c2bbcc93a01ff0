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
)

// The nicknames claimed in the rooms are the keys of a JetStream key-value
// bucket, <prefix>_presence: <room>.<nick>, the nickname base64url-encoded
// since keys allow only ASCII letters, digits and -/_=. A claim creates
// the key, which fails if it exists; a release deletes it; Members lists
// the keys under <room>.
//
// The bucket drops a key PresenceTTL after it was last written, and each
// instance renews the keys it claimed every PresenceTTL/3, so that the
// nicknames of an instance that crashed, or lost NATS for longer, are
// given up after PresenceTTL. Renewals and deletions give the revision
// expected, so that neither overwrites another's claim.

// setUpPresence creates the presence bucket, or brings its configuration
// up to date, and starts the renewals, which Close stops.
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
	b.renewing, b.renewed = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(b.renewed)
		tick := time.NewTicker(b.opts.PresenceTTL / 3)
		defer tick.Stop()
		for {
			select {
			case <-b.renewing:
				return
			case <-tick.C:
				b.renew()
			}
		}
	}()
	return nil
}

// presenceKey returns the key of nick in room.
func presenceKey(room, nick string) string {
	return room + "." + base64.RawURLEncoding.EncodeToString([]byte(nick))
}

// Claim implements Broker.
func (b *NATS) Claim(ctx context.Context, room, nick string) (bool, error) {
	if err := checkRoom(room); err != nil {
		return false, err
	}
	ctx, cancel := b.bound(ctx)
	defer cancel()
	key := presenceKey(room, nick)
	rev, err := b.presence.Create(ctx, key, nil)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("chat: claiming nickname %q in room %q: %w", nick, room, err)
	}
	b.mu.Lock()
	b.claims[key] = rev
	b.mu.Unlock()
	return true, nil
}

// Release implements Broker.
func (b *NATS) Release(ctx context.Context, room, nick string) error {
	key := presenceKey(room, nick)
	b.mu.Lock()
	rev, ok := b.claims[key]
	delete(b.claims, key)
	b.mu.Unlock()
	if !ok {
		return nil
	}
	ctx, cancel := b.bound(ctx)
	defer cancel()
	err := b.presence.Delete(ctx, key, jetstream.LastRevision(rev))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		// Renewed meanwhile, and renew deletes it; or lost already.
		return nil
	}
	if err != nil {
		return fmt.Errorf("chat: releasing nickname %q in room %q: %w", nick, room, err)
	}
	return nil
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
		nick, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(key, room+"."))
		if err != nil || seen[string(nick)] {
			continue
		}
		seen[string(nick)] = true
		nicks = append(nicks, string(nick))
	}
	if err := ctx.Err(); err != nil { // the listing was cut short
		return nil, fmt.Errorf("chat: listing the members of room %q: %w", room, err)
	}
	return nicks, nil
}

// renew writes again each key this process claimed, so that the bucket
// keeps it another PresenceTTL.
func (b *NATS) renew() {
	b.mu.Lock()
	claims := maps.Clone(b.claims)
	b.mu.Unlock()
	for key, rev := range claims {
		ctx, cancel := context.WithTimeout(context.Background(), b.opts.Timeout)
		newRev, err := b.presence.Update(ctx, key, nil, rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) && b.holds(key, rev) {
			// Dropped while NATS was out of reach: claim it again.
			newRev, err = b.presence.Create(ctx, key, nil)
		}
		b.mu.Lock()
		held := b.claims[key] == rev
		switch {
		case held && err == nil:
			b.claims[key] = newRev
		case held && errors.Is(err, jetstream.ErrKeyExists):
			delete(b.claims, key)
			b.opts.Log.Warn("chat: a nickname was lost: its claim lapsed and another member took it", "key", key)
		}
		b.mu.Unlock()
		switch {
		case err == nil && !held:
			// Released while being renewed: Release's deletion failed.
			if err := b.presence.Delete(ctx, key, jetstream.LastRevision(newRev)); err != nil {
				b.opts.Log.Debug("chat: releasing a nickname renewed meanwhile", "key", key, "err", err)
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
	return b.claims[key] == rev
}
