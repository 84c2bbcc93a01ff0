//go:build !js

package chat_test

// The chat page in headless Chromium: two people, each in a tab of their
// own browser context (a profile of its own, as a second browser would
// be), talk in a room, and one of them loses the network for a while.

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"duplex/frontend/browsertest"
	"duplex/server/chat"
	"duplex/server/web"
	"duplex/server/web/webtest"
	"duplex/server/ws"
)

// site serves the chat demo alone, built once for the package's tests.
var site = webtest.Lazy{Demos: func() []web.Demo { return []web.Demo{chat.Demo()} }}

func TestMain(m *testing.M) {
	code := m.Run()
	site.Close()
	os.Exit(code)
}

var regexpClock = regexp.MustCompile(`^\d\d:\d\d$`)

// names counts the names freshName gave: the server keeps a room's
// messages as long as the test binary runs, and with -count=n a test runs
// n times.
var names atomic.Int32

// freshName returns a name, for a room or a tab, that no test has used
// yet.
func freshName(prefix string) string {
	return prefix + "-" + strconv.Itoa(int(names.Add(1)))
}

// chatTabs starts a browser with two tabs, in separate browser contexts.
func chatTabs(t *testing.T) (first, second *browsertest.Tab) {
	t.Helper()
	b := browsertest.Start(t)
	return b.Tab, b.NewTab(t, chromedp.WithNewBrowserContext())
}

// joinChat opens the chat of the package's site in tab and joins room as
// nick.
func joinChat(t *testing.T, tab *browsertest.Tab, room, nick string) {
	t.Helper()
	joinChatAt(t, tab, site.Get(t).URL, room, nick)
}

// joinChatAt opens the chat of the site at url in tab and joins room as
// nick.
func joinChatAt(t *testing.T, tab *browsertest.Tab, url, room, nick string) {
	t.Helper()
	tab.Do(chromedp.Navigate(url + "/chat"))
	webtest.WaitLive(tab)
	tab.WaitFor("the Join button to be enabled", `!document.querySelector("#chat-join").disabled`)
	if got := browsertest.Eval[string](tab, `document.querySelector("#chat-nick").value`); got == "" {
		t.Error("the nickname field has no suggestion")
	}
	tab.Do(
		chromedp.SetValue(chromedp.ID("chat-nick"), nick),
		chromedp.SetValue(chromedp.ID("chat-room"), room),
		chromedp.Click(chromedp.ID("chat-join")),
	)
	tab.WaitFor(nick+" to have joined "+room, `!document.querySelector("#chat-send").disabled`)
}

// sendChat sends text from tab, as if pasted into the box and sent: the
// box gets no input event, so no typing notification goes out.
func sendChat(tab *browsertest.Tab, text string) {
	tab.WaitFor("Send to be enabled", `!document.querySelector("#chat-send").disabled`)
	browsertest.Eval[bool](tab, `(text => {
		document.querySelector("#chat-text").value = text;
		document.querySelector("#chat-send").click();
		return true;
	})(`+webtest.JSString(text)+`)`)
}

// chatLines returns the messages tab shows in room, as "nick: text".
func chatLines(tab *browsertest.Tab, room string) []string {
	return browsertest.Eval[[]string](tab, `[...document.querySelectorAll('#chat-messages ul[data-room=`+webtest.JSString(room)+`] li.msg')]
		.map(li => li.querySelector(".nick").textContent + ": " + li.querySelector(".text").textContent)`)
}

// waitLines waits until tab shows exactly want in room.
func waitLines(t *testing.T, tab *browsertest.Tab, room string, want []string) {
	t.Helper()
	tab.WaitFor(strconv.Itoa(len(want))+" messages", `[...document.querySelectorAll('#chat-messages ul[data-room=`+webtest.JSString(room)+`] li.msg')].length >= `+strconv.Itoa(len(want)))
	if got := chatLines(tab, room); !slices.Equal(got, want) {
		t.Fatalf("the messages read\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// presenceIs is an expression that is true when the presence list shows
// exactly the nicknames, in order.
func presenceIs(nicks ...string) string {
	want, _ := json.Marshal(nicks)
	return `JSON.stringify([...document.querySelectorAll("#chat-presence li")].map(li => li.textContent)) === ` + webtest.JSString(string(want))
}

func TestChatPageInBrowser(t *testing.T) {
	ann, bob := chatTabs(t)
	room := freshName("browser-test")
	joinChat(t, ann, room, "ann")
	joinChat(t, bob, room, "bob")

	// Each sees the other in the room, and themselves marked.
	ann.WaitFor("ann to see bob", presenceIs("ann", "bob"))
	bob.WaitFor("bob to see ann", presenceIs("ann", "bob"))
	if got := webtest.Text(ann, "#chat-presence li.me"); got != "ann" {
		t.Errorf("ann's page marks %q as her", got)
	}

	// Typing shows on the other side, and stops with the message.
	bob.Do(chromedp.SendKeys(chromedp.ID("chat-text"), "hello, ann")) // key by key: input events
	ann.WaitFor("bob's typing to show", `document.querySelector("#chat-typing").textContent === "bob is typing…"`)
	if got := webtest.Text(bob, "#chat-typing"); got != "" {
		t.Errorf("bob's own page shows %q", got)
	}
	bob.Do(chromedp.Click(chromedp.ID("chat-send")))
	want := []string{"bob: hello, ann"}
	waitLines(t, ann, room, want)
	waitLines(t, bob, room, want)
	ann.WaitFor("bob's typing to stop", `document.querySelector("#chat-typing").textContent === ""`)
	if got := browsertest.Eval[string](bob, `document.querySelector("#chat-text").value`); got != "" {
		t.Errorf("the text box still holds %q after sending", got)
	}

	ann.Do(chromedp.SendKeys(chromedp.ID("chat-text"), "hi bob"))
	bob.WaitFor("ann's typing to show", `document.querySelector("#chat-typing").textContent === "ann is typing…"`)
	ann.Do(chromedp.Click(chromedp.ID("chat-send")))
	want = append(want, "ann: hi bob")
	waitLines(t, ann, room, want)
	waitLines(t, bob, room, want)
	bob.WaitFor("ann's typing to stop", `document.querySelector("#chat-typing").textContent === ""`)
	if got := webtest.Texts(ann, `#chat-messages li.msg.mine .text`); !slices.Equal(got, []string{"hi bob"}) {
		t.Errorf("ann's page marks %q as hers", got)
	}
	if got := browsertest.Eval[string](ann, `document.querySelector("#chat-messages li.msg time").textContent`); !regexpClock.MatchString(got) {
		t.Errorf("a message's time reads %q", got)
	}

	// Markup in a message is shown as text: no element is made of it, and
	// no script runs.
	const markup = `<b>bold</b><img src=x onerror=alert(1)>`
	for _, tab := range []*browsertest.Tab{ann, bob} {
		browsertest.Eval[bool](tab, `window.alerts = 0, window.alert = () => window.alerts++, true`)
	}
	sendChat(ann, markup)
	want = append(want, "ann: "+markup)
	waitLines(t, ann, room, want)
	waitLines(t, bob, room, want)
	for name, tab := range map[string]*browsertest.Tab{"ann": ann, "bob": bob} {
		if n := browsertest.Eval[int](tab, `document.querySelectorAll("#chat-messages b, img").length`); n != 0 {
			t.Errorf("%s's page made %d elements of the markup", name, n)
		}
		if html := browsertest.Eval[string](tab, `[...document.querySelectorAll("#chat-messages .text")].pop().innerHTML`); html != `&lt;b&gt;bold&lt;/b&gt;&lt;img src=x onerror=alert(1)&gt;` {
			t.Errorf("%s's page holds the message as %s", name, html)
		}
		time.Sleep(50 * time.Millisecond) // an image that failed would have run onerror by now
		if n := browsertest.Eval[int](tab, `window.alerts`); n != 0 {
			t.Errorf("%s's page called alert %d times", name, n)
		}
	}

	// Errors are shown: the page's own, for a text that is only spaces,
	// and the server's, for messages sent faster than it allows (10 at
	// once, then 5 a second; a client that runs 10 into debt is
	// disconnected).
	sendChat(bob, "   ")
	bob.WaitFor("the error", `document.querySelector("#chat-error").textContent !== ""`)
	if got := webtest.Text(bob, "#chat-error"); got != "Not sent: bad message: text is blank" {
		t.Errorf("#chat-error reads %q", got)
	}
	browsertest.Eval[bool](bob, `(() => {
		for (let i = 1; i <= 12; i++) {
			document.querySelector("#chat-text").value = "quick " + i;
			document.querySelector("#chat-send").click();
		}
		return true;
	})()`)
	bob.WaitFor("the server's error", `document.querySelector("#chat-error").textContent.startsWith("The server says: rate limited in room ")`)
	// Leaving empties the page, and the other sees it, even right after
	// the rate limit dropped messages: the server never drops a Leave.
	bob.Do(chromedp.Click(chromedp.ID("chat-leave")))
	ann.WaitFor("bob to leave", presenceIs("ann"))
	// Ann's room says who came and went, between the messages.
	ann.WaitFor("the joined and left lines", `[...document.querySelectorAll("#chat-messages li.presence")].map(li => li.textContent).join("|") === "bob joined|bob left"`)
	bob.WaitFor("the room to go", `document.querySelectorAll("#chat-messages ul").length === 0 && document.querySelector("#chat-text").disabled`)

	ann.CheckNoConsoleErrors()
	bob.CheckNoConsoleErrors()
}

// TestChatResumeInBrowser cuts one tab's network while the other writes,
// and checks that it comes back with every message, once, in order.
//
// How the network is cut: DevTools' offline emulation
// (Network.emulateNetworkConditionsByRule with offline, and
// Network.overrideNetworkState, which sets navigator.onLine and fires the
// offline and online events) makes new connections fail, but Chromium
// (156) does not fail a WebSocket that is already open: it holds its
// traffic until the emulation ends. So the test also drops the tab's TCP
// connections at the server, without a close frame — what a real outage
// comes to once the server notices, here at once. The page sees 1006 and,
// since the browser says it is offline, waits for the online event before
// it redials, so its console stays free of failed connections.
func TestChatResumeInBrowser(t *testing.T) {
	ann, bob := chatTabs(t)
	room := freshName("resume-test")
	owner := nameConns(t, bob, "bob")
	joinChat(t, ann, room, "ann")
	joinChat(t, bob, room, "bob")
	ann.WaitFor("ann to see bob", presenceIs("ann", "bob"))
	sendChat(bob, "before the outage")
	want := []string{"bob: before the outage"}
	waitLines(t, ann, room, want)
	waitLines(t, bob, room, want)

	// Record what bob's status line says from now on.
	// Each status is rebuilt from the mutation records, not from the line
	// as the observer finds it: when the app sets two statuses in one task
	// (a redial that waits 0 ms), the observer runs once, after both. The
	// app sets data-state, then the text.
	browsertest.Eval[bool](bob, `(() => {
		const status = document.querySelector("#status");
		window.statuses = [];
		let state = status.dataset.state;
		new MutationObserver((records) => {
			const attrs = records.filter(r => r.type === "attributes");
			// What each data-state change set: the next one's old value, or,
			// for the last, the current value.
			const set = new Map(attrs.map((r, i) => [r, i + 1 < attrs.length ? attrs[i + 1].oldValue : status.dataset.state]));
			for (const r of records) {
				if (r.type === "attributes") {
					state = set.get(r);
					continue;
				}
				for (const n of r.addedNodes) {
					const s = state + ": " + n.textContent;
					if (statuses[statuses.length - 1] !== s) statuses.push(s);
				}
			}
		}).observe(status, {attributes: true, attributeFilter: ["data-state"], attributeOldValue: true, childList: true});
		return true;
	})()`)

	// Bob's network goes.
	setOffline(t, bob, true)
	if n := site.Get(t).DropConns(owner); n == 0 {
		t.Fatal("no connection of bob's to drop")
	}
	bob.WaitFor("bob's page to notice", `document.querySelector("#status").dataset.state === "reconnecting" &&
		document.querySelector("#status").textContent.includes("Offline: waiting for the network")`)
	ann.WaitFor("bob to leave ann's room", presenceIs("ann"))

	// What bob writes meanwhile waits, greyed, marked "sending…".
	sendChat(bob, "written offline")
	bob.WaitFor("bob's message to wait", `[...document.querySelectorAll("#chat-messages li.pending")].map(li => li.textContent).join() === "sending…bobwritten offline"`)
	if browsertest.Eval[string](bob, `document.querySelector("#chat-text").value`) != "" {
		t.Error("the text box still holds the message, which the outbox has")
	}

	// Ann writes 20 messages meanwhile, a little slower than the server's
	// limit of 5 a second.
	for i := range 20 {
		msg := "while bob is away " + strconv.Itoa(i+1)
		sendChat(ann, msg)
		want = append(want, "ann: "+msg)
		ann.WaitFor("ann's message "+strconv.Itoa(i+1), `document.querySelectorAll('#chat-messages li.msg').length === `+strconv.Itoa(len(want)))
		time.Sleep(200 * time.Millisecond)
	}
	if got := chatLines(bob, room); len(got) != 1 {
		t.Fatalf("bob's page shows %d messages while offline, want 1", len(got))
	}

	// The network is back: bob's page reconnects, resumes, and shows what
	// it missed, once, in order.
	setOffline(t, bob, false)
	bob.WaitFor("bob to resume", `document.querySelector("#status").dataset.state === "live" &&
		document.querySelector("#status").textContent === "Live again: reconnected, resumed (20 missed messages)."`)
	// Then what bob wrote offline goes out, once he has caught up.
	want = append(want, "bob: written offline")
	waitLines(t, bob, room, want)
	waitLines(t, ann, room, want)
	bob.WaitFor("the outbox to empty", `document.querySelectorAll("#chat-messages li.pending").length === 0`)
	// The status line went through these, in order, and maybe others.
	statuses := browsertest.Eval[[]string](bob, `statuses`)
	t.Logf("bob's status line since the outage:\n\t%s", strings.Join(statuses, "\n\t"))
	next := 0
	for _, want := range []string{
		`^reconnecting: Connection lost \(1006 [^)]*\)\. Offline: waiting for the network \(attempt 1\)…$`,
		`^reconnecting: Connection lost \(1006 [^)]*\)\. Reconnecting \(attempt 1, in \d+\.\d s\)…$`,
		`^reconnecting: Reconnecting \(attempt 1\)…$`,
		`^live: Live again: reconnected, resumed \(20 missed messages\)\.$`,
	} {
		re := regexp.MustCompile(want)
		for next < len(statuses) && !re.MatchString(statuses[next]) {
			next++
		}
		if next == len(statuses) {
			t.Errorf("bob's status line never said %s after the outage; it said\n\t%s", want, strings.Join(statuses, "\n\t"))
			break
		}
	}
	ann.WaitFor("bob back in ann's room", presenceIs("ann", "bob"))
	bob.WaitFor("bob's presence list", presenceIs("ann", "bob"))
	seqs := browsertest.Eval[[]string](bob, `[...document.querySelectorAll("#chat-messages li.msg")].map(li => li.dataset.seq)`)
	for i, s := range seqs {
		if s != strconv.Itoa(i+1) {
			t.Fatalf("bob's messages are numbered %q, want 1 to %d", seqs, len(want))
		}
	}

	// And the chat goes on.
	sendChat(bob, "back again")
	want = append(want, "bob: back again")
	waitLines(t, ann, room, want)
	waitLines(t, bob, room, want)

	ann.CheckNoConsoleErrors()
	bob.CheckNoConsoleErrors()
}

// legacyEmulateNetworkConditions is DevTools' Network.emulateNetworkConditions,
// which newer Chromium replaces with emulateNetworkConditionsByRule.
var legacyEmulateNetworkConditions = cdp.Command[legacyNetworkConditions, cdp.Empty]{Method: "Network.emulateNetworkConditions"}

type legacyNetworkConditions struct {
	Offline            bool    `json:"offline"`
	Latency            float64 `json:"latency"`
	DownloadThroughput float64 `json:"downloadThroughput"`
	UploadThroughput   float64 `json:"uploadThroughput"`
}

// setOffline cuts the tab's network, as DevTools' offline mode does, or
// gives it back.
// nameConns gives tab's connections to the site a name of their own, new
// each run, and returns it, for the site's DropConns.
func nameConns(t *testing.T, tab *browsertest.Tab, who string) string {
	t.Helper()
	owner := freshName(who)
	if _, err := chromedp.Call(tab.Context(), network.SetCookie, network.SetCookieParams{
		Name: webtest.TabCookie, Value: owner, URL: site.Get(t).URL,
	}); err != nil {
		t.Fatalf("setting %s's cookie: %v", who, err)
	}
	return owner
}

func setOffline(t *testing.T, tab *browsertest.Tab, offline bool) {
	t.Helper()
	ctx := tab.Context()
	rules := []*network.Conditions{}
	if offline {
		rules = append(rules, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("Network.enable: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: rules,
	}); err != nil {
		// Chromium before 150 or so knows only the older command, which
		// cdproto no longer lists.
		if _, lerr := chromedp.Call(ctx, legacyEmulateNetworkConditions, legacyNetworkConditions{
			Offline: offline, DownloadThroughput: -1, UploadThroughput: -1,
		}); lerr != nil {
			t.Fatalf("Network.emulateNetworkConditionsByRule: %v; Network.emulateNetworkConditions: %v", err, lerr)
		}
	}
	setOnLine(t, tab, !offline)
}

// TestChatServerGoneInBrowser: when the server shuts down, closing the
// chat with 1001, the status line says the server went away, not how the
// redials that follow fail.
func TestChatServerGoneInBrowser(t *testing.T) {
	s, err := webtest.Start([]web.Demo{chat.Demo()}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := browsertest.Start(t)
	joinChatAt(t, b.Tab, s.URL, freshName("going-away"), "ann")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.Conns.Close(ctx, ws.StatusGoingAway, "server shutting down") // and refuses new ones: 503
	b.WaitFor("the status line to say why", `document.querySelector("#status").textContent.startsWith("The server went away (1001 going away: server shutting down). Reconnecting")`)
}

// TestChatReloadKeepsOutbox: what bob typed while his connection was down
// is still there after he reloads the page — the page joins his room
// again by itself, shows it pending, sends it, and both pages show it
// once. The browser is told it is offline (navigator.onLine), which makes
// the page wait for the network rather than redial, but the network is
// not cut, so that the page can load again.
func TestChatReloadKeepsOutbox(t *testing.T) {
	ann, bob := chatTabs(t)
	room := freshName("reload-test")
	owner := nameConns(t, bob, "bob")
	joinChat(t, ann, room, "ann")
	joinChat(t, bob, room, "bob")
	ann.WaitFor("ann to see bob", presenceIs("ann", "bob"))

	setOnLine(t, bob, false)
	t.Cleanup(func() { setOnLine(t, bob, true) })
	if n := site.Get(t).DropConns(owner); n == 0 {
		t.Fatal("no connection of bob's to drop")
	}
	bob.WaitFor("bob's page to wait for the network", `document.querySelector("#status").textContent.includes("Offline: waiting for the network")`)
	sendChat(bob, "typed before the reload")
	bob.WaitFor("bob's message to wait", `[...document.querySelectorAll("#chat-messages li.pending")].map(li => li.textContent).join() === "sending…bobtyped before the reload"`)

	bob.Do(chromedp.Reload())
	webtest.WaitLive(bob)
	bob.WaitFor("the room joined again, the message pending or sent", `document.querySelector('#chat-messages ul[data-room=`+webtest.JSString(room)+`]') !== null &&
		document.querySelector("#chat-nick").value === "bob"`)
	setOnLine(t, bob, true)
	want := []string{"bob: typed before the reload"}
	waitLines(t, ann, room, want)
	waitLines(t, bob, room, want)
	bob.WaitFor("the outbox to empty", `document.querySelectorAll("#chat-messages li.pending").length === 0`)
	time.Sleep(300 * time.Millisecond) // a second copy would come within this
	if got := chatLines(ann, room); !slices.Equal(got, want) {
		t.Errorf("ann's page shows %q, want %q", got, want)
	}
	ann.CheckNoConsoleErrors()
	bob.CheckNoConsoleErrors()
}

// setOnLine tells tab's pages that the browser is online or offline
// (navigator.onLine, and the online and offline events), without cutting
// the network.
func setOnLine(t *testing.T, tab *browsertest.Tab, online bool) {
	t.Helper()
	ctx := tab.Context()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("Network.enable: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
		Offline: !online, DownloadThroughput: -1, UploadThroughput: -1,
	}); err != nil {
		t.Fatalf("Network.overrideNetworkState: %v", err)
	}
	tab.WaitFor("navigator.onLine to follow", `navigator.onLine === `+strconv.FormatBool(online))
}
