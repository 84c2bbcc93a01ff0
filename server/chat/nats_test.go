package chat

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"duplex/server/ws"
	"duplex/shared/message"
	"duplex/shared/wire"
)

// natsServer starts a NATS server with JetStream in this process, on a
// random loopback port, storing into a temporary directory.
func natsServer(t testing.TB, jetStream bool) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: jetStream,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS server did not start")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// natsBroker returns a broker on a connection of its own to s, as a server
// instance of its own would have.
func natsBroker(t testing.TB, s *server.Server, opts NATSOptions) *NATS {
	t.Helper()
	b, err := DialNATS(context.Background(), s.ClientURL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func TestNATSConformance(t *testing.T) {
	s := natsServer(t, true)
	n := 0
	testBrokerConformance(t, func(t *testing.T, keep int) Broker {
		n++ // a fresh set of streams for each broker
		return natsBroker(t, s, NATSOptions{Keep: keep, Prefix: "t" + strconv.Itoa(n)})
	})
}

func TestNATSOptions(t *testing.T) {
	ctx := context.Background()
	s := natsServer(t, false)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := NewNATS(ctx, nc, NATSOptions{Prefix: "Chat.x"}); err == nil || !strings.Contains(err.Error(), "prefix") {
		t.Errorf("NewNATS with prefix Chat.x: %v, want an error about the prefix", err)
	}
	if _, err := NewNATS(ctx, nc, NATSOptions{}); err == nil || !strings.Contains(err.Error(), "JetStream") {
		t.Errorf("NewNATS without JetStream: %v, want an error about JetStream", err)
	}
	if _, err := DialNATS(ctx, "nats://127.0.0.1:1", NATSOptions{}); err == nil {
		t.Error("DialNATS to a closed port succeeded")
	}
}

// Two instances, each with its own connection, subscribed to the same
// room: both receive every chat, in the one order of the room's sequence
// numbers, and every event, wherever it comes from.
func TestNATSInstances(t *testing.T) {
	ctx := context.Background()
	s := natsServer(t, true)
	brokers := []*NATS{natsBroker(t, s, NATSOptions{}), natsBroker(t, s, NATSOptions{})}
	var got [2]confCollector
	for i, b := range brokers {
		stop, err := b.Subscribe("lobby", got[i].deliver)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
	}

	const each = 15
	var mu sync.Mutex
	var sent []message.Chat
	var wg sync.WaitGroup
	for i, b := range brokers {
		wg.Go(func() {
			for j := range each {
				c := &message.Chat{Room: "lobby", Time: int64(j), Nick: "instance" + strconv.Itoa(i), Text: strconv.Itoa(j)}
				if _, err := b.Publish(ctx, c, ""); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				sent = append(sent, *c)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i, b := range brokers {
		if err := b.Announce(ctx, "lobby", &message.Typing{Room: "lobby", Nick: "instance" + strconv.Itoa(i), Active: true}); err != nil {
			t.Fatal(err)
		}
	}

	// Ordered by the sequence numbers the publishers were given, the chats
	// sent are what each instance received.
	want := make([]message.Chat, len(sent))
	for _, c := range sent {
		if c.Seq < 1 || c.Seq > uint64(len(sent)) || want[c.Seq-1].Seq != 0 {
			t.Fatalf("Publish gave sequence number %d twice or out of 1…%d", c.Seq, len(sent))
		}
		want[c.Seq-1] = c
	}
	for i := range got {
		msgs := got[i].waitFor(t, func(chats []message.Chat, events []message.Message) bool {
			return len(chats) >= 2*each && len(events) >= 2
		})
		if chats := confChats(msgs); !reflect.DeepEqual(chats, want) {
			t.Errorf("instance %d received %s, want %s", i, confSeqs(chats), confSeqs(want))
		}
		if events := confEvents(msgs); len(events) != 2 {
			t.Errorf("instance %d received events %v, want the 2 announced", i, events)
		}
	}
}

// What the hub does on a join — subscribe, then read the log — misses
// nothing however the publishing races with it: the log read and the
// chats delivered after it have every sequence number, one by one.
func TestNATSSubscribeThenRead(t *testing.T) {
	ctx := context.Background()
	s := natsServer(t, true)
	pub, sub := natsBroker(t, s, NATSOptions{}), natsBroker(t, s, NATSOptions{})
	const total = 300
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			if _, err := pub.Publish(ctx, &message.Chat{Room: "busy", Nick: "pub", Text: strconv.Itoa(i)}, ""); err != nil {
				t.Error(err)
				return
			}
		}
	}()

	type join struct {
		live *confCollector
		last uint64 // the last message of the log read
	}
	var joins []join
	for publishing := true; publishing; {
		select {
		case <-done:
			publishing = false
			continue
		default:
		}
		j := join{live: &confCollector{}}
		stop, err := sub.Subscribe("busy", j.live.deliver)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		history, last, err := sub.Latest(ctx, "busy", total)
		if err != nil || !confIsRun(history, min(1, last), last) {
			t.Fatalf("Latest = %s, %d, %v", confSeqs(history), last, err)
		}
		j.last = last
		joins = append(joins, j)
	}
	t.Logf("%d joins while %d messages were published", len(joins), total)
	for _, j := range joins {
		if j.last == total {
			continue
		}
		chats := confChats(j.live.waitFor(t, func(chats []message.Chat, _ []message.Message) bool {
			return len(chats) > 0 && chats[len(chats)-1].Seq == total
		}))
		var after []message.Chat
		for _, c := range chats {
			if c.Seq > j.last {
				after = append(after, c)
			}
		}
		if !confIsRun(after, j.last+1, total) {
			t.Errorf("after a log read up to %d, delivered %s", j.last, confSeqs(chats))
		}
	}
}

// A stopped subscription's consumer is deleted from the server.
func TestNATSStopDeletesConsumer(t *testing.T) {
	ctx := context.Background()
	s := natsServer(t, true)
	b := natsBroker(t, s, NATSOptions{})
	stop, err := b.Subscribe("r", func(message.Message) {})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	consumers := func() int {
		st, err := js.Stream(ctx, "CHAT_r")
		if err != nil {
			t.Fatal(err)
		}
		return st.CachedInfo().State.Consumers
	}
	if n := consumers(); n != 1 {
		t.Fatalf("%d consumers while subscribed, want 1", n)
	}
	stop()
	stop()    // twice is harmless
	b.Close() // waits for the deletion
	if n := consumers(); n != 0 {
		t.Errorf("%d consumers after stop, want 0", n)
	}
}

// A subscription outlives a restart of the NATS server: its consumer is
// recreated where it was, with nothing lost or repeated.
func TestNATSServerRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	start := func(port int) *server.Server {
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
	s := start(-1)
	t.Cleanup(func() { s.Shutdown() }) // the server running at the end
	b, err := DialNATS(ctx, s.ClientURL(), NATSOptions{}, nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var c confCollector
	stop, err := b.Subscribe("r", c.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	confPublish(t, b, "r", 3)
	c.waitFor(t, func(chats []message.Chat, _ []message.Message) bool { return len(chats) == 3 })

	port := s.Addr().(*net.TCPAddr).Port
	s.Shutdown()
	s.WaitForShutdown()
	s = start(port)
	// Publish tries again until JetStream is back, and the message is
	// stored once even if an attempt's acknowledgement was lost.
	if _, err := b.Publish(ctx, &message.Chat{Room: "r", Nick: "ann", Text: "after the restart"}, ""); err != nil {
		t.Fatalf("publishing after the restart: %v", err)
	}
	if err := b.Announce(ctx, "r", &message.Typing{Room: "r", Nick: "ann"}); err != nil {
		t.Fatal(err)
	}
	got := c.waitFor(t, func(chats []message.Chat, events []message.Message) bool { return len(chats) >= 4 && len(events) >= 1 })
	if chats := confChats(got); !confIsRun(chats, 1, 4) {
		t.Errorf("delivered %s, want 1…4", confSeqs(chats))
	}
}

// End to end: two chat servers sharing their rooms through NATS, clients
// on each chatting with one another, and a client resuming on the other
// instance after a disconnection.
func TestNATSEndToEnd(t *testing.T) {
	s := natsServer(t, true)
	cfg := Config{Rate: 1e9, Burst: 1e9, History: 3} // resumes come in batches of 3
	urlA := natsHub(t, natsBroker(t, s, NATSOptions{}), cfg)
	urlB := natsHub(t, natsBroker(t, s, NATSOptions{}), cfg)

	ann, bob, cat := natsDial(t, urlA, "ann"), natsDial(t, urlB, "bob"), natsDial(t, urlA, "cat")
	for _, c := range []*natsClient{ann, bob, cat} {
		c.send(&message.Join{Room: "lobby", Nick: c.name})
		if j := natsExpect[*message.Joined](c); j.Nick != c.name || j.LastSeq != 0 {
			t.Fatalf("%s: joined as %+v", c.name, j)
		}
		natsExpect[*message.Presence](c)
		if h := natsExpect[*message.History](c); !h.Reset || len(h.Messages) != 0 {
			t.Fatalf("%s: first history %+v", c.name, h)
		}
	}

	// Everyone sends at once, from both instances: all see the same
	// messages under the same sequence numbers.
	for i := range 3 {
		for _, c := range []*natsClient{ann, bob, cat} {
			c.send(&message.Send{Room: "lobby", Text: c.name + strconv.Itoa(i)})
		}
	}
	const k = 9
	seen := ann.chats(k)
	if !confIsRun(seen, 1, k) {
		t.Fatalf("ann received %s, want 1…%d", confSeqs(seen), k)
	}
	for _, c := range []*natsClient{bob, cat} {
		if got := c.chats(k); !reflect.DeepEqual(got, seen) {
			t.Fatalf("%s received %v, ann %v", c.name, got, seen)
		}
	}

	// ann has read up to k and drops out; the others carry on.
	ann.conn.CloseNow()
	for i := range 3 {
		bob.send(&message.Send{Room: "lobby", Text: "while ann is away " + strconv.Itoa(i)})
		cat.send(&message.Send{Room: "lobby", Text: "meanwhile " + strconv.Itoa(i)})
	}
	const n = k + 6
	missed := bob.chats(n - k)
	if !confIsRun(missed, k+1, n) {
		t.Fatalf("bob received %s, want %d…%d", confSeqs(missed), k+1, n)
	}
	if got := cat.chats(n - k); !reflect.DeepEqual(got, missed) {
		t.Fatalf("cat received %v, bob %v", got, missed)
	}

	// ann comes back on the other instance and gets exactly what it
	// missed, in batches, then the live messages.
	ann = natsDial(t, urlB, "ann")
	ann.send(&message.Join{Room: "lobby", Nick: "ann", Resume: true, After: k})
	if j := natsExpect[*message.Joined](ann); j.LastSeq != n {
		t.Fatalf("ann: resumed with %+v, want LastSeq %d", j, n)
	}
	natsExpect[*message.Presence](ann)
	var history []message.Chat
	for len(history) < n-k {
		h := natsExpect[*message.History](ann)
		if h.Reset || len(h.Messages) > cfg.History {
			t.Fatalf("ann: resumed with %+v", h)
		}
		history = append(history, h.Messages...)
	}
	if !reflect.DeepEqual(history, missed) {
		t.Fatalf("ann: history %v, want %v", history, missed)
	}
	cat.send(&message.Send{Room: "lobby", Text: "welcome back"})
	live := ann.chats(1)
	if live[0].Seq != n+1 || live[0].Text != "welcome back" || live[0].Nick != "cat" {
		t.Fatalf("ann: after the history, %+v", live[0])
	}
	if got := bob.chats(1); !reflect.DeepEqual(got, live) {
		t.Fatalf("bob received %v, ann %v", got, live)
	}
}

// natsHub serves a chat hub on broker b through the chat's Endpoint, and
// returns its ws:// URL.
func natsHub(t testing.TB, b Broker, cfg Config) string {
	t.Helper()
	cfg.Broker = b
	hub := NewHub(cfg)
	conns := &ws.Group{}
	srv := httptest.NewServer(NewEndpoint(func() *Hub { return hub }, EndpointOptions{Upgrader: ws.Upgrader{Group: conns}}))
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), confWait)
		defer cancel()
		conns.Close(ctx, wire.StatusGoingAway, "test over")
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// A natsClient is a chat client on ws.Dial. Its methods fail the test on
// any error.
type natsClient struct {
	t    testing.TB
	name string
	conn *ws.Conn
}

func natsDial(t testing.TB, url, name string) *natsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), confWait)
	defer cancel()
	conn, err := ws.Dial(ctx, url, &ws.DialOptions{Subprotocols: []string{message.Subprotocol}})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &natsClient{t: t, name: name, conn: conn}
}

func (c *natsClient) send(m message.Message) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), confWait)
	defer cancel()
	if err := c.conn.WriteMessage(ctx, ws.Binary, message.Append(nil, m)); err != nil {
		c.t.Fatalf("%s: %v", c.name, err)
	}
}

func (c *natsClient) read() message.Message {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), confWait)
	defer cancel()
	_, b, err := c.conn.ReadMessage(ctx, nil)
	if err != nil {
		c.t.Fatalf("%s: %v", c.name, err)
	}
	m, err := message.Decode(b)
	if err != nil {
		c.t.Fatalf("%s: %v", c.name, err)
	}
	return m
}

// natsExpect reads the next message, which must be a T.
func natsExpect[T message.Message](c *natsClient) T {
	c.t.Helper()
	m := c.read()
	got, ok := m.(T)
	if !ok {
		c.t.Fatalf("%s: got %v %+v, want a %T", c.name, m.Kind(), m, got)
	}
	return got
}

// chats reads the next n chats, skipping presence changes and typing.
func (c *natsClient) chats(n int) []message.Chat {
	c.t.Helper()
	var chats []message.Chat
	for len(chats) < n {
		switch m := c.read().(type) {
		case *message.Chat:
			chats = append(chats, *m)
		case *message.PresenceChange, *message.Typing:
		default:
			c.t.Fatalf("%s: got %v %+v, want a Chat", c.name, m.Kind(), m)
		}
	}
	return chats
}

// Nicknames are claimed across instances; those of an instance that stops
// renewing them lapse after PresenceTTL, while those of a live instance
// are renewed. (The heartbeats are slow here: this is the backstop.)
func TestNATSPresence(t *testing.T) {
	ctx := context.Background()
	s := natsServer(t, true)
	opts := NATSOptions{PresenceTTL: time.Second, Heartbeat: time.Minute}
	a, b := natsBroker(t, s, opts), natsBroker(t, s, opts)
	holder := func(b *NATS, nick string) Holder {
		return Holder{Owner: b.id + nick, Session: b.id + nick}
	}
	for _, claim := range []struct {
		b    *NATS
		nick string
		want bool
	}{{a, "ann", true}, {b, "ann", false}, {b, "bob", true}, {a, "bob", false}} {
		if ok, err := claim.b.Claim(ctx, "r", claim.nick, holder(claim.b, claim.nick)); ok != claim.want || err != nil {
			t.Fatalf("Claim(%q) = %v, %v; want %v", claim.nick, ok, err, claim.want)
		}
	}
	// Another instance cannot release a nickname it did not claim.
	if released, err := b.Release(ctx, "r", "ann", holder(a, "ann").Session); released || err != nil {
		t.Fatalf("b released ann: %v, %v", released, err)
	}
	a.Close() // as if it crashed: ann is neither released nor renewed
	time.Sleep(2 * time.Second)
	got, err := b.Members(ctx, "r")
	if err != nil || !slices.Equal(got, []string{"bob"}) {
		t.Fatalf("after a's end, Members = %q, %v; want [bob]", got, err)
	}
	if ok, err := b.Claim(ctx, "r", "ann", holder(b, "ann")); !ok || err != nil {
		t.Fatalf("claiming ann after a's end: %v, %v", ok, err)
	}
}

// The nicknames of an instance that stops without releasing them, as
// after a crash, are released by another within seconds, and announced
// gone in their rooms; those of a live instance are not.
func TestNATSInstanceGone(t *testing.T) {
	ctx := context.Background()
	s := natsServer(t, true)
	opts := NATSOptions{Heartbeat: 50 * time.Millisecond, HeartbeatTimeout: 300 * time.Millisecond}
	a, b := natsBroker(t, s, opts), natsBroker(t, s, opts)
	var events confCollector
	stop, err := b.Subscribe("r", events.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for _, c := range []struct {
		b    *NATS
		nick string
	}{{a, "ann"}, {a, "al"}, {b, "bob"}} {
		if ok, err := c.b.Claim(ctx, "r", c.nick, Holder{Owner: c.nick, Session: c.nick}); !ok || err != nil {
			t.Fatalf("Claim(%q) = %v, %v", c.nick, ok, err)
		}
	}
	time.Sleep(2 * opts.HeartbeatTimeout) // both alive: nothing is released
	if got, err := b.Members(ctx, "r"); err != nil || len(got) != 3 {
		t.Fatalf("with both alive, Members = %q, %v", got, err)
	}

	start := time.Now()
	a.Close() // stops its heartbeats, and releases nothing
	got := events.waitFor(t, func(_ []message.Chat, events []message.Message) bool { return len(events) >= 2 })
	t.Logf("a's members were announced gone %v after it stopped", time.Since(start).Round(time.Millisecond))
	var gone []string
	for _, e := range got {
		if pc, ok := e.(*message.PresenceChange); ok && !pc.Joined {
			gone = append(gone, pc.Nick)
		}
	}
	slices.Sort(gone)
	if !slices.Equal(gone, []string{"al", "ann"}) {
		t.Errorf("announced gone: %q, want al and ann", gone)
	}
	if got, err := b.Members(ctx, "r"); err != nil || !slices.Equal(got, []string{"bob"}) {
		t.Errorf("after a's end, Members = %q, %v; want bob", got, err)
	}
}

// End to end: a newcomer's Presence lists the members of both instances,
// and a nickname taken on one instance is not given on the other.
func TestNATSPresenceEndToEnd(t *testing.T) {
	s := natsServer(t, true)
	cfg := Config{Rate: 1e9, Burst: 1e9}
	urlA := natsHub(t, natsBroker(t, s, NATSOptions{}), cfg)
	urlB := natsHub(t, natsBroker(t, s, NATSOptions{}), cfg)
	listed := map[*natsClient][]string{} // the Presence each was sent
	join := func(url, nick, want string, others ...string) *natsClient {
		t.Helper()
		c := natsDial(t, url, want)
		c.send(&message.Join{Room: "lobby", Nick: nick})
		if j := natsExpect[*message.Joined](c); j.Nick != want {
			t.Fatalf("%s: joined as %+v, want %q", nick, j, want)
		}
		p := natsExpect[*message.Presence](c)
		slices.Sort(p.Nicks)
		wantNicks := slices.Sorted(slices.Values(append(others, want)))
		if !slices.Equal(p.Nicks, wantNicks) {
			t.Fatalf("%s: presence %q, want %q", want, p.Nicks, wantNicks)
		}
		natsExpect[*message.History](c)
		listed[c] = p.Nicks
		return c
	}
	change := func(c *natsClient, nick string, joined bool) {
		t.Helper()
		for {
			pc := natsExpect[*message.PresenceChange](c)
			if pc.Nick == nick && pc.Joined == joined {
				return
			}
			// A join made on the other instance just before c's may
			// come after c's Presence although listed in it.
			if !pc.Joined || !slices.Contains(listed[c], pc.Nick) {
				t.Fatalf("%s: got %+v, want %s joined=%v", c.name, pc, nick, joined)
			}
		}
	}

	ann := join(urlA, "ann", "ann")
	bob := join(urlB, "bob", "bob", "ann")
	change(ann, "bob", true)
	ann2 := join(urlB, "ann", "ann-2", "ann", "bob")
	change(ann, "ann-2", true)
	change(bob, "ann-2", true)
	bob2 := join(urlA, "bob", "bob-2", "ann", "bob", "ann-2")
	for _, c := range []*natsClient{ann, bob, ann2} {
		change(c, "bob-2", true)
	}

	// ann leaves instance A: its nickname is free on B.
	ann.send(&message.Leave{Room: "lobby"})
	for _, c := range []*natsClient{bob, ann2, bob2} {
		change(c, "ann", false)
	}
	join(urlB, "ann", "ann", "bob", "ann-2", "bob-2")
}

// The stream of a room whose messages have all aged out, and that nobody
// reads, is deleted; one that somebody reads is kept.
func TestNATSAgedOutRoomsDeleted(t *testing.T) {
	ctx := context.Background()
	s := natsServer(t, true)
	b := natsBroker(t, s, NATSOptions{MaxAge: 500 * time.Millisecond})
	confPublish(t, b, "old", 2)
	stop, err := b.Subscribe("read", func(message.Message) {})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	confPublish(t, b, "read", 1)
	exists := func(room string) bool {
		_, err := b.js.Stream(ctx, b.streamName(room))
		return err == nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for exists("old") {
		if time.Now().After(deadline) {
			t.Fatal("the aged-out room's stream is still there")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !exists("read") {
		t.Error("the stream of a room with a subscriber was deleted")
	}
	// The room starts afresh.
	if msgs, last, err := b.Latest(ctx, "old", 10); err != nil || last != 0 || len(msgs) != 0 {
		t.Errorf("Latest = %v, %d, %v", msgs, last, err)
	}
	if sent := confPublish(t, b, "old", 1); sent[0].Seq != 1 {
		t.Errorf("the room's next message is numbered %d", sent[0].Seq)
	}
}

// No room is created beyond MaxRooms streams in the account.
func TestNATSMaxRooms(t *testing.T) {
	ctx := context.Background()
	s := natsServer(t, true)
	b := natsBroker(t, s, NATSOptions{MaxRooms: 3}) // the presence bucket is a stream too
	for _, room := range []string{"a", "b"} {
		if _, err := b.Publish(ctx, &message.Chat{Room: room, Nick: "ann", Text: "hi"}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Publish(ctx, &message.Chat{Room: "c", Nick: "ann", Text: "hi"}, ""); !errors.Is(err, ErrTooManyRooms) {
		t.Errorf("publishing to a fourth stream: %v, want ErrTooManyRooms", err)
	}
	if _, err := b.Subscribe("c", func(message.Message) {}); !errors.Is(err, ErrTooManyRooms) {
		t.Errorf("subscribing to a fourth stream: %v, want ErrTooManyRooms", err)
	}
	if _, err := b.Publish(ctx, &message.Chat{Room: "a", Nick: "ann", Text: "again"}, ""); err != nil {
		t.Errorf("publishing to a room that exists: %v", err)
	}
}
