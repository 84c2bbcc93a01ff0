package chat_test

import (
	"strconv"
	"testing"

	"duplex/server/chat"
	"duplex/shared/message"
)

// The rooms a connection may be in, and the rooms an instance may have
// open, are bounded, each with a clear error; a room left by all is
// closed, and makes room for another.
func TestRoomBounds(t *testing.T) {
	cfg := fast
	cfg.MaxRoomsPerClient = 2
	cfg.MaxRooms = 3
	url := newServer(t, cfg)
	ann := dial(t, url, "ann")
	join(ann, "a", "ann")
	join(ann, "b", "ann")
	ann.send(&message.Join{Room: "c", Nick: "ann"})
	if e := expectError(ann, message.CodeTooManyRooms, "c"); e.Text != "you are in 2 rooms, the most one connection may be in: leave one first" {
		t.Errorf("the error says %q", e.Text)
	}

	bob := dial(t, url, "bob")
	join(bob, "c", "bob")
	bob.send(&message.Join{Room: "d", Nick: "bob"})
	expectError(bob, message.CodeTooManyRooms, "d")
	bob.send(&message.Leave{Room: "c"})
	bob.send(&message.Join{Room: "d", Nick: "bob"})
	if r := readJoin(bob, true); r.joined.Room != "d" {
		t.Errorf("joined %+v", r.joined)
	}
}

// A client that comes back with its resume token gets its nickname back,
// even while the server still counts its old connection in the room; the
// old connection's end is not announced, since the nickname is still
// there.
func TestResumeToken(t *testing.T) {
	url := newServer(t, fast)
	bob := dial(t, url, "bob")
	join(bob, "go", "bob")
	ann := dial(t, url, "ann")
	r := join(ann, "go", "ann")
	waitFor(bob, func(m *message.PresenceChange) bool { return m.Nick == "ann" && m.Joined })

	// Without the token, another connection is someone else.
	other := dial(t, url, "other")
	if r := join(other, "go", "ann"); r.joined.Nick != "ann-2" {
		t.Errorf("without the token: %+v", r.joined)
	}
	// With it, ann again, her old connection still open.
	back := dial(t, url, "ann back")
	back.send(&message.Join{Room: "go", Nick: "ann", Resume: true, Token: r.joined.Token})
	if got := readJoin(back, false); got.joined.Nick != "ann" || got.joined.Token != r.joined.Token {
		t.Errorf("with the token: %+v", got.joined)
	}
	ann.conn.CloseNow()
	settle(back) // the old connection's end is handled
	bob.send(&message.Send{Room: "go", Text: "still here"})
	// bob saw ann-2 come, and then his own message: no "ann left".
	_, before := waitFor(bob, func(m *message.Chat) bool { return m.Text == "still here" })
	for _, m := range before {
		if pc, ok := m.(*message.PresenceChange); ok && pc.Nick == "ann" && !pc.Joined {
			t.Errorf("bob was told ann left, while she is back")
		}
	}
	// A token that is not one the server gives is refused.
	bad := dial(t, url, "bad")
	bad.send(&message.Join{Room: "go", Nick: "x", Token: "short"})
	expectError(bad, message.CodeBadMessage, "go")
}

// The memory broker forgets rooms beyond MaxRooms, least recently used
// first, but never one somebody subscribes to.
func TestMemoryRoomBound(t *testing.T) {
	url := newServer(t, chat.Config{Rate: 1e9, Burst: 1e9, Broker: &chat.Memory{MaxRooms: 2}})
	ann := dial(t, url, "ann")
	for i := range 2 {
		room := "r" + strconv.Itoa(i)
		join(ann, room, "ann")
		say(ann, room, "hello")
	}
	ann.send(&message.Join{Room: "r2", Nick: "ann"})
	expectError(ann, message.CodeTooManyRooms, "r2")
	ann.send(&message.Leave{Room: "r0"})
	join(ann, "r2", "ann") // r0 is forgotten, history and all
	ann.send(&message.Leave{Room: "r1"})
	join(ann, "r0", "ann") // r1 is forgotten in turn
	bob := dial(t, url, "bob")
	if r := join(bob, "r0", "bob"); r.joined.LastSeq != 0 {
		t.Errorf("r0 was not forgotten: %+v", r.joined)
	}
}
