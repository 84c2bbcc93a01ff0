package chat_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"duplex/server/chat"
	"duplex/server/ws"
	"duplex/shared/message"
	"duplex/shared/wire"
)

// wait bounds every wait for something that must happen: generous, since
// it only matters when a test is about to fail.
const wait = 5 * time.Second

// fast is a Config whose clients are never rate limited, for the tests
// that send more than a handful of messages.
var fast = chat.Config{Rate: 1e9, Burst: 1e9}

// newServer starts a chat server on a loopback port, serving a hub
// through the chat's Endpoint, as the demo does, and returns its ws://
// URL.
func newServer(t testing.TB, cfg chat.Config) string {
	return startServer(t, cfg, nil)
}

// startServer is newServer with a hook that may wrap the listener, to
// change the sockets the server accepts.
func startServer(t testing.TB, cfg chat.Config, wrap func(net.Listener) net.Listener) string {
	t.Helper()
	hub := chat.NewHub(cfg)
	conns := &ws.Group{}
	srv := httptest.NewUnstartedServer(chat.NewEndpoint(func() *chat.Hub { return hub }, chat.EndpointOptions{Upgrader: ws.Upgrader{Group: conns}}))
	if wrap != nil {
		srv.Listener = wrap(srv.Listener)
	}
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		// Hijacked connections are the Group's to close, so that no
		// test leaves its clients' goroutines to the next.
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		conns.Close(ctx, wire.StatusGoingAway, "test over")
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// A testClient is one chat connection, through ws.Dial, the native client
// of the package the server is built on. (Other clients are checked
// against that package in duplex/server/ws/thirdparty.) Its methods fail
// the test on any error, so they must be called from the test's goroutine;
// other goroutines use next and report what goes wrong.
type testClient struct {
	t    testing.TB
	name string // for failure messages
	conn *ws.Conn
}

// dial connects a client named name to the server at url.
func dial(t testing.TB, url, name string) *testClient {
	t.Helper()
	return dialWith(t, url, name, nil)
}

// dialWith is dial with the function that opens the TCP connection, nil
// for a net.Dialer.
func dialWith(t testing.TB, url, name string, netDial func(ctx context.Context, network, addr string) (net.Conn, error)) *testClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conn, err := ws.Dial(ctx, url, &ws.DialOptions{
		Subprotocols: []string{message.Subprotocol},
		NetDial:      netDial,
		ReadLimit:    1 << 22, // a History of 100 full-length texts is 200 KB
	})
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	if got := conn.Subprotocol(); got != message.Subprotocol {
		t.Fatalf("%s: subprotocol %q, want %q", name, got, message.Subprotocol)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &testClient{t: t, name: name, conn: conn}
}

// send encodes m and sends it.
func (c *testClient) send(m message.Message) {
	c.t.Helper()
	c.write(message.Append(nil, m))
}

// write sends b as one binary message, whatever it holds.
func (c *testClient) write(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.conn.WriteMessage(ctx, ws.Binary, b); err != nil {
		c.t.Fatalf("%s: write: %v", c.name, err)
	}
}

// next reads and decodes the next message.
func (c *testClient) next() (message.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	typ, b, err := c.conn.ReadMessage(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", c.name, err)
	}
	if typ != ws.Binary {
		return nil, fmt.Errorf("%s: got a %v message, want binary", c.name, typ)
	}
	m, err := message.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	return m, nil
}

// read is next for the test's goroutine.
func (c *testClient) read() message.Message {
	c.t.Helper()
	m, err := c.next()
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

// expect reads the next message, which must be a T.
func expect[T message.Message](c *testClient) T {
	c.t.Helper()
	m := c.read()
	got, ok := m.(T)
	if !ok {
		c.t.Fatalf("%s: got %s, want a %T", c.name, show(m), got)
	}
	return got
}

// waitFor reads until a T for which match is true (any T if match is nil)
// and returns it with the messages read before it.
func waitFor[T message.Message](c *testClient, match func(T) bool) (T, []message.Message) {
	c.t.Helper()
	var before []message.Message
	for {
		m := c.read()
		if got, ok := m.(T); ok && (match == nil || match(got)) {
			return got, before
		}
		before = append(before, m)
	}
}

// expectError reads the next message, which must be an Error with code
// about room.
func expectError(c *testClient, code message.ErrorCode, room string) *message.Error {
	c.t.Helper()
	e := expect[*message.Error](c)
	if e.Code != code || e.Room != room || e.Text == "" {
		c.t.Fatalf("%s: got %s, want code %v (%s) in room %q, with a text", c.name, show(e), int(code), code, room)
	}
	return e
}

// A joinReply is the server's answer to a Join.
type joinReply struct {
	joined   *message.Joined
	presence *message.Presence
	history  *message.History
}

// join joins room as nick and reads the answer: Joined, Presence, then a
// History that starts the room afresh.
func join(c *testClient, room, nick string) joinReply {
	c.t.Helper()
	c.send(&message.Join{Room: room, Nick: nick})
	return readJoin(c, true)
}

// readJoin reads the answer to a Join: Joined, Presence and a History
// with the given Reset. A resume may be answered with more Histories,
// which are left to the caller.
func readJoin(c *testClient, reset bool) joinReply {
	c.t.Helper()
	r := joinReply{
		joined:   expect[*message.Joined](c),
		presence: expect[*message.Presence](c),
		history:  expect[*message.History](c),
	}
	if r.presence.Room != r.joined.Room || r.history.Room != r.joined.Room {
		c.t.Fatalf("%s: Joined %s, then %s and %s", c.name, show(r.joined), show(r.presence), show(r.history))
	}
	if r.history.Reset != reset {
		c.t.Fatalf("%s: History with Reset %v, want %v", c.name, r.history.Reset, reset)
	}
	return r
}

// say sends text to room and waits for the sender's own copy of it, which
// proves the server has delivered it to the room.
func say(c *testClient, room, text string) *message.Chat {
	c.t.Helper()
	c.send(&message.Send{Room: room, Text: text})
	m, _ := waitFor(c, func(m *message.Chat) bool { return m.Room == room && m.Text == text })
	return m
}

// settle waits until the server is done with the clients' requests so
// far, joins included, and reads what it has sent them, so that what
// follows starts from a known state. A join is announced to the room
// after the joiner has its answer: without this, a member who joins right
// after another may still be told of the other's arrival.
func settle(clients ...*testClient) {
	passes := 2 // the first finishes the joins, the second reads what they sent
	if len(clients) == 1 {
		passes = 1
	}
	for range passes {
		for _, c := range clients {
			c.t.Helper()
			c.send(&message.Leave{Room: "settle"})
			waitFor(c, func(e *message.Error) bool { return e.Room == "settle" })
		}
	}
}

// readToClose reads until the connection ends and returns the messages
// read, and the close frame's status and reason.
func readToClose(c *testClient) ([]message.Message, ws.StatusCode, string) {
	c.t.Helper()
	var msgs []message.Message
	for {
		m, err := c.next()
		if err == nil {
			msgs = append(msgs, m)
			continue
		}
		// A *ws.CloseError with code 1006 says the connection dropped
		// without a close frame.
		var ce *ws.CloseError
		if !errors.As(err, &ce) || ce.Code == ws.StatusAbnormalClosure {
			c.t.Fatalf("%s: the connection ended without a close frame: %v", c.name, err)
		}
		return msgs, ce.Code, ce.Reason
	}
}

// show formats a message for failure reports.
func show(m message.Message) string {
	return fmt.Sprintf("%v%+v", m.Kind(), m)
}
