package chatclient

import (
	"context"
	"errors"

	"duplex/shared/conn"
	"duplex/shared/message"
)

// readAll handles what the server sends until the Reconnecting is closed.
func (c *Client) readAll() {
	defer close(c.done)
	ctx := context.Background()
	for {
		_, p, err := c.rc.ReadMessage(ctx, nil)
		if err != nil {
			return // closed: with no deadline, nothing else ends a read
		}
		var env message.Envelope
		err = env.UnmarshalBinary(p)
		if errors.Is(err, message.ErrUnknownKind) {
			continue // from a newer server: skip it
		}
		c.mu.Lock()
		if err != nil {
			c.ui.Error(err)
		} else {
			c.handle(env.Message)
		}
		c.mu.Unlock()
	}
}

// handle applies a message from the server and reports what changed. c.mu
// must be held.
func (c *Client) handle(msg message.Message) {
	if e, ok := msg.(*message.Error); ok {
		c.serverError(e)
		return
	}
	r := c.rooms[roomOf(msg)]
	if r == nil {
		return // a room left meanwhile, or a message for no room
	}

	switch m := msg.(type) {
	case *message.Joined:
		if m.Nick != r.nick {
			c.ui.NickTaken(r.name, r.nick, m.Nick)
		}
		r.nick, r.joined = m.Nick, true
		if m.Token != "" {
			r.token = m.Token
		}
		r.target, r.current = m.LastSeq, false // the History comes next
		r.typists = nil                        // it may have missed the ends while away
	case *message.History:
		c.history(r, m)
		return
	case *message.Chat:
		c.addChat(r, m)
		c.caughtUp(r)
		if !contains(r.typists, m.Nick) {
			return
		}
		r.typists = without(r.typists, m.Nick)
	case *message.Ack:
		c.acknowledged(r, m)
		return
	case *message.Presence:
		r.nicks = r.nicks[:0]
		for _, n := range m.Nicks {
			r.nicks = insertSorted(r.nicks, n)
		}
	case *message.PresenceChange:
		r.nicks = without(r.nicks, m.Nick)
		if m.Joined {
			r.nicks = insertSorted(r.nicks, m.Nick)
		} else {
			r.typists = without(r.typists, m.Nick)
		}
	case *message.Typing:
		r.typists = without(r.typists, m.Nick)
		if m.Active {
			r.typists = append(r.typists, m.Nick)
		}
	default:
		return
	}
	c.changed(r)
}

// history applies a History: the messages r missed, or, with Reset, all
// of its recent ones afresh.
func (c *Client) history(r *roomState, m *message.History) {
	if m.Reset {
		c.reloaded = c.reloaded || r.synced
		r.lastSeq = 0
		c.ui.HistoryReset(r.name)
	}
	added := 0
	for i := range m.Messages {
		if c.addChat(r, &m.Messages[i]) {
			added++
		}
	}
	r.synced, r.caught = true, true
	c.caughtUp(r)
	if c.opens > 1 {
		if !m.Reset {
			c.missed += added
		}
		if c.state.Phase == conn.PhaseOpen {
			c.ui.Status(c.status()) // how the catching up goes
		}
	}
}

// caughtUp notes when the room has been shown up to the last message it
// had when the server answered the current Join: the history has then
// taken out of the outbox what the server stored before a drop, and what
// remains can be sent. c.mu must be held.
func (c *Client) caughtUp(r *roomState) {
	if r.joined && !r.current && r.caught && r.lastSeq >= r.target {
		r.current = true
		c.pump(r)
	}
}

// roomOf returns the room a message from the server is about.
func roomOf(msg message.Message) string {
	switch m := msg.(type) {
	case *message.Joined:
		return m.Room
	case *message.History:
		return m.Room
	case *message.Chat:
		return m.Room
	case *message.Presence:
		return m.Room
	case *message.PresenceChange:
		return m.Room
	case *message.Typing:
		return m.Room
	case *message.Ack:
		return m.Room
	}
	return ""
}

// addChat reports m, unless it has been reported already, and reports
// whether it did; a message of the user's leaves the outbox. The server
// never sends a message twice, but a resume that overlaps live messages
// would.
func (c *Client) addChat(r *roomState, m *message.Chat) bool {
	if m.Seq <= r.lastSeq {
		return false
	}
	r.lastSeq = m.Seq
	mine := c.delivered(r, m)
	c.ui.Message(*m, mine || m.Nick == r.nick)
	return true
}

// serverError reports an Error from the server. One about a message the
// client sent goes to the room's outbox; one about a room the client was
// joining means that it is not in that room — for good, unless the server
// failed for the moment a join that it had let through before, or one
// with messages waiting: that one is made again later.
func (c *Client) serverError(e *message.Error) {
	c.ui.Error(e)
	r := c.rooms[e.Room]
	switch {
	case r == nil:
	case e.ID != 0:
		c.refused(r, e)
	case r.joined:
	case e.Code == message.CodeInternal && (r.synced || len(r.outbox.msgs) > 0):
		c.joinLater(r)
	case e.Code == message.CodeBadRoom, e.Code == message.CodeBadNick, e.Code == message.CodeInternal, e.Code == message.CodeTooManyRooms:
		c.removeRoom(r, e)
	}
}
