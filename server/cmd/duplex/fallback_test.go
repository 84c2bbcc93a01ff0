//go:build !js

package main

// The chat with WebSocket blocked, in headless Chromium: it falls back to
// the HTTP stream and works as before; its messages survive a stream that
// drops, without loss or duplicates; and two instances behind a proxy that
// sends each request to the next instance in turn — no sticky sessions —
// serve it together, the stream's requests passed between them through
// NATS. The chat's own tests, in server/chat, test it over WebSocket.

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	natsserver "github.com/nats-io/nats-server/v2/server"

	"duplex/frontend/browsertest"
	"duplex/server/chat"
	"duplex/server/web"
	"duplex/server/web/webtest"
)

// fallbackNoise matches the console errors that a blocked WebSocket and a
// dropped stream make: the browser reports each, and a page cannot stop
// it.
var fallbackNoise = regexp.MustCompile(`WebSocket connection to 'ws://[^']+' failed|net::ERR_(CONNECTION_RESET|CONNECTION_REFUSED|EMPTY_RESPONSE|INCOMPLETE_CHUNKED_ENCODING|NETWORK_CHANGED|INTERNET_DISCONNECTED|CONNECTION_CLOSED)|Failed to load resource`)

// checkConsole fails the test on console errors other than fallbackNoise.
func checkConsole(t *testing.T, tabs ...*browsertest.Tab) {
	t.Helper()
	for _, tab := range tabs {
		for _, e := range tab.ConsoleErrors() {
			if !fallbackNoise.MatchString(e) {
				t.Errorf("console error: %s", e)
			}
		}
	}
}

// rooms counts the rooms the tests made, so that each is new, and
// thisRun names this run, since the chat may keep its rooms from one run
// to the next.
var (
	rooms   atomic.Int32
	thisRun = strconv.FormatInt(time.Now().UnixNano()%(1<<40), 36)
)

func freshRoom(prefix string) string {
	return prefix + "-" + thisRun + "-" + strconv.Itoa(int(rooms.Add(1)))
}

// chatPage opens the chat at base in tab, and joins room as nick.
func chatPage(t *testing.T, tab *browsertest.Tab, base, room, nick string) {
	t.Helper()
	tab.Do(chromedp.Navigate(base))
	webtest.WaitLive(tab)
	tab.WaitFor("the Join button to be enabled", `!document.querySelector("#chat-join").disabled`)
	tab.Do(
		chromedp.SetValue(chromedp.ID("chat-nick"), nick),
		chromedp.SetValue(chromedp.ID("chat-room"), room),
		chromedp.Click(chromedp.ID("chat-join")),
	)
	tab.WaitFor(nick+" to have joined "+room, `!document.querySelector("#chat-send").disabled`)
}

// say sends text from tab, as if pasted into the box and sent.
func say(tab *browsertest.Tab, text string) {
	tab.WaitFor("Send to be enabled", `!document.querySelector("#chat-send").disabled`)
	browsertest.Eval[bool](tab, `(text => {
		document.querySelector("#chat-text").value = text;
		document.querySelector("#chat-send").click();
		return true;
	})(`+webtest.JSString(text)+`)`)
}

// lines waits until tab shows at least len(want) messages in room, and
// fails the test unless they are exactly want: none lost, none twice.
func lines(t *testing.T, tab *browsertest.Tab, room string, want []string) {
	t.Helper()
	sel := `#chat-messages ul[data-room=` + webtest.JSString(room) + `] li.msg`
	tab.WaitFor(strconv.Itoa(len(want))+" messages", `document.querySelectorAll('`+sel+`').length >= `+strconv.Itoa(len(want)))
	got := browsertest.Eval[[]string](tab, `[...document.querySelectorAll('`+sel+`')]
		.map(li => li.querySelector(".nick").textContent + ": " + li.querySelector(".text").textContent)`)
	if !slices.Equal(got, want) {
		t.Fatalf("the messages read\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// metric returns the value of the counter or gauge name on site's
// /metrics.
func metric(t *testing.T, base, name string) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\d+)$`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func TestChatWithWebSocketBlocked(t *testing.T) {
	s := live.Get(t)
	s.SetMiddlebox(webtest.StripUpgrade)
	defer s.SetMiddlebox(webtest.Transparent)
	before := metric(t, s.URL, `duplex_httpstream_sessions_total{endpoint="chat"}`)

	b := browsertest.Start(t)
	ann, bob := b.NewTab(t, chromedp.WithNewBrowserContext()), b.NewTab(t, chromedp.WithNewBrowserContext())
	owner := "bob-" + strconv.Itoa(int(rooms.Add(1)))
	if _, err := chromedp.Call(bob.Context(), network.SetCookie, network.SetCookieParams{Name: webtest.TabCookie, Value: owner, URL: s.URL}); err != nil {
		t.Fatal(err)
	}
	room := freshRoom("blocked")
	chatPage(t, ann, s.URL+"/chat", room, "ann")
	chatPage(t, bob, s.URL+"/chat", room, "bob")
	say(bob, "hello through the stream")
	want := []string{"bob: hello through the stream"}
	lines(t, ann, room, want)
	lines(t, bob, room, want)
	if n := metric(t, s.URL, `duplex_httpstream_sessions_total{endpoint="chat"}`) - before; n != 2 {
		t.Errorf("%d stream sessions opened for two pages, want 2", n)
	}

	// Bob's stream, and every other connection of his, drops while ann
	// writes: his session resumes, and he has every message once, in
	// order — the chat does not even see a reconnect.
	for i := range 10 {
		msg := "while bob's stream is down " + strconv.Itoa(i+1)
		say(ann, msg)
		want = append(want, "ann: "+msg)
		if i%3 == 0 {
			s.DropConns(owner)
		}
		time.Sleep(150 * time.Millisecond)
	}
	lines(t, bob, room, want)
	lines(t, ann, room, want)
	seqs := browsertest.Eval[[]string](bob, `[...document.querySelectorAll("#chat-messages li.msg")].map(li => li.dataset.seq)`)
	for i, seq := range seqs {
		if seq != strconv.Itoa(i+1) {
			t.Fatalf("bob's messages are numbered %q, want 1 to %d", seqs, len(want))
		}
	}
	say(bob, "and back")
	want = append(want, "bob: and back")
	lines(t, ann, room, want)
	if n := metric(t, s.URL, `duplex_httpstream_sessions_total{endpoint="chat"}`) - before; n != 2 {
		t.Errorf("%d stream sessions opened, want still 2: a dropped stream resumes its session", n)
	}
	checkConsole(t, ann, bob)
}

func TestChatUsesWebSocketWhenFree(t *testing.T) {
	s := live.Get(t)
	before := metric(t, s.URL, `duplex_httpstream_sessions_total{endpoint="chat"}`)
	b := live.OpenPage(t, "/")
	room := freshRoom("free")
	chatPage(t, b.Tab, s.URL+"/chat", room, "cy")
	say(b.Tab, "over WebSocket")
	lines(t, b.Tab, room, []string{"cy: over WebSocket"})
	if n := metric(t, s.URL, `duplex_httpstream_sessions_total{endpoint="chat"}`) - before; n != 0 {
		t.Errorf("%d stream sessions opened with WebSocket free, want none", n)
	}
	b.CheckNoConsoleErrors()
}

// natsJetStream starts a NATS server with JetStream in this process.
func natsJetStream(t *testing.T) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS server did not start")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns
}

// TestChatRoundRobin serves the chat from two instances that share their
// rooms through NATS, behind a proxy that sends each request to the next
// instance in turn, and forces the HTTP stream: each session's requests
// reach both instances, and the owner serves them all.
func TestChatRoundRobin(t *testing.T) {
	browsertest.Find(t) // skip before building if there is no browser
	ns := natsJetStream(t)
	var backends []*webtest.Site
	for range 2 {
		site, err := webtest.Start([]web.Demo{chat.DemoWith(&chat.DemoOptions{NATS: ns.ClientURL()})}, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(site.Close)
		backends = append(backends, site)
	}
	var next atomic.Int64
	hits := make([]atomic.Int64, len(backends))     // requests
	streamed := make([]atomic.Int64, len(backends)) // requests of the stream
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			i := int(next.Add(1)) % len(backends)
			hits[i].Add(1)
			if strings.Contains(r.In.URL.RawQuery, "stream=") {
				streamed[i].Add(1)
			}
			u, _ := url.Parse(backends[i].URL)
			r.SetURL(u)
			r.Out.Host = r.In.Host // as a load balancer does: the page's origin is its host
		},
		FlushInterval: -1,                         // a stream passes as it comes
		ErrorLog:      log.New(io.Discard, "", 0), // clients that go mid-stream are no news
	})
	t.Cleanup(proxy.Close)

	b := browsertest.Start(t)
	ann, bob := b.NewTab(t, chromedp.WithNewBrowserContext()), b.NewTab(t, chromedp.WithNewBrowserContext())
	room := freshRoom("round-robin")
	page := proxy.URL + "/chat?transport=stream"
	chatPage(t, ann, page, room, "ann")
	chatPage(t, bob, page, room, "bob")
	var want []string
	for i := range 6 {
		from, name := ann, "ann"
		if i%2 == 1 {
			from, name = bob, "bob"
		}
		msg := "message " + strconv.Itoa(i+1)
		say(from, msg)
		want = append(want, name+": "+msg)
		lines(t, ann, room, want)
		lines(t, bob, room, want)
	}
	sessions := []int{
		metric(t, backends[0].URL, `duplex_httpstream_sessions_total{endpoint="chat"}`),
		metric(t, backends[1].URL, `duplex_httpstream_sessions_total{endpoint="chat"}`),
	}
	t.Logf("requests: %d to the first instance (%d of the stream), %d to the second (%d); sessions opened: %v",
		hits[0].Load(), streamed[0].Load(), hits[1].Load(), streamed[1].Load(), sessions)
	if sessions[0]+sessions[1] != 2 {
		t.Errorf("%v stream sessions opened, want 2 in all", sessions)
	}
	// Every instance got requests of the stream, and some were for
	// sessions it did not own, or the chat would not have worked.
	for i := range backends {
		if streamed[i].Load() < 3 {
			t.Errorf("instance %d got %d requests of the stream: not round robin", i, streamed[i].Load())
		}
	}
	checkConsole(t, ann, bob)
}
