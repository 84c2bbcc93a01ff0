package chatclient

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"duplex/shared/message"
)

// MaxPending is how many messages may wait in a room's outbox: Send
// refuses more with ErrOutboxFull.
const MaxPending = 100

// RetryAfter is how long a message that the server refused for the time
// being — rate limited, or not storable at the moment — waits before it is
// sent again.
const RetryAfter = time.Second

// ErrOutboxFull is what Send returns when MaxPending messages wait in the
// room's outbox already. The text was not queued.
var ErrOutboxFull = errors.New("chatclient: not sent: " + strconv.Itoa(MaxPending) + " messages are waiting to be sent already")

// The life of a message in the outbox.
type outState uint8

const (
	queued outState = iota // waits to be sent, on this connection or the next
	sent                   // written on the current connection: its Ack or Error has yet to come
	acked                  // stored by the server: it goes once its Chat is shown
)

// An outgoing is a message the user sent.
type outgoing struct {
	id    uint64
	text  string
	state outState
	seq   uint64 // the sequence number its Ack gave
	err   error  // why the server refused it last, for the time being
}

// An outbox holds a room's messages that the user sent and that the
// server has yet to deliver back, in the order they were sent. One is in
// flight at a time: the next goes once the server has answered the one
// before, so that the server stores them in the order they were typed even
// when it refuses one for a while and it is sent again. A message leaves
// the outbox when its Chat is shown — recognised by its ID, live or in a
// resumed history — or when the server has acknowledged it and the room
// has been shown past its sequence number.
//
// Its owner is the Client: every method runs with the Client's lock held.
type outbox struct {
	msgs []*outgoing
	held *time.Timer // set while the next message waits out a refusal
}

// find returns the index of the message with id, or -1.
func (o *outbox) find(id uint64) int {
	for i, m := range o.msgs {
		if m.id == id {
			return i
		}
	}
	return -1
}

func (o *outbox) remove(i int) {
	o.msgs = append(o.msgs[:i], o.msgs[i+1:]...)
}

// disconnected marks what was in flight as to be sent again: whether the
// server stored it is unknown, and if it did, it stores it once.
func (o *outbox) disconnected() {
	for _, m := range o.msgs {
		if m.state == sent {
			m.state = queued
		}
	}
}

// drop empties the outbox, for a room the user left.
func (o *outbox) drop() {
	if o.held != nil {
		o.held.Stop()
		o.held = nil
	}
	o.msgs = nil
}

// randomID returns a message ID: random, so that one client's IDs do not
// repeat across page loads, and not 0.
func randomID() uint64 {
	for {
		if id := rand.Uint64(); id != 0 {
			return id
		}
	}
}

// Send queues text for the room, reports it to the UI's Outbox as
// pending, and sends it as soon as the room is joined on an open
// connection, again after every reconnection, until the server has it.
// It returns a *message.Error if the text may not be sent, ErrNotJoined if
// the user is not in the room, and ErrOutboxFull if too many messages wait
// already; the text is not queued then.
func (c *Client) Send(room, text string) error {
	if err := message.ValidText(text); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.rooms[room]
	switch {
	case r == nil:
		return ErrNotJoined
	case len(r.outbox.msgs) >= MaxPending:
		return ErrOutboxFull
	}
	id := c.newID()
	for id == 0 || r.outbox.find(id) >= 0 {
		id = c.newID()
	}
	r.outbox.msgs = append(r.outbox.msgs, &outgoing{id: id, text: text})
	if c.typingRoom == room {
		c.typingRoom = "" // the server ends "typing" when the message arrives
	}
	c.reportOutbox(r)
	c.pump(r)
	return nil
}

// Requeue puts back in the room's outbox, after what it holds, messages
// that the user sent from an earlier client — a page since reloaded, say —
// with their IDs, in order: they go as Send's do, unless the room's
// history shows that the server has them already, and the server stores
// each once whatever it had. Messages with an ID of 0 or one the outbox
// holds, and texts that may not be sent, are skipped; past MaxPending the
// rest is dropped and ErrOutboxFull returned. For a room the user is not
// in, it returns ErrNotJoined. Call it after Join: nothing goes before the
// history has come.
func (c *Client) Requeue(room string, msgs []Pending) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.rooms[room]
	if r == nil {
		return ErrNotJoined
	}
	var err error
	for _, m := range msgs {
		if m.ID == 0 || r.outbox.find(m.ID) >= 0 || message.ValidText(m.Text) != nil {
			continue
		}
		if len(r.outbox.msgs) >= MaxPending {
			err = ErrOutboxFull
			break
		}
		r.outbox.msgs = append(r.outbox.msgs, &outgoing{id: m.ID, text: m.Text})
	}
	c.reportOutbox(r)
	c.pump(r)
	return err
}

// pump sends the room's next queued message, unless one is in flight, the
// room is not joined and caught up on the current connection — the history
// may show that the server has some of them already — or a refusal is
// being waited out. c.mu must be held.
func (c *Client) pump(r *roomState) {
	if !r.joined || !r.current || r.outbox.held != nil {
		return
	}
	for _, m := range r.outbox.msgs {
		switch m.state {
		case sent:
			return
		case queued:
			if c.write(&message.Send{Room: r.name, Text: m.text, ID: m.id}) == nil {
				m.state = sent
			} // else the connection is gone, and OnOpen starts again
			return
		}
	}
}

// acknowledged applies the server's Ack. c.mu must be held.
func (c *Client) acknowledged(r *roomState, a *message.Ack) {
	i := r.outbox.find(a.ID)
	if i < 0 {
		return // its Chat came first
	}
	if m := r.outbox.msgs[i]; a.Seq > r.lastSeq {
		m.state, m.seq, m.err = acked, a.Seq, nil
	} else {
		r.outbox.remove(i) // shown already, or left out of a history reset
	}
	c.reportOutbox(r)
	c.pump(r)
}

// delivered takes out of the outbox what the Chat just shown delivers:
// the message with its ID, and those acknowledged up to its sequence
// number. It reports whether the Chat is one of the user's. c.mu must be
// held.
func (c *Client) delivered(r *roomState, m *message.Chat) (mine bool) {
	changed := false
	for i := 0; i < len(r.outbox.msgs); {
		out := r.outbox.msgs[i]
		if m.ID != 0 && out.id == m.ID || out.state == acked && out.seq <= m.Seq {
			mine = mine || out.id == m.ID
			r.outbox.remove(i)
			changed = true
			continue
		}
		i++
	}
	if changed {
		c.reportOutbox(r)
		c.pump(r)
	}
	return mine
}

// refused applies the server's refusal of a message: one that would be
// refused again leaves the outbox, and goes back to the UI; any other
// waits RetryAfter, then is sent again. c.mu must be held.
func (c *Client) refused(r *roomState, e *message.Error) {
	i := r.outbox.find(e.ID)
	if i < 0 {
		return
	}
	m := r.outbox.msgs[i]
	switch e.Code {
	case message.CodeBadMessage, message.CodeTooLong, message.CodeBadRoom, message.CodeBadNick:
		r.outbox.remove(i)
		c.ui.Refused(r.name, m.text, e)
	default: // rate limited, not storable now, not in the room yet, or a code from a newer server
		m.state, m.err = queued, e
		if r.outbox.held == nil {
			r.outbox.held = time.AfterFunc(c.retry, func() { c.retryNow(r) })
		}
	}
	c.reportOutbox(r)
	c.pump(r)
}

// retryNow ends the wait after a refusal, and sends again.
func (c *Client) retryNow(r *roomState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rooms[r.name] != r || r.outbox.held == nil {
		return // left, or dropped meanwhile
	}
	r.outbox.held = nil
	c.pump(r)
}

// reportOutbox tells the UI what waits in the room's outbox. c.mu must be
// held.
func (c *Client) reportOutbox(r *roomState) {
	pending := make([]Pending, len(r.outbox.msgs))
	for i, m := range r.outbox.msgs {
		pending[i] = Pending{ID: m.id, Text: m.text, Stored: m.state == acked, Err: m.err}
	}
	c.ui.Outbox(r.name, pending)
}
