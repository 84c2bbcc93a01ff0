package chat_test

// Reliability, end to end: the browser's chat client (shared/chatclient)
// on ws.Dial against real servers, through drops, a server instance killed
// mid-stream, NATS restarted, and the default process restarted on its
// data directory, counting every message: each one sent is stored once,
// and delivered to everyone once, in order.

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"duplex/server/chat"
	"duplex/server/ws"
	"duplex/shared/chatclient"
	"duplex/shared/conn"
	"duplex/shared/message"
	"duplex/shared/wire"
)

// settleWait bounds the waits for a whole exchange to settle.
const settleWait = 30 * time.Second

// A line is a message a UI showed.
type line struct {
	seq        uint64
	nick, text string
}

// A recUI is a chatclient.UI that records what it shows.
type recUI struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on each change
	lines   map[string][]line
	pending map[string]int
	joined  map[string]bool
	nick    map[string]string
	present map[string][]string
	errs    []string
	status  chatclient.Status
	closes  []string // the close codes the connections ended with, other than 1006
	resets  int
}

func newRecUI() *recUI {
	return &recUI{changed: make(chan struct{}), lines: map[string][]line{}, pending: map[string]int{},
		joined: map[string]bool{}, nick: map[string]string{}, present: map[string][]string{}}
}

func (u *recUI) update(f func()) {
	u.mu.Lock()
	f()
	close(u.changed)
	u.changed = make(chan struct{})
	u.mu.Unlock()
}

func (u *recUI) Status(s chatclient.Status) {
	u.update(func() {
		u.status = s
		if ce, ok := s.Err.(*wire.CloseError); ok && ce.Code != wire.StatusAbnormalClosure && s.Phase == conn.PhaseReconnecting {
			u.closes = append(u.closes, strconv.Itoa(int(ce.Code))+" "+ce.Reason)
		}
	})
}
func (u *recUI) RoomChanged(r chatclient.Room) {
	u.update(func() { u.joined[r.Name], u.nick[r.Name], u.present[r.Name] = r.Joined, r.Nick, r.Present })
}
func (u *recUI) RoomRemoved(string, error) {}
func (u *recUI) Message(m message.Chat, _ bool) {
	u.update(func() { u.lines[m.Room] = append(u.lines[m.Room], line{m.Seq, m.Nick, m.Text}) })
}
func (u *recUI) Outbox(room string, p []chatclient.Pending) {
	u.update(func() { u.pending[room] = len(p) })
}
func (u *recUI) Refused(room, text string, err error) {
	u.update(func() { u.errs = append(u.errs, "refused "+text+": "+err.Error()) })
}
func (u *recUI) HistoryReset(room string) {
	u.update(func() {
		u.resets++
		u.lines[room] = nil
	})
}
func (u *recUI) NickTaken(room, asked, given string) {}
func (u *recUI) Error(err error)                     { u.update(func() { u.errs = append(u.errs, err.Error()) }) }

// waitUntil waits until ok, called under the lock, holds.
func (u *recUI) waitUntil(t testing.TB, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		u.mu.Lock()
		done, changed := ok(), u.changed
		u.mu.Unlock()
		if done {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			u.mu.Lock()
			defer u.mu.Unlock()
			t.Fatalf("waited %v for %s; status %+v, pending %v, errors %q", d, what, u.status, u.pending, u.errs)
		}
	}
}

// A chatter is one user: a chatclient.Client through ws.Dial, to the first
// of its servers that answers, starting with the one it reached last.
type chatter struct {
	name   string
	ui     *recUI
	client *chatclient.Client

	mu   sync.Mutex
	urls []string
	last net.Conn // the TCP connection dialed last, for drop
}

// newChatter starts a chatter on the servers at urls, quick to reconnect.
func newChatter(t testing.TB, name string, urls ...string) *chatter {
	c := &chatter{name: name, ui: newRecUI(), urls: urls}
	c.client = chatclient.Start(c.ui, c.dial, &conn.ReconnectOptions{MinDelay: 5 * time.Millisecond, MaxDelay: 100 * time.Millisecond})
	t.Cleanup(func() { c.client.Close() })
	return c
}

func (c *chatter) dial(ctx context.Context) (conn.Conn, error) {
	c.mu.Lock()
	urls := slices.Clone(c.urls)
	c.mu.Unlock()
	var err error
	for i, url := range urls {
		var wc *ws.Conn
		wc, err = ws.Dial(ctx, url, &ws.DialOptions{
			Subprotocols: []string{message.Subprotocol},
			ReadLimit:    1 << 22,
			NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				c.mu.Lock()
				c.last = nc
				c.mu.Unlock()
				return nc, err
			},
		})
		if err == nil {
			c.mu.Lock()
			c.urls = append(urls[i:], urls[:i]...) // this one first, next time
			c.mu.Unlock()
			return wc, nil
		}
	}
	return nil, err
}

// drop drops the chatter's connection without a close frame, as a
// network does.
func (c *chatter) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil {
		c.last.Close()
	}
}

// join joins room and waits for the server's answer.
func (c *chatter) join(t testing.TB, room string) {
	t.Helper()
	if _, err := c.client.Join(c.name, room); err != nil {
		t.Fatal(err)
	}
	c.ui.waitUntil(t, c.name+" to join "+room, settleWait, func() bool { return c.ui.joined[room] })
}

// A tally records what the chatters sent, each sender's in order.
type tally struct {
	mu   sync.Mutex
	sent map[string][]string
}

func (tl *tally) send(t testing.TB, c *chatter, room, text string) {
	t.Helper()
	if err := c.client.Send(room, text); err != nil {
		t.Errorf("%s: Send: %v", c.name, err)
		return
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.sent == nil {
		tl.sent = map[string][]string{}
	}
	tl.sent[c.name] = append(tl.sent[c.name], text)
}

func (tl *tally) total() int {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	n := 0
	for _, s := range tl.sent {
		n += len(s)
	}
	return n
}

// check waits until every chatter shows as many messages in room as were
// sent, with nothing pending, and checks that they show the same ones:
// numbered first, first+1, …, each sent message once, each sender's in
// the order it sent them. It returns what they show.
func (tl *tally) check(t testing.TB, room string, first uint64, chatters ...*chatter) []line {
	t.Helper()
	n := tl.total()
	for _, c := range chatters {
		c.ui.waitUntil(t, fmt.Sprintf("%s to show %d messages", c.name, n), settleWait, func() bool {
			return len(c.ui.lines[room]) >= n && c.ui.pending[room] == 0
		})
	}
	var shown []line
	for i, c := range chatters {
		c.ui.mu.Lock()
		lines, errs, closes, resets := slices.Clone(c.ui.lines[room]), slices.Clone(c.ui.errs), slices.Clone(c.ui.closes), c.ui.resets
		c.ui.mu.Unlock()
		if len(lines) != n {
			t.Errorf("%s shows %d messages, %d were sent", c.name, len(lines), n)
		}
		for j, l := range lines {
			if l.seq != first+uint64(j) {
				t.Fatalf("%s's message %d is numbered %d, want %d", c.name, j, l.seq, first+uint64(j))
			}
		}
		if i == 0 {
			shown = lines
		} else if !slices.Equal(lines, shown) {
			t.Errorf("%s shows\n\t%v\n%s shows\n\t%v", c.name, lines, chatters[0].name, shown)
		}
		if len(closes) > 0 || resets > 1 {
			t.Errorf("%s: closed with %q, history reset %d times", c.name, closes, resets)
		}
		for _, e := range errs {
			if strings.Contains(e, "rate limited") {
				t.Errorf("%s was rate limited: %s", c.name, e)
			}
		}
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	bySender := map[string][]string{}
	for _, l := range shown {
		bySender[l.nick] = append(bySender[l.nick], l.text)
	}
	for sender, texts := range tl.sent {
		if !slices.Equal(bySender[sender], texts) {
			t.Errorf("%s sent\n\t%q\nshown\n\t%q", sender, texts, bySender[sender])
		}
	}
	return shown
}

// An instance is a chat server that can be killed as a crash kills it:
// its connections dropped without a close frame, its listener closed.
type instance struct {
	url  string
	srv  *httptest.Server
	hub  atomic.Pointer[chat.Hub] // the hub served: a test may swap it
	mu   sync.Mutex
	tcp  map[net.Conn]bool
	dead bool
}

// startInstance serves a hub on broker through the chat's endpoint.
func startInstance(t testing.TB, broker chat.Broker, cfg chat.Config) *instance {
	t.Helper()
	cfg.Broker = broker
	return serveHub(t, chat.NewHub(cfg))
}

// serveHub serves hub through the chat's endpoint.
func serveHub(t testing.TB, hub *chat.Hub) *instance {
	t.Helper()
	in := &instance{tcp: map[net.Conn]bool{}}
	in.hub.Store(hub)
	conns := &ws.Group{}
	in.srv = httptest.NewUnstartedServer(chat.NewEndpoint(in.hub.Load, chat.EndpointOptions{
		Upgrader: ws.Upgrader{Group: conns}, MaxConnsPerAddr: 10_000,
	}))
	in.srv.Listener = trackingListener{in.srv.Listener, in}
	in.srv.Start()
	in.url = "ws" + strings.TrimPrefix(in.srv.URL, "http") + chat.Path
	t.Cleanup(func() {
		in.kill()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		conns.Close(ctx, ws.StatusGoingAway, "test over")
	})
	return in
}

// kill drops every connection and stops listening.
func (in *instance) kill() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.dead {
		return
	}
	in.dead = true
	in.srv.Listener.Close()
	for c := range in.tcp {
		c.Close()
	}
}

type trackingListener struct {
	net.Listener
	in *instance
}

func (l trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.in.mu.Lock()
		if l.in.dead {
			c.Close()
		} else {
			l.in.tcp[c] = true
		}
		l.in.mu.Unlock()
	}
	return c, err
}

// startNATS starts a NATS server with JetStream in this process, storing
// under dir, on a loopback port: 0 for any.
func startNATS(t testing.TB, dir string, port int) *server.Server {
	t.Helper()
	if port == 0 {
		port = -1
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS server did not start")
	}
	return s
}

// dialNATS returns a broker on a connection of its own to s, quick to
// reconnect and to find dead instances.
func dialNATS(t testing.TB, url string) *chat.NATS {
	t.Helper()
	b, err := chat.DialNATS(context.Background(), url,
		chat.NATSOptions{Heartbeat: 100 * time.Millisecond, HeartbeatTimeout: 500 * time.Millisecond},
		nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// talk has every chatter send each messages to room, a few a second
// (within the rate limit), while during() runs after the first few.
func talk(t *testing.T, tl *tally, room string, each int, chatters []*chatter, during func()) {
	var wg sync.WaitGroup
	started := make(chan struct{}, len(chatters))
	for _, c := range chatters {
		wg.Go(func() {
			for i := range each {
				tl.send(t, c, room, c.name+" "+strconv.Itoa(i))
				if i == each/4 {
					started <- struct{}{}
				}
				time.Sleep(time.Duration(150+len(c.name)*7) * time.Millisecond)
			}
		})
	}
	for range chatters {
		<-started
	}
	if during != nil {
		during()
	}
	wg.Wait()
}

// Drops and resumes, on each kind of broker: every message sent is
// delivered to everyone once, in order.
func TestReliableThroughDrops(t *testing.T) {
	for _, tc := range []struct {
		name string
		urls func(t *testing.T) []string
	}{
		{"memory", func(t *testing.T) []string {
			return []string{startInstance(t, &chat.Memory{}, chat.Config{}).url}
		}},
		{"embedded", func(t *testing.T) []string {
			b, err := chat.OpenBackend(context.Background(), chat.BackendOptions{Data: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(b.Close)
			return []string{serveHub(t, b.Hub).url}
		}},
		{"two instances on NATS", func(t *testing.T) []string {
			ns := startNATS(t, t.TempDir(), 0)
			t.Cleanup(ns.Shutdown)
			a := startInstance(t, dialNATS(t, ns.ClientURL()), chat.Config{})
			b := startInstance(t, dialNATS(t, ns.ClientURL()), chat.Config{})
			return []string{a.url, b.url}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			urls := tc.urls(t)
			var chatters []*chatter
			for i, name := range []string{"ann", "bob", "cy", "dee"} {
				c := newChatter(t, name, urls[i%len(urls)])
				c.join(t, "lobby")
				chatters = append(chatters, c)
			}
			var tl tally
			talk(t, &tl, "lobby", 12, chatters, func() {
				for i := range 6 {
					chatters[i%len(chatters)].drop()
					time.Sleep(150 * time.Millisecond)
				}
			})
			tl.check(t, "lobby", 1, chatters...)
		})
	}
}

// A server instance killed mid-stream: its users come back on the other
// instance with their nicknames, and send again what was in flight; the
// others see them go and come back. Every message is stored once.
func TestInstanceKilledMidStream(t *testing.T) {
	ns := startNATS(t, t.TempDir(), 0)
	t.Cleanup(ns.Shutdown)
	brokerA := dialNATS(t, ns.ClientURL())
	a := startInstance(t, brokerA, chat.Config{})
	b := startInstance(t, dialNATS(t, ns.ClientURL()), chat.Config{})
	var chatters []*chatter
	for i, name := range []string{"ann", "bob", "cy", "dee"} {
		urls := []string{a.url, b.url}
		if i%2 == 1 {
			urls = []string{b.url, a.url}
		}
		c := newChatter(t, name, urls...)
		c.join(t, "lobby")
		chatters = append(chatters, c)
	}
	var tl tally
	talk(t, &tl, "lobby", 16, chatters, func() {
		brokerA.Close() // the process dies: nothing it does reaches NATS any more,
		a.kill()        // and its connections drop
	})
	tl.check(t, "lobby", 1, chatters...)
	for _, c := range chatters {
		c.ui.mu.Lock()
		nick := c.ui.nick["lobby"]
		c.ui.mu.Unlock()
		if nick != c.name {
			t.Errorf("%s is %q in the room after the crash", c.name, nick)
		}
	}
}

// NATS restarted mid-stream: the messages wait, and are stored once each
// when it is back.
func TestNATSRestartedMidStream(t *testing.T) {
	dir := t.TempDir()
	ns := startNATS(t, dir, 0)
	port := ns.Addr().(*net.TCPAddr).Port
	url := ns.ClientURL()
	a := startInstance(t, dialNATS(t, url), chat.Config{})
	b := startInstance(t, dialNATS(t, url), chat.Config{})
	var chatters []*chatter
	for i, name := range []string{"ann", "bob", "cy"} {
		c := newChatter(t, name, []string{a.url, b.url}[i%2])
		c.join(t, "lobby")
		chatters = append(chatters, c)
	}
	var tl tally
	talk(t, &tl, "lobby", 16, chatters, func() {
		ns.Shutdown()
		ns.WaitForShutdown()
		time.Sleep(time.Second)
		ns = startNATS(t, dir, port)
	})
	t.Cleanup(ns.Shutdown)
	tl.check(t, "lobby", 1, chatters...)
}

// The default single process, stopped and started again on its data
// directory: the history is intact, and a message sent just before the
// stop, which it could not store, is delivered once after the restart.
func TestDefaultProcessRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() *chat.Backend {
		t.Helper()
		b, err := chat.OpenBackend(context.Background(), chat.BackendOptions{Data: dir})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first := open()
	in := serveHub(t, first.Hub)
	ann, bob := newChatter(t, "ann", in.url), newChatter(t, "bob", in.url)
	ann.join(t, "lobby")
	bob.join(t, "lobby")
	var tl tally
	for i := range 5 {
		tl.send(t, ann, "lobby", "before "+strconv.Itoa(i))
	}
	tl.check(t, "lobby", 1, ann, bob)

	// The store stops first: bob's message cannot be stored. Then the
	// process's connections drop.
	first.Close()
	tl.send(t, bob, "lobby", "just before the crash")
	bob.ui.waitUntil(t, "bob's message to be refused for now", wait, func() bool { return len(bob.ui.errs) > 0 })
	second := open()
	defer second.Close()
	in.hub.Store(second.Hub)
	ann.drop()
	bob.drop()

	shown := tl.check(t, "lobby", 1, ann, bob)
	if last := shown[len(shown)-1]; last.seq != 6 || last.text != "just before the crash" {
		t.Errorf("the last message is %+v", last)
	}
	for _, c := range []*chatter{ann, bob} {
		c.ui.mu.Lock()
		if c.ui.status.Reloaded || c.ui.nick["lobby"] != c.name {
			t.Errorf("%s: status %+v, nickname %q: the server kept neither the history nor the nickname", c.name, c.ui.status, c.ui.nick["lobby"])
		}
		c.ui.mu.Unlock()
	}
}

// A message stored by an instance that died before it could answer is
// delivered once: the client finds it in the history when it comes back
// on another instance, and a client that sends it again all the same gets
// the first one's number.
func TestStoredButNotAcknowledged(t *testing.T) {
	mem := &chat.Memory{} // one store, as NATS would be, for both instances
	dying := &answerNever{Broker: mem}
	a := startInstance(t, dying, fast)
	b := startInstance(t, mem, fast)

	// The chat client: its message comes back in the history.
	ann, bob := newChatter(t, "ann", a.url, b.url), newChatter(t, "bob", b.url)
	ann.join(t, "lobby")
	bob.join(t, "lobby")
	var tl tally
	dying.arm()
	tl.send(t, ann, "lobby", "stored, never acknowledged")
	dying.wait(t)
	a.kill()
	tl.check(t, "lobby", 1, ann, bob)

	// A client that sends it again: stored once, and acknowledged with
	// the number it got.
	raw := dial(t, b.url, "raw")
	r := join(raw, "lobby", "raw")
	settle(raw)
	raw.send(&message.Send{Room: "lobby", Text: "once", ID: 42})
	ack, _ := waitFor[*message.Ack](raw, nil) // the Chat may come before it
	raw.conn.CloseNow()
	raw = dial(t, b.url, "raw again")
	raw.send(&message.Join{Room: "lobby", Nick: "raw", Resume: true, After: ack.Seq, Token: r.joined.Token})
	readJoin(raw, false)
	raw.send(&message.Send{Room: "lobby", Text: "once", ID: 42})
	if again, _ := waitFor[*message.Ack](raw, nil); again.Seq != ack.Seq {
		t.Errorf("sent again, acknowledged as %d, first as %d", again.Seq, ack.Seq)
	}
	say(raw, "lobby", "after")
	bob.ui.waitUntil(t, "bob to see raw's messages", wait, func() bool { return len(bob.ui.lines["lobby"]) == 3 })
	bob.ui.mu.Lock()
	defer bob.ui.mu.Unlock()
	if got := bob.ui.lines["lobby"]; got[1].text != "once" || got[2].text != "after" {
		t.Errorf("bob shows %v", got)
	}
}

// answerNever is a broker whose Publish, once armed, stores the message
// and then never answers: the instance dies there.
type answerNever struct {
	chat.Broker
	mu     sync.Mutex
	armed  bool
	stored chan struct{}
}

func (d *answerNever) arm() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.armed, d.stored = true, make(chan struct{})
}

func (d *answerNever) wait(t *testing.T) {
	select {
	case <-d.stored:
	case <-time.After(wait):
		t.Fatal("nothing was published")
	}
}

func (d *answerNever) Publish(ctx context.Context, c *message.Chat, msgID string) (bool, error) {
	dup, err := d.Broker.Publish(ctx, c, msgID)
	d.mu.Lock()
	armed := d.armed
	if armed {
		d.armed = false
		close(d.stored)
	}
	d.mu.Unlock()
	if armed {
		<-ctx.Done() // never answers: the instance is gone
		return false, ctx.Err()
	}
	return dup, err
}

// While the broker stalls, the server goes on reading, and times each
// message by when it came: a client that keeps within the rate limit is
// neither refused nor closed, and its messages are stored, in order, once
// the broker is back. One that goes over it is refused, then closed with
// 1008 after the errors queued before the close.
func TestRateLimitFairDuringStall(t *testing.T) {
	stall := &stallingBroker{Broker: &chat.Memory{}, open: make(chan struct{})}
	close(stall.open)
	url := newServer(t, chat.Config{Broker: stall, Rate: 20, Burst: 5})
	ann := dial(t, url, "ann")
	join(ann, "go", "ann")
	settle(ann)

	const n = 30
	done := make(chan error, 1)
	go func() { // 15 a second, under the limit of 20
		for i := 1; i <= n; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			err := ann.conn.WriteMessage(ctx, ws.Binary, message.Append(nil, &message.Send{Room: "go", Text: strconv.Itoa(i), ID: uint64(i)}))
			cancel()
			if err != nil {
				done <- err
				return
			}
			if i == 5 {
				stall.stop()
			}
			if i == 20 {
				stall.resume()
			}
			time.Sleep(time.Second / 15)
		}
		done <- nil
	}()
	var acks, chats []uint64
	for len(acks) < n || len(chats) < n {
		switch m := ann.read().(type) {
		case *message.Ack:
			acks = append(acks, m.ID)
		case *message.Chat:
			chats = append(chats, m.Seq)
			if m.Text != strconv.FormatUint(m.ID, 10) || m.ID != m.Seq {
				t.Fatalf("message %d holds %q from message %d", m.Seq, m.Text, m.ID)
			}
		default:
			t.Fatalf("ann got %s", show(m))
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if acks[i] != uint64(i+1) || chats[i] != uint64(i+1) {
			t.Fatalf("acknowledged %v, delivered %v: want 1…%d, in order", acks, chats, n)
		}
	}

	// Over the limit: refused, and closed after the refusals.
	spam := dial(t, url, "spam")
	join(spam, "go", "spam")
	for i := range 20 {
		spam.conn.WriteMessage(context.Background(), ws.Binary, message.Append(nil, &message.Send{Room: "go", Text: "spam", ID: uint64(i + 1)}))
	}
	msgs, code, reason := readToClose(spam)
	if code != ws.StatusPolicyViolation || reason != "rate limit exceeded" {
		t.Errorf("closed with %d %q", code, reason)
	}
	refused := 0
	for _, m := range msgs {
		if e, ok := m.(*message.Error); ok && e.Code == message.CodeRateLimited && e.ID != 0 {
			refused++
		}
	}
	if refused == 0 {
		t.Errorf("the close came after %d messages, none a refusal for the rate", len(msgs))
	}
}

// stallingBroker is a broker whose Publish waits while it is stopped.
type stallingBroker struct {
	chat.Broker
	mu   sync.Mutex
	open chan struct{} // closed while publishing goes through
}

func (s *stallingBroker) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open = make(chan struct{})
}

func (s *stallingBroker) resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.open)
}

func (s *stallingBroker) Publish(ctx context.Context, c *message.Chat, msgID string) (bool, error) {
	s.mu.Lock()
	open := s.open
	s.mu.Unlock()
	select {
	case <-open:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	return s.Broker.Publish(ctx, c, msgID)
}

// A few thousand connections, from four client addresses, on the default
// backend: 20 rooms of 100, where everyone sends one message; everyone
// gets the 100 messages of their room, once, in order. (Under the race
// detector, 5 rooms.)
func TestThousandsOfConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	rooms := 20
	if raceEnabled {
		rooms = 5
	}
	b, err := chat.OpenBackend(context.Background(), chat.BackendOptions{Data: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	in := serveHub(t, b.Hub)
	const each = 100
	start := time.Now()
	type member struct {
		c    *ws.Conn
		room string
	}
	members := make([]member, rooms*each)
	var wg sync.WaitGroup
	errs := make(chan error, len(members))
	for i := range members {
		wg.Go(func() {
			local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%4))}
			ctx, cancel := context.WithTimeout(context.Background(), settleWait)
			defer cancel()
			c, err := ws.Dial(ctx, in.url, &ws.DialOptions{
				Subprotocols: []string{message.Subprotocol},
				NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
					return (&net.Dialer{LocalAddr: local}).DialContext(ctx, network, addr)
				},
			})
			if err != nil {
				errs <- err
				return
			}
			room := "room-" + strconv.Itoa(i%rooms)
			members[i] = member{c, room}
			if err := c.WriteMessage(ctx, ws.Binary, message.Append(nil, &message.Join{Room: room, Nick: "m" + strconv.Itoa(i)})); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d connections joined in %v", len(members), time.Since(start).Round(time.Millisecond))
	defer func() {
		for _, m := range members {
			m.c.CloseNow()
		}
	}()

	start = time.Now()
	var failures sync.Map
	for i, m := range members {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), settleWait)
			defer cancel()
			sent := false
			var seqs []uint64
			for len(seqs) < each {
				_, p, err := m.c.ReadMessage(ctx, nil)
				if err != nil {
					failures.Store(i, fmt.Sprintf("after %d messages: %v", len(seqs), err))
					return
				}
				msg, err := message.Decode(p)
				if err != nil {
					failures.Store(i, err.Error())
					return
				}
				switch msg := msg.(type) {
				case *message.History: // the room's history, once joined: time to send
					if !sent {
						sent = true
						m.c.WriteMessage(ctx, ws.Binary, message.Append(nil, &message.Send{Room: m.room, Text: "hello from " + strconv.Itoa(i), ID: 1}))
					}
					for _, c := range msg.Messages {
						seqs = append(seqs, c.Seq)
					}
				case *message.Chat:
					seqs = append(seqs, msg.Seq)
				case *message.Error:
					failures.Store(i, msg.Error())
					return
				}
			}
			for j, s := range seqs {
				if s != uint64(j+1) {
					failures.Store(i, fmt.Sprintf("got messages %v", seqs))
					return
				}
			}
		})
	}
	wg.Wait()
	failures.Range(func(k, v any) bool {
		t.Errorf("member %d: %v", k, v)
		return true
	})
	t.Logf("%d messages delivered %d times each in %v", rooms*each, each, time.Since(start).Round(time.Millisecond))
}

// The members of an instance that crashed are announced gone on the others
// within seconds; one that comes back with its resume token gets its
// nickname back.
func TestPresenceHealsAfterCrash(t *testing.T) {
	ns := startNATS(t, t.TempDir(), 0)
	t.Cleanup(ns.Shutdown)
	brokerA := dialNATS(t, ns.ClientURL())
	a := startInstance(t, brokerA, fast)
	b := startInstance(t, dialNATS(t, ns.ClientURL()), fast)

	bob := newChatter(t, "bob", b.url)
	bob.join(t, "lobby")
	ann := dial(t, a.url, "ann")
	r := join(ann, "lobby", "ann")
	present := func(want ...string) func() bool {
		return func() bool {
			bob.ui.mu.Lock()
			defer bob.ui.mu.Unlock()
			return slices.Equal(bob.present(), want)
		}
	}
	waitTrue(t, "bob to see ann", present("ann", "bob"))

	start := time.Now()
	brokerA.Close()
	a.kill()
	waitTrue(t, "bob to see ann go", present("bob"))
	t.Logf("ann was announced gone %v after her instance crashed", time.Since(start).Round(time.Millisecond))

	back := dial(t, b.url, "ann back")
	back.send(&message.Join{Room: "lobby", Nick: "ann", Resume: true, Token: r.joined.Token})
	if got := readJoin(back, false); got.joined.Nick != "ann" {
		t.Errorf("ann came back as %q", got.joined.Nick)
	}
	waitTrue(t, "bob to see ann back", present("ann", "bob"))
}

// present returns who the chatter's page lists in the lobby; c.ui.mu must
// be held.
func (c *chatter) present() []string {
	return c.ui.present["lobby"]
}

// waitTrue polls ok until it holds.
func waitTrue(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(settleWait)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", settleWait, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
