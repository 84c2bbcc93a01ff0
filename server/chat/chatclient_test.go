package chat_test

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"duplex/server/ws"
	"duplex/shared/chatclient"
	"duplex/shared/conn"
	"duplex/shared/message"
)

// These tests run the browser's chat client — its protocol side,
// shared/chatclient, the same code the chat page runs in WebAssembly —
// natively, through ws.Dial, against the real hub.

// uiLog is a chatclient.UI that keeps the messages shown and the last
// status, and wakes waiters on each change.
type uiLog struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on each change
	lines   map[string][]string
	joined  map[string]bool
	pending map[string]int // messages in each room's outbox
	status  chatclient.Status
}

func newUILog() *uiLog {
	return &uiLog{changed: make(chan struct{}), lines: map[string][]string{}, joined: map[string]bool{}, pending: map[string]int{}}
}

func (u *uiLog) update(f func()) {
	u.mu.Lock()
	f()
	close(u.changed)
	u.changed = make(chan struct{})
	u.mu.Unlock()
}

func (u *uiLog) Status(s chatclient.Status) { u.update(func() { u.status = s }) }
func (u *uiLog) RoomChanged(r chatclient.Room) {
	u.update(func() { u.joined[r.Name] = r.Joined })
}
func (u *uiLog) RoomRemoved(string, error) {}
func (u *uiLog) Message(m message.Chat, _ bool) {
	u.update(func() { u.lines[m.Room] = append(u.lines[m.Room], m.Nick+": "+m.Text) })
}
func (u *uiLog) HistoryReset(room string) { u.update(func() { u.lines[room] = nil }) }
func (u *uiLog) NickTaken(_, _, _ string) {}
func (u *uiLog) Error(error)              {}
func (u *uiLog) Outbox(room string, p []chatclient.Pending) {
	u.update(func() { u.pending[room] = len(p) })
}
func (u *uiLog) Refused(_, _ string, _ error) {}

// waitUntil waits until ok, called under the log's lock, holds.
func (u *uiLog) waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.After(wait)
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
			t.Fatalf("waiting for %s; shown: %q, status %+v", what, u.lines, u.status)
		}
	}
}

// dialer returns a DialFunc through ws.Dial, and a function that drops the
// TCP connection it opened last, without a close frame, as a network does.
func dialer(url string) (conn.DialFunc, func()) {
	var mu sync.Mutex
	var last net.Conn
	dial := func(ctx context.Context) (conn.Conn, error) {
		return ws.Dial(ctx, url, &ws.DialOptions{
			Subprotocols: []string{message.Subprotocol},
			NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				mu.Lock()
				last = nc
				mu.Unlock()
				return nc, err
			},
		})
	}
	drop := func() {
		mu.Lock()
		defer mu.Unlock()
		last.Close()
	}
	return dial, drop
}

func TestChatClientResumesNatively(t *testing.T) {
	url := newServer(t, fast)
	quick := &conn.ReconnectOptions{MinDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}

	annUI, bobUI := newUILog(), newUILog()
	annDial, _ := dialer(url)
	bobDial, dropBob := dialer(url)
	ann := chatclient.Start(annUI, annDial, quick)
	bob := chatclient.Start(bobUI, bobDial, quick)
	defer ann.Close()
	defer bob.Close()
	for _, c := range []struct {
		client *chatclient.Client
		ui     *uiLog
		nick   string
	}{{ann, annUI, "ann"}, {bob, bobUI, "bob"}} {
		if _, err := c.client.Join(c.nick, "lobby"); err != nil {
			t.Fatal(err)
		}
		c.ui.waitUntil(t, c.nick+" in the lobby", func() bool { return c.ui.joined["lobby"] })
	}

	var want []string
	send := func(from int, to int) {
		for i := from; i < to; i++ {
			text := "message " + strconv.Itoa(i)
			if err := ann.Send("lobby", text); err != nil {
				t.Fatalf("Send %d: %v", i, err)
			}
			want = append(want, "ann: "+text)
		}
	}
	send(0, 5)
	bobUI.waitUntil(t, "bob to see 5", func() bool { return len(bobUI.lines["lobby"]) == 5 })

	// Bob's network drops; the server sees it only when its own reads fail,
	// and ann goes on writing meanwhile.
	dropBob()
	send(5, 25)
	annUI.waitUntil(t, "ann to see her 25", func() bool { return len(annUI.lines["lobby"]) == 25 })
	bobUI.waitUntil(t, "bob to come back with all 25", func() bool {
		return len(bobUI.lines["lobby"]) >= 25 && bobUI.status.Opens >= 2 && !bobUI.status.CatchingUp
	})

	bobUI.mu.Lock()
	defer bobUI.mu.Unlock()
	got := bobUI.lines["lobby"]
	if len(got) != len(want) {
		t.Fatalf("bob shows %d messages, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("bob's message %d is %q, want %q (all: %q)", i, got[i], want[i], got)
		}
	}
}
