//go:build !js

package chat_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"duplex/frontend/browsertest"
	"duplex/server/chat"
	"duplex/server/web"
	"duplex/server/web/webtest"
)

// TestChatRestartInBrowser stops the chat's backend — its hub and its
// embedded NATS server — while a message is pending, and starts another on
// the same data directory, behind the same address, as a restart of the
// default single process does. The pages reconnect; the one whose message
// was pending sends it again, and both show it once, after the history
// from before the restart, which the new process kept.
func TestChatRestartInBrowser(t *testing.T) {
	ann, bob := chatTabs(t) // first: it skips the test if there is no browser
	dir := t.TempDir()
	open := func() *chat.Backend {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		b, err := chat.OpenBackend(ctx, chat.BackendOptions{Data: dir})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var current atomic.Pointer[chat.Backend]
	first := open()
	current.Store(first)
	s, err := webtest.Start([]web.Demo{chat.DemoWith(&chat.DemoOptions{Hub: func() *chat.Hub {
		if b := current.Load(); b != nil {
			return b.Hub
		}
		return nil
	}})}, t.Logf)
	if err != nil {
		t.Fatalf("serving a build of the front end: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		if b := current.Load(); b != nil {
			b.Close()
		}
	})

	// Each tab's connections carry a cookie, to be dropped by it.
	owners := map[*browsertest.Tab]string{ann: freshName("ann"), bob: freshName("bob")}
	for tab, owner := range owners {
		if _, err := chromedp.Call(tab.Context(), network.SetCookie, network.SetCookieParams{
			Name: webtest.TabCookie, Value: owner, URL: s.URL,
		}); err != nil {
			t.Fatalf("setting a tab's cookie: %v", err)
		}
	}
	room := freshName("restart-test")
	joinChatAt(t, ann, s.URL, room, "ann")
	joinChatAt(t, bob, s.URL, room, "bob")
	ann.WaitFor("ann to see bob", presenceIs("ann", "bob"))
	sendChat(ann, "before the restart")
	want := []string{"ann: before the restart"}
	waitLines(t, ann, room, want)
	waitLines(t, bob, room, want)

	// The store goes first, so that what ann sends now cannot be stored:
	// the server refuses it for now, and the page keeps it, pending.
	first.Close()
	sendChat(ann, "sent while the server goes down")
	ann.WaitFor("ann's message to wait", `[...document.querySelectorAll("#chat-messages li.pending .text")].map(e => e.textContent).join() === "sent while the server goes down"`)
	if got := chatLines(ann, room); len(got) != 1 {
		t.Fatalf("ann's page shows %q while the server is down", got)
	}

	// A new process, on the same data directory; the old one's
	// connections drop, as they do when a process dies.
	current.Store(open())
	for tab, owner := range owners {
		if n := s.DropConns(owner); n == 0 {
			t.Fatalf("no connection of %s's to drop", tab.Context())
		}
	}

	// Both pages come back with the history kept, and the message sent
	// again, once.
	want = append(want, "ann: sent while the server goes down")
	waitLines(t, ann, room, want)
	waitLines(t, bob, room, want)
	ann.WaitFor("ann's outbox to empty", `document.querySelectorAll("#chat-messages li.pending").length === 0`)
	for name, tab := range map[string]*browsertest.Tab{"ann": ann, "bob": bob} {
		tab.WaitFor(name+" to be live again", `document.querySelector("#status").textContent.startsWith("Live again: reconnected, resumed")`)
		if status := webtest.Text(tab, "#status"); strings.Contains(status, "afresh") {
			t.Errorf("%s's status line says %q: the history should have been kept", name, status)
		}
		seqs := browsertest.Eval[[]string](tab, `[...document.querySelectorAll("#chat-messages li.msg")].map(li => li.dataset.seq)`)
		if strings.Join(seqs, ",") != "1,2" {
			t.Errorf("%s's messages are numbered %q, want 1 and 2", name, seqs)
		}
		// Each got their nickname back, with their resume token.
		tab.WaitFor(name+"'s presence list", presenceIs("ann", "bob"))
	}

	// And the chat goes on.
	sendChat(bob, "after the restart")
	want = append(want, "bob: after the restart")
	waitLines(t, ann, room, want)
	waitLines(t, bob, room, want)
	ann.CheckNoConsoleErrors()
	bob.CheckNoConsoleErrors()
}
