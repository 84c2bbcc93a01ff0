//go:build js && wasm

package websocket

// The tests of Connect: the choice between WebSocket and the HTTP stream,
// against the endpoints of browser_test.go that speak both —
//
//	/ws/fb/echo     sends every message back, over either transport
//	/ws/fb/refused  the same behind a proxy that strips Upgrade: WebSocket fails
//	/ws/fb/held     the same behind a proxy that never answers a handshake
//	/ws/fb/killed   the same behind a middlebox that cuts a WebSocket after its 101
//
// What Connect remembers is kept in localStorage, for the page's host: each
// test starts and ends with none.

import (
	"bytes"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"duplex/shared/conn"
	"duplex/shared/streamclient"
)

// forgetChoices drops what Connect remembers, now and when the test ends.
func forgetChoices(t *testing.T) {
	forget(pageHost())
	t.Cleanup(func() { forget(pageHost()) })
}

// mustConnect connects to url, and closes the connection when the test
// ends.
func mustConnect(t *testing.T, url string, opts *Options) (conn.Conn, Choice) {
	t.Helper()
	c, choice, err := Connect(testContext(t), url, opts)
	if err != nil {
		t.Fatalf("Connect(%q): %v", url, err)
	}
	t.Cleanup(func() {
		if c.Err() == nil {
			c.Close(StatusNormalClosure, "test over")
		}
		if ws, ok := c.(*Conn); ok {
			ws.awaitRelease()
		}
	})
	return c, choice
}

// echoes checks that c sends back a text and a binary message.
func echoes(t *testing.T, c conn.Conn) {
	t.Helper()
	ctx := testContext(t)
	for _, m := range []struct {
		typ  MessageType
		data []byte
	}{{Text, []byte("Grüße 👋")}, {Binary, payload(Binary, 100_000)}} {
		if err := c.WriteMessage(ctx, m.typ, m.data); err != nil {
			t.Fatalf("WriteMessage: %v", err)
		}
		typ, got, err := c.ReadMessage(ctx, nil)
		if err != nil || typ != m.typ || !bytes.Equal(got, m.data) {
			t.Fatalf("ReadMessage = %v, %d bytes, %v; want %v, %d bytes", typ, len(got), err, m.typ, len(m.data))
		}
	}
}

func TestConnectWebSocketFirst(t *testing.T) {
	forgetChoices(t)
	c, choice := mustConnect(t, "/ws/fb/echo", &Options{Subprotocols: []string{"duplex.v1"}})
	if _, ok := c.(*Conn); !ok || choice.Transport != TransportWebSocket || choice.Reason != "" {
		t.Fatalf("Connect chose %v (%T), want a WebSocket at the first try", choice, c)
	}
	echoes(t, c)
	if got := c.Subprotocol(); got != "duplex.v1" {
		t.Errorf("Subprotocol() = %q", got)
	}
	if _, ok := recall(pageHost()); ok {
		t.Error("a WebSocket that works is remembered as failing")
	}
}

func TestConnectStream(t *testing.T) {
	forgetChoices(t)
	c, choice := mustConnect(t, "/ws/fb/echo", &Options{Subprotocols: []string{"duplex.v1"}, Transport: TransportStream})
	sc, ok := c.(*streamclient.Conn)
	if !ok || choice.String() != "HTTP stream: forced by Options.Transport" {
		t.Fatalf("Connect chose %q (%T), want the HTTP stream, forced", choice, c)
	}
	echoes(t, c)
	if got := c.Subprotocol(); got != "duplex.v1" {
		t.Errorf("Subprotocol() = %q, want duplex.v1: the stream negotiates as WebSocket does", got)
	}
	if w := sc.Wire(); w.Posts < 2 || w.Streams != 1 || w.StreamBytes < 100_000 {
		t.Errorf("the stream's requests: %+v", w)
	}
	if err := c.Close(4000, "bye"); err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
	if ce, ok := c.Err().(*CloseError); !ok || ce.Code != 4000 || !ce.WasClean {
		t.Errorf("Err after Close = %v", c.Err())
	}
}

// TestConnectFallsBack blocks WebSocket each way a network does, and
// checks that Connect falls back, says why, and remembers it.
func TestConnectFallsBack(t *testing.T) {
	for _, tc := range []struct {
		path   string
		wait   time.Duration // Options.FallbackAfter
		reason string
		within time.Duration // how long the choice may take
	}{
		{"/ws/fb/refused", 0, "WebSocket could not connect (closed with 1006 before it opened)", time.Second},
		{"/ws/fb/held", 300 * time.Millisecond, "WebSocket did not open within 0.3 s", 1300 * time.Millisecond},
	} {
		t.Run(strings.TrimPrefix(tc.path, "/ws/fb/"), func(t *testing.T) {
			forgetChoices(t)
			c, choice := mustConnect(t, tc.path, &Options{FallbackAfter: tc.wait})
			if _, ok := c.(*streamclient.Conn); !ok || choice.Transport != TransportStream || choice.Reason != tc.reason {
				t.Fatalf("Connect chose %q (%T), want the HTTP stream because %s", choice, c, tc.reason)
			}
			if choice.Took < tc.wait || choice.Took > tc.within {
				t.Errorf("the choice took %v, want %v to %v", choice.Took, tc.wait, tc.within)
			}
			t.Logf("fell back in %v: %s", choice.Took, choice)
			echoes(t, c)

			// The next Connect goes to the stream at once.
			again, choice := mustConnect(t, tc.path, nil)
			if want := "HTTP stream: remembered for 15 min: " + tc.reason; choice.String() != want {
				t.Errorf("the second Connect chose %q, want %q", choice, want)
			}
			if choice.Took > 500*time.Millisecond {
				t.Errorf("the second Connect took %v: it should not have tried WebSocket", choice.Took)
			}
			echoes(t, again)
		})
	}
}

func TestConnectKilled(t *testing.T) {
	forgetChoices(t)
	c, choice := mustConnect(t, "/ws/fb/killed", nil)
	if _, ok := c.(*Conn); !ok || choice.Transport != TransportWebSocket {
		t.Fatalf("Connect chose %v, want the WebSocket, which opens", choice)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the middlebox did not kill the WebSocket")
	}
	if code := CloseStatus(c.Err()); code != StatusAbnormalClosure {
		t.Fatalf("the WebSocket ended with %v, want 1006", c.Err())
	}
	again, choice := mustConnect(t, "/ws/fb/killed", nil)
	if want := "HTTP stream: remembered for 15 min: WebSocket opened but died before its first message"; choice.String() != want {
		t.Fatalf("after the kill, Connect chose %q, want %q", choice, want)
	}
	echoes(t, again)
}

// TestConnectForgetsWhereNoStream checks that a remembered fall back does
// not stop an endpoint without the stream from working.
func TestConnectForgetsWhereNoStream(t *testing.T) {
	forgetChoices(t)
	remember(pageHost(), "a test says so", time.Minute)
	c, choice := mustConnect(t, "/ws/echo", nil)
	if choice.Transport != TransportWebSocket {
		t.Fatalf("Connect chose %v at an endpoint without the stream", choice)
	}
	echoes(t, c)
	if _, ok := recall(pageHost()); ok {
		t.Error("the memory is kept, though the endpoint has no stream")
	}
}

func TestConnectRemembersForAWhile(t *testing.T) {
	forgetChoices(t)
	remember(pageHost(), "expired", time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	if m, ok := recall(pageHost()); ok {
		t.Errorf("an expired memory is recalled: %+v", m)
	}
	if v := js.Global().Get("localStorage").Call("getItem", memoryKey(pageHost())); !v.IsNull() {
		t.Errorf("an expired memory is kept: %v", v)
	}
}

// TestReconnectFallsBack checks that Reconnect, and so the chat, gets the
// HTTP stream where WebSocket is blocked.
func TestReconnectFallsBack(t *testing.T) {
	forgetChoices(t)
	ctx := testContext(t)
	var choices []Choice
	opened := make(chan conn.Conn, 4)
	r, err := Reconnect("/ws/fb/refused", &ReconnectOptions{
		OnChoice: func(c Choice) { choices = append(choices, c) },
		ReconnectOptions: conn.ReconnectOptions{OnOpen: func(c conn.Conn) error {
			opened <- c
			return nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		r.Close(StatusNormalClosure, "")
		waitDone(t, r, 10*time.Second)
	}()
	select {
	case c := <-opened:
		if _, ok := c.(*streamclient.Conn); !ok {
			t.Fatalf("Reconnect opened a %T, want the HTTP stream", c)
		}
	case <-ctx.Done():
		t.Fatal("Reconnect opened nothing")
	}
	if err := r.WriteMessage(ctx, Text, []byte("through the stream")); err != nil {
		t.Fatal(err)
	}
	if got := readString(ctx, r); got != "through the stream" {
		t.Errorf("read %q", got)
	}
	if len(choices) != 1 || choices[0].Transport != TransportStream {
		t.Errorf("OnChoice was told %v", choices)
	}
}
