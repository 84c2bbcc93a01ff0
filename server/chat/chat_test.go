package chat_test

import (
	"context"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"duplex/server/chat"
	"duplex/server/ws"
	"duplex/shared/message"
)

// A Join is answered with Joined, Presence and History, in that order.
func TestJoin(t *testing.T) {
	url := newServer(t, fast)
	ann := dial(t, url, "ann")
	r := join(ann, "go", "ann")
	if want := (message.Joined{Room: "go", Nick: "ann", Token: r.joined.Token}); *r.joined != want || len(r.joined.Token) < 16 {
		t.Errorf("got %s, want %+v with a token", show(r.joined), want)
	}
	if want := []string{"ann"}; !slices.Equal(r.presence.Nicks, want) {
		t.Errorf("got %s, want nicks %q", show(r.presence), want)
	}
	if len(r.history.Messages) != 0 {
		t.Errorf("a new room's History holds %s", show(r.history))
	}

	// Spaces around the nickname are trimmed; the sequence number of the
	// room's latest message comes with Joined.
	say(ann, "go", "one")
	say(ann, "go", "two")
	bob := dial(t, url, "bob")
	r = join(bob, "go", "  bob ")
	if want := (message.Joined{Room: "go", Nick: "bob", LastSeq: 2, Token: r.joined.Token}); *r.joined != want {
		t.Errorf("got %s, want %+v", show(r.joined), want)
	}
	if got := texts(r.history.Messages); !slices.Equal(got, []string{"one", "two"}) {
		t.Errorf("history %q, want one, two", got)
	}

	// Joining a room twice is an error; the membership is unchanged.
	bob.send(&message.Join{Room: "go", Nick: "bob"})
	expectError(bob, message.CodeBadMessage, "go")
	if c := say(bob, "go", "still here"); c.Nick != "bob" {
		t.Errorf("got %s from bob", show(c))
	}
}

// An invalid nickname or room name is refused with its code, and the
// client is not in the room.
func TestJoinInvalid(t *testing.T) {
	url := newServer(t, fast)
	c := dial(t, url, "c")
	tests := []struct {
		room, nick string
		code       message.ErrorCode
	}{
		{"go", "", message.CodeBadNick},
		{"go", "   ", message.CodeBadNick},
		{"go", strings.Repeat("x", message.MaxNick+1), message.CodeBadNick},
		{"go", "ann@home", message.CodeBadNick},
		{"go", "ann\x00", message.CodeBadNick},
		{"go", "ann  lee", message.CodeBadNick},
		{"go", "😀", message.CodeBadNick},
		{"", "ann", message.CodeBadRoom},
		{"Go", "ann", message.CodeBadRoom},
		{"go lang", "ann", message.CodeBadRoom},
		{strings.Repeat("r", message.MaxRoom+1), "ann", message.CodeBadRoom},
		{"Go", "", message.CodeBadRoom}, // the room is checked first
	}
	for _, tc := range tests {
		c.send(&message.Join{Room: tc.room, Nick: tc.nick})
		e := expectError(c, tc.code, tc.room)
		want := message.ValidRoom(tc.room)
		if want == nil {
			want = message.ValidNick(strings.TrimSpace(tc.nick))
		}
		if e.Text != want.(*message.Error).Text {
			t.Errorf("Join{%q, %q}: text %q, want %q", tc.room, tc.nick, e.Text, want.(*message.Error).Text)
		}
		// Not in the room: a Send is refused.
		c.send(&message.Send{Room: tc.room, Text: "hi"})
		expectError(c, message.CodeNotInRoom, tc.room)
	}
	// The connection is still good.
	join(c, "go", "ann")
}

// A nickname that is taken in the room gets a suffix, reported in Joined;
// other rooms and freed nicknames are not affected.
func TestDuplicateNick(t *testing.T) {
	url := newServer(t, fast)
	tests := []struct {
		room, nick, want string
	}{
		{"go", "ann", "ann"},
		{"go", "ann", "ann-2"},
		{"go", "ann", "ann-3"},
		{"go", "ann-2", "ann-2-2"},
		{"rust", "ann", "ann"}, // another room
		{"go", strings.Repeat("x", message.MaxNick), strings.Repeat("x", message.MaxNick)},
		{"go", strings.Repeat("x", message.MaxNick), strings.Repeat("x", message.MaxNick-2) + "-2"},
	}
	var clients []*testClient
	for i, tc := range tests {
		c := dial(t, url, "c"+strconv.Itoa(i))
		r := join(c, tc.room, tc.nick)
		if r.joined.Nick != tc.want {
			t.Errorf("join %q as %q: given %q, want %q", tc.room, tc.nick, r.joined.Nick, tc.want)
		}
		if !slices.Contains(r.presence.Nicks, tc.want) {
			t.Errorf("join %q as %q: %s lacks %q", tc.room, tc.nick, show(r.presence), tc.want)
		}
		clients = append(clients, c)
	}
	// The others see the nickname given, in presence and on messages.
	c := say(clients[1], "go", "I am the second ann")
	if c.Nick != "ann-2" {
		t.Errorf("got %s, want it from ann-2", show(c))
	}

	// Once the first ann has left, the name is free again.
	clients[0].send(&message.Leave{Room: "go"})
	waitFor(clients[1], func(m *message.PresenceChange) bool { return m.Nick == "ann" && !m.Joined })
	late := dial(t, url, "late")
	if r := join(late, "go", "ann"); r.joined.Nick != "ann" {
		t.Errorf("the freed nickname: given %q", r.joined.Nick)
	}
}

// Joins and leaves, by Leave or by disconnecting, are announced to the
// others; a newcomer's Presence lists everyone.
func TestPresence(t *testing.T) {
	url := newServer(t, fast)
	ann := dial(t, url, "ann")
	join(ann, "go", "ann")
	settle(ann)

	bob := dial(t, url, "bob")
	r := join(bob, "go", "bob")
	if got := sorted(r.presence.Nicks); !slices.Equal(got, []string{"ann", "bob"}) {
		t.Errorf("bob's presence %q", got)
	}
	if m := expect[*message.PresenceChange](ann); *m != (message.PresenceChange{Room: "go", Nick: "bob", Joined: true}) {
		t.Errorf("ann got %s", show(m))
	}
	// bob is not told of his own arrival: his next message is his Chat.
	bob.send(&message.Send{Room: "go", Text: "hi"})
	expect[*message.Chat](bob)
	expect[*message.Chat](ann)

	// Each way of leaving is announced.
	leaves := []struct {
		name  string
		leave func(c *testClient)
	}{
		{"Leave", func(c *testClient) { c.send(&message.Leave{Room: "go"}) }},
		{"close", func(c *testClient) { c.conn.Close(ws.StatusNormalClosure, "bye") }},
		{"drop", func(c *testClient) { c.conn.CloseNow() }},
	}
	for _, tc := range leaves {
		c := dial(t, url, tc.name)
		join(c, "go", tc.name)
		for _, other := range []*testClient{ann, bob} {
			m := expect[*message.PresenceChange](other)
			if *m != (message.PresenceChange{Room: "go", Nick: tc.name, Joined: true}) {
				t.Errorf("%s got %s", other.name, show(m))
			}
		}
		tc.leave(c)
		for _, other := range []*testClient{ann, bob} {
			m := expect[*message.PresenceChange](other)
			if *m != (message.PresenceChange{Room: "go", Nick: tc.name, Joined: false}) {
				t.Errorf("%s: got %s", tc.name, show(m))
			}
		}
	}

	// A newcomer sees who is left.
	cat := dial(t, url, "cat")
	if got := sorted(join(cat, "go", "cat").presence.Nicks); !slices.Equal(got, []string{"ann", "bob", "cat"}) {
		t.Errorf("cat's presence %q", got)
	}
}

// Every member, the sender included, gets every message, with sequence
// numbers that count up from 1 in each room, and the server's time.
func TestSend(t *testing.T) {
	url := newServer(t, fast)
	names := []string{"ann", "bob", "cat"}
	var clients []*testClient
	for _, name := range names {
		c := dial(t, url, name)
		join(c, "go", name)
		clients = append(clients, c)
	}
	other := dial(t, url, "dan") // in another room, whose numbers are its own
	join(other, "rust", "dan")
	say(other, "rust", "elsewhere")
	settle(clients...)

	start := time.Now().UnixMilli()
	const rounds = 3
	for i := range rounds {
		for _, c := range clients {
			c.send(&message.Send{Room: "go", Text: c.name + " " + strconv.Itoa(i)})
		}
	}
	end := time.Now().Add(wait).UnixMilli()
	for _, c := range clients {
		var seqs []uint64
		from := map[string]int{}
		for range rounds * len(clients) {
			m := expect[*message.Chat](c)
			nick, _, _ := strings.Cut(m.Text, " ")
			if m.Room != "go" || m.Nick != nick || m.Time < start || m.Time > end {
				t.Errorf("%s got %s", c.name, show(m))
			}
			seqs = append(seqs, m.Seq)
			from[m.Nick]++
		}
		if want := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(seqs, want) {
			t.Errorf("%s got sequence numbers %v, want %v", c.name, seqs, want)
		}
		for _, name := range names {
			if from[name] != rounds {
				t.Errorf("%s got %d messages from %s, want %d", c.name, from[name], name, rounds)
			}
		}
	}
	if m := say(other, "rust", "again"); m.Seq != 2 {
		t.Errorf("second message in rust: seq %d", m.Seq)
	}
}

// A Send that breaks a rule is refused with its code, and not delivered.
func TestSendInvalid(t *testing.T) {
	url := newServer(t, fast)
	ann := dial(t, url, "ann")
	join(ann, "go", "ann")
	bob := dial(t, url, "bob")
	join(bob, "go", "bob")
	settle(ann, bob)

	tests := []struct {
		room, text string
		code       message.ErrorCode
	}{
		{"rust", "hi", message.CodeNotInRoom},
		{"Go", "hi", message.CodeNotInRoom},
		{"go", "", message.CodeBadMessage},
		{"go", " \n\t", message.CodeBadMessage},
		{"go", "bell\a", message.CodeBadMessage},
		{"go", "a\rb", message.CodeBadMessage},
		{"go", "\x1b[31mred", message.CodeBadMessage},
		{"go", strings.Repeat("x", message.MaxText+1), message.CodeTooLong},
		{"go", strings.Repeat("€", message.MaxText/3+1), message.CodeTooLong},
	}
	for _, tc := range tests {
		ann.send(&message.Send{Room: tc.room, Text: tc.text})
		expectError(ann, tc.code, tc.room)
	}
	// Nothing reached bob: the first message he gets is the first valid one.
	m := say(ann, "go", strings.Repeat("x", message.MaxText))
	if got := expect[*message.Chat](bob); got.Seq != 1 || m.Seq != 1 {
		t.Errorf("bob got %s after the invalid ones", show(got))
	}
}

// Malformed messages, and those only a server may send, are answered with
// CodeBadMessage, and the connection goes on.
func TestBadMessage(t *testing.T) {
	url := newServer(t, fast)
	c := dial(t, url, "c")
	join(c, "go", "ann")
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", []byte{}},
		{"version only", []byte{message.Version}},
		{"version 3", []byte{3, byte(message.KindSend), 2, 'g', 'o', 2, 'h', 'i'}},
		{"version 1 on a version 2 connection", message.AppendVersion(nil, 1, &message.Send{Room: "go", Text: "hi"})},
		{"version 2 without the ID", []byte{2, byte(message.KindSend), 2, 'g', 'o', 2, 'h', 'i'}},
		{"unknown kind", []byte{message.Version, 200}},
		{"truncated", []byte{message.Version, byte(message.KindSend), 5, 'g', 'o'}},
		{"trailing byte", append(message.Append(nil, &message.Leave{Room: "go"}), 0)},
		{"bad UTF-8", []byte{message.Version, byte(message.KindSend), 2, 'g', 'o', 1, 0xff}},
		{"bad bool", []byte{message.Version, byte(message.KindTyping), 2, 'g', 'o', 0, 2}},
		{"garbage", []byte("hello")},
	}
	for _, kind := range []message.Message{
		&message.Joined{Room: "go", Nick: "ann"},
		&message.Chat{Room: "go", Seq: 1, Nick: "ann", Text: "forged"},
		&message.History{Room: "go"},
		&message.Presence{Room: "go"},
		&message.PresenceChange{Room: "go", Nick: "bob", Joined: true},
		&message.Error{Code: message.CodeInternal},
	} {
		tests = append(tests, struct {
			name string
			b    []byte
		}{kind.Kind().String(), message.Append(nil, kind)})
	}
	for _, tc := range tests {
		c.write(tc.b)
		if e := expectError(c, message.CodeBadMessage, ""); strings.Contains(tc.name, "Chat") && !strings.Contains(e.Text, "Chat") {
			t.Errorf("%s: error text %q does not name the kind", tc.name, e.Text)
		}
	}
	// Still in the room, and nothing was forged into it.
	if m := say(c, "go", "hi"); m.Seq != 1 {
		t.Errorf("got %s", show(m))
	}
}

// Leave takes the client out of the room: it may not send there any more,
// nor leave again, and may join again.
func TestLeave(t *testing.T) {
	url := newServer(t, fast)
	c := dial(t, url, "c")
	c.send(&message.Leave{Room: "go"})
	expectError(c, message.CodeNotInRoom, "go")

	join(c, "go", "ann")
	say(c, "go", "hi")
	c.send(&message.Leave{Room: "go"})
	c.send(&message.Send{Room: "go", Text: "still there?"})
	expectError(c, message.CodeNotInRoom, "go")
	c.send(&message.Typing{Room: "go", Active: true})
	expectError(c, message.CodeNotInRoom, "go")
	c.send(&message.Leave{Room: "go"})
	expectError(c, message.CodeNotInRoom, "go")

	if r := join(c, "go", "ann"); r.joined.LastSeq != 1 || len(r.history.Messages) != 1 {
		t.Errorf("rejoined: %s, %s", show(r.joined), show(r.history))
	}
}

// Typing is relayed to the others with the typist's nickname, never echoed
// to the typist, announced once however often it is renewed, and ends when
// it expires, when the typist sends, leaves or disconnects.
func TestTyping(t *testing.T) {
	typing := func(active bool) *message.Typing {
		return &message.Typing{Room: "go", Nick: "ann", Active: active}
	}
	tests := []struct {
		name string
		ttl  time.Duration
		// act makes ann type and stop, the way the test is about.
		act func(ann *testClient)
		// want is what bob sees of it; echo, whether ann is still in the
		// room to check that none of it came back to her.
		want []message.Message
		echo bool
	}{
		{"expires", 100 * time.Millisecond, func(ann *testClient) {
			ann.send(&message.Typing{Room: "go", Active: true})
		}, []message.Message{typing(true), typing(false)}, true},
		{"renewed", time.Minute, func(ann *testClient) {
			for range 3 {
				ann.send(&message.Typing{Room: "go", Active: true})
			}
			ann.send(&message.Typing{Room: "go", Active: false})
			ann.send(&message.Typing{Room: "go", Active: false})
		}, []message.Message{typing(true), typing(false)}, true},
		{"nick filled in", time.Minute, func(ann *testClient) {
			ann.send(&message.Typing{Room: "go", Nick: "bob", Active: true})
			ann.send(&message.Typing{Room: "go", Nick: "bob", Active: false})
		}, []message.Message{typing(true), typing(false)}, true},
		{"cleared by a message", time.Minute, func(ann *testClient) {
			ann.send(&message.Typing{Room: "go", Active: true})
			ann.send(&message.Send{Room: "go", Text: "done"})
		}, []message.Message{typing(true), typing(false), &message.Chat{Room: "go", Seq: 1, Nick: "ann", Text: "done"}}, true},
		{"cleared by leaving", time.Minute, func(ann *testClient) {
			ann.send(&message.Typing{Room: "go", Active: true})
			ann.send(&message.Leave{Room: "go"})
		}, []message.Message{typing(true), typing(false), &message.PresenceChange{Room: "go", Nick: "ann"}}, false},
		{"cleared by disconnecting", time.Minute, func(ann *testClient) {
			ann.send(&message.Typing{Room: "go", Active: true})
			ann.conn.CloseNow()
		}, []message.Message{typing(true), typing(false), &message.PresenceChange{Room: "go", Nick: "ann"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fast
			cfg.TypingTTL = tc.ttl
			url := newServer(t, cfg)
			ann := dial(t, url, "ann")
			join(ann, "go", "ann")
			bob := dial(t, url, "bob")
			join(bob, "go", "bob")
			settle(ann, bob)

			tc.act(ann)
			for _, want := range tc.want {
				got := bob.read()
				if c, ok := got.(*message.Chat); ok {
					c.Time = 0
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("bob got %s, want %s", show(got), show(want))
				}
			}
			// Then nothing else: bob's next message is his own.
			if m := say(bob, "go", "next"); m.Seq != uint64(1+countChats(tc.want)) {
				t.Errorf("bob's own message came as %s", show(m))
			}
			if tc.echo {
				// Nothing of ann's typing came back to her: she gets the
				// Chats and nothing else.
				for range countChats(tc.want) + 1 {
					expect[*message.Chat](ann)
				}
				say(ann, "go", "barrier")
			}
		})
	}
}

func countChats(msgs []message.Message) int {
	n := 0
	for _, m := range msgs {
		if _, ok := m.(*message.Chat); ok {
			n++
		}
	}
	return n
}

// A newcomer gets the latest History messages, oldest first.
func TestHistory(t *testing.T) {
	url := newServer(t, fast)
	ann := dial(t, url, "ann")
	join(ann, "go", "ann")
	for i := 1; i <= 150; i++ {
		ann.send(&message.Send{Room: "go", Text: strconv.Itoa(i)})
	}
	for range 150 {
		expect[*message.Chat](ann)
	}
	bob := dial(t, url, "bob")
	r := join(bob, "go", "bob")
	if r.joined.LastSeq != 150 {
		t.Errorf("got %s, want LastSeq 150", show(r.joined))
	}
	checkRun(t, r.history.Messages, 51, 150)
	for _, m := range r.history.Messages {
		if m.Room != "go" || m.Nick != "ann" || m.Text != strconv.FormatUint(m.Seq, 10) || m.Time == 0 {
			t.Fatalf("history holds %+v", m)
		}
	}
}

// checkRun checks that msgs are the messages numbered first to last.
func checkRun(t *testing.T, msgs []message.Chat, first, last uint64) {
	t.Helper()
	var seqs []uint64
	for _, m := range msgs {
		seqs = append(seqs, m.Seq)
	}
	var want []uint64
	for s := first; s <= last; s++ {
		want = append(want, s)
	}
	if !slices.Equal(seqs, want) {
		t.Fatalf("got sequence numbers %v, want %d to %d", seqs, first, last)
	}
}

// A client that comes back with the number of the last message it saw gets
// exactly those it missed, or, if the server cannot tell, starts afresh.
func TestResume(t *testing.T) {
	tests := []struct {
		name    string
		history int    // Config.History
		queue   int    // Config.QueueBytes
		keep    int    // Memory.Keep
		seen    uint64 // messages read before disconnecting
		missed  int    // messages sent while away
		after   uint64 // Join.After, if not seen
		reset   bool   // whether the server starts afresh
		first   uint64 // the first message the server sends back
	}{
		{name: "nothing missed", seen: 5, missed: 0, first: 6},
		{name: "a few missed", seen: 5, missed: 7, first: 6},
		{name: "saw nothing", seen: 0, missed: 7, first: 1},
		{name: "one full batch", history: 10, seen: 5, missed: 10, first: 6},
		{name: "several batches", history: 10, seen: 5, missed: 25, first: 6},
		{name: "just in the log", keep: 50, seen: 10, missed: 50, first: 11},
		{name: "too far behind", keep: 50, seen: 10, missed: 80, reset: true, first: 41},
		{name: "too far behind, small history", history: 20, keep: 50, seen: 10, missed: 80, reset: true, first: 71},
		{name: "server restarted", seen: 5, missed: 3, after: 1000, reset: true, first: 1},
		// All the batches are queued at once: no more than half the
		// queue's worth, lest the client be dropped as too slow. A batch
		// of 10 takes some 250 bytes.
		{name: "batches within half the queue", history: 10, queue: 4000, seen: 5, missed: 40, first: 6},
		{name: "more batches than half the queue", history: 10, queue: 1000, seen: 5, missed: 80, reset: true, first: 76},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fast
			cfg.History = tc.history
			cfg.QueueBytes = tc.queue
			cfg.Broker = &chat.Memory{Keep: tc.keep}
			url := newServer(t, cfg)
			pub := dial(t, url, "pub")
			join(pub, "go", "pub")
			ann := dial(t, url, "ann")
			join(ann, "go", "ann")
			settle(pub, ann)
			for i := range tc.seen {
				say(pub, "go", strconv.Itoa(int(i)))
			}
			for range tc.seen {
				expect[*message.Chat](ann)
			}
			ann.conn.CloseNow()
			waitFor(pub, func(m *message.PresenceChange) bool { return !m.Joined })
			for i := range tc.missed {
				say(pub, "go", "missed "+strconv.Itoa(i))
			}
			last := tc.seen + uint64(tc.missed)

			ann = dial(t, url, "ann again")
			after := tc.seen
			if tc.after != 0 {
				after = tc.after
			}
			ann.send(&message.Join{Room: "go", Nick: "ann", Resume: true, After: after})
			r := readJoin(ann, tc.reset)
			if r.joined.Nick != "ann" || r.joined.LastSeq != last {
				t.Errorf("got %s, want LastSeq %d", show(r.joined), last)
			}
			msgs := r.history.Messages
			for len(msgs) < int(last)-int(tc.first)+1 {
				h := expect[*message.History](ann)
				if h.Reset || len(h.Messages) == 0 {
					t.Fatalf("then got %s", show(h))
				}
				msgs = append(msgs, h.Messages...)
			}
			checkRun(t, msgs, tc.first, last)

			// Live messages follow on.
			if m := say(pub, "go", "live"); m.Seq != last+1 {
				t.Fatalf("pub got %s", show(m))
			}
			if m := expect[*message.Chat](ann); m.Seq != last+1 {
				t.Errorf("then got %s", show(m))
			}
		})
	}
}

// A client that drops and resumes again and again while another keeps
// publishing sees every message once, in order, across its History
// batches and live messages.
func TestResumeWhilePublishing(t *testing.T) {
	cfg := fast
	cfg.Broker = &chat.Memory{Keep: 100_000} // never too far behind
	url := newServer(t, cfg)
	pub := dial(t, url, "pub")
	join(pub, "go", "pub")
	ann := dial(t, url, "ann")
	join(ann, "go", "ann")

	// pub keeps up to 100 messages ahead of ann, who is a fast reader,
	// but on a machine as busy as the race detector makes it, could fall
	// behind by the 256 messages that get her dropped as too slow.
	const total, ahead = 3000, 100
	var seen atomic.Uint64
	errc := make(chan error, 1)
	go func() {
		errc <- publish(pub, "go", total, func(i int) {
			for seen.Load()+ahead < uint64(i) {
				time.Sleep(100 * time.Microsecond)
			}
		})
	}()

	var last uint64 // the last message ann has seen
	seq := func(m message.Chat) {
		if m.Seq != last+1 {
			t.Fatalf("after message %d ann got message %d", last, m.Seq)
		}
		last = m.Seq
		seen.Store(last)
	}
	for cycle := 0; last < total; cycle++ {
		// Read a varying number of messages, then drop or close.
		quota := 50 + cycle*37%300
		for n := 0; n < quota && last < total; {
			switch m := ann.read().(type) {
			case *message.Chat:
				seq(*m)
				n++
			case *message.PresenceChange, *message.Typing:
			default:
				t.Fatalf("got %s", show(m))
			}
		}
		if last == total {
			break
		}
		if cycle%2 == 0 {
			ann.conn.CloseNow()
		} else {
			ann.conn.Close(ws.StatusGoingAway, "")
		}
		ann = dial(t, url, "ann "+strconv.Itoa(cycle))
		ann.send(&message.Join{Room: "go", Nick: "ann", Resume: true, After: last})
		r := readJoin(ann, false)
		for _, m := range r.history.Messages {
			seq(m)
		}
		// Further batches, if any, come before the live messages, which
		// the loop above reads: any gap or repeat between them fails.
		for last < r.joined.LastSeq {
			h := expect[*message.History](ann)
			if h.Reset {
				t.Fatalf("got %s", show(h))
			}
			for _, m := range h.Messages {
				seq(m)
			}
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// publish sends n messages to room, each once the previous one has come
// back and pace(i) has returned, and reports the first error. It runs in
// a goroutine of its own.
func publish(c *testClient, room string, n int, pace func(i int)) error {
	ctx, cancel := context.WithTimeout(context.Background(), 4*wait)
	defer cancel()
	for i := range n {
		pace(i)
		text := "message " + strconv.Itoa(i)
		if err := c.conn.WriteMessage(ctx, ws.Binary, message.Append(nil, &message.Send{Room: room, Text: text})); err != nil {
			return err
		}
		for {
			m, err := c.next()
			if err != nil {
				return err
			}
			if m, ok := m.(*message.Chat); ok && m.Text == text {
				break
			}
		}
	}
	return nil
}

// Messages delivered while a joining client's history is being read wait
// until it has its Joined, Presence and History; events about others are
// not sent ahead of them either, since its Presence reflects them.
func TestJoinAnswerComesFirst(t *testing.T) {
	broker := &gatedBroker{Memory: &chat.Memory{}, entered: make(chan struct{}), release: make(chan struct{})}
	cfg := fast
	cfg.Broker = broker
	url := newServer(t, cfg)

	ann := dial(t, url, "ann")
	ann.send(&message.Join{Room: "go", Nick: "ann"})
	select {
	case <-broker.entered: // ann is a member, her history being read
	case <-time.After(wait):
		t.Fatal("ann's join did not read the history")
	}
	bob := dial(t, url, "bob")
	join(bob, "go", "bob")
	bob.send(&message.Typing{Room: "go", Active: true})
	say(bob, "go", "hello") // bob's arrival and typing went out before this
	close(broker.release)

	r := readJoin(ann, true)
	if got := sorted(r.presence.Nicks); !slices.Equal(got, []string{"ann", "bob"}) {
		t.Errorf("ann's presence %q", got)
	}
	checkRun(t, r.history.Messages, 1, 1)
	say(bob, "go", "again")
	if m := expect[*message.Chat](ann); m.Seq != 2 {
		t.Errorf("then got %s", show(m))
	}
}

// A gatedBroker holds the first Latest until release is closed.
type gatedBroker struct {
	*chat.Memory
	once    sync.Once
	entered chan struct{} // closed when the first Latest starts waiting
	release chan struct{}
}

func (g *gatedBroker) Latest(ctx context.Context, room string, n int) ([]message.Chat, uint64, error) {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.entered)
		<-g.release
	}
	return g.Memory.Latest(ctx, room, n)
}

// A client that sends too fast is told so, its messages dropped, and is
// disconnected if it goes on; the others carry on.
func TestRateLimit(t *testing.T) {
	url := newServer(t, chat.Config{Rate: 5, Burst: 3})
	bob := dial(t, url, "bob")
	join(bob, "go", "bob")
	settle(bob) // his second message: he has one left

	// A burst of four: the Join and three Sends, written at once. The
	// bucket holds three, and gains one every 200ms, far longer than the
	// burst takes.
	ann := dial(t, url, "ann")
	ann.send(&message.Join{Room: "go", Nick: "ann"})
	for i := range 3 {
		ann.send(&message.Send{Room: "go", Text: strconv.Itoa(i)})
	}
	readJoin(ann, true)
	expect[*message.Chat](ann)
	expect[*message.Chat](ann)
	e := expectError(ann, message.CodeRateLimited, "go")
	if !strings.Contains(e.Text, "5 messages a second") {
		t.Errorf("the error says %q", e.Text)
	}
	expect[*message.PresenceChange](bob)
	for i := range 2 {
		if m := expect[*message.Chat](bob); m.Text != strconv.Itoa(i) {
			t.Errorf("bob got %s", show(m))
		}
	}

	// Spamming on runs the debt up to Burst: disconnected.
	for range 5 {
		ann.conn.WriteMessage(context.Background(), ws.Binary, message.Append(nil, &message.Send{Room: "go", Text: "spam"}))
	}
	msgs, code, reason := readToClose(ann)
	if code != ws.StatusPolicyViolation || reason != "rate limit exceeded" {
		t.Errorf("closed with %d %q, want 1008 %q", code, reason, "rate limit exceeded")
	}
	// The errors for the spam refused before the close come before it,
	// and nothing else does.
	if len(msgs) == 0 {
		t.Error("no error came before the close")
	}
	for _, m := range msgs {
		if e, ok := m.(*message.Error); !ok || e.Code != message.CodeRateLimited {
			t.Errorf("before the close: %s", show(m))
		}
	}

	// bob saw ann leave, and nothing of the spam.
	if m := expect[*message.PresenceChange](bob); m.Nick != "ann" || m.Joined {
		t.Errorf("bob got %s", show(m))
	}
	if m := say(bob, "go", "peace"); m.Seq != 3 {
		t.Errorf("bob's message: %s", show(m))
	}
}

// A Leave is never dropped by the rate limit: a dropped one would leave a
// ghost in the room.
func TestRateLimitSparesLeave(t *testing.T) {
	url := newServer(t, chat.Config{Rate: 5, Burst: 3})
	bob := dial(t, url, "bob")
	join(bob, "go", "bob")
	ann := dial(t, url, "ann")
	join(ann, "go", "ann")
	expect[*message.PresenceChange](bob)
	for i := range 3 { // the Join took one token: this runs out
		ann.send(&message.Send{Room: "go", Text: strconv.Itoa(i)})
	}
	ann.send(&message.Leave{Room: "go"})
	m, _ := waitFor(bob, func(m *message.PresenceChange) bool { return true })
	if m.Nick != "ann" || m.Joined {
		t.Errorf("bob got %s, want ann leaving", show(m))
	}
}

// A text over message.MaxText is answered with the protocol's CodeTooLong,
// whatever its size up to the endpoint's read limit of 64 KiB; a message
// larger than that closes the connection with 1009. The largest valid
// message fits.
func TestSizeLimit(t *testing.T) {
	url := newServer(t, fast)
	room := strings.Repeat("r", message.MaxRoom)
	ann := dial(t, url, "ann")
	join(ann, room, "ann")

	largest := message.Append(nil, &message.Send{Room: room, Text: strings.Repeat("x", message.MaxText), ID: 1<<64 - 1})
	if len(largest) != message.MaxClientMessage {
		t.Fatalf("the largest Send has %d bytes", len(largest))
	}
	ann.write(largest)
	if m := expect[*message.Chat](ann); len(m.Text) != message.MaxText {
		t.Fatalf("got a text of %d bytes", len(m.Text))
	}
	expect[*message.Ack](ann)

	for i, size := range []int{message.MaxText + 1, 60 << 10} {
		ann.send(&message.Send{Room: room, Text: strings.Repeat("x", size), ID: uint64(i + 2)})
		if e := expectError(ann, message.CodeTooLong, room); e.ID != uint64(i+2) {
			t.Errorf("a text of %d bytes: the error names message %d, want %d", size, e.ID, i+2)
		}
	}

	ann.send(&message.Send{Room: room, Text: strings.Repeat("x", 64<<10), ID: 9})
	msgs, code, _ := readToClose(ann)
	if code != ws.StatusMessageTooBig || len(msgs) != 0 {
		t.Errorf("closed with %d after %d messages, want 1009 after none", code, len(msgs))
	}
}

// A member that does not read is disconnected once its queue is full,
// with 1008 and a reason; the room goes on without waiting for it.
func TestSlowReader(t *testing.T) {
	cfg := fast
	cfg.QueueBytes = 8 << 10 // eight of the messages below
	// Small socket buffers fill after a few messages, rather than the
	// megabytes of loopback's defaults.
	url := startServer(t, cfg, func(l net.Listener) net.Listener { return smallSendBuffers{l} })
	ann := dial(t, url, "ann")
	join(ann, "go", "ann")
	pub := dial(t, url, "pub")
	join(pub, "go", "pub")
	slow := dialWith(t, url, "slow", dialSmallReadBuffer)
	join(slow, "go", "slow")
	settle(ann, pub, slow)

	// slow reads nothing more while pub sends messages one at a time,
	// each read by ann before the next, so that ann's queue never holds
	// more than one.
	const n = 200
	text := strings.Repeat("x", 1000)
	for i := 1; i <= n; i++ {
		pub.send(&message.Send{Room: "go", Text: text})
		if m := expect[*message.Chat](pub); m.Seq != uint64(i) {
			t.Fatalf("pub got %s", show(m))
		}
		if m := expect[*message.Chat](ann); m.Seq != uint64(i) {
			t.Fatalf("ann got %s", show(m))
		}
	}

	// What slow gets is the start of the run, then the close.
	msgs, code, reason := readToClose(slow)
	if code != ws.StatusPolicyViolation || !strings.HasPrefix(reason, "too slow") {
		t.Errorf("slow was closed with %d %q, want 1008 and a reason starting %q", code, reason, "too slow")
	}
	for i, m := range msgs {
		if c, ok := m.(*message.Chat); !ok || c.Seq != uint64(i+1) {
			t.Fatalf("slow's message %d is %s", i, show(m))
		}
	}
	if len(msgs) >= n {
		t.Errorf("slow got all %d messages", len(msgs))
	}
	t.Logf("slow got %d messages, then 1008 %q", len(msgs), reason)

	// The others see it leave and go on.
	if m := expect[*message.PresenceChange](ann); m.Nick != "slow" || m.Joined {
		t.Errorf("ann got %s", show(m))
	}
	if m := say(pub, "go", "on"); m.Seq != n+1 {
		t.Errorf("pub got %s", show(m))
	}
}

// smallSendBuffers gives the server's sockets a small send buffer.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// dialSmallReadBuffer dials a socket with a small receive buffer.
func dialSmallReadBuffer(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetReadBuffer(4096)
	}
	return c, err
}

func texts(msgs []message.Chat) []string {
	var s []string
	for _, m := range msgs {
		s = append(s, m.Text)
	}
	return s
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
