package chat

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"duplex/server/ws"
	"duplex/shared/message"
	"duplex/shared/wire"
)

// The benchmarks measure the cost of a room's fan-out and the latency of
// delivery under load, on each kind of backend: "default", the command's,
// an embedded NATS JetStream storing in a directory; "memory", -memory's;
// and "nats", two instances sharing the rooms through a NATS server on a
// loopback port, standing in for an external one. They are heavy, so
// they run only with -bench, all at once with
//
//	go test ./server/chat -run '^$' -bench 'Fanout|Latency' -benchtime 3x -benchmem

// BenchmarkFanout publishes one message to a room of 1,000 or 10,000
// members and waits until every member's connection has written it. One
// op is one fan-out; allocs/op counts the whole process, so a message
// encoded per member would show as thousands of allocations.
//
// In mem, the members are hub clients with their writer goroutines and
// real *ws.Conn, whose sockets are in-memory sinks: no system calls, and
// any number of them. In ws, they are real loopback connections, each
// read by a minimal client in this process that allocates nothing per
// message; 10,000 of those would need 20,000 descriptors, beyond the
// limit of one process.
//
// The sinks run on memory's broker, which delivers within Publish; ws runs
// on each backend, whose Publish returns once the message is stored, and
// delivery follows.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1000, 10_000} {
		b.Run("sinks/memory/members="+strconv.Itoa(n), func(b *testing.B) { benchFanoutMem(b, n) })
	}
	for _, backend := range benchBackends {
		b.Run("ws/"+backend.name+"/members=1000", func(b *testing.B) { benchFanoutWS(b, backend.brokers(b, 1)[0], 1000) })
	}
}

// A benchBackend makes the brokers of n instances sharing their rooms.
type benchBackend struct {
	name    string
	brokers func(b *testing.B, n int) []Broker
}

var benchBackends = []benchBackend{
	{"default", func(b *testing.B, n int) []Broker {
		back, err := OpenBackend(context.Background(), BackendOptions{Data: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(back.Close)
		brokers := []Broker{back.Hub.cfg.Broker}
		for len(brokers) < n { // more instances in the process: the same broker
			brokers = append(brokers, back.Hub.cfg.Broker)
		}
		return brokers
	}},
	{"memory", func(b *testing.B, n int) []Broker {
		m := &Memory{}
		brokers := []Broker{}
		for range n {
			brokers = append(brokers, m)
		}
		return brokers
	}},
	{"nats", func(b *testing.B, n int) []Broker {
		s := natsServer(b, true)
		var brokers []Broker
		for range n {
			brokers = append(brokers, natsBroker(b, s, NATSOptions{}))
		}
		return brokers
	}},
}

func benchFanoutMem(b *testing.B, n int) {
	broker := &Memory{}
	hub := NewHub(Config{Broker: broker})
	fan := newFanout()
	for i := range n {
		c := sinkClient(b, hub, newSink(fan))
		joinQuietly(b, hub, c, "bench", "m"+strconv.Itoa(i))
	}
	runFanout(b, broker, fan, n)
}

func benchFanoutWS(b *testing.B, broker Broker, n int) {
	addr := benchServer(b, Config{Broker: broker})
	fan := newFanout()
	for i := range n {
		c := dialRaw(b, addr)
		joined := make(chan struct{})
		go c.readLoop(func(p []byte) {
			switch message.Kind(p[1]) {
			case message.KindJoined:
				close(joined)
			case message.KindChat:
				fan.arrived()
			}
		}, nil)
		c.send(&message.Join{Room: "bench", Nick: "m" + strconv.Itoa(i)})
		<-joined
	}
	runFanout(b, broker, fan, n)
}

// runFanout publishes one message per op and waits for all n members to
// have it. A first, untimed one flushes what the joins queued.
func runFanout(b *testing.B, broker Broker, fan *fanout, n int) {
	ctx := context.Background()
	publish := func() time.Duration {
		fan.expect(n)
		start := time.Now()
		broker.Publish(ctx, &message.Chat{Room: "bench", Time: start.UnixMilli(), Nick: "ann", Text: "hello, everyone"}, "")
		took := time.Since(start)
		fan.wait(b)
		return took
	}
	publish()
	var publishing time.Duration // in Publish, which enqueues for all
	b.ReportAllocs()
	for b.Loop() {
		publishing += publish()
	}
	b.ReportMetric(float64(publishing.Nanoseconds())/float64(b.N), "publish-ns/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/delivery")
}

// A fanout counts the members that have yet to get the message.
type fanout struct {
	remaining atomic.Int64
	done      chan struct{}
	timeout   *time.Timer // reused, so that waiting allocates nothing
}

func newFanout() *fanout {
	return &fanout{done: make(chan struct{}, 1), timeout: time.NewTimer(time.Hour)}
}

func (f *fanout) expect(n int) { f.remaining.Store(int64(n)) }

func (f *fanout) arrived() {
	if f.remaining.Add(-1) == 0 {
		f.done <- struct{}{}
	}
}

func (f *fanout) wait(b *testing.B) {
	f.timeout.Reset(time.Minute)
	select {
	case <-f.done:
	case <-f.timeout.C:
		b.Fatalf("%d members did not get the message", f.remaining.Load())
	}
}

// joinQuietly makes c a member of room as synced would, but without the
// Joined, Presence and PresenceChange messages of a real join: 10,000 of
// those would send 50 million presence changes, and 10,000 lists of up to
// 10,000 names, before the benchmark starts.
func joinQuietly(b *testing.B, h *Hub, c *client, room, nick string) {
	r, _, err := h.join(context.Background(), c, room, nick, Holder{Owner: nick, Session: nick})
	if err != nil {
		b.Fatal(err)
	}
	r.mu.Lock()
	r.members[c].syncing = false
	r.mu.Unlock()
	c.rooms[room] = r
}

// sinkClient returns a hub client, with its writer goroutine, whose
// connection writes to s.
func sinkClient(b *testing.B, h *Hub, s *sink) *client {
	w := &hijacker{ResponseWriter: httptest.NewRecorder(), conn: s}
	r := httptest.NewRequest(http.MethodGet, "/ws/chat", nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	conn, err := (&ws.Upgrader{}).Upgrade(w, r)
	if err != nil {
		b.Fatal(err)
	}
	c := &client{hub: h, conn: conn, version: message.Version, written: make(chan struct{}), rooms: map[string]*room{},
		out: outQueue{limit: h.cfg.QueueBytes, wake: make(chan struct{}, 1)}}
	go c.writeLoop()
	b.Cleanup(func() {
		c.out.finish()
		<-c.written
		conn.CloseNow()
	})
	return c
}

// A hijacker is a ResponseWriter whose connection can be taken over.
type hijacker struct {
	http.ResponseWriter
	conn net.Conn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.conn, bufio.NewReadWriter(bufio.NewReader(h.conn), bufio.NewWriter(h.conn)), nil
}

// A sink is a connection whose writes go nowhere but are counted: each
// Chat frame is one arrival. Reading waits until it is closed.
type sink struct {
	fan    *fanout
	closed chan struct{}
	once   sync.Once
}

func newSink(fan *fanout) *sink { return &sink{fan: fan, closed: make(chan struct{})} }

func (s *sink) Write(p []byte) (int, error) {
	// A server frame of a short message: 0x82, the length, then the
	// payload, whose second byte is the kind.
	if len(p) >= 4 && p[0] == 0x82 && message.Kind(p[3]) == message.KindChat {
		s.fan.arrived()
	}
	return len(p), nil
}

func (s *sink) Read([]byte) (int, error) {
	<-s.closed
	return 0, io.EOF
}

func (s *sink) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

func (s *sink) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (s *sink) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (s *sink) SetDeadline(time.Time) error      { return nil }
func (s *sink) SetReadDeadline(time.Time) error  { return nil }
func (s *sink) SetWriteDeadline(time.Time) error { return nil }

// benchServer starts a chat server on a loopback port, serving a hub
// through the chat's Endpoint, and returns its address.
func benchServer(b *testing.B, cfg Config) string {
	hub := NewHub(cfg)
	conns := &ws.Group{}
	srv := httptest.NewUnstartedServer(NewEndpoint(func() *Hub { return hub }, EndpointOptions{Upgrader: ws.Upgrader{Group: conns}, MaxConnsPerAddr: 1 << 20}))
	srv.Listener = countingListener{srv.Listener}
	srv.Start()
	b.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conns.Close(ctx, wire.StatusGoingAway, "benchmark over")
	})
	return srv.Listener.Addr().String()
}

// serverWrites counts the writes to the sockets of every benchServer: the
// system calls that delivering costs the server, whatever the machine's
// load.
var serverWrites atomic.Int64

// A countingListener counts the writes to the sockets it accepts.
type countingListener struct{ net.Listener }

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c}, nil
}

type countingConn struct{ net.Conn }

func (c countingConn) Write(p []byte) (int, error) {
	serverWrites.Add(1)
	return c.Conn.Write(p)
}

// A rawClient is a minimal WebSocket client that reads frames straight
// from its buffer, allocating nothing per message, so that the process's
// allocations are the server's.
type rawClient struct {
	nc net.Conn
	br *bufio.Reader
	b  testing.TB
}

// dialRaw connects to the chat server at addr.
func dialRaw(b testing.TB, addr string) *rawClient {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { nc.Close() })
	_, err = io.WriteString(nc, "GET /ws/chat HTTP/1.1\r\nHost: "+addr+
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13"+
		"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: "+message.Subprotocol+"\r\n\r\n")
	if err != nil {
		b.Fatal(err)
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		b.Fatalf("handshake: %v %v", resp, err)
	}
	return &rawClient{nc: nc, br: br, b: b}
}

// send sends m in one masked frame; it may be called concurrently with
// readLoop, but not with itself.
func (c *rawClient) send(m message.Message) error {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	payload := message.Append(nil, m)
	frame := wire.AppendHeader(make([]byte, 0, wire.MaxHeaderSize+len(payload)),
		wire.Header{Fin: true, Opcode: wire.OpBinary, Masked: true, Mask: key, Length: int64(len(payload))})
	wire.Mask(key, 0, payload)
	_, err := c.nc.Write(append(frame, payload...))
	return err
}

// readLoop calls onMessage with the payload of each binary message, valid
// until it returns, and onClose, if not nil, with the reason of the
// server's close frame, until the connection ends.
func (c *rawClient) readLoop(onMessage func([]byte), onClose func(code wire.StatusCode, reason string)) {
	for {
		h, p, err := c.next()
		if err != nil {
			return
		}
		switch h.Opcode {
		case wire.OpBinary:
			if len(p) >= 2 {
				onMessage(p)
			}
		case wire.OpClose:
			if onClose != nil {
				code, reason, _ := wire.ParseClose(p)
				onClose(code, reason)
			}
			return
		}
	}
}

// next reads one frame, which must fit in the buffer, and returns its
// header and payload.
func (c *rawClient) next() (wire.Header, []byte, error) {
	b, err := c.br.Peek(2)
	if err != nil {
		return wire.Header{}, nil, err
	}
	size := wire.HeaderSize(b[0], b[1])
	if b, err = c.br.Peek(size); err != nil {
		return wire.Header{}, nil, err
	}
	h, _, err := wire.ParseHeader(b)
	if err != nil {
		return h, nil, err
	}
	c.br.Discard(size)
	if h.Length > int64(c.br.Size()) {
		return h, nil, errors.New("frame larger than the read buffer")
	}
	p, err := c.br.Peek(int(h.Length))
	if err != nil {
		return h, nil, err
	}
	c.br.Discard(len(p))
	return h, p, nil
}

// BenchmarkLatency measures how long a message takes from the sender's
// client to every member's client, in a room whose members each send one
// message a second, spread evenly: n members make n messages and n²
// deliveries a second. Each op is one second of that load; -benchtime 3x
// measures three. The clients run in this process, on the same cores as
// the server, and stamp each message with a monotonic clock reading. On
// "nats", the members are split between two instances.
//
// Reported: the p50, p99 and maximum latency, the deliveries made per
// second, those lost, and the members the server disconnected for reading
// too slowly (which is what happens to a room beyond what the machine can
// carry).
func BenchmarkLatency(b *testing.B) {
	for _, backend := range benchBackends {
		instances := 1
		if backend.name == "nats" {
			instances = 2
		}
		for _, n := range []int{100, 500, 1000} {
			b.Run(backend.name+"/members="+strconv.Itoa(n), func(b *testing.B) {
				var addrs []string
				for _, broker := range backend.brokers(b, instances) {
					addrs = append(addrs, benchServer(b, Config{Broker: broker}))
				}
				benchLatency(b, n, addrs...)
			})
		}
	}
}

// benchLatency runs the load on n members, spread evenly over the chat
// servers at addrs.
func benchLatency(b *testing.B, n int, addrs ...string) {
	base := time.Now()
	now := func() int64 { return int64(time.Since(base)) } // monotonic

	// The window of send times measured: from the first op to the end
	// of the last.
	var windowStart, windowEnd atomic.Int64
	windowStart.Store(1<<63 - 1)
	inWindow := func(sent int64) bool {
		end := windowEnd.Load()
		return sent >= windowStart.Load() && (end == 0 || sent < end)
	}

	// Each receiver counts what it got on its own, so that the readers
	// do not contend for one counter a million times a second.
	type receiver struct {
		latencies []int64
		received  atomic.Int64
		kicked    string
		_         [64]byte // its own cache line
	}
	receivers := make([]receiver, n)
	received := func() (total int64) {
		for i := range receivers {
			total += receivers[i].received.Load()
		}
		return total
	}
	clients := make([]*rawClient, n)
	var sent atomic.Int64
	var readers sync.WaitGroup
	for i := range n {
		c := dialRaw(b, addrs[i%len(addrs)])
		clients[i] = c
		joined := make(chan struct{})
		r := &receivers[i]
		readers.Go(func() {
			c.readLoop(func(p []byte) {
				switch message.Kind(p[1]) {
				case message.KindJoined:
					close(joined)
				case message.KindChat:
					stamp, ok := chatStamp(p)
					if ok && inWindow(stamp) {
						r.latencies = append(r.latencies, now()-stamp)
						r.received.Add(1)
					}
				}
			}, func(code wire.StatusCode, reason string) {
				r.kicked = strconv.Itoa(int(code)) + " " + reason
			})
		})
		c.send(&message.Join{Room: "load", Nick: "m" + strconv.Itoa(i)})
		select {
		case <-joined:
		case <-time.After(time.Minute):
			b.Fatalf("member %d did not join", i)
		}
	}

	// Each member sends once a second, member i at i/n of the second.
	ctx, stop := context.WithCancel(context.Background())
	var senders sync.WaitGroup
	start := time.Now().Add(100 * time.Millisecond)
	for i, c := range clients {
		senders.Go(func() {
			next := start.Add(time.Second * time.Duration(i) / time.Duration(n))
			for {
				select {
				case <-time.After(time.Until(next)):
				case <-ctx.Done():
					return
				}
				stamp := now()
				if c.send(&message.Send{Room: "load", Text: strconv.FormatInt(stamp, 10)}) != nil {
					return
				}
				if inWindow(stamp) {
					sent.Add(1)
				}
				next = next.Add(time.Second)
			}
		})
	}

	time.Sleep(time.Until(start.Add(time.Second))) // a second to warm up
	writesBefore := serverWrites.Load()
	windowStart.Store(now())
	for b.Loop() {
		time.Sleep(time.Second)
	}
	windowEnd.Store(now())
	writes := serverWrites.Load() - writesBefore
	stop()
	senders.Wait()

	// Wait for the deliveries still on their way, then stop the readers.
	want := sent.Load() * int64(n)
	for deadline := time.Now().Add(10 * time.Second); received() < want && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	for _, c := range clients {
		c.nc.Close()
	}
	readers.Wait()

	var all []int64
	kicked := 0
	for i := range receivers {
		r := &receivers[i]
		all = append(all, r.latencies...)
		if r.kicked != "" {
			kicked++
			if kicked == 1 {
				b.Logf("a member was disconnected: %s", r.kicked)
			}
		}
	}
	if len(all) == 0 {
		b.Fatal("no message was delivered")
	}
	slices.Sort(all)
	ms := func(ns int64) float64 { return float64(ns) / 1e6 }
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[len(all)*99/100]), "p99-ms")
	b.ReportMetric(ms(all[len(all)-1]), "max-ms")
	b.ReportMetric(float64(len(all))/time.Duration(windowEnd.Load()-windowStart.Load()).Seconds(), "deliveries/s")
	b.ReportMetric(float64(want-int64(len(all))), "lost")
	b.ReportMetric(float64(kicked), "kicked")
	b.ReportMetric(float64(len(all))/float64(writes), "deliveries/write")
}

// chatStamp returns the send time that a Chat's text holds, reading the
// payload in place.
func chatStamp(p []byte) (int64, bool) {
	p = p[2:]
	skipString := func() bool {
		n, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < n {
			return false
		}
		p = p[k+int(n):]
		return true
	}
	skipVarint := func() bool {
		_, k := binary.Uvarint(p)
		p = p[max(k, 0):]
		return k > 0
	}
	if !skipString() || !skipVarint() || !skipVarint() || !skipString() { // Room, Seq, Time, Nick
		return 0, false
	}
	n, k := binary.Uvarint(p)
	if k <= 0 || uint64(len(p)-k) < n { // then, in version 2, the ID
		return 0, false
	}
	var stamp int64
	for _, d := range p[k : k+int(n)] {
		if d < '0' || d > '9' {
			return 0, false
		}
		stamp = stamp*10 + int64(d-'0')
	}
	return stamp, true
}
