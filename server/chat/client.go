package chat

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"duplex/server/httpstream"
	"duplex/server/ws"
	"duplex/shared/message"
	"duplex/shared/wire"
)

// A client is one WebSocket connection to the chat, served by three
// goroutines:
//
//   - the reader (readLoop) reads the client's messages, stamps and rate
//     limits them as they arrive, and hands them to the worker in order;
//     it waits for nothing but the socket;
//   - the worker (work, in requests.go) handles them one by one: joins,
//     sends and leaves, which wait for the broker;
//   - the writer (writeLoop) writes what the rooms and the worker queue
//     for the client.
//
// Who owns what: the reader owns limit; the worker owns rooms; the queue
// of messages to write, out, has its own lock. A client whose queue grows
// beyond Config.QueueBytes reads too slowly: it is disconnected, and the
// rooms carry on without waiting for it.
type client struct {
	hub      *Hub
	conn     httpstream.Peer
	version  byte             // the protocol version the connection speaks
	requests chan request     // from the reader to the worker
	worked   chan struct{}    // closed when the worker has finished
	written  chan struct{}    // closed when the writer has finished
	out      outQueue         // what the writer is to write
	rooms    map[string]*room // the rooms joined; worker only
	limit    bucket           // reader only
}

// A request is what the reader hands the worker, which handles them in
// the order they came: a message to handle, an answer the reader decided
// on (a refusal), or the end of the connection.
type request struct {
	msg     message.Message
	arrived time.Time
	refusal *message.Error
	close   *closeFrame
}

// A closeFrame is the close that ends a connection once what was queued
// before it is written.
type closeFrame struct {
	code   wire.StatusCode
	reason string
}

// requestQueue is how many requests may wait for the worker. A client
// that keeps within the rate limit fills it only if the broker stalls for
// longer than the queue lasts at that rate (50 s at 5 messages a second).
const requestQueue = 256

// closeWait bounds how long a connection that is being closed may take to
// write what was queued before the close, and to complete the closing
// handshake.
const closeWait = 10 * time.Second

// Serve runs the chat for one connection until it ends: an upgraded
// WebSocket, or a session of the HTTP stream fallback (fallback.go). The
// connection's subprotocol says which version of the protocol it speaks;
// one without a chat subprotocol is served version 1.
func (h *Hub) Serve(conn httpstream.Peer) {
	version := message.SubprotocolVersion(conn.Subprotocol())
	if version == 0 {
		version = 1
	}
	c := &client{
		hub:      h,
		conn:     conn,
		version:  version,
		requests: make(chan request, requestQueue),
		worked:   make(chan struct{}),
		written:  make(chan struct{}),
		out:      outQueue{limit: h.cfg.QueueBytes, wake: make(chan struct{}, 1)},
		rooms:    map[string]*room{},
		limit:    newBucket(h.cfg.Rate, h.cfg.Burst, time.Now()),
	}
	go c.writeLoop()
	go c.work()
	err := c.readLoop()
	h.cfg.Log.Debug("chat: connection ended", "remote", conn.RemoteAddr(), "err", err)
	close(c.requests)
	<-c.worked // every request handled, every room left
	c.out.finish()
	select {
	case <-c.written:
	case <-time.After(closeWait):
	}
	conn.CloseNow()
}

// readLoop reads until the connection ends. After it has asked for the
// connection to be closed, it goes on reading, to receive the peer's
// answer to the close, but handles nothing more.
func (c *client) readLoop() error {
	ctx := context.Background()
	var buf []byte
	closing := false
	for {
		typ, data, err := c.conn.ReadMessage(ctx, buf)
		if err != nil {
			return err
		}
		buf = data
		if closing {
			continue
		}
		now := time.Now()
		if typ != ws.Binary {
			c.submit(request{close: &closeFrame{wire.StatusUnsupportedData, "the chat's messages are binary: see duplex/shared/message"}})
			closing = true
			continue
		}
		msg, err := message.Decode(data)
		if err == nil && data[0] != c.version {
			msg, err = nil, errors.New("a version "+strconv.Itoa(int(data[0]))+" message on a connection that speaks version "+strconv.Itoa(int(c.version)))
		}
		// Every request counts against the rate limit but a Leave, which
		// only lowers the load; a dropped Leave would leave a ghost.
		if _, leaving := msg.(*message.Leave); !leaving {
			switch c.limit.take(now) {
			case refuse:
				c.hub.cfg.Stats.rateLimited()
				c.submit(request{refusal: &message.Error{
					Code: message.CodeRateLimited, Room: roomOf(msg), ID: idOf(msg),
					Text: "slow down: at most " + strconv.FormatFloat(c.hub.cfg.Rate, 'f', -1, 64) + " messages a second; this one was dropped",
				}})
				continue
			case disconnect:
				c.submit(request{close: &closeFrame{wire.StatusPolicyViolation, "rate limit exceeded"}})
				closing = true
				continue
			}
		}
		switch msg.(type) {
		case nil:
			c.submit(request{refusal: &message.Error{Code: message.CodeBadMessage, Text: err.Error()}})
		case *message.Join, *message.Leave, *message.Send, *message.Typing:
			c.submit(request{msg: msg, arrived: now})
		default:
			c.submit(request{refusal: &message.Error{Code: message.CodeBadMessage, Text: "a client may not send " + msg.Kind().String()}})
		}
	}
}

// submit hands req to the worker. If the worker is that far behind —
// waiting for a broker out of reach — a Send is refused at once, to be
// sent again, a refusal is sent at once, and typing is dropped: the reader
// does not wait. Only joins, leaves and the close wait for room.
func (c *client) submit(req request) {
	select {
	case c.requests <- req:
		return
	default:
	}
	switch m := req.msg.(type) {
	case *message.Send:
		c.fail(&message.Error{Code: message.CodeInternal, Room: m.Room, ID: m.ID,
			Text: "the server is busy: the message was not stored; send it again"})
	case *message.Typing:
	default:
		if req.refusal != nil {
			c.fail(req.refusal)
			return
		}
		c.requests <- req
	}
}

// roomOf returns the room a client's request is about, or "".
func roomOf(m message.Message) string {
	switch m := m.(type) {
	case *message.Join:
		return m.Room
	case *message.Leave:
		return m.Room
	case *message.Send:
		return m.Room
	case *message.Typing:
		return m.Room
	}
	return ""
}

// idOf returns the ID of a Send, or 0.
func idOf(m message.Message) uint64 {
	if s, ok := m.(*message.Send); ok {
		return s.ID
	}
	return 0
}

// fail sends e, in the connection's version.
func (c *client) fail(e *message.Error) {
	c.enqueue(message.AppendVersion(nil, c.version, e))
}

// failWith sends err, a *message.Error from a validator or another error,
// about room and the Send with id, if any.
func (c *client) failWith(err error, room string, id uint64) {
	var e *message.Error
	if errors.As(err, &e) {
		c.fail(&message.Error{Code: e.Code, Room: room, Text: e.Text, ID: id})
		return
	}
	c.fail(&message.Error{Code: message.CodeInternal, Room: room, Text: err.Error(), ID: id})
}

// enqueue queues an encoded message without waiting.
func (c *client) enqueue(frame []byte) {
	if c.push(frame) {
		c.hub.cfg.Stats.delivered(1)
	}
}

// push is enqueue without counting: it reports whether the message was
// queued, for the caller to count.
func (c *client) push(frame []byte) bool {
	switch c.out.push(frame) {
	case queued:
		return true
	case overflowed:
		c.tooSlow()
	}
	return false
}

func (c *client) tooSlow() {
	if c.out.abort() {
		c.hub.cfg.Stats.tooSlow()
		go c.conn.Close(wire.StatusPolicyViolation, "too slow: "+strconv.Itoa(c.hub.cfg.QueueBytes)+" bytes waited to be sent")
	}
}

// closeAfter ends the connection with cf once what is queued is written.
func (c *client) closeAfter(cf *closeFrame) { c.out.closeAfter(cf) }

// An outQueue holds the encoded messages waiting to be written to one
// connection. Its lock is held briefly, by the rooms and the worker that
// push, and by the writer that takes everything at once.
type outQueue struct {
	limit int           // the most bytes that may wait
	wake  chan struct{} // holds a token when there is something for the writer

	mu       sync.Mutex
	frames   [][]byte
	bytes    int
	close    *closeFrame // write what is queued, then this close; nothing more is queued
	finished bool        // write what is queued, then stop
	dropped  bool        // nothing more is written: the writer stopped, or the client is too slow
}

// What push did.
type pushed uint8

const (
	queued     pushed = iota
	discarded         // the queue is closing or dropped
	overflowed        // the queue holds more than its limit: the client is too slow
)

func (q *outQueue) push(frame []byte) pushed {
	q.mu.Lock()
	if q.dropped || q.close != nil || q.finished {
		q.mu.Unlock()
		return discarded
	}
	first := len(q.frames) == 0
	q.frames = append(q.frames, frame)
	q.bytes += len(frame)
	over := q.bytes > q.limit
	q.mu.Unlock()
	if over {
		return overflowed
	}
	if first { // the writer waits for a signal only once it finds the queue empty
		q.signal()
	}
	return queued
}

func (q *outQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// abort drops what is queued, and what would be: it reports whether the
// queue was not dropped already.
func (q *outQueue) abort() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.dropped {
		return false
	}
	q.dropped = true
	clear(q.frames)
	q.frames, q.bytes = nil, 0
	return true
}

func (q *outQueue) closeAfter(cf *closeFrame) {
	q.mu.Lock()
	if q.close == nil && !q.dropped {
		q.close = cf
	}
	q.mu.Unlock()
	q.signal()
}

func (q *outQueue) finish() {
	q.mu.Lock()
	q.finished = true
	q.mu.Unlock()
	q.signal()
}

// take returns what is queued, leaving spare in its place, and what the
// writer is to do once it is written.
func (q *outQueue) take(spare [][]byte) (frames [][]byte, cf *closeFrame, end bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	frames = q.frames
	q.frames, q.bytes = spare[:0], 0
	return frames, q.close, q.finished || q.dropped
}

// writeLoop writes what is queued for the client. When several messages
// are waiting, it writes them together: a client that falls behind in a
// busy room catches up in few system calls instead of one per message.
//
// And on a busy connection it waits for them to be several (see
// writePace): in a busy room — a thousand members each sending a message
// a second make a million deliveries a second — the system calls, on both
// sides, not the messages, are what a server spends its time on.
func (c *client) writeLoop() {
	defer close(c.written)
	ctx := context.Background()
	var spare [][]byte
	var pace writePace
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		if d := pace.wait(); d > 0 {
			linger.Reset(d)
			<-linger.C
		}
		frames, cf, end := c.out.take(spare)
		for batch := frames; len(batch) > 0; {
			n := min(len(batch), maxBatch)
			if err := c.conn.WriteMessages(ctx, ws.Binary, batch[:n]); err != nil {
				c.out.abort()
				return
			}
			batch = batch[n:]
		}
		if len(frames) > 0 {
			pace.wrote(len(frames))
		}
		clear(frames) // let the frames go
		spare = frames[:0]
		switch {
		case cf != nil:
			c.conn.Close(cf.code, cf.reason)
			return
		case end:
			return
		case len(frames) == 0:
			<-c.out.wake
		}
	}
}

// A writePace decides how long a connection's writer waits before a
// write: on a busy connection — one sent more than busyRate messages a
// second — until writeLinger has passed since the write before, so that
// the messages arriving meanwhile go out together; which bounds the writes
// to some 70 a second, at the cost of writeLinger at most in latency. A
// quieter connection is written to at once. So is one on which waiting
// does not gather messages — one whose messages come one at a time, each
// after the one before was read — for a while, before it is tried again.
type writePace struct {
	last      time.Time // when the last write ended
	window    time.Time // when the current window began
	msgs      int       // messages written in the window
	writes    int       // writes in the window
	lingering bool
	retry     time.Time // not to linger before then: it did not help
}

const (
	writeLinger = 15 * time.Millisecond
	busyRate    = 200                    // messages a second
	paceWindow  = 100 * time.Millisecond // how often the pace is reconsidered
	paceRetry   = 5 * time.Second        // how long lingering rests after it did not help
)

// wait returns how long to wait before the next write.
func (p *writePace) wait() time.Duration {
	if !p.lingering {
		return 0
	}
	return writeLinger - time.Since(p.last)
}

// wrote records a write of n messages, and reconsiders the pace once a
// window has passed.
func (p *writePace) wrote(n int) {
	p.last = time.Now()
	p.msgs += n
	p.writes++
	if p.last.Sub(p.window) < paceWindow {
		return
	}
	rate := float64(p.msgs) / p.last.Sub(p.window).Seconds()
	switch {
	case p.lingering && p.msgs < 2*p.writes: // fewer than 2 messages a write
		p.lingering, p.retry = false, p.last.Add(paceRetry)
	case !p.lingering && rate > busyRate && p.last.After(p.retry):
		p.lingering = true
	}
	p.window, p.msgs, p.writes = p.last, 0, 0
}

// maxBatch is the most messages writeLoop writes at once.
const maxBatch = 256
