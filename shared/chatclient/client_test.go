package chatclient

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"duplex/shared/conn"
	"duplex/shared/message"
	"duplex/shared/wire"
)

// These tests run a Client against the scripted server of fake_test.go:
// each test plays the server's part, message by message.

// start starts a client that reconnects at once, and closes it when the
// test ends.
func start(t *testing.T) (*Client, *server, *recorder) {
	t.Helper()
	srv := &server{t: t, conns: make(chan *serverConn, 16)}
	ui := newRecorder()
	c := Start(ui, srv.dial, &conn.ReconnectOptions{
		MinDelay: time.Millisecond,
		Jitter:   func(ceiling time.Duration) time.Duration { return ceiling },
	})
	// Messages are numbered 1, 2, …, and refusals waited out briefly.
	var ids uint64
	c.mu.Lock()
	c.newID = func() uint64 { ids++; return ids }
	c.retry = 20 * time.Millisecond
	c.mu.Unlock()
	t.Cleanup(func() {
		c.Close()
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Error("the client did not end within 5s of Close")
		}
	})
	return c, srv, ui
}

// join joins room as nick on link, and plays the server's answer: the
// nickname given, the history, and who is there besides.
func join(t *testing.T, c *Client, link *serverConn, ui *recorder, nick, room string, history []message.Chat, others ...string) {
	t.Helper()
	if _, err := c.Join(nick, room); err != nil {
		t.Fatalf("Join(%q, %q): %v", nick, room, err)
	}
	link.expect(&message.Join{Room: room, Nick: nick})
	link.send(
		&message.Joined{Room: room, Nick: nick},
		&message.History{Room: room, Reset: true, Messages: history},
		&message.Presence{Room: room, Nicks: append([]string{nick}, others...)},
	)
	ui.waitFor(t, nick+" in "+room, func() bool { return ui.rooms[room].Joined })
}

// reconnect drops link and returns the connection the client dials next,
// once it has opened.
func reconnect(t *testing.T, srv *server, link *serverConn) *serverConn {
	t.Helper()
	link.drop()
	return srv.next()
}

func TestJoin(t *testing.T) {
	c, srv, ui := start(t)
	link := srv.next()

	name, err := c.Join("  ann ", " #Go\t")
	if err != nil || name != "go" {
		t.Fatalf("Join = %q, %v; want \"go\"", name, err)
	}
	if r := ui.room("go"); r.Name != "go" || r.Nick != "ann" || r.Joined {
		t.Errorf("the room as reported at once: %+v, want go, ann, not yet joined", r)
	}
	link.expect(&message.Join{Room: "go", Nick: "ann"})
	link.send(
		&message.Joined{Room: "go", Nick: "ann", LastSeq: 2},
		&message.History{Room: "go", Reset: true, Messages: []message.Chat{chat("go", 1, "bob", "hi"), chat("go", 2, "ann", "hello")}},
		&message.Presence{Room: "go", Nicks: []string{"bob", "ann"}},
	)
	ui.waitMessages(t, "go", "1 bob: hi", "2 ann: hello (mine)")
	ui.waitFor(t, "the presence", func() bool { return len(ui.rooms["go"].Present) == 2 })
	if r := ui.room("go"); !r.Joined || strings.Join(r.Present, ",") != "ann,bob" {
		t.Errorf("the room after the server's answer: %+v, want joined, ann and bob there", r)
	}

	// Joining again does nothing but name the room.
	if name, err := c.Join("ann", "GO"); err != nil || name != "go" {
		t.Errorf("second Join = %q, %v", name, err)
	}
	link.quiet(20 * time.Millisecond)

	for _, tc := range []struct {
		nick, room string
		code       message.ErrorCode
	}{
		{"", "go", message.CodeBadNick},
		{"   ", "go", message.CodeBadNick},
		{"ann\x00", "go", message.CodeBadNick},
		{"ann", "", message.CodeBadRoom},
		{"ann", "#", message.CodeBadRoom},
		{"ann", "no spaces", message.CodeBadRoom},
		{"ann", strings.Repeat("x", message.MaxRoom+1), message.CodeBadRoom},
	} {
		_, err := c.Join(tc.nick, tc.room)
		var me *message.Error
		if !errors.As(err, &me) || me.Code != tc.code {
			t.Errorf("Join(%q, %q) = %v, want a *message.Error with code %v", tc.nick, tc.room, err, tc.code)
		}
	}
	link.quiet(20 * time.Millisecond)
}

func TestResume(t *testing.T) {
	c, srv, ui := start(t)
	link := srv.next()
	join(t, c, link, ui, "ann", "go", []message.Chat{chat("go", 1, "bob", "one"), chat("go", 2, "bob", "two")}, "bob")
	link.send(&message.Chat{Room: "go", Seq: 3, Nick: "bob", Text: "three"})
	ui.waitMessages(t, "go", "1 bob: one", "2 bob: two", "3 bob: three")

	// The connection drops. What the user sends meanwhile waits in the
	// outbox.
	link.drop()
	if err := c.Send("go", "while away"); err != nil {
		t.Errorf("Send while disconnected = %v, want it queued", err)
	}
	ui.waitOutbox(t, "go", "#1 while away")
	link = srv.next()
	// The client joins again, asking for what came after the last message
	// it showed.
	link.expect(&message.Join{Room: "go", Nick: "ann", Resume: true, After: 3})
	ui.waitFor(t, "the room to be rejoining", func() bool { return !ui.rooms["go"].Joined })
	ui.waitFor(t, "the reconnected status", func() bool {
		s := ui.last()
		return s.Phase == conn.PhaseOpen && s.Opens == 2
	})
	if s := ui.lastStatus(); !s.CatchingUp || s.Rooms != 1 {
		t.Errorf("status before the history: %+v, want catching up, 1 room", s)
	}
	// The server's history overlaps what was shown live, and so does a live
	// message after it: the UI sees each message once.
	link.send(
		&message.Joined{Room: "go", Nick: "ann", LastSeq: 5},
		&message.History{Room: "go", Messages: []message.Chat{chat("go", 3, "bob", "three"), chat("go", 4, "cy", "four"), chat("go", 5, "bob", "five")}},
		&message.Presence{Room: "go", Nicks: []string{"ann", "bob", "cy"}},
		&message.Chat{Room: "go", Seq: 5, Nick: "bob", Text: "five"},
		&message.Chat{Room: "go", Seq: 6, Nick: "ann", Text: "six"},
	)
	ui.waitMessages(t, "go", "1 bob: one", "2 bob: two", "3 bob: three", "4 cy: four", "5 bob: five", "6 ann: six (mine)")
	if s := ui.lastStatus(); s.CatchingUp || s.Missed != 2 || s.Reloaded || s.Opens != 2 {
		t.Errorf("status after the history: %+v, want caught up, 2 missed, not reloaded", s)
	}
	// Once caught up, what waited goes out, then what is sent next, once
	// the server has answered.
	link.expect(&message.Send{Room: "go", Text: "while away", ID: 1})
	if err := c.Send("go", "back"); err != nil {
		t.Fatalf("Send after the reconnect: %v", err)
	}
	link.quiet(20 * time.Millisecond)
	link.send(&message.Ack{Room: "go", ID: 1, Seq: 7})
	link.expect(&message.Send{Room: "go", Text: "back", ID: 2})
}

func TestHistoryReset(t *testing.T) {
	c, srv, ui := start(t)
	link := srv.next()
	join(t, c, link, ui, "ann", "go", []message.Chat{chat("go", 1, "bob", "one"), chat("go", 2, "bob", "two")})
	link = reconnect(t, srv, link)
	link.expect(&message.Join{Room: "go", Nick: "ann", Resume: true, After: 2})
	// The server lost the room's log (say, it restarted without NATS): its
	// numbers start again, and it sends the history afresh.
	link.send(
		&message.Joined{Room: "go", Nick: "ann", LastSeq: 1},
		&message.History{Room: "go", Reset: true, Messages: []message.Chat{chat("go", 1, "cy", "new one")}},
		&message.Chat{Room: "go", Seq: 2, Nick: "cy", Text: "new two"},
	)
	ui.waitFor(t, "the reset", func() bool { return len(ui.resets) == 2 })
	ui.waitMessages(t, "go", "1 cy: new one", "2 cy: new two")
	ui.mu.Lock()
	resets := strings.Join(ui.resets, ",")
	ui.mu.Unlock()
	if resets != "go,go" {
		t.Errorf("HistoryReset for %q, want go at the first join and at the reset", resets)
	}
	if s := ui.lastStatus(); !s.Reloaded || s.Missed != 0 {
		t.Errorf("status after the reset: %+v, want reloaded, 0 missed", s)
	}
}

func TestPresenceAndTyping(t *testing.T) {
	c, srv, ui := start(t)
	link := srv.next()
	join(t, c, link, ui, "ann", "go", nil)
	for _, step := range []struct {
		what            string
		msg             message.Message
		present, typing string
	}{
		{"presence", &message.Presence{Room: "go", Nicks: []string{"cy", "ann", "bob"}}, "ann,bob,cy", ""},
		{"dan joins", &message.PresenceChange{Room: "go", Nick: "dan", Joined: true}, "ann,bob,cy,dan", ""},
		{"bob types", &message.Typing{Room: "go", Nick: "bob", Active: true}, "ann,bob,cy,dan", "bob"},
		{"cy types", &message.Typing{Room: "go", Nick: "cy", Active: true}, "ann,bob,cy,dan", "bob,cy"},
		{"bob again", &message.Typing{Room: "go", Nick: "bob", Active: true}, "ann,bob,cy,dan", "cy,bob"},
		{"ann's own", &message.Typing{Room: "go", Nick: "ann", Active: true}, "ann,bob,cy,dan", "cy,bob"},
		{"bob sends", &message.Chat{Room: "go", Seq: 1, Nick: "bob", Text: "hi"}, "ann,bob,cy,dan", "cy"},
		{"cy leaves", &message.PresenceChange{Room: "go", Nick: "cy"}, "ann,bob,dan", ""},
		{"dan types", &message.Typing{Room: "go", Nick: "dan", Active: true}, "ann,bob,dan", "dan"},
		{"dan stops", &message.Typing{Room: "go", Nick: "dan"}, "ann,bob,dan", ""},
		{"another room", &message.Typing{Room: "elsewhere", Nick: "dan", Active: true}, "ann,bob,dan", ""},
		{"bob types once more", &message.Typing{Room: "go", Nick: "bob", Active: true}, "ann,bob,dan", "bob"},
		// A new Joined, after a reconnect, forgets who was typing.
		{"joined again", &message.Joined{Room: "go", Nick: "ann"}, "ann,bob,dan", ""},
	} {
		link.send(step.msg)
		ui.waitFor(t, step.what, func() bool {
			r := ui.rooms["go"]
			return strings.Join(r.Present, ",") == step.present && strings.Join(r.Typing, ",") == step.typing
		})
	}
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func TestTypingSent(t *testing.T) {
	c, srv, ui := start(t)
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	c.mu.Lock()
	c.now = clock.Now
	c.mu.Unlock()
	link := srv.next()
	join(t, c, link, ui, "ann", "go", nil)
	join(t, c, link, ui, "ann", "rust", nil)

	c.Typing("go", true)
	link.expect(&message.Typing{Room: "go", Active: true})
	clock.advance(TypingEvery - time.Millisecond)
	c.Typing("go", true) // too soon to say it again
	link.quiet(20 * time.Millisecond)
	clock.advance(time.Millisecond)
	c.Typing("go", true)
	link.expect(&message.Typing{Room: "go", Active: true})
	c.Typing("rust", true) // typing in another room stops it in the first
	link.expect(&message.Typing{Room: "go"})
	link.expect(&message.Typing{Room: "rust", Active: true})
	c.Typing("rust", false)
	link.expect(&message.Typing{Room: "rust"})
	c.StopTyping() // stopped already
	c.Typing("nowhere", true)
	link.quiet(20 * time.Millisecond)

	// A message sent ends the typing on the server: there is nothing to
	// stop after it.
	c.Typing("go", true)
	link.expect(&message.Typing{Room: "go", Active: true})
	if err := c.Send("go", "done"); err != nil {
		t.Fatal(err)
	}
	link.expect(&message.Send{Room: "go", Text: "done", ID: 1})
	c.StopTyping()
	// Nor after leaving the room.
	c.Typing("rust", true)
	link.expect(&message.Typing{Room: "rust", Active: true})
	c.Leave("rust")
	link.expect(&message.Leave{Room: "rust"})
	c.StopTyping()
	link.quiet(20 * time.Millisecond)
}

func TestSendAndLeave(t *testing.T) {
	c, srv, ui := start(t)
	link := srv.next()
	if _, err := c.Join("ann", "go"); err != nil {
		t.Fatal(err)
	}
	link.expect(&message.Join{Room: "go", Nick: "ann"})
	for _, tc := range []struct {
		room, text string
		want       string // what the error says
	}{
		{"elsewhere", "no room", ErrNotJoined.Error()}, // not joined at all
		{"go", "  \n", "bad message: text is blank"},
		{"go", strings.Repeat("x", message.MaxText+1), "text is longer"},
	} {
		err := c.Send(tc.room, tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Send(%q, %.20q) = %v, want %q", tc.room, tc.text, err, tc.want)
		}
	}
	// Before the server has answered, a message waits.
	if err := c.Send("go", "too early"); err != nil {
		t.Fatal(err)
	}
	link.quiet(20 * time.Millisecond)

	link.send(&message.Joined{Room: "go", Nick: "ann"}, &message.History{Room: "go", Reset: true})
	ui.waitFor(t, "the join", func() bool { return ui.rooms["go"].Joined })
	link.expect(&message.Send{Room: "go", Text: "too early", ID: 1})
	if err := c.Send("go", "hello"); err != nil {
		t.Fatal(err)
	}
	link.send(&message.Ack{Room: "go", ID: 1, Seq: 1})
	link.expect(&message.Send{Room: "go", Text: "hello", ID: 2})

	c.Leave("go")
	link.expect(&message.Leave{Room: "go"})
	ui.mu.Lock()
	removed, still := strings.Join(ui.removed, ","), ui.rooms["go"].Name != ""
	ui.mu.Unlock()
	if removed != "go" || still {
		t.Errorf("after Leave the UI was told %q removed, and still has the room: %v", removed, still)
	}
	if err := c.Send("go", "gone"); err != ErrNotJoined {
		t.Errorf("Send after Leave = %v, want ErrNotJoined", err)
	}
	// A room left is not joined again on the next connection.
	link = reconnect(t, srv, link)
	link.quiet(50 * time.Millisecond)
}

func TestServerErrors(t *testing.T) {
	c, srv, ui := start(t)
	link := srv.next()

	// A join the server refuses: the room goes.
	if _, err := c.Join("ann", "full"); err != nil {
		t.Fatal(err)
	}
	link.expect(&message.Join{Room: "full", Nick: "ann"})
	refusal := &message.Error{Code: message.CodeBadNick, Room: "full", Text: "no such nickname here"}
	link.send(refusal)
	ui.waitFor(t, "the room to go", func() bool { return len(ui.removed) == 1 })
	ui.mu.Lock()
	removed, errs := ui.removed[0], strings.Join(ui.errs, "\n")
	ui.mu.Unlock()
	if removed != "full: "+refusal.Error() || errs != refusal.Error() {
		t.Errorf("removed %q after the errors\n%s", removed, errs)
	}

	// A nickname taken: the server gives another, which the client asks
	// for from then on.
	if _, err := c.Join("ann", "go"); err != nil {
		t.Fatal(err)
	}
	link.expect(&message.Join{Room: "go", Nick: "ann"})
	link.send(&message.Joined{Room: "go", Nick: "ann-2"})
	ui.waitFor(t, "the nickname", func() bool { return len(ui.nicks) == 1 && ui.rooms["go"].Joined })
	ui.mu.Lock()
	nick, r := ui.nicks[0], ui.rooms["go"]
	ui.mu.Unlock()
	if nick != "go: ann → ann-2" {
		t.Errorf("NickTaken reported %q", nick)
	}
	if r.Nick != "ann-2" {
		t.Errorf("the room: %+v, want joined as ann-2", r)
	}
	link.send(&message.Chat{Room: "go", Seq: 1, Nick: "ann-2", Text: "mine"})
	ui.waitMessages(t, "go", "1 ann-2: mine (mine)")

	// An error about a room the client is in only shows.
	link.send(&message.Error{Code: message.CodeRateLimited, Room: "go", Text: "slow down"})
	ui.waitFor(t, "the second error", func() bool { return len(ui.errs) == 2 })
	if r := ui.room("go"); !r.Joined {
		t.Error("an error about a room the client is in removed it")
	}

	// A message of a kind from a newer server is skipped; one that does not
	// decode is reported.
	link.in <- []byte{message.Version, 200, 1, 2, 3}
	link.in <- []byte{message.Version}
	ui.waitFor(t, "the decoding error", func() bool { return len(ui.errs) == 3 })
	ui.mu.Lock()
	e := ui.errs[2]
	ui.mu.Unlock()
	if !strings.Contains(e, "message:") {
		t.Errorf("the decoding error reads %q", e)
	}

	// On the next connection the client asks for the nickname it was
	// given. No History came, so it has no place to resume from.
	link = reconnect(t, srv, link)
	link.expect(&message.Join{Room: "go", Nick: "ann-2"})
}

func TestStatus(t *testing.T) {
	c, srv, ui := start(t)
	link := srv.next()
	ui.waitFor(t, "open", func() bool { return ui.last().Phase == conn.PhaseOpen })
	if s := ui.lastStatus(); s.Opens != 1 || s.CatchingUp || s.Rooms != 0 {
		t.Errorf("status once open: %+v", s)
	}
	link.drop()
	ui.waitFor(t, "reconnecting", func() bool {
		for _, s := range ui.statuses {
			if s.Phase == conn.PhaseReconnecting {
				ce, ok := s.Err.(*wire.CloseError)
				return ok && ce.Code == wire.StatusAbnormalClosure
			}
		}
		return false
	})
	srv.next()
	ui.waitFor(t, "open again", func() bool {
		s := ui.last()
		return s.Phase == conn.PhaseOpen && s.Opens == 2
	})
	if err := c.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done is not closed after Close")
	}
	if s := ui.lastStatus(); s.Phase != conn.PhaseClosed {
		t.Errorf("status after Close: %+v", s)
	}
	if _, err := c.Join("ann", "go"); err != nil {
		t.Errorf("Join after Close = %v: it should only be remembered", err)
	}
}

func TestBlank(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"", true},
		{" \t\r\n", true},
		{" x ", false},
		{"\u00a0", false}, // not ASCII space: a character to send
	} {
		if got := Blank(tc.s); got != tc.want {
			t.Errorf("Blank(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
