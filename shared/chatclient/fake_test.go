package chatclient

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"duplex/shared/conn"
	"duplex/shared/message"
	"duplex/shared/wire"
)

// This file holds what the tests of Client stand on: a connection whose
// other end the test plays, a server that hands out such connections, and
// a UI that records what it is told.

// A serverConn is an in-memory conn.Conn. The client's messages come out,
// decoded, on sent; the test sends the server's with send.
type serverConn struct {
	t    *testing.T
	in   chan []byte          // from the server, not yet read
	sent chan message.Message // from the client
	done chan struct{}

	mu  sync.Mutex
	err error // why it ended; nil while open
}

func newServerConn(t *testing.T) *serverConn {
	return &serverConn{t: t, in: make(chan []byte, 256), sent: make(chan message.Message, 256), done: make(chan struct{})}
}

// send sends the server's messages to the client.
func (c *serverConn) send(msgs ...message.Message) {
	for _, m := range msgs {
		c.in <- message.Append(nil, m)
	}
}

// expect fails the test unless the next message from the client is want.
func (c *serverConn) expect(want message.Message) {
	c.t.Helper()
	select {
	case got := <-c.sent:
		if describe(got) != describe(want) {
			c.t.Fatalf("the client sent %s, want %s", describe(got), describe(want))
		}
	case <-time.After(5 * time.Second):
		c.t.Fatalf("the client did not send %s", describe(want))
	}
}

// quiet fails the test if the client sends something within d.
func (c *serverConn) quiet(d time.Duration) {
	c.t.Helper()
	select {
	case got := <-c.sent:
		c.t.Fatalf("the client sent %s, want nothing", describe(got))
	case <-time.After(d):
	}
}

// describe returns m's kind and fields.
func describe(m message.Message) string {
	s := m.Kind().String()
	switch m := m.(type) {
	case *message.Join:
		s += " " + m.Room + " " + m.Nick
		if m.Resume {
			s += " after " + strconv.FormatUint(m.After, 10)
		}
		if m.Token != "" {
			s += " token " + m.Token
		}
	case *message.Leave:
		s += " " + m.Room
	case *message.Send:
		s += " " + m.Room + " " + strconv.Quote(m.Text) + " #" + strconv.FormatUint(m.ID, 10)
	case *message.Typing:
		s += " " + m.Room + " " + strconv.FormatBool(m.Active)
	}
	return s
}

// drop ends the connection as a failing network does.
func (c *serverConn) drop() { c.end(&wire.CloseError{Code: wire.StatusAbnormalClosure}) }

func (c *serverConn) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
		close(c.done)
	}
}

func (c *serverConn) ReadMessage(ctx context.Context, buf []byte) (wire.MessageType, []byte, error) {
	select {
	case p := <-c.in:
		return wire.Binary, append(buf[:0], p...), nil
	default:
	}
	select {
	case p := <-c.in:
		return wire.Binary, append(buf[:0], p...), nil
	case <-c.done:
		return 0, nil, c.Err()
	case <-ctx.Done():
		c.CloseNow()
		return 0, nil, ctx.Err()
	}
}

func (c *serverConn) WriteMessage(ctx context.Context, typ wire.MessageType, p []byte) error {
	if c.Err() != nil {
		return wire.ErrClosed
	}
	if typ != wire.Binary {
		return errors.New("the chat's messages are binary")
	}
	m, err := message.Decode(p)
	if err != nil {
		c.t.Errorf("the client sent a message that does not decode: %v", err)
		return nil
	}
	c.sent <- m
	return nil
}

func (c *serverConn) Close(code wire.StatusCode, reason string) error {
	if c.Err() != nil {
		return wire.ErrClosed
	}
	c.end(&wire.CloseError{Code: code, Reason: reason, WasClean: true})
	return nil
}

func (c *serverConn) CloseNow() error {
	if c.Err() != nil {
		return wire.ErrClosed
	}
	c.end(wire.ErrClosed)
	return nil
}

func (c *serverConn) Done() <-chan struct{} { return c.done }

func (c *serverConn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *serverConn) Subprotocol() string { return message.Subprotocol }
func (c *serverConn) Extensions() string  { return "" }

// A server hands out a serverConn per dial.
type server struct {
	t     *testing.T
	conns chan *serverConn
}

func (s *server) dial(ctx context.Context) (conn.Conn, error) {
	c := newServerConn(s.t)
	s.conns <- c
	return c, nil
}

// next returns the next connection the client dialed.
func (s *server) next() *serverConn {
	s.t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(5 * time.Second):
		s.t.Fatal("the client did not dial within 5s")
		return nil
	}
}

// A recorder is a UI that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	statuses []Status
	rooms    map[string]Room
	removed  []string            // "room: error", or "room" when the user left
	messages map[string][]string // per room, "seq nick: text", with " (mine)" for the user's
	resets   []string
	nicks    []string            // "room: asked → given"
	outbox   map[string][]string // per room, "#id text", with " (stored)" or " (error)"
	refused  []string            // "room: text: error"
	errs     []string
	changed  chan struct{} // signalled at every call
}

func newRecorder() *recorder {
	return &recorder{rooms: map[string]Room{}, messages: map[string][]string{}, outbox: map[string][]string{}, changed: make(chan struct{}, 1)}
}

func (u *recorder) record(f func()) {
	u.mu.Lock()
	f()
	u.mu.Unlock()
	select {
	case u.changed <- struct{}{}:
	default:
	}
}

func (u *recorder) Status(s Status) { u.record(func() { u.statuses = append(u.statuses, s) }) }
func (u *recorder) RoomChanged(r Room) {
	u.record(func() { u.rooms[r.Name] = r })
}

func (u *recorder) RoomRemoved(room string, err error) {
	u.record(func() {
		delete(u.rooms, room)
		delete(u.outbox, room)
		if err != nil {
			room += ": " + err.Error()
		}
		u.removed = append(u.removed, room)
	})
}

func (u *recorder) Message(m message.Chat, mine bool) {
	u.record(func() {
		line := strconv.FormatUint(m.Seq, 10) + " " + m.Nick + ": " + m.Text
		if mine {
			line += " (mine)"
		}
		u.messages[m.Room] = append(u.messages[m.Room], line)
	})
}

func (u *recorder) HistoryReset(room string) {
	u.record(func() {
		u.resets = append(u.resets, room)
		u.messages[room] = nil
	})
}

func (u *recorder) NickTaken(room, asked, given string) {
	u.record(func() { u.nicks = append(u.nicks, room+": "+asked+" → "+given) })
}

func (u *recorder) Error(err error) { u.record(func() { u.errs = append(u.errs, err.Error()) }) }

func (u *recorder) Outbox(room string, pending []Pending) {
	u.record(func() {
		var lines []string
		for _, p := range pending {
			line := "#" + strconv.FormatUint(p.ID, 10) + " " + p.Text
			if p.Stored {
				line += " (stored)"
			}
			if p.Err != nil {
				line += " (" + p.Err.Error() + ")"
			}
			lines = append(lines, line)
		}
		u.outbox[room] = lines
	})
}

func (u *recorder) Refused(room, text string, err error) {
	u.record(func() { u.refused = append(u.refused, room+": "+text+": "+err.Error()) })
}

// waitOutbox waits until the UI shows exactly want pending in room.
func (u *recorder) waitOutbox(t *testing.T, room string, want ...string) {
	t.Helper()
	u.waitFor(t, "the outbox of "+room+" to read "+strings.Join(want, ", "), func() bool {
		return strings.Join(u.outbox[room], "\n") == strings.Join(want, "\n")
	})
}

// waitFor waits until cond, called with u locked, holds. cond reads u's
// fields directly, or through last: the methods that lock would deadlock.
func (u *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		u.mu.Lock()
		ok := cond()
		u.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-u.changed:
		case <-deadline:
			t.Fatalf("waited 5s for %s", what)
		}
	}
}

// room returns what the UI was told of the room last.
func (u *recorder) room(name string) Room {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.rooms[name]
}

// lastStatus returns the Status reported last.
func (u *recorder) lastStatus() Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last()
}

// last returns the Status reported last; u.mu must be held.
func (u *recorder) last() Status {
	if len(u.statuses) == 0 {
		return Status{}
	}
	return u.statuses[len(u.statuses)-1]
}

// waitMessages waits until the UI shows exactly want in room, and fails
// the test if it shows more.
func (u *recorder) waitMessages(t *testing.T, room string, want ...string) {
	t.Helper()
	u.waitFor(t, strconv.Itoa(len(want))+" messages in "+room, func() bool { return len(u.messages[room]) >= len(want) })
	u.mu.Lock()
	got := append([]string(nil), u.messages[room]...)
	u.mu.Unlock()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the UI shows in %s\n\t%s\nwant\n\t%s", room, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// chat returns a Chat message.
func chat(room string, seq uint64, nick, text string) message.Chat {
	return message.Chat{Room: room, Seq: seq, Time: int64(seq) * 1000, Nick: nick, Text: text}
}
