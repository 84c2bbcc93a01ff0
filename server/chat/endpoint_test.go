package chat_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"duplex/server/chat"
	"duplex/server/ws"
	"duplex/shared/message"
)

// The endpoint refuses, at the handshake, with a status and a one-line
// reason: a client that offers none of the chat's subprotocols, one with
// too many connections open from its address, and every client while
// there is no hub.
func TestEndpointRefusals(t *testing.T) {
	var hub atomic.Pointer[chat.Hub]
	hub.Store(chat.NewHub(fast))
	srv := httptest.NewServer(chat.NewEndpoint(hub.Load, chat.EndpointOptions{MaxConnsPerAddr: 2}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	dialFrom := func(ip byte, protocols ...string) (*ws.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		return ws.Dial(ctx, url, &ws.DialOptions{Subprotocols: protocols, NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, ip)}}).DialContext(ctx, network, addr)
		}})
	}
	refused := func(what string, err error, status int, reason string) {
		t.Helper()
		var he *ws.HandshakeError
		if !errors.As(err, &he) || he.Status != status || !strings.Contains(he.Reason, reason) {
			t.Errorf("%s: %v; want %d and a reason with %q", what, err, status, reason)
		}
	}

	_, err := dialFrom(1)
	refused("no subprotocol", err, http.StatusBadRequest, "duplex-chat.v2 and duplex-chat.v1")
	_, err = dialFrom(1, "duplex-chat.v3", "chat")
	refused("unknown subprotocols", err, http.StatusBadRequest, "offer one in Sec-WebSocket-Protocol")

	var open []*ws.Conn
	for range 2 {
		c, err := dialFrom(1, message.Subprotocol)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		open = append(open, c)
	}
	_, err = dialFrom(1, message.Subprotocol)
	refused("a third connection", err, http.StatusTooManyRequests, "too many connections from 127.0.0.1: at most 2")
	if c, err := dialFrom(2, message.Subprotocol); err != nil {
		t.Errorf("from another address: %v", err)
	} else {
		c.CloseNow()
	}
	// A connection that ends frees its place.
	open[0].CloseNow()
	var c *ws.Conn
	for range 100 {
		if c, err = dialFrom(1, message.Subprotocol); err == nil {
			break
		}
	}
	if err != nil {
		t.Errorf("after a connection ended: %v", err)
	} else {
		c.CloseNow()
	}

	hub.Store(nil)
	_, err = dialFrom(3, message.Subprotocol)
	refused("without a hub", err, http.StatusServiceUnavailable, "restarting")

	// A plain request gets the reason as its body.
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.HasSuffix(string(body), "\n") || strings.Count(string(body), "\n") != 1 {
		t.Errorf("GET: %s %q", res.Status, body)
	}
}

// The chat's messages are binary: a text message is answered with 1003,
// after what was queued before it.
func TestTextFrameRefused(t *testing.T) {
	url := newServer(t, fast)
	c := dial(t, url, "c")
	c.send(&message.Leave{Room: "go"}) // not in it: an error, queued first
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.conn.WriteMessage(ctx, ws.Text, message.Append(nil, &message.Join{Room: "go", Nick: "ann"})); err != nil {
		t.Fatal(err)
	}
	msgs, code, reason := readToClose(c)
	if code != ws.StatusUnsupportedData || !strings.Contains(reason, "binary") {
		t.Errorf("closed with %d %q, want 1003", code, reason)
	}
	if len(msgs) != 1 || msgs[0].(*message.Error).Code != message.CodeNotInRoom {
		t.Errorf("before the close: %v", msgs)
	}
}

// A client of version 1 is served version 1 — no token, no IDs, no Ack —
// and talks with one of version 2.
func TestVersion1Client(t *testing.T) {
	url := newServer(t, fast)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	old, err := ws.Dial(ctx, url, &ws.DialOptions{Subprotocols: []string{message.SubprotocolV1}})
	if err != nil {
		t.Fatal(err)
	}
	defer old.CloseNow()
	if old.Subprotocol() != message.SubprotocolV1 {
		t.Fatalf("subprotocol %q", old.Subprotocol())
	}
	read := func() []byte {
		t.Helper()
		_, b, err := old.ReadMessage(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != 1 {
			t.Fatalf("a version %d message to a version 1 client: % x", b[0], b)
		}
		return b
	}
	old.WriteMessage(ctx, ws.Binary, message.AppendVersion(nil, 1, &message.Join{Room: "go", Nick: "old"}))
	for range 3 { // Joined, Presence, History
		read()
	}
	now := dial(t, url, "now")
	join(now, "go", "now")
	read() // now joined
	say(now, "go", "from version 2")
	old.WriteMessage(ctx, ws.Binary, message.AppendVersion(nil, 1, &message.Send{Room: "go", Text: "from version 1"}))
	for _, want := range []string{"from version 2", "from version 1"} {
		m, err := message.Decode(read())
		if c, ok := m.(*message.Chat); err != nil || !ok || c.Text != want || c.ID != 0 {
			t.Fatalf("old got %+v, %v; want %q", m, err, want)
		}
	}
	if c := expect[*message.Chat](now); c.Text != "from version 1" || c.ID != 0 {
		t.Errorf("now got %+v", c)
	}
	// A version 2 message on the version 1 connection is refused.
	old.WriteMessage(ctx, ws.Binary, message.Append(nil, &message.Send{Room: "go", Text: "x", ID: 1}))
	if m, err := message.Decode(read()); err != nil || m.(*message.Error).Code != message.CodeBadMessage {
		t.Errorf("got %+v, %v", m, err)
	}
}
