package chat

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"duplex/shared/message"
)

// memWith returns a Memory keeping keep messages, with n published in
// room "go", texts "1" to "n".
func memWith(t *testing.T, keep, n int) *Memory {
	t.Helper()
	m := &Memory{Keep: keep}
	for i := 1; i <= n; i++ {
		c := &message.Chat{Room: "go", Nick: "ann", Text: strconv.Itoa(i)}
		if _, err := m.Publish(context.Background(), c, ""); err != nil {
			t.Fatal(err)
		}
		if c.Seq != uint64(i) {
			t.Fatalf("message %d published as %d", i, c.Seq)
		}
	}
	return m
}

// memSeqs returns the sequence numbers of msgs, checking that each text is
// its number, as memWith writes them.
func memSeqs(t *testing.T, msgs []message.Chat) []uint64 {
	t.Helper()
	s := []uint64{}
	for _, m := range msgs {
		if m.Text != strconv.FormatUint(m.Seq, 10) || m.Room != "go" {
			t.Fatalf("message %+v", m)
		}
		s = append(s, m.Seq)
	}
	return s
}

// memSpan returns the numbers first to last.
func memSpan(first, last uint64) []uint64 {
	s := []uint64{}
	for i := first; i <= last; i++ {
		s = append(s, i)
	}
	return s
}

func TestMemoryPublish(t *testing.T) {
	m := memWith(t, 0, 3)
	// Each room counts on its own.
	for i := 1; i <= 2; i++ {
		c := &message.Chat{Room: "rust", Text: "x"}
		m.Publish(context.Background(), c, "")
		if c.Seq != uint64(i) {
			t.Errorf("rust's message %d numbered %d", i, c.Seq)
		}
	}
	// The log holds a copy: changing the message afterwards changes
	// nothing.
	c := &message.Chat{Room: "go", Text: "4"}
	m.Publish(context.Background(), c, "")
	c.Text = "changed"
	msgs, last, _ := m.Latest(context.Background(), "go", 10)
	if last != 4 || !slices.Equal(memSeqs(t, msgs), memSpan(1, 4)) {
		t.Errorf("Latest = %v, %d", msgs, last)
	}
}

func TestMemorySince(t *testing.T) {
	tests := []struct {
		name    string
		keep, n int // Memory.Keep, messages published
		after   uint64
		limit   int
		want    []uint64
		ok      bool
		room    string // "" for "go"
	}{
		{name: "empty room", after: 0, limit: 10, want: []uint64{}, ok: true},
		{name: "empty room, after beyond", after: 5, limit: 10, want: []uint64{}, ok: false},
		{name: "unknown room", n: 5, room: "rust", after: 0, limit: 10, want: []uint64{}, ok: true},
		{name: "all", n: 5, after: 0, limit: 10, want: memSpan(1, 5), ok: true},
		{name: "after the middle", n: 5, after: 2, limit: 10, want: memSpan(3, 5), ok: true},
		{name: "after the last", n: 5, after: 5, limit: 10, want: []uint64{}, ok: true},
		{name: "after beyond the last", n: 5, after: 6, limit: 10, want: []uint64{}, ok: false},
		{name: "far beyond the last", n: 5, after: 1 << 63, limit: 10, want: []uint64{}, ok: false},
		{name: "limit 0", n: 5, after: 0, limit: 0, want: []uint64{}, ok: true},
		{name: "limit 1", n: 5, after: 2, limit: 1, want: memSpan(3, 3), ok: true},
		{name: "limit one short", n: 5, after: 0, limit: 4, want: memSpan(1, 4), ok: true},
		{name: "limit exact", n: 5, after: 0, limit: 5, want: memSpan(1, 5), ok: true},
		{name: "limit exact from the middle", n: 5, after: 3, limit: 2, want: memSpan(4, 5), ok: true},
		{name: "trimmed: after the first kept", keep: 5, n: 8, after: 4, limit: 10, want: memSpan(5, 8), ok: true},
		{name: "trimmed: just before the first kept", keep: 5, n: 8, after: 3, limit: 10, want: memSpan(4, 8), ok: true},
		{name: "trimmed: a gap", keep: 5, n: 8, after: 2, limit: 10, want: []uint64{}, ok: false},
		{name: "trimmed: from the start", keep: 5, n: 8, after: 0, limit: 10, want: []uint64{}, ok: false},
		{name: "trimmed: after the last", keep: 5, n: 8, after: 8, limit: 10, want: []uint64{}, ok: true},
		{name: "trimmed: limit", keep: 5, n: 8, after: 3, limit: 2, want: memSpan(4, 5), ok: true},
		{name: "keep 1", keep: 1, n: 3, after: 2, limit: 10, want: memSpan(3, 3), ok: true},
		{name: "keep 1, gap", keep: 1, n: 3, after: 1, limit: 10, want: []uint64{}, ok: false},
		{name: "default keep", n: 1001, after: 1, limit: 2, want: memSpan(2, 3), ok: true},
		{name: "default keep, gap", n: 1001, after: 0, limit: 2, want: []uint64{}, ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := memWith(t, tc.keep, tc.n)
			room := tc.room
			if room == "" {
				room = "go"
			}
			msgs, ok, err := m.Since(context.Background(), room, tc.after, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := memSeqs(t, msgs); !slices.Equal(got, tc.want) || ok != tc.ok {
				t.Errorf("Since(%d, %d) = %v, %v; want %v, %v", tc.after, tc.limit, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestMemoryLatest(t *testing.T) {
	tests := []struct {
		name     string
		keep, n  int
		limit    int
		want     []uint64
		wantLast uint64
	}{
		{name: "empty room", limit: 10, want: []uint64{}},
		{name: "empty room, limit 0", limit: 0, want: []uint64{}},
		{name: "fewer than the limit", n: 3, limit: 10, want: memSpan(1, 3), wantLast: 3},
		{name: "exactly the limit", n: 3, limit: 3, want: memSpan(1, 3), wantLast: 3},
		{name: "more than the limit", n: 150, limit: 100, want: memSpan(51, 150), wantLast: 150},
		{name: "limit 1", n: 3, limit: 1, want: memSpan(3, 3), wantLast: 3},
		{name: "limit 0", n: 3, limit: 0, want: []uint64{}, wantLast: 3},
		{name: "trimmed", keep: 50, n: 90, limit: 100, want: memSpan(41, 90), wantLast: 90},
		{name: "trimmed, limit", keep: 50, n: 90, limit: 20, want: memSpan(71, 90), wantLast: 90},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := memWith(t, tc.keep, tc.n)
			msgs, last, err := m.Latest(context.Background(), "go", tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := memSeqs(t, msgs); !slices.Equal(got, tc.want) || last != tc.wantLast {
				t.Errorf("Latest(%d) = %v, %d; want %v, %d", tc.limit, got, last, tc.want, tc.wantLast)
			}
		})
	}
}

// What Since and Latest return is the caller's: changing it does not
// change the log.
func TestMemoryReturnsCopies(t *testing.T) {
	m := memWith(t, 0, 3)
	msgs, _, _ := m.Since(context.Background(), "go", 0, 10)
	msgs[0].Text = "changed"
	latest, _, _ := m.Latest(context.Background(), "go", 10)
	latest[1].Text = "changed"
	msgs, _, _ = m.Since(context.Background(), "go", 0, 10)
	memSeqs(t, msgs) // checks the texts
}

// A subscriber gets what is published and announced in its room, in
// order, until it stops.
func TestMemorySubscribe(t *testing.T) {
	m := &Memory{}
	ctx := context.Background()
	var got, other []message.Message
	stop, err := m.Subscribe("go", func(msg message.Message) { got = append(got, msg) })
	if err != nil {
		t.Fatal(err)
	}
	stopOther, _ := m.Subscribe("go", func(msg message.Message) { other = append(other, msg) })
	m.Subscribe("rust", func(msg message.Message) { t.Errorf("rust's subscriber got %v", msg) })

	m.Publish(ctx, &message.Chat{Room: "go", Text: "1"}, "")
	m.Announce(ctx, "go", &message.Typing{Room: "go", Nick: "ann", Active: true})
	m.Publish(ctx, &message.Chat{Room: "go", Text: "2"}, "")
	stopOther()
	m.Publish(ctx, &message.Chat{Room: "go", Text: "3"}, "")
	stop()
	stop() // twice is harmless
	m.Publish(ctx, &message.Chat{Room: "go", Text: "4"}, "")
	m.Announce(ctx, "go", &message.Typing{Room: "go", Nick: "ann"})

	describe := func(msgs []message.Message) []string {
		var s []string
		for _, msg := range msgs {
			switch msg := msg.(type) {
			case *message.Chat:
				s = append(s, strconv.FormatUint(msg.Seq, 10)+":"+msg.Text)
			default:
				s = append(s, msg.Kind().String())
			}
		}
		return s
	}
	if d := describe(got); !slices.Equal(d, []string{"1:1", "Typing", "2:2", "3:3"}) {
		t.Errorf("subscriber got %q", d)
	}
	if d := describe(other); !slices.Equal(d, []string{"1:1", "Typing", "2:2"}) {
		t.Errorf("the one that stopped first got %q", d)
	}
	// Messages published after the subscribers stopped are still logged.
	if _, last, _ := m.Latest(ctx, "go", 0); last != 4 {
		t.Errorf("last = %d", last)
	}
}

// Concurrent publishers get distinct numbers, and a subscriber sees them
// all in order.
func TestMemoryConcurrentPublish(t *testing.T) {
	m := &Memory{Keep: 10}
	var got []uint64
	stop, _ := m.Subscribe("go", func(msg message.Message) { got = append(got, msg.(*message.Chat).Seq) })
	defer stop()
	const publishers, each = 4, 500
	var wg sync.WaitGroup
	for range publishers {
		wg.Go(func() {
			for range each {
				m.Publish(context.Background(), &message.Chat{Room: "go", Text: "x"}, "")
			}
		})
	}
	wg.Wait()
	if !slices.Equal(got, memSpan(1, publishers*each)) {
		t.Errorf("the subscriber got %d messages, not 1 to %d in order", len(got), publishers*each)
	}
	msgs, ok, _ := m.Since(context.Background(), "go", publishers*each-10, 100)
	if !ok || len(msgs) != 10 {
		t.Errorf("Since the first kept = %d messages, %v", len(msgs), ok)
	}
}

// A room's log keeps Keep messages, MaxBytes of them, none older than
// MaxAge; message IDs are remembered for Dedup.
func TestMemoryBounds(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1e9, 0)
	m := &Memory{Keep: 5, MaxBytes: 3 * (100 + 3 + 48), MaxAge: time.Hour, Dedup: time.Minute, clock: func() time.Time { return now }}
	publish := func(text, id string) uint64 {
		t.Helper()
		c := &message.Chat{Room: "go", Nick: "ann", Text: text}
		if _, err := m.Publish(ctx, c, id); err != nil {
			t.Fatal(err)
		}
		return c.Seq
	}
	kept := func() []uint64 {
		t.Helper()
		msgs, _, err := m.Latest(ctx, "go", 100)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []uint64
		for _, c := range msgs {
			seqs = append(seqs, c.Seq)
		}
		return seqs
	}
	for i := range 7 {
		publish(strconv.Itoa(i), "")
	}
	if got := kept(); !slices.Equal(got, memSpan(3, 7)) {
		t.Errorf("Keep 5: kept %v", got)
	}
	for range 2 {
		publish(strings.Repeat("x", 100), "")
	}
	if got := kept(); !slices.Equal(got, memSpan(6, 9)) {
		t.Errorf("MaxBytes: kept %v", got) // two large ones and two small fit
	}
	now = now.Add(2 * time.Hour)
	if got := kept(); len(got) != 0 {
		t.Errorf("MaxAge: kept %v", got)
	}

	first := publish("once", "ann.1")
	if again := publish("once", "ann.1"); again != first {
		t.Errorf("published again within Dedup: %d, first %d", again, first)
	}
	now = now.Add(2 * time.Minute)
	if again := publish("once", "ann.1"); again == first {
		t.Error("published again after Dedup: not stored again")
	}
}
