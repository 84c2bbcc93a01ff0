package chatclient

import (
	"strings"
	"testing"
	"time"

	"duplex/shared/message"
)

// joinWithToken joins room as nick on link, and plays a server that gives
// the token and has the history.
func joinWithToken(t *testing.T, c *Client, link *serverConn, ui *recorder, room, token string, history ...message.Chat) {
	t.Helper()
	if _, err := c.Join("ann", room); err != nil {
		t.Fatal(err)
	}
	link.expect(&message.Join{Room: room, Nick: "ann"})
	var last uint64
	if len(history) > 0 {
		last = history[len(history)-1].Seq
	}
	link.send(
		&message.Joined{Room: room, Nick: "ann", LastSeq: last, Token: token},
		&message.Presence{Room: room, Nicks: []string{"ann"}},
		&message.History{Room: room, Reset: true, Messages: history},
	)
	ui.waitFor(t, "ann in "+room, func() bool { return ui.rooms[room].Joined })
}

// mine returns the Chat that delivers the user's message id.
func mine(room string, seq, id uint64, text string) *message.Chat {
	return &message.Chat{Room: room, Seq: seq, Nick: "ann", Text: text, ID: id}
}

// Messages go one at a time, each once the server has answered the one
// before; each leaves the outbox when its Chat is shown, whether the Ack
// came first or not.
func TestOutboxOneAtATime(t *testing.T) {
	c, srv, ui := start(t)
	link := srv.next()
	joinWithToken(t, c, link, ui, "go", "tok")
	for _, text := range []string{"one", "two", "three"} {
		if err := c.Send("go", text); err != nil {
			t.Fatal(err)
		}
	}
	ui.waitOutbox(t, "go", "#1 one", "#2 two", "#3 three")
	link.expect(&message.Send{Room: "go", Text: "one", ID: 1})
	link.quiet(20 * time.Millisecond)

	// The Ack first: stored, and the next goes; then the Chat.
	link.send(&message.Ack{Room: "go", ID: 1, Seq: 1})
	link.expect(&message.Send{Room: "go", Text: "two", ID: 2})
	ui.waitOutbox(t, "go", "#1 one (stored)", "#2 two", "#3 three")
	link.send(mine("go", 1, 1, "one"))
	ui.waitOutbox(t, "go", "#2 two", "#3 three")

	// The Chat first: delivered, and the next goes; the Ack after it
	// changes nothing.
	link.send(mine("go", 2, 2, "two"))
	link.expect(&message.Send{Room: "go", Text: "three", ID: 3})
	ui.waitOutbox(t, "go", "#3 three")
	link.send(&message.Ack{Room: "go", ID: 2, Seq: 2})

	// A Chat of someone else's after an Ack whose own Chat was skipped (a
	// history reset, say) takes the acknowledged message out too.
	link.send(&message.Ack{Room: "go", ID: 3, Seq: 4})
	ui.waitOutbox(t, "go", "#3 three (stored)")
	link.send(&message.Chat{Room: "go", Seq: 5, Nick: "bob", Text: "later"})
	ui.waitOutbox(t, "go")
	ui.waitMessages(t, "go", "1 ann: one (mine)", "2 ann: two (mine)", "5 bob: later")
}

// A message in flight when the connection drops is sent again, with its
// ID, once the client has rejoined with its token and caught up — unless
// the history shows that the server stored it before the drop.
func TestOutboxAfterDrop(t *testing.T) {
	c, srv, ui := start(t)
	link := srv.next()
	joinWithToken(t, c, link, ui, "go", "secret", chat("go", 1, "bob", "hi"))
	for _, text := range []string{"stored", "lost", "typed while away"} {
		if err := c.Send("go", text); err != nil {
			t.Fatal(err)
		}
		if text == "stored" {
			link.expect(&message.Send{Room: "go", Text: "stored", ID: 1})
			link = reconnect(t, srv, link)
		}
	}
	ui.waitOutbox(t, "go", "#1 stored", "#2 lost", "#3 typed while away")

	link.expect(&message.Join{Room: "go", Nick: "ann", Resume: true, After: 1, Token: "secret"})
	// The server stored the first before the drop: it comes in the
	// history, and is not sent again; nothing goes before the history has
	// caught up.
	link.send(&message.Joined{Room: "go", Nick: "ann", LastSeq: 3, Token: "secret"}, &message.Presence{Room: "go", Nicks: []string{"ann"}})
	link.quiet(20 * time.Millisecond)
	link.send(&message.History{Room: "go", Messages: []message.Chat{*mine("go", 2, 1, "stored")}})
	link.quiet(20 * time.Millisecond)
	link.send(&message.History{Room: "go", Messages: []message.Chat{chat("go", 3, "bob", "meanwhile")}})
	link.expect(&message.Send{Room: "go", Text: "lost", ID: 2})
	ui.waitOutbox(t, "go", "#2 lost", "#3 typed while away")

	// Dropped again before the answer: sent again, with the same ID.
	link = reconnect(t, srv, link)
	link.expect(&message.Join{Room: "go", Nick: "ann", Resume: true, After: 3, Token: "secret"})
	link.send(&message.Joined{Room: "go", Nick: "ann", LastSeq: 3, Token: "secret"}, &message.History{Room: "go"})
	link.expect(&message.Send{Room: "go", Text: "lost", ID: 2})
	link.send(&message.Ack{Room: "go", ID: 2, Seq: 4}, mine("go", 4, 2, "lost"))
	link.expect(&message.Send{Room: "go", Text: "typed while away", ID: 3})
	link.send(mine("go", 5, 3, "typed while away"))
	ui.waitOutbox(t, "go")
	ui.waitMessages(t, "go", "1 bob: hi", "2 ann: stored (mine)", "3 bob: meanwhile", "4 ann: lost (mine)", "5 ann: typed while away (mine)")
}

// Messages requeued from an earlier client, a reloaded page's, go once the
// history has come — those it shows the server has are not sent again —
// with their IDs.
func TestOutboxRequeued(t *testing.T) {
	c, srv, ui := start(t)
	link := srv.next()
	if _, err := c.Join("ann", "go"); err != nil {
		t.Fatal(err)
	}
	if err := c.Requeue("go", []Pending{{ID: 70, Text: "stored before the reload"}, {ID: 0, Text: "no ID"}, {ID: 80, Text: "never arrived"}, {ID: 70, Text: "twice"}}); err != nil {
		t.Fatal(err)
	}
	link.expect(&message.Join{Room: "go", Nick: "ann"})
	ui.waitOutbox(t, "go", "#70 stored before the reload", "#80 never arrived")
	link.quiet(20 * time.Millisecond) // nothing before the history
	link.send(
		&message.Joined{Room: "go", Nick: "ann", LastSeq: 1, Token: "tok"},
		&message.History{Room: "go", Reset: true, Messages: []message.Chat{*mine("go", 1, 70, "stored before the reload")}},
	)
	link.expect(&message.Send{Room: "go", Text: "never arrived", ID: 80})
	link.send(&message.Ack{Room: "go", ID: 80, Seq: 2}, mine("go", 2, 80, "never arrived"))
	ui.waitOutbox(t, "go")
	ui.waitMessages(t, "go", "1 ann: stored before the reload (mine)", "2 ann: never arrived (mine)")

	if err := c.Requeue("elsewhere", []Pending{{ID: 1, Text: "x"}}); err != ErrNotJoined {
		t.Errorf("Requeue to a room not joined = %v, want ErrNotJoined", err)
	}
	many := make([]Pending, MaxPending+1)
	for i := range many {
		many[i] = Pending{ID: uint64(1000 + i), Text: "m"}
	}
	if err := c.Requeue("go", many); err != ErrOutboxFull {
		t.Errorf("Requeue of %d = %v, want ErrOutboxFull", len(many), err)
	}
}

// A message the server refuses for the time being is sent again after a
// while, before those after it; one it would refuse again goes back to the
// UI, and the next goes.
func TestOutboxRefusals(t *testing.T) {
	c, srv, ui := start(t)
	link := srv.next()
	joinWithToken(t, c, link, ui, "go", "tok")
	for _, text := range []string{"fast", "next"} {
		if err := c.Send("go", text); err != nil {
			t.Fatal(err)
		}
	}
	link.expect(&message.Send{Room: "go", Text: "fast", ID: 1})
	limited := &message.Error{Code: message.CodeRateLimited, Room: "go", Text: "slow down", ID: 1}
	link.send(limited)
	ui.waitOutbox(t, "go", "#1 fast ("+limited.Error()+")", "#2 next")
	link.expect(&message.Send{Room: "go", Text: "fast", ID: 1}) // after the client's retry delay
	link.send(&message.Error{Code: message.CodeTooLong, Room: "go", Text: "too long here", ID: 1})
	link.expect(&message.Send{Room: "go", Text: "next", ID: 2})
	ui.waitOutbox(t, "go", "#2 next")
	ui.mu.Lock()
	refused, errs := strings.Join(ui.refused, "\n"), len(ui.errs)
	ui.mu.Unlock()
	if refused != "go: fast: text too long in room go: too long here" || errs != 2 {
		t.Errorf("refused %q after %d errors", refused, errs)
	}
}

// Leaving drops the room's outbox, and a retry waiting with it; the
// outbox holds MaxPending messages at most.
func TestOutboxLeaveAndLimit(t *testing.T) {
	c, srv, ui := start(t)
	link := srv.next()
	joinWithToken(t, c, link, ui, "go", "tok")
	if err := c.Send("go", "first"); err != nil {
		t.Fatal(err)
	}
	link.expect(&message.Send{Room: "go", Text: "first", ID: 1})
	for i := 1; i < MaxPending; i++ {
		if err := c.Send("go", "more"); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	if err := c.Send("go", "one too many"); err != ErrOutboxFull {
		t.Errorf("Send beyond MaxPending = %v, want ErrOutboxFull", err)
	}
	link.send(&message.Error{Code: message.CodeInternal, Room: "go", Text: "cannot store now", ID: 1})
	ui.waitFor(t, "the refusal", func() bool { return len(ui.errs) == 1 })
	c.Leave("go")
	link.expect(&message.Leave{Room: "go"})
	link.quiet(3 * c.retry) // the retry was dropped with the room
	if _, err := c.Join("ann", "go"); err != nil {
		t.Fatal(err)
	}
	link.expect(&message.Join{Room: "go", Nick: "ann"}) // a new membership: no token
	ui.waitOutbox(t, "go")
}

// A room the server cannot take back for the moment, after a reconnect,
// is asked for again, and what waits to be sent there is kept.
func TestRejoinAfterInternalError(t *testing.T) {
	c, srv, ui := start(t)
	link := srv.next()
	joinWithToken(t, c, link, ui, "go", "tok", chat("go", 1, "bob", "hi"))
	link = reconnect(t, srv, link)
	if err := c.Send("go", "kept"); err != nil {
		t.Fatal(err)
	}
	link.expect(&message.Join{Room: "go", Nick: "ann", Resume: true, After: 1, Token: "tok"})
	link.send(&message.Error{Code: message.CodeInternal, Room: "go", Text: "cannot join the room now"})
	link.expect(&message.Join{Room: "go", Nick: "ann", Resume: true, After: 1, Token: "tok"}) // after the client's retry delay
	link.send(&message.Joined{Room: "go", Nick: "ann", LastSeq: 1, Token: "tok"}, &message.History{Room: "go"})
	link.expect(&message.Send{Room: "go", Text: "kept", ID: 1})
	ui.mu.Lock()
	removed := len(ui.removed)
	ui.mu.Unlock()
	if removed != 0 {
		t.Errorf("the room was removed")
	}
}
