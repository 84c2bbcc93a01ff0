package chat

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"duplex/server/ws"
	"duplex/shared/message"
	"duplex/shared/wire"
)

// A client is one WebSocket connection to the chat: a goroutine reads and
// handles its requests, another writes what the rooms send it, from a
// bounded queue. A client whose queue fills up reads too slowly: it is
// disconnected, and the rooms carry on without waiting for it.
type client struct {
	hub   *Hub
	conn  *ws.Conn
	queue chan []byte   // encoded messages to write
	done  chan struct{} // closed when the read loop ends
	gone  atomic.Bool   // being disconnected: enqueue drops

	rooms map[string]*room // the rooms joined; read loop only

	// Rate limiting, read loop only: a token bucket that may go into debt
	// down to -Burst, where the client is disconnected.
	tokens float64
	filled time.Time
}

// Serve runs the chat for one upgraded connection until it ends.
func (h *Hub) Serve(conn *ws.Conn) {
	c := &client{
		hub:    h,
		conn:   conn,
		queue:  make(chan []byte, h.cfg.QueueSize),
		done:   make(chan struct{}),
		rooms:  map[string]*room{},
		tokens: float64(h.cfg.Burst),
		filled: time.Now(),
	}
	go c.writeLoop()
	err := c.readLoop()
	h.cfg.Log.Debug("chat: connection ended", "remote", conn.RemoteAddr(), "err", err)
	for _, r := range c.rooms {
		c.leave(context.Background(), r)
	}
	close(c.done)
	conn.CloseNow()
}

func (c *client) readLoop() error {
	ctx := context.Background()
	var buf []byte
	for {
		_, data, err := c.conn.ReadMessage(ctx, buf)
		if err != nil {
			return err
		}
		buf = data
		msg, err := message.Decode(data)
		// Every request counts against the rate limit but a Leave, which
		// only lowers the load; a dropped Leave would leave a ghost.
		if _, leaving := msg.(*message.Leave); !leaving && !c.allow(roomOf(msg)) {
			continue
		}
		if err != nil {
			c.fail(message.CodeBadMessage, "", err.Error())
			continue
		}
		switch m := msg.(type) {
		case *message.Join:
			c.join(ctx, m)
		case *message.Leave:
			if r := c.member(m.Room); r != nil {
				c.leave(ctx, r)
			}
		case *message.Send:
			c.send(ctx, m)
		case *message.Typing:
			if r := c.member(m.Room); r != nil {
				r.setTyping(ctx, r.nick(c), m.Active)
			}
		default:
			c.fail(message.CodeBadMessage, "", "a client may not send "+msg.Kind().String())
		}
	}
}

// allow spends a token for one message, about room. A client that keeps
// sending while it has none is told so, with the room, and once its debt
// reaches Burst, disconnected.
func (c *client) allow(room string) bool {
	cfg := &c.hub.cfg
	now := time.Now()
	c.tokens = min(float64(cfg.Burst), c.tokens+now.Sub(c.filled).Seconds()*cfg.Rate)
	c.filled = now
	c.tokens--
	switch {
	case c.tokens >= 0:
		return true
	case c.tokens > -float64(cfg.Burst):
		cfg.Stats.rateLimited()
		c.fail(message.CodeRateLimited, room, "slow down: at most "+strconv.FormatFloat(cfg.Rate, 'f', -1, 64)+" messages a second; this one was dropped")
		return false
	default:
		c.disconnect(wire.StatusPolicyViolation, "rate limit exceeded")
		return false
	}
}

// roomOf returns the room a client's request is about, or "".
func roomOf(m message.Message) string {
	switch m := m.(type) {
	case *message.Join:
		return m.Room
	case *message.Send:
		return m.Room
	case *message.Typing:
		return m.Room
	}
	return ""
}

func (c *client) join(ctx context.Context, m *message.Join) {
	nick := strings.TrimSpace(m.Nick)
	if err := message.ValidRoom(m.Room); err != nil {
		c.failWith(err, m.Room)
		return
	}
	if err := message.ValidNick(nick); err != nil {
		c.failWith(err, m.Room)
		return
	}
	if c.rooms[m.Room] != nil {
		c.fail(message.CodeBadMessage, m.Room, "already in this room")
		return
	}
	r, given, err := c.hub.join(ctx, c, m.Room, nick)
	if errors.Is(err, errNickTaken) {
		c.fail(message.CodeBadNick, m.Room, "too many members go by this nickname; choose another")
		return
	}
	if err != nil {
		c.hub.cfg.Log.Warn("chat: join failed", "room", m.Room, "err", err)
		c.fail(message.CodeInternal, m.Room, "cannot join the room now")
		return
	}
	c.rooms[m.Room] = r

	// Collect what the client missed while live messages wait in the
	// member's pending list; room.synced then sends both, in order.
	frames, last, err := c.history(ctx, m)
	if err != nil {
		c.hub.leave(ctx, c, r)
		delete(c.rooms, m.Room)
		c.fail(message.CodeInternal, m.Room, "cannot read the room's history now")
		return
	}
	joined := message.Append(nil, &message.Joined{Room: m.Room, Nick: given, LastSeq: last})
	r.synced(ctx, c, joined, frames, last)
	c.hub.announce(ctx, m.Room, &message.PresenceChange{Room: m.Room, Nick: given, Joined: true})
}

// history returns the History batches for a Join, encoded, and the
// sequence number of the last message in them.
func (c *client) history(ctx context.Context, m *message.Join) ([][]byte, uint64, error) {
	broker, limit := c.hub.cfg.Broker, c.hub.cfg.History
	if m.Resume {
		var frames [][]byte
		after := m.After
		// The batches go into the client's queue all at once: a resume
		// that needs more than half of it would have the client
		// disconnected as too slow, so it starts afresh instead.
		maxBatches := max(1, cap(c.queue)/2)
		for {
			msgs, ok, err := broker.Since(ctx, m.Room, after, limit)
			if err != nil {
				return nil, 0, err
			}
			if !ok || len(msgs) > 0 && len(frames) == maxBatches {
				break // too far behind: start again from the latest
			}
			if len(msgs) > 0 || len(frames) == 0 {
				frames = append(frames, message.Append(nil, &message.History{Room: m.Room, Messages: msgs}))
			}
			if len(msgs) < limit {
				if len(msgs) > 0 {
					after = msgs[len(msgs)-1].Seq
				}
				return frames, after, nil
			}
			after = msgs[len(msgs)-1].Seq
		}
	}
	msgs, last, err := broker.Latest(ctx, m.Room, limit)
	if err != nil {
		return nil, 0, err
	}
	if len(msgs) > 0 {
		last = msgs[len(msgs)-1].Seq
	}
	return [][]byte{message.Append(nil, &message.History{Room: m.Room, Reset: true, Messages: msgs})}, last, nil
}

func (c *client) leave(ctx context.Context, r *room) {
	nick := r.nick(c)
	r.setTyping(ctx, nick, false)
	c.hub.leave(ctx, c, r) // releases the nickname before the others are told
	delete(c.rooms, r.name)
	c.hub.announce(ctx, r.name, &message.PresenceChange{Room: r.name, Nick: nick, Joined: false})
}

func (c *client) send(ctx context.Context, m *message.Send) {
	r := c.member(m.Room)
	if r == nil {
		return
	}
	if err := message.ValidText(m.Text); err != nil {
		c.failWith(err, m.Room)
		return
	}
	nick := r.nick(c)
	r.setTyping(ctx, nick, false)
	chat := &message.Chat{Room: m.Room, Time: time.Now().UnixMilli(), Nick: nick, Text: m.Text}
	start := time.Now()
	err := c.hub.cfg.Broker.Publish(ctx, chat)
	c.hub.cfg.Stats.published(time.Since(start))
	if err != nil {
		c.hub.cfg.Log.Warn("chat: publish failed", "room", m.Room, "err", err)
		c.fail(message.CodeInternal, m.Room, "the message could not be delivered; try again")
	}
}

// member returns the room if the client is in it, and otherwise tells the
// client so and returns nil.
func (c *client) member(room string) *room {
	r := c.rooms[room]
	if r == nil {
		c.fail(message.CodeNotInRoom, room, "join the room first")
	}
	return r
}

func (c *client) fail(code message.ErrorCode, room, text string) {
	c.enqueue(message.Append(nil, &message.Error{Code: code, Room: room, Text: text}))
}

func (c *client) failWith(err error, room string) {
	var e *message.Error
	if errors.As(err, &e) {
		c.fail(e.Code, room, e.Text)
		return
	}
	c.fail(message.CodeInternal, room, err.Error())
}

// enqueue queues an encoded message without waiting: a client whose queue
// is full is too slow, and is disconnected.
func (c *client) enqueue(frame []byte) {
	if c.gone.Load() {
		return
	}
	select {
	case c.queue <- frame:
		c.hub.cfg.Stats.delivered()
	default:
		c.tooSlow()
	}
}

func (c *client) tooSlow() {
	if !c.gone.Load() {
		c.hub.cfg.Stats.tooSlow()
	}
	c.disconnect(wire.StatusPolicyViolation, "too slow: "+strconv.Itoa(cap(c.queue))+" messages waited to be sent")
}

// disconnect closes the connection with code and reason, once, without
// making the caller wait for the closing handshake.
func (c *client) disconnect(code wire.StatusCode, reason string) {
	if c.gone.CompareAndSwap(false, true) {
		go c.conn.Close(code, reason)
	}
}

// writeLoop writes what the rooms queue for the client. When several
// messages are waiting, it writes them together: a client that falls behind
// in a busy room catches up in few system calls instead of one per message.
func (c *client) writeLoop() {
	ctx := context.Background()
	batch := make([][]byte, 0, maxBatch)
	for {
		select {
		case frame := <-c.queue:
			batch = append(batch[:0], frame)
		case <-c.done:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case frame := <-c.queue:
				batch = append(batch, frame)
			default:
				break more
			}
		}
		err := c.conn.WriteMessages(ctx, ws.Binary, batch)
		clear(batch) // let the frames go
		if err != nil {
			return
		}
	}
}

// maxBatch is the most messages writeLoop writes at once.
const maxBatch = 64
