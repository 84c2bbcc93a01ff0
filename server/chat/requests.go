package chat

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"time"

	"duplex/shared/message"
)

// work handles the client's requests in the order they came, until the
// reader has stopped, then leaves every room the client is in.
func (c *client) work() {
	defer close(c.worked)
	ctx := context.Background()
	for req := range c.requests {
		switch {
		case req.close != nil:
			c.closeAfter(req.close)
		case req.refusal != nil:
			c.fail(req.refusal)
		default:
			c.handle(ctx, req)
		}
	}
	for _, r := range c.rooms {
		c.leave(ctx, r)
	}
}

// handle handles one message from the client. Once the connection has
// ended, joins are skipped: nobody would see their answer. A Send is still
// stored, and a Leave still made.
func (c *client) handle(ctx context.Context, req request) {
	ended := false
	select {
	case <-c.conn.Done():
		ended = true
	default:
	}
	switch m := req.msg.(type) {
	case *message.Join:
		if !ended {
			c.join(ctx, m)
		}
	case *message.Leave:
		if r := c.member(m.Room, 0); r != nil {
			c.leave(ctx, r)
		}
	case *message.Send:
		c.send(ctx, m, req)
	case *message.Typing:
		if r := c.member(m.Room, 0); r != nil {
			if mem := r.member(c); mem != nil {
				r.setTyping(ctx, mem.nick, m.Active)
			}
		}
	}
}

func (c *client) join(ctx context.Context, m *message.Join) {
	cfg := &c.hub.cfg
	nick := strings.TrimSpace(m.Nick)
	if err := message.ValidRoom(m.Room); err != nil {
		c.failWith(err, m.Room, 0)
		return
	}
	if err := message.ValidNick(nick); err != nil {
		c.failWith(err, m.Room, 0)
		return
	}
	switch {
	case c.rooms[m.Room] != nil:
		c.fail(&message.Error{Code: message.CodeBadMessage, Room: m.Room, Text: "already in this room"})
		return
	case len(c.rooms) >= cfg.MaxRoomsPerClient:
		c.fail(&message.Error{Code: message.CodeTooManyRooms, Room: m.Room,
			Text: "you are in " + strconv.Itoa(len(c.rooms)) + " rooms, the most one connection may be in: leave one first"})
		return
	case m.Token != "" && !validToken(m.Token):
		c.fail(&message.Error{Code: message.CodeBadMessage, Room: m.Room, Text: "the resume token is not one this server gives"})
		return
	}
	token := m.Token
	if token == "" {
		token = newToken()
	}
	h := Holder{Owner: ownerOf(token), Session: rand.Text()}
	r, given, err := c.hub.join(ctx, c, m.Room, nick, h)
	switch {
	case errors.Is(err, errNickTaken):
		c.fail(&message.Error{Code: message.CodeBadNick, Room: m.Room, Text: "too many members go by this nickname; choose another"})
		return
	case errors.Is(err, ErrTooManyRooms):
		c.fail(&message.Error{Code: message.CodeTooManyRooms, Room: m.Room, Text: "this server has as many rooms open as it may; try again later, or join one that is open"})
		return
	case err != nil:
		cfg.Log.Warn("chat: join failed", "room", m.Room, "err", err)
		c.fail(&message.Error{Code: message.CodeInternal, Room: m.Room, Text: "cannot join the room now"})
		return
	}
	c.rooms[m.Room] = r

	// Collect what the client missed while live messages wait in the
	// member's pending list; room.synced then sends both, in order.
	frames, last, err := c.history(ctx, m)
	if err != nil {
		cfg.Log.Warn("chat: reading a room's history failed", "room", m.Room, "err", err)
		c.hub.leave(ctx, c, r)
		delete(c.rooms, m.Room)
		c.fail(&message.Error{Code: message.CodeInternal, Room: m.Room, Text: "cannot read the room's history now"})
		return
	}
	joined := message.AppendVersion(nil, c.version, &message.Joined{Room: m.Room, Nick: given, LastSeq: last, Token: token})
	r.synced(c, joined, frames, last)
	c.hub.announce(ctx, m.Room, &message.PresenceChange{Room: m.Room, Nick: given, Joined: true})
}

// history returns the History batches for a Join, encoded, and the
// sequence number of the last message in them.
func (c *client) history(ctx context.Context, m *message.Join) ([][]byte, uint64, error) {
	broker, limit := c.hub.cfg.Broker, c.hub.cfg.History
	if m.Resume {
		var frames [][]byte
		size := 0
		after := m.After
		for {
			msgs, ok, err := broker.Since(ctx, m.Room, after, limit)
			if err != nil {
				return nil, 0, err
			}
			if !ok {
				break // too far behind: start again from the latest
			}
			if len(msgs) > 0 || len(frames) == 0 {
				f := message.AppendVersion(nil, c.version, &message.History{Room: m.Room, Messages: msgs})
				// The batches go into the client's queue all at once: a
				// resume that needs more than half of it would have the
				// client disconnected as too slow, so it starts afresh.
				if size += len(f); size > c.hub.cfg.QueueBytes/2 && len(frames) > 0 {
					break
				}
				frames = append(frames, f)
			}
			if len(msgs) > 0 {
				after = msgs[len(msgs)-1].Seq
			}
			if len(msgs) < limit {
				return frames, after, nil
			}
		}
	}
	msgs, last, err := broker.Latest(ctx, m.Room, limit)
	if err != nil {
		return nil, 0, err
	}
	if len(msgs) > 0 {
		last = msgs[len(msgs)-1].Seq
	}
	return [][]byte{message.AppendVersion(nil, c.version, &message.History{Room: m.Room, Reset: true, Messages: msgs})}, last, nil
}

// leave takes the client out of the room, and tells the others, unless
// its nickname had been taken over by a newer session of the same client.
func (c *client) leave(ctx context.Context, r *room) {
	if m := r.member(c); m != nil {
		r.setTyping(ctx, m.nick, false)
	}
	nick, released := c.hub.leave(ctx, c, r) // releases the nickname before the others are told
	delete(c.rooms, r.name)
	if released {
		c.hub.announce(ctx, r.name, &message.PresenceChange{Room: r.name, Nick: nick, Joined: false})
	}
}

// send stores the message, once however often the client sends it with
// the same ID, and acknowledges it to a client of version 2; the rooms
// deliver it.
func (c *client) send(ctx context.Context, m *message.Send, req request) {
	cfg := &c.hub.cfg
	r := c.member(m.Room, m.ID)
	if r == nil {
		return
	}
	if err := message.ValidText(m.Text); err != nil {
		c.failWith(err, m.Room, m.ID)
		return
	}
	mem := r.member(c)
	if mem == nil {
		return
	}
	r.setTyping(ctx, mem.nick, false)
	chat := &message.Chat{Room: m.Room, Time: req.arrived.UnixMilli(), Nick: mem.nick, Text: m.Text, ID: m.ID}
	ctx, cancel := context.WithTimeout(ctx, cfg.PublishTimeout)
	defer cancel()
	start := time.Now()
	duplicate, err := cfg.Broker.Publish(ctx, chat, msgID(mem.owner, m.ID))
	cfg.Stats.published(time.Since(start), duplicate)
	if err != nil {
		cfg.Log.Warn("chat: publish failed", "room", m.Room, "err", err)
		c.fail(&message.Error{Code: message.CodeInternal, Room: m.Room, ID: m.ID,
			Text: "the message could not be stored now; send it again"})
		return
	}
	if c.version >= 2 && m.ID != 0 {
		c.enqueue(message.AppendVersion(nil, c.version, &message.Ack{Room: m.Room, ID: m.ID, Seq: chat.Seq}))
	}
}

// member returns the room if the client is in it, and otherwise tells the
// client so — about the Send with id, if any — and returns nil.
func (c *client) member(room string, id uint64) *room {
	r := c.rooms[room]
	if r == nil {
		c.fail(&message.Error{Code: message.CodeNotInRoom, Room: room, Text: "join the room first", ID: id})
	}
	return r
}
