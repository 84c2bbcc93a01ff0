package chat

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"duplex/shared/message"
)

// NATS is a Broker that spans server instances: every instance connected
// to the same NATS system (a server or a cluster, with JetStream enabled)
// shares the rooms.
//
// Each room's log is a JetStream stream of its own, PREFIX_<room>, which
// holds the room's chats on the subject <prefix>.room.<room>. A stream's
// sequence numbers are the room's: they start at 1 and go up by one with
// each message, the same on every instance. The streams are created when a
// room is first used — at most MaxRooms of them — keep the room's latest
// Keep messages, up to MaxBytes, none older than MaxAge, and refuse the
// deletion of single messages, so that the log has no holes. A stream
// whose messages have all aged out, and that nobody reads, is deleted
// (nats_janitor.go). A message published under a msgID is stored once
// within Dedup: that is JetStream's de-duplication, by the Nats-Msg-Id
// header.
//
// Chats reach the subscribers of every instance, the publishing one
// included, through an ordered consumer of the room's stream, so that all
// of them see the stream's order. Events (presence changes, typing) are not
// logged: they go through core NATS on <prefix>.event.<room>.
//
// Nicknames are claimed in a key-value bucket, <prefix>_presence: see
// nats_presence.go. The instances tell one another they are alive on
// <prefix>.instance, and the nicknames of one that stops are released, and
// announced gone, within seconds: see nats_instances.go.
//
// Since and Latest read the log with batched direct gets, which need NATS
// server 2.11 or later. When this instance subscribes to the room, as it
// does for every room it has members in, they read up to the last chat
// the subscription delivered, without asking JetStream for the stream's
// state: a join costs a claim and a direct get, and no JetStream API call.
type NATS struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	opts   NATSOptions
	stream string // the streams' name prefix: "CHAT_"
	owned  bool   // nc was dialed by DialNATS, and is closed by Close
	id     string // this instance's name among those sharing the rooms

	presence  jetstream.KeyValue // the nicknames claimed, on every instance
	instances *instances         // who else is alive (nats_instances.go)
	stopping  chan struct{}      // closed by Close, to stop the background work
	stopped   sync.WaitGroup     // the background goroutines

	mu      sync.Mutex
	claims  map[string]natsClaim  // keys claimed by this process
	streams map[string]time.Time  // rooms whose stream this process has set up → when last used
	subs    map[*natsSub]struct{} // the subscriptions not stopped
	byRoom  map[string][]*natsSub // the same, by room
	closing bool                  // Close was called: no more subscriptions
	closed  bool                  // and is about to close the connection
	running sync.WaitGroup        // subscriptions' goroutines
	cleanup sync.WaitGroup        // consumer deletions under way
}

// NATSOptions configure a NATS broker. The zero value gives the defaults.
// Every instance sharing the rooms should use the same options.
type NATSOptions struct {
	// Keep is how many of its latest messages each room's log keeps;
	// default 1000.
	Keep int
	// MaxBytes bounds the size of each room's log; default 1 MiB.
	MaxBytes int
	// MaxAge is how long a message is kept; default 7 days.
	MaxAge time.Duration
	// MaxRooms bounds the streams in the NATS account, rooms and all
	// others, beyond which no room is created: a new room is refused with
	// ErrTooManyRooms; default 10,000. Instances creating rooms at the
	// same moment may overshoot it by a few.
	MaxRooms int
	// Dedup is the window within which a message published again under
	// the same msgID is stored once; default 2 minutes, and at most
	// MaxAge.
	Dedup time.Duration
	// Prefix names the streams, PREFIX_<room>, and the subjects,
	// <prefix>.room.<room> and <prefix>.event.<room>, so that several
	// applications can share one NATS account. It is made of lowercase
	// ASCII letters, digits, '-' and '_'; default "chat".
	Prefix string
	// Replicas is how many copies of each room's log a NATS cluster keeps;
	// default 1.
	Replicas int
	// Timeout bounds the calls to NATS made with a context that has no
	// deadline, and those made by Subscribe; default 5s.
	Timeout time.Duration
	// PresenceTTL is how long a nickname claimed stays claimed if nothing
	// renews it, nor releases it: each instance renews its members' claims
	// every PresenceTTL/3, and the claims of an instance found dead are
	// released by the others, so this is a backstop; default 2 minutes.
	PresenceTTL time.Duration
	// Heartbeat is how often each instance tells the others that it is
	// alive, and HeartbeatTimeout how long after its last word the others
	// take it for dead: they then release its members' nicknames, and
	// announce them gone; defaults 1 and 4 seconds.
	Heartbeat, HeartbeatTimeout time.Duration
	// Log receives what goes wrong in the background; default none.
	Log *slog.Logger
}

func (o NATSOptions) withDefaults() (NATSOptions, error) {
	if o.Keep <= 0 {
		o.Keep = defaultKeep
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = defaultMaxBytes
	}
	if o.MaxAge <= 0 {
		o.MaxAge = defaultMaxAge
	}
	if o.MaxRooms <= 0 {
		o.MaxRooms = 10_000
	}
	if o.Dedup <= 0 {
		o.Dedup = defaultDedup
	}
	o.Dedup = min(o.Dedup, o.MaxAge) // as JetStream requires
	if o.Heartbeat <= 0 {
		o.Heartbeat = time.Second
	}
	if o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = 4 * o.Heartbeat
	}
	if o.Prefix == "" {
		o.Prefix = "chat"
	}
	if err := message.ValidRoom(o.Prefix); err != nil { // the same characters, all valid in names and subjects
		return o, fmt.Errorf("chat: NATS prefix %q: use lowercase letters, digits, '-' and '_'", o.Prefix)
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.PresenceTTL <= 0 {
		o.PresenceTTL = 2 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// consumerIdle is how long the NATS server keeps a room subscription's
// consumer once nobody pulls from it: after a crash of its instance, or a
// disconnection, after which the subscription creates a new one.
const consumerIdle = 30 * time.Second

// DialNATS connects to the NATS server at url (a comma-separated list for
// a cluster) and returns a broker on that connection, which Close closes.
// The connection reconnects for as long as it takes; more options may be
// added, credentials for example.
func DialNATS(ctx context.Context, url string, opts NATSOptions, more ...nats.Option) (*NATS, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	nc, err := nats.Connect(url, append([]nats.Option{
		nats.Name("duplex chat"),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if !nc.IsClosed() { // not by Close
				log.Warn("chat: disconnected from NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("chat: reconnected to NATS", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("chat: NATS error", "err", err)
		}),
	}, more...)...)
	if err != nil {
		return nil, fmt.Errorf("chat: connecting to NATS: %w", err)
	}
	b, err := NewNATS(ctx, nc, opts)
	if err != nil {
		nc.Close()
		return nil, err
	}
	b.owned = true
	return b, nil
}

// NewNATS returns a broker on nc, after checking that JetStream is
// available. Close does not close nc: the caller does, after Close.
func NewNATS(ctx context.Context, nc *nats.Conn, opts NATSOptions) (*NATS, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	b := &NATS{
		nc:       nc,
		js:       js,
		opts:     opts,
		stream:   strings.ToUpper(opts.Prefix) + "_",
		id:       rand.Text(),
		stopping: make(chan struct{}),
		streams:  map[string]time.Time{},
		subs:     map[*natsSub]struct{}{},
		byRoom:   map[string][]*natsSub{},
		claims:   map[string]natsClaim{},
	}
	ctx, cancel := b.bound(ctx)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		return nil, fmt.Errorf("chat: NATS JetStream is not available: %w", err)
	}
	if err := b.setUpPresence(ctx); err != nil {
		return nil, err
	}
	if err := b.startInstances(); err != nil {
		return nil, err
	}
	b.background(b.renewLoop)
	b.background(b.janitorLoop)
	return b, nil
}

// background runs f in a goroutine of its own until Close.
func (b *NATS) background(f func()) {
	b.stopped.Add(1)
	go func() {
		defer b.stopped.Done()
		f()
	}()
}

// Conn returns the broker's NATS connection.
func (b *NATS) Conn() *nats.Conn { return b.nc }

// Close stops the subscriptions left, waits for them to be cleaned up, up
// to the broker's Timeout, and closes the connection if DialNATS opened it.
func (b *NATS) Close() {
	b.mu.Lock()
	b.closing = true
	subs := make([]*natsSub, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		s.stop()
	}
	ended := make(chan struct{})
	go func() {
		b.running.Wait()
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(b.opts.Timeout): // a consumer being recreated while NATS is out of reach
	}
	b.mu.Lock()
	again := b.closed
	b.closed = true
	b.mu.Unlock()
	if !again {
		close(b.stopping)
		b.instances.stop()
	}
	b.stopped.Wait()
	b.cleanup.Wait()
	if b.owned {
		if b.nc.IsConnected() {
			b.nc.FlushTimeout(b.opts.Timeout) // the last events announced
		}
		b.nc.Close()
	}
}

func (b *NATS) streamName(room string) string   { return b.stream + room }
func (b *NATS) chatSubject(room string) string  { return b.opts.Prefix + ".room." + room }
func (b *NATS) eventSubject(room string) string { return b.opts.Prefix + ".event." + room }

// bound gives a context without a deadline the broker's timeout.
func (b *NATS) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, b.opts.Timeout)
}

// checkRoom refuses a room name that is not valid, and so might not be a
// valid stream name or subject token.
func checkRoom(room string) error {
	if err := message.ValidRoom(room); err != nil {
		return fmt.Errorf("chat: room %q: %w", room, err)
	}
	return nil
}

// setUp creates the room's stream, or brings its configuration up to
// date, and returns its info. With fresh false, a room already set up by
// this process is not set up again and the info is nil. A room that has
// no stream yet gets one only if the account has fewer than MaxRooms.
func (b *NATS) setUp(ctx context.Context, room string, fresh bool) (*jetstream.StreamInfo, error) {
	name := b.streamName(room)
	b.mu.Lock()
	_, known := b.streams[room]
	if known {
		b.streams[room] = time.Now()
	}
	b.mu.Unlock()
	if known && !fresh {
		return nil, nil
	}
	cfg := b.streamConfig(room)
	s, err := b.js.Stream(ctx, name)
	switch {
	case err == nil && b.upToDate(s.CachedInfo().Config, cfg):
	case err == nil:
		s, err = b.js.UpdateStream(ctx, cfg)
	case errors.Is(err, jetstream.ErrStreamNotFound):
		// A new room, or one deleted since: create it, if there is room.
		var info *jetstream.AccountInfo
		if info, err = b.js.AccountInfo(ctx); err == nil && info.Streams >= b.opts.MaxRooms {
			return nil, fmt.Errorf("chat: creating room %q: %w: the NATS account has %d streams", room, ErrTooManyRooms, info.Streams)
		}
		if err == nil {
			s, err = b.js.CreateOrUpdateStream(ctx, cfg)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("chat: setting up the stream of room %q: %w", room, err)
	}
	b.mu.Lock()
	b.streams[room] = time.Now()
	b.mu.Unlock()
	return s.CachedInfo(), nil
}

// streamConfig returns the configuration of the room's stream.
func (b *NATS) streamConfig(room string) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        b.streamName(room),
		Description: "Duplex chat room " + room,
		Subjects:    []string{b.chatSubject(room)},
		Retention:   jetstream.LimitsPolicy,
		MaxMsgs:     int64(b.opts.Keep),
		MaxBytes:    int64(b.opts.MaxBytes),
		MaxAge:      b.opts.MaxAge,
		Duplicates:  b.opts.Dedup,
		Discard:     jetstream.DiscardOld,
		Storage:     jetstream.FileStorage,
		Replicas:    b.opts.Replicas,
		AllowDirect: true, // for Since and Latest
		DenyDelete:  true, // no holes in the sequence numbers
	}
}

// upToDate reports whether a stream's configuration has the limits that
// the broker's options give it.
func (b *NATS) upToDate(have, want jetstream.StreamConfig) bool {
	return have.MaxMsgs == want.MaxMsgs && have.MaxBytes == want.MaxBytes && have.MaxAge == want.MaxAge &&
		have.Duplicates == want.Duplicates && have.Replicas == want.Replicas && have.AllowDirect && have.DenyDelete
}

// Publish implements Broker. It returns once the message is stored; the
// subscribers, this instance's included, receive it from the stream. The
// message is stored with its ID (Chat.ID), so that the log gives it back.
//
// An attempt that fails for want of an answer — NATS restarting, a leader
// being elected — is made again until ctx ends. Every attempt carries the
// same message ID, msgID or one of the broker's, so that JetStream stores
// the message once even if an answer was lost, and answers again with the
// sequence number it got.
func (b *NATS) Publish(ctx context.Context, c *message.Chat, msgID string) (bool, error) {
	if err := checkRoom(c.Room); err != nil {
		return false, err
	}
	ctx, cancel := b.bound(ctx)
	defer cancel()
	data := message.Append(nil, &message.Chat{Room: c.Room, Time: c.Time, Nick: c.Nick, Text: c.Text, ID: c.ID})
	if msgID == "" {
		msgID = rand.Text()
	}
	for {
		ack, err := b.publish(ctx, c.Room, data, msgID)
		if err == nil {
			c.Seq = ack.Sequence
			return ack.Duplicate, nil
		}
		if ctx.Err() != nil || !transient(err) {
			return false, fmt.Errorf("chat: publishing to room %q: %w", c.Room, err)
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("chat: publishing to room %q: %w", c.Room, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// publishAttempt bounds one attempt of Publish.
const publishAttempt = time.Second

// publish makes one attempt at publishing data to the room under msgID,
// and returns JetStream's answer.
func (b *NATS) publish(ctx context.Context, room string, data []byte, msgID string) (*jetstream.PubAck, error) {
	if _, err := b.setUp(ctx, room, false); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, publishAttempt)
	defer cancel()
	ack, err := b.js.Publish(ctx, b.chatSubject(room), data,
		jetstream.WithExpectStream(b.streamName(room)),
		jetstream.WithMsgID(msgID)) // within the stream's duplicate window
	if errors.Is(err, jetstream.ErrNoStreamResponse) {
		// The stream was deleted since this process set it up, or
		// JetStream is starting: set it up again on the next attempt.
		b.mu.Lock()
		delete(b.streams, room)
		b.mu.Unlock()
	}
	if err != nil {
		return nil, err
	}
	return ack, nil
}

// transient reports whether err may be gone on another attempt.
func transient(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.As(err, &apiErr) && apiErr.Code == 503 // JetStream unavailable for now
}

// Announce implements Broker.
func (b *NATS) Announce(_ context.Context, room string, m message.Message) error {
	if err := checkRoom(room); err != nil {
		return err
	}
	if err := b.nc.Publish(b.eventSubject(room), message.Append(nil, m)); err != nil {
		return fmt.Errorf("chat: announcing to room %q: %w", room, err)
	}
	return nil
}

// Since implements Broker.
func (b *NATS) Since(ctx context.Context, room string, after uint64, limit int) ([]message.Chat, bool, error) {
	if err := checkRoom(room); err != nil {
		return nil, false, err
	}
	ctx, cancel := b.bound(ctx)
	defer cancel()
	if last, ok := b.delivered(room); ok && after <= last {
		// What this instance has delivered is in the log: read it without
		// asking for the log's bounds first.
		if after == last || limit <= 0 {
			return nil, true, nil
		}
		msgs, complete, err := b.read(ctx, room, after+1, min(last, after+uint64(limit)))
		switch {
		case err != nil:
			return nil, false, err
		case complete && msgs[0].Seq == after+1:
			return msgs, true, nil
		case complete:
			return nil, false, nil // the log starts after after+1
		} // else answered by a replica behind: ask the leader
	}
	var msgs []message.Chat
	var ok bool
	err := settle(ctx, func() (bool, error) {
		first, last, err := b.bounds(ctx, room)
		switch {
		case err != nil:
			return false, err
		case after >= last:
			msgs, ok = nil, after == last
			return false, nil
		case after+1 < first:
			msgs, ok = nil, false
			return false, nil
		case limit <= 0:
			msgs, ok = nil, true
			return false, nil
		}
		to := last
		if uint64(limit) < last-after {
			to = after + uint64(limit)
		}
		got, complete, err := b.read(ctx, room, after+1, to)
		if err != nil || !complete || got[0].Seq != after+1 {
			return err == nil, err // trimmed meanwhile, or answered by a replica behind: look again
		}
		msgs, ok = got, true
		return false, nil
	})
	if err != nil {
		return nil, false, err
	}
	return msgs, ok, nil
}

// Latest implements Broker.
func (b *NATS) Latest(ctx context.Context, room string, n int) ([]message.Chat, uint64, error) {
	if err := checkRoom(room); err != nil {
		return nil, 0, err
	}
	ctx, cancel := b.bound(ctx)
	defer cancel()
	if last, ok := b.delivered(room); ok && (last == 0 || n <= 0) {
		return nil, last, nil // nothing was ever published, or nothing is asked for
	} else if ok {
		// What this instance has delivered is in the log, up to last:
		// read it without asking for the log's bounds first.
		msgs, complete, err := b.read(ctx, room, last-min(last, uint64(n))+1, last)
		if err != nil {
			return nil, 0, err
		}
		if complete {
			return msgs, last, nil
		} // else answered by a replica behind, or trimmed away: ask the leader
	}
	var msgs []message.Chat
	var last uint64
	err := settle(ctx, func() (bool, error) {
		var first uint64
		var err error
		first, last, err = b.bounds(ctx, room)
		if err != nil || last == 0 || n <= 0 || first > last {
			msgs = nil
			return false, err
		}
		from := first
		if uint64(n) < last-first+1 {
			from = last - uint64(n) + 1
		}
		var complete bool
		msgs, complete, err = b.read(ctx, room, from, last)
		return err == nil && !complete, err
	})
	if err != nil {
		return nil, 0, err
	}
	return msgs, last, nil
}

// settle calls attempt until it settles: until it returns false or an
// error, and at most five times.
func settle(ctx context.Context, attempt func() (again bool, err error)) error {
	for i := 1; ; i++ {
		again, err := attempt()
		if err != nil || !again {
			return err
		}
		if i == 5 {
			return errors.New("chat: the room's log changed every time it was read")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(i) * 10 * time.Millisecond):
		}
	}
}

// bounds returns the sequence numbers of the first and the last message
// in the room's log, as the stream's leader knows them; 0, 0 if the room
// has no stream yet.
func (b *NATS) bounds(ctx context.Context, room string) (first, last uint64, err error) {
	s, err := b.js.Stream(ctx, b.streamName(room))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("chat: reading the state of room %q: %w", room, err)
	}
	state := s.CachedInfo().State
	return state.FirstSeq, state.LastSeq, nil
}

// delivered returns the sequence number of the last chat that this
// instance's subscriptions to the room have delivered, or of the room's
// last when they started; ok is false if it has none. The log holds
// every message up to it, unless trimmed; and a reader of the log up to it
// after subscribing misses nothing between what it reads and what is
// delivered.
func (b *NATS) delivered(room string) (last uint64, ok bool) {
	b.mu.Lock()
	subs := slices.Clone(b.byRoom[room])
	b.mu.Unlock()
	for _, s := range subs {
		s.mu.Lock()
		last, ok = max(last, s.next-1), true
		s.mu.Unlock()
	}
	return last, ok
}

// directGetPrefix is the subject of JetStream's direct gets, to which the
// stream's name is added.
const directGetPrefix = "$JS.API.DIRECT.GET."

// read returns the messages from through to of the room's log with one
// batched direct get: one request, answered with the messages and an
// end-of-batch marker, with no consumer to create on the server. The log
// has no holes, but may have been trimmed: the messages returned may then
// start after from. complete is false if they do not go on through to:
// with Replicas above 1, the replica that answered may be behind the
// leader; or all of them were trimmed.
func (b *NATS) read(ctx context.Context, room string, from, to uint64) (msgs []message.Chat, complete bool, err error) {
	inbox := b.nc.NewInbox()
	sub, err := b.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, false, fmt.Errorf("chat: reading room %q: %w", room, err)
	}
	defer sub.Unsubscribe()
	req := fmt.Appendf(nil, `{"seq":%d,"batch":%d}`, from, to-from+1)
	if err := b.nc.PublishRequest(directGetPrefix+b.streamName(room), inbox, req); err != nil {
		return nil, false, fmt.Errorf("chat: reading room %q: %w", room, err)
	}
	msgs = make([]message.Chat, 0, to-from+1)
	next := from
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("chat: reading room %q: %w", room, err)
		}
		switch status := m.Header.Get("Status"); status {
		case "": // a message
		case "204": // end of the batch
			return msgs, len(msgs) > 0 && next == to+1, nil
		case "404": // no message from from on
			return nil, false, nil
		case "503":
			return nil, false, fmt.Errorf("chat: reading room %q: no NATS server answers direct gets on stream %s", room, b.streamName(room))
		default:
			return nil, false, fmt.Errorf("chat: reading room %q: NATS answered %s %s", room, status, m.Header.Get("Description"))
		}
		if m.Header.Get("Nats-Num-Pending") == "" {
			return nil, false, fmt.Errorf("chat: reading room %q: the NATS server does not do batched direct gets; it needs version 2.11 or later", room)
		}
		seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
		if err != nil {
			return nil, false, fmt.Errorf("chat: reading room %q: bad sequence number %q", room, m.Header.Get(jetstream.SequenceHeader))
		}
		switch {
		case seq > to:
			continue // after a trimmed start, the batch goes past to
		case len(msgs) == 0 && next == from && seq > from:
			next = seq // trimmed up to seq
		case seq != next:
			return nil, false, nil // a hole: answered by a replica behind
		}
		next++
		c, err := decodeChat(room, seq, m.Data)
		if err != nil {
			b.opts.Log.Warn("chat: skipping a message of the room's log", "room", room, "seq", seq, "err", err)
			continue
		}
		msgs = append(msgs, *c)
	}
}

// decodeChat decodes a Chat of the room's log, stored without its
// sequence number, and gives it seq.
func decodeChat(room string, seq uint64, data []byte) (*message.Chat, error) {
	m, err := message.Decode(data)
	if err != nil {
		return nil, err
	}
	c, ok := m.(*message.Chat)
	if !ok {
		return nil, fmt.Errorf("a %v where a Chat was expected", m.Kind())
	}
	c.Room, c.Seq = room, seq
	return c, nil
}

// Subscribe implements Broker. The room's chats come from an ordered
// consumer that starts after the last message in the log when Subscribe
// is called, so that a reader of the log after Subscribe returns misses
// nothing between what it reads and what is delivered.
func (b *NATS) Subscribe(room string, deliver func(message.Message)) (func(), error) {
	if err := checkRoom(room); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.Timeout)
	defer cancel()
	info, err := b.setUp(ctx, room, true)
	if err != nil {
		return nil, err
	}
	s := &natsSub{b: b, room: room, deliver: deliver, next: info.State.LastSeq + 1}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if s.events, err = b.nc.Subscribe(b.eventSubject(room), s.event); err != nil {
		return nil, fmt.Errorf("chat: subscribing to room %q: %w", room, err)
	}
	// The server must know of the subscription before an event announced
	// by another instance's connection comes in.
	err = b.nc.FlushWithContext(ctx)
	if err == nil {
		err = s.consume(ctx)
	}
	if err == nil {
		b.mu.Lock()
		if b.closing {
			err = errors.New("the broker is closed")
		} else {
			b.subs[s] = struct{}{}
			b.byRoom[room] = append(b.byRoom[room], s)
			b.running.Add(1)
		}
		b.mu.Unlock()
	}
	if err != nil {
		s.events.Unsubscribe()
		s.cancel()
		if s.msgs != nil {
			s.msgs.Stop()
			b.dropConsumer(s.cons)
		}
		return nil, fmt.Errorf("chat: subscribing to room %q: %w", room, err)
	}
	go s.run()
	return s.stop, nil
}

// A natsSub is a subscription to a room: chats come from the ordered
// consumer read by run, events from the core NATS subscription.
type natsSub struct {
	b      *NATS
	room   string
	events *nats.Subscription

	mu      sync.Mutex // held while deliver runs, so that calls do not overlap
	deliver func(message.Message)
	stopped bool
	next    uint64 // the sequence number of the next chat to deliver

	cmu  sync.Mutex // guards cons and msgs, which run replaces if they fail
	cons jetstream.Consumer
	msgs jetstream.MessagesContext

	ctx    context.Context // canceled by stop
	cancel context.CancelFunc
	once   sync.Once
}

// consume creates the ordered consumer that delivers the chats from s.next
// on. Ordered consumers recreate themselves, from where they were, after
// a reconnection or a gap; they are ephemeral, R1 and in memory.
func (s *natsSub) consume(ctx context.Context) error {
	cons, err := s.b.js.OrderedConsumer(ctx, s.b.streamName(s.room), jetstream.OrderedConsumerConfig{
		// A start sequence rather than DeliverNewPolicy: an ordered
		// consumer that recreates itself before its first message
		// would take "new" to mean newer than then, and lose messages.
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       s.next,
		InactiveThreshold: consumerIdle,
	})
	if err != nil {
		return err
	}
	msgs, err := cons.Messages()
	if err != nil {
		s.b.dropConsumer(cons)
		return err
	}
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.ctx.Err() != nil { // stopped meanwhile
		msgs.Stop()
		s.b.dropConsumer(cons)
		return s.ctx.Err()
	}
	s.cons, s.msgs = cons, msgs
	return nil
}

// run delivers the chats until the subscription stops, then deletes the
// consumer.
func (s *natsSub) run() {
	defer s.b.running.Done()
	defer func() {
		s.cmu.Lock()
		cons := s.cons
		s.cmu.Unlock()
		s.b.dropConsumer(cons)
	}()
	for {
		s.cmu.Lock()
		msgs := s.msgs
		s.cmu.Unlock()
		m, err := msgs.Next()
		if err == nil {
			s.chat(m)
			continue
		}
		if s.ctx.Err() != nil || s.b.nc.IsClosed() {
			return
		}
		s.b.opts.Log.Warn("chat: NATS subscription failing", "room", s.room, "err", err)
		if !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			// The ordered consumer recovers from most failures itself.
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		// It gave up: start again after the last chat delivered.
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(time.Second):
			}
			s.cmu.Lock()
			old := s.cons
			s.cmu.Unlock()
			ctx, cancel := context.WithTimeout(s.ctx, s.b.opts.Timeout)
			err := s.consume(ctx)
			cancel()
			if err == nil {
				s.b.dropConsumer(old)
				break
			}
			if s.ctx.Err() != nil {
				return
			}
			s.b.opts.Log.Warn("chat: NATS subscription failing", "room", s.room, "err", err)
		}
	}
}

// chat delivers a chat from the stream, unless it was delivered already.
func (s *natsSub) chat(m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		s.b.opts.Log.Warn("chat: skipping a message of the room's log", "room", s.room, "err", err)
		return
	}
	seq := meta.Sequence.Stream
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || seq < s.next {
		return
	}
	if seq > s.next {
		// Possible only if the log was trimmed past messages not yet
		// delivered: this instance fell more than Keep messages behind.
		s.b.opts.Log.Warn("chat: messages lost: trimmed before delivery", "room", s.room, "from", s.next, "to", seq-1)
	}
	s.next = seq + 1
	c, err := decodeChat(s.room, seq, m.Data())
	if err != nil {
		s.b.opts.Log.Warn("chat: skipping a message of the room's log", "room", s.room, "seq", seq, "err", err)
		return
	}
	s.deliver(c)
}

// event delivers an announced event.
func (s *natsSub) event(m *nats.Msg) {
	msg, err := message.Decode(m.Data)
	if err != nil {
		s.b.opts.Log.Warn("chat: skipping an event", "room", s.room, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.deliver(msg)
	}
}

// stop ends the subscription: once it returns, deliver is not called
// again. It does not wait for NATS: the consumer is stopped and deleted
// in the background.
func (s *natsSub) stop() {
	s.once.Do(func() {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
		s.events.Unsubscribe()
		s.cancel()
		s.b.mu.Lock()
		delete(s.b.subs, s)
		if subs := slices.DeleteFunc(s.b.byRoom[s.room], func(x *natsSub) bool { return x == s }); len(subs) > 0 {
			s.b.byRoom[s.room] = subs
		} else {
			delete(s.b.byRoom, s.room)
		}
		s.b.mu.Unlock()
		// An ordered consumer recreating itself holds its lock, which
		// Stop takes, while it waits for NATS.
		go func() {
			s.cmu.Lock()
			msgs := s.msgs
			s.cmu.Unlock()
			msgs.Stop()
		}()
	})
}

// dropConsumer deletes an ordered consumer's current consumer from the
// server, in the background; Close waits for it. Without a connection, or
// once closed, it leaves the consumer to be deleted by the server after
// consumerIdle.
func (b *NATS) dropConsumer(cons jetstream.Consumer) {
	info := cons.CachedInfo()
	if info == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || !b.nc.IsConnected() {
		return
	}
	b.cleanup.Add(1)
	go func() {
		defer b.cleanup.Done()
		ctx, cancel := context.WithTimeout(context.Background(), b.opts.Timeout)
		defer cancel()
		err := b.js.DeleteConsumer(ctx, info.Stream, info.Name)
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			b.opts.Log.Debug("chat: deleting a NATS consumer", "stream", info.Stream, "consumer", info.Name, "err", err)
		}
	}()
}
