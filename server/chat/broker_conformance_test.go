package chat

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"duplex/shared/message"
)

// The Broker contract, as Memory defines it, checked against every Broker:
// TestMemoryConformance here, TestNATSConformance in nats_test.go.

func TestMemoryConformance(t *testing.T) {
	testBrokerConformance(t, func(t *testing.T, keep int) Broker { return &Memory{Keep: keep} })
}

// confWait bounds the waits for deliveries, which a Broker may make
// after Publish or Announce returns.
const confWait = 5 * time.Second

// testBrokerConformance runs the conformance tests on the brokers that
// newBroker returns, each new and keeping keep messages per room (0 for
// the default).
func testBrokerConformance(t *testing.T, newBroker func(t *testing.T, keep int) Broker) {
	ctx := context.Background()

	t.Run("Sequence", func(t *testing.T) {
		b := newBroker(t, 0)
		var want []message.Chat
		for i, room := range []string{"a", "a", "b", "a", "b"} {
			c := &message.Chat{Room: room, Time: 1700000000000 + int64(i), Nick: "nick" + strconv.Itoa(i), Text: "text " + strconv.Itoa(i)}
			if _, err := b.Publish(ctx, c, ""); err != nil {
				t.Fatal(err)
			}
			want = append(want, *c)
		}
		for i, seq := range []uint64{1, 2, 1, 3, 2} {
			if want[i].Seq != seq {
				t.Errorf("publish %d to room %q: Seq %d, want %d", i, want[i].Room, want[i].Seq, seq)
			}
		}
		// The log gives back exactly what was published.
		msgs, last, err := b.Latest(ctx, "a", 10)
		if err != nil || last != 3 || !reflect.DeepEqual(msgs, []message.Chat{want[0], want[1], want[3]}) {
			t.Errorf("Latest(a, 10) = %+v, %d, %v; want %+v, 3", msgs, last, err, []message.Chat{want[0], want[1], want[3]})
		}
		msgs, ok, err := b.Since(ctx, "b", 0, 10)
		if err != nil || !ok || !reflect.DeepEqual(msgs, []message.Chat{want[2], want[4]}) {
			t.Errorf("Since(b, 0, 10) = %+v, %v, %v; want %+v, true", msgs, ok, err, []message.Chat{want[2], want[4]})
		}
	})

	t.Run("Since", func(t *testing.T) {
		// Keep 5 of 7: the log holds 3 to 7.
		b := newBroker(t, 5)
		confPublish(t, b, "r", 7)
		for _, tt := range []struct {
			after     uint64
			limit     int
			first, to uint64 // the messages expected, none if first is 0
			ok        bool
		}{
			{after: 0, limit: 10, ok: false}, // 1 was trimmed
			{after: 1, limit: 10, ok: false}, // 2 was trimmed
			{after: 2, limit: 10, first: 3, to: 7, ok: true},
			{after: 2, limit: 2, first: 3, to: 4, ok: true},
			{after: 4, limit: 2, first: 5, to: 6, ok: true},
			{after: 4, limit: 3, first: 5, to: 7, ok: true},
			{after: 4, limit: 100, first: 5, to: 7, ok: true},
			{after: 6, limit: 1, first: 7, to: 7, ok: true},
			{after: 4, limit: 0, ok: true},
			{after: 7, limit: 10, ok: true},  // up to date
			{after: 8, limit: 10, ok: false}, // ahead of the log
			{after: 1e6, limit: 10, ok: false},
		} {
			msgs, ok, err := b.Since(ctx, "r", tt.after, tt.limit)
			if err != nil {
				t.Fatalf("Since(%d, %d): %v", tt.after, tt.limit, err)
			}
			if ok != tt.ok || !confIsRun(msgs, tt.first, tt.to) {
				t.Errorf("Since(%d, %d) = %s, %v; want %s, %v", tt.after, tt.limit, confSeqs(msgs), ok, confRunString(tt.first, tt.to), tt.ok)
			}
		}
	})

	t.Run("Latest", func(t *testing.T) {
		b := newBroker(t, 5)
		confPublish(t, b, "r", 7)
		for _, tt := range []struct {
			n         int
			first, to uint64
		}{
			{0, 0, 0},
			{1, 7, 7},
			{2, 6, 7},
			{5, 3, 7},
			{6, 3, 7},
			{100, 3, 7},
		} {
			msgs, last, err := b.Latest(ctx, "r", tt.n)
			if err != nil {
				t.Fatalf("Latest(%d): %v", tt.n, err)
			}
			if last != 7 || !confIsRun(msgs, tt.first, tt.to) {
				t.Errorf("Latest(%d) = %s, %d; want %s, 7", tt.n, confSeqs(msgs), last, confRunString(tt.first, tt.to))
			}
		}
	})

	t.Run("Untrimmed", func(t *testing.T) {
		b := newBroker(t, 5)
		confPublish(t, b, "r", 3)
		if msgs, ok, err := b.Since(ctx, "r", 0, 10); err != nil || !ok || !confIsRun(msgs, 1, 3) {
			t.Errorf("Since(0, 10) = %s, %v, %v; want 1…3, true", confSeqs(msgs), ok, err)
		}
		if msgs, last, err := b.Latest(ctx, "r", 2); err != nil || last != 3 || !confIsRun(msgs, 2, 3) {
			t.Errorf("Latest(2) = %s, %d, %v; want 2…3, 3", confSeqs(msgs), last, err)
		}
	})

	t.Run("EmptyRoom", func(t *testing.T) {
		b := newBroker(t, 5)
		confPublish(t, b, "other", 2)
		if msgs, ok, err := b.Since(ctx, "r", 0, 10); err != nil || !ok || len(msgs) != 0 {
			t.Errorf("Since(0, 10) = %s, %v, %v; want none, true", confSeqs(msgs), ok, err)
		}
		if msgs, ok, err := b.Since(ctx, "r", 1, 10); err != nil || ok || len(msgs) != 0 {
			t.Errorf("Since(1, 10) = %s, %v, %v; want none, false", confSeqs(msgs), ok, err)
		}
		if msgs, last, err := b.Latest(ctx, "r", 10); err != nil || last != 0 || len(msgs) != 0 {
			t.Errorf("Latest(10) = %s, %d, %v; want none, 0", confSeqs(msgs), last, err)
		}
	})

	t.Run("Subscribe", func(t *testing.T) {
		b := newBroker(t, 0)
		confPublish(t, b, "r", 2) // before the subscriptions: not delivered
		var r, other confCollector
		stopR, err := b.Subscribe("r", r.deliver)
		if err != nil {
			t.Fatal(err)
		}
		stopOther, err := b.Subscribe("other", other.deliver)
		if err != nil {
			t.Fatal(err)
		}
		defer stopOther()
		sent := confPublish(t, b, "r", 3)
		confPublish(t, b, "other", 1)
		typing := &message.Typing{Room: "r", Nick: "ann", Active: true}
		if err := b.Announce(ctx, "r", typing); err != nil {
			t.Fatal(err)
		}
		got := r.waitFor(t, func(chats []message.Chat, events []message.Message) bool { return len(chats) >= 3 && len(events) >= 1 })
		if chats := confChats(got); !reflect.DeepEqual(chats, sent) {
			t.Errorf("room r: delivered %+v, want %+v", chats, sent)
		}
		if events := confEvents(got); len(events) != 1 || !reflect.DeepEqual(events[0], typing) {
			t.Errorf("room r: events %v, want [%+v]", events, typing)
		}
		other.waitFor(t, func(chats []message.Chat, _ []message.Message) bool { return len(chats) >= 1 })

		// Once stopped, a subscription is sent nothing: what a later
		// subscriber receives, the stopped one never does.
		stopR()
		var later confCollector
		stopLater, err := b.Subscribe("r", later.deliver)
		if err != nil {
			t.Fatal(err)
		}
		defer stopLater()
		confPublish(t, b, "r", 1)
		if err := b.Announce(ctx, "r", &message.PresenceChange{Room: "r", Nick: "bob", Joined: true}); err != nil {
			t.Fatal(err)
		}
		got = later.waitFor(t, func(chats []message.Chat, events []message.Message) bool { return len(chats) >= 1 && len(events) >= 1 })
		if chats := confChats(got); chats[0].Seq != 6 {
			t.Errorf("the subscriber after stop got %s first, want 6", confSeqs(chats))
		}
		if n := len(r.all()); n != 4 {
			t.Errorf("the stopped subscription got %d messages in all, want the 4 before stop", n)
		}
		if n := len(other.all()); n != 1 {
			t.Errorf("room other: got %d messages, want 1", n)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		// Publishers and announcers racing: every chat is delivered once,
		// in sequence order, by calls that never overlap.
		b := newBroker(t, 0)
		var c confCollector
		stop, err := b.Subscribe("r", c.deliver)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		const writers, each = 4, 10
		var wg sync.WaitGroup
		errs := make(chan error, 2*writers)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					if _, err := b.Publish(ctx, &message.Chat{Room: "r", Nick: "w" + strconv.Itoa(w), Text: strconv.Itoa(i)}, ""); err != nil {
						errs <- err
						return
					}
				}
			})
			wg.Go(func() {
				for range each {
					if err := b.Announce(ctx, "r", &message.Typing{Room: "r", Nick: "w" + strconv.Itoa(w), Active: true}); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got := c.waitFor(t, func(chats []message.Chat, events []message.Message) bool {
			return len(chats) >= writers*each && len(events) >= writers*each
		})
		if chats := confChats(got); !confIsRun(chats, 1, writers*each) {
			t.Errorf("delivered %s, want 1…%d", confSeqs(chats), writers*each)
		}
		if c.overlapped.Load() {
			t.Error("calls to deliver overlapped")
		}
	})

	t.Run("Presence", func(t *testing.T) {
		// A nickname is claimed once per room, until released; Members
		// lists each room's own.
		b := newBroker(t, 0)
		members := func(room string, want ...string) {
			t.Helper()
			got, err := b.Members(ctx, room)
			slices.Sort(got)
			slices.Sort(want)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("Members(%s) = %q, %v; want %q", room, got, err, want)
			}
		}
		// Each claim is another client's: its own owner and session.
		n := 0
		claim := func(room, nick string, want bool) Holder {
			t.Helper()
			n++
			h := Holder{Owner: "owner" + strconv.Itoa(n), Session: "session" + strconv.Itoa(n)}
			if ok, err := b.Claim(ctx, room, nick, h); ok != want || err != nil {
				t.Errorf("Claim(%s, %q) = %v, %v; want %v", room, nick, ok, err, want)
			}
			return h
		}
		release := func(room, nick string, h Holder, want bool) {
			t.Helper()
			if released, err := b.Release(ctx, room, nick, h.Session); released != want || err != nil {
				t.Errorf("Release(%s, %q) = %v, %v; want %v", room, nick, released, err, want)
			}
		}
		members("a")
		nicks := []string{"ann", "Zoë Smith", "山田", "a.b-c_d", "ann-2"}
		held := map[string]Holder{}
		for _, nick := range nicks {
			held[nick] = claim("a", nick, true)
		}
		claim("a", "ann", false)
		claim("a", "Zoë Smith", false)
		claim("a", "ANN", true) // another nickname
		claim("b", "ann", true) // another room
		members("a", append(nicks, "ANN")...)
		members("b", "ann")
		members("c")
		release("a", "ann", held["ann"], true)
		release("a", "Zoë Smith", held["Zoë Smith"], true)
		release("a", "ann", held["ann"], false) // released already
		members("a", "山田", "a.b-c_d", "ann-2", "ANN")
		members("b", "ann")
		claim("a", "Zoë Smith", true)
		claim("a", "ann", true)
		claim("a", "ann", false)
		members("a", append(nicks, "ANN")...)
		// Releasing a nickname not claimed changes nothing.
		release("c", "nobody", Holder{Session: "s"}, false)
		members("c")

		// Racing claims: one wins.
		var won atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				ok, err := b.Claim(ctx, "d", "bob", Holder{Owner: "o" + strconv.Itoa(i), Session: "s" + strconv.Itoa(i)})
				if err != nil {
					t.Error(err)
				}
				if ok {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Errorf("%d of 8 racing claims won, want 1", won.Load())
		}
	})

	t.Run("Takeover", func(t *testing.T) {
		// A client that comes back — the same owner, a new session — takes
		// its nickname over; the old session no longer releases it.
		b := newBroker(t, 0)
		old := Holder{Owner: "ann-token", Session: "first"}
		back := Holder{Owner: "ann-token", Session: "second"}
		for _, h := range []Holder{old, back} {
			if ok, err := b.Claim(ctx, "r", "ann", h); !ok || err != nil {
				t.Fatalf("Claim(ann) for session %s = %v, %v", h.Session, ok, err)
			}
		}
		if ok, err := b.Claim(ctx, "r", "ann", Holder{Owner: "someone else", Session: "third"}); ok || err != nil {
			t.Fatalf("Claim(ann) by another owner = %v, %v; want false", ok, err)
		}
		if released, err := b.Release(ctx, "r", "ann", old.Session); released || err != nil {
			t.Errorf("the old session's Release = %v, %v; want false", released, err)
		}
		if got, err := b.Members(ctx, "r"); err != nil || !slices.Equal(got, []string{"ann"}) {
			t.Errorf("Members = %q, %v; want ann", got, err)
		}
		if released, err := b.Release(ctx, "r", "ann", back.Session); !released || err != nil {
			t.Errorf("the new session's Release = %v, %v; want true", released, err)
		}
	})

	t.Run("Dedup", func(t *testing.T) {
		// A message published again under its msgID is stored and
		// delivered once, and given the first one's number; without a
		// msgID, or under another, it is a new message.
		b := newBroker(t, 0)
		var c confCollector
		stop, err := b.Subscribe("r", c.deliver)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		publish := func(text, id string, wantSeq uint64, wantDup bool) {
			t.Helper()
			m := &message.Chat{Room: "r", Nick: "ann", Text: text, ID: 7}
			dup, err := b.Publish(ctx, m, id)
			if err != nil || m.Seq != wantSeq || dup != wantDup {
				t.Errorf("Publish(%q, %q) = seq %d, duplicate %v, %v; want %d, %v", text, id, m.Seq, dup, err, wantSeq, wantDup)
			}
		}
		publish("one", "ann.1", 1, false)
		publish("two", "ann.2", 2, false)
		publish("one", "ann.1", 1, true)
		publish("again", "", 3, false)
		publish("again", "", 4, false)
		publish("one", "bob.1", 5, false)
		publish("two", "ann.2", 2, true)
		got := confChats(c.waitFor(t, func(chats []message.Chat, _ []message.Message) bool { return len(chats) >= 5 }))
		if !confIsRun(got, 1, 5) {
			t.Errorf("delivered %s, want 1…5", confSeqs(got))
		}
		// The log keeps the sender's ID.
		msgs, _, err := b.Since(ctx, "r", 0, 10)
		if err != nil || len(msgs) != 5 || msgs[0].ID != 7 || msgs[0].Text != "one" {
			t.Errorf("Since = %+v, %v", msgs, err)
		}
		time.Sleep(100 * time.Millisecond) // nothing more is delivered
		if n := len(confChats(c.all())); n != 5 {
			t.Errorf("%d chats delivered, want 5", n)
		}
	})
}

// confPublish publishes n chats to room and returns them, numbered.
func confPublish(t *testing.T, b Broker, room string, n int) []message.Chat {
	t.Helper()
	var sent []message.Chat
	for i := range n {
		c := &message.Chat{Room: room, Time: time.Now().UnixMilli(), Nick: "ann", Text: "hello " + strconv.Itoa(i)}
		if _, err := b.Publish(context.Background(), c, ""); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, *c)
	}
	return sent
}

// A confCollector records what a subscription delivers, copying each Chat as
// it comes, and notes calls of deliver that overlap.
type confCollector struct {
	mu         sync.Mutex
	msgs       []message.Message
	busy       atomic.Bool
	overlapped atomic.Bool
}

func (c *confCollector) deliver(m message.Message) {
	if !c.busy.CompareAndSwap(false, true) {
		c.overlapped.Store(true)
	}
	defer c.busy.Store(false)
	if chat, ok := m.(*message.Chat); ok {
		copied := *chat
		m = &copied
	}
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
}

func (c *confCollector) all() []message.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]message.Message(nil), c.msgs...)
}

// waitFor waits until done is true of the chats and the events delivered,
// and returns all the messages delivered.
func (c *confCollector) waitFor(t testing.TB, done func([]message.Chat, []message.Message) bool) []message.Message {
	t.Helper()
	deadline := time.Now().Add(confWait)
	for {
		msgs := c.all()
		if done(confChats(msgs), confEvents(msgs)) {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivered after %v: chats %s and %d events", confWait, confSeqs(confChats(msgs)), len(confEvents(msgs)))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func confChats(msgs []message.Message) []message.Chat {
	var chats []message.Chat
	for _, m := range msgs {
		if c, ok := m.(*message.Chat); ok {
			chats = append(chats, *c)
		}
	}
	return chats
}

func confEvents(msgs []message.Message) []message.Message {
	var events []message.Message
	for _, m := range msgs {
		if _, ok := m.(*message.Chat); !ok {
			events = append(events, m)
		}
	}
	return events
}

// confIsRun reports whether msgs are numbered first to to, one by one; with
// first 0, whether there are none.
func confIsRun(msgs []message.Chat, first, to uint64) bool {
	if first == 0 {
		return len(msgs) == 0
	}
	if uint64(len(msgs)) != to-first+1 {
		return false
	}
	for i, m := range msgs {
		if m.Seq != first+uint64(i) {
			return false
		}
	}
	return true
}

func confRunString(first, to uint64) string {
	if first == 0 {
		return "none"
	}
	return fmt.Sprintf("%d…%d", first, to)
}

// confSeqs formats the sequence numbers of msgs for failure reports.
func confSeqs(msgs []message.Chat) string {
	if len(msgs) == 0 {
		return "none"
	}
	s := make([]uint64, len(msgs))
	for i, m := range msgs {
		s[i] = m.Seq
	}
	return fmt.Sprint(s)
}
