//go:build !js

package echo_test

// The echo page with WebSocket blocked, each way networks block it (the
// middleboxes of webtest), and with it free: the page falls back to the
// HTTP stream, says so and why, echoes as before, and remembers; with
// WebSocket free, the stream is never used.

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"duplex/frontend/browsertest"
	"duplex/server/web/webtest"
)

// blockedWebSocket matches the console errors a blocked WebSocket makes:
// the browser reports each failed handshake, and the app cannot stop it.
var blockedWebSocket = regexp.MustCompile(`WebSocket connection to 'ws://[^']+/ws/echo' failed`)

// checkConsole fails the test if tab reported console errors other than
// those allowed matches.
func checkConsole(t *testing.T, tab *browsertest.Tab, allowed *regexp.Regexp) {
	t.Helper()
	for _, e := range tab.ConsoleErrors() {
		if allowed == nil || !allowed.MatchString(e) {
			t.Errorf("console error: %s", e)
		}
	}
}

// streamSessions returns how many sessions the echo endpoint's HTTP stream
// has opened, from the site's /metrics.
func streamSessions(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(site.Get(t).URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^duplex_httpstream_sessions_total\{endpoint="echo"\} (\d+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics has no duplex_httpstream_sessions_total for echo:\n%s", body)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// echoes sends a text and a binary message from the page and checks that
// both come back identical.
func echoes(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	before := browsertest.Eval[int](tab, `document.querySelectorAll("#echo-log li.in").length`)
	tab.Do(
		chromedp.SetValue(chromedp.ID("echo-text"), "through whatever is open"),
		chromedp.Click(chromedp.ID("send-text")),
		chromedp.SetValue(chromedp.ID("echo-size"), "70000"),
		chromedp.Click(chromedp.ID("send-binary")),
	)
	tab.WaitFor("two echoes", `document.querySelectorAll("#echo-log li.in").length === `+strconv.Itoa(before+2))
	got := webtest.Texts(tab, "#echo-log li.in")[before:]
	want := []*regexp.Regexp{
		regexp.MustCompile(`^← text 24 B "through whatever is open" in \d+\.\d ms ✓ identical$`),
		regexp.MustCompile(`^← binary 68\.4 KiB in \d+\.\d ms ✓ identical$`),
	}
	for i, re := range want {
		if !re.MatchString(got[i]) {
			t.Errorf("echo %d reads %q, want a match for %s", i+1, got[i], re)
		}
	}
}

func TestEchoPageFallsBack(t *testing.T) {
	s := site.Get(t)
	b := browsertest.Start(t)
	for _, tc := range []struct {
		name      string
		middlebox webtest.Middlebox
		reason    string // of the first load
	}{
		{"upgrade stripped", webtest.StripUpgrade, `WebSocket could not connect \(closed with 1006 before it opened\)`},
		{"upgrade held", webtest.HoldUpgrade, `WebSocket did not open within \d\.\d s`},
		{"killed after the 101", webtest.KillUpgraded, `remembered for 15 min: WebSocket opened but died before its first message`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.SetMiddlebox(tc.middlebox)
			defer s.SetMiddlebox(webtest.Transparent)
			// A browser context of its own: nothing remembered.
			tab := b.NewTab(t, chromedp.WithNewBrowserContext())
			defer tab.Close()
			tab.Do(chromedp.Navigate(s.URL + "/echo"))
			// A WebSocket that is killed after its 101 opens first: the page
			// connects again when it dies.
			tab.WaitFor("the HTTP stream", `document.querySelector("#echo-transport").textContent.startsWith("HTTP stream") &&
				document.querySelector("#status").dataset.state === "live"`)
			transport := webtest.Text(tab, "#echo-transport")
			if !regexp.MustCompile(`^HTTP stream: ` + tc.reason + ` \(chosen in \d+\.\d ms\)$`).MatchString(transport) {
				t.Fatalf("#echo-transport reads %q, want the stream because %s", transport, tc.reason)
			}
			t.Logf("first load: %s", transport)
			if got, want := webtest.Text(tab, "#echo-url"), s.URL+"/ws/echo"; got != want {
				t.Errorf("#echo-url reads %q, want %q", got, want)
			}
			if status := webtest.Text(tab, "#status"); !strings.HasPrefix(status, "Connected over the HTTP stream, because ") {
				t.Errorf("the status line reads %q", status)
			}
			echoes(t, tab)

			// The next page remembers: the stream at once.
			tab.Do(chromedp.Navigate(s.URL + "/echo"))
			webtest.WaitLive(tab)
			transport = webtest.Text(tab, "#echo-transport")
			if !strings.HasPrefix(transport, "HTTP stream: remembered for 15 min: ") {
				t.Errorf("after a reload, #echo-transport reads %q, want the remembered stream", transport)
			}
			t.Logf("reload: %s", transport)
			echoes(t, tab)
			checkConsole(t, tab, blockedWebSocket)
		})
	}
}

func TestEchoPageWebSocketWhenFree(t *testing.T) {
	before := streamSessions(t)
	b := site.OpenPage(t, "/echo")
	webtest.WaitLive(b.Tab)
	if got := webtest.Text(b.Tab, "#echo-transport"); !regexp.MustCompile(`^WebSocket \(chosen in \d+\.\d ms\)$`).MatchString(got) {
		t.Errorf("#echo-transport reads %q, want WebSocket", got)
	}
	echoes(t, b.Tab)
	if n := streamSessions(t) - before; n != 0 {
		t.Errorf("the page opened %d stream sessions, with WebSocket free", n)
	}
	b.CheckNoConsoleErrors()
}

func TestEchoPageForcedStream(t *testing.T) {
	b := site.OpenPage(t, "/echo?transport=stream")
	webtest.WaitLive(b.Tab)
	if got, want := webtest.Text(b.Tab, "#echo-transport"), "HTTP stream: forced by the page (?transport=stream)"; !strings.HasPrefix(got, want) {
		t.Errorf("#echo-transport reads %q, want %q", got, want)
	}
	echoes(t, b.Tab)
	b.CheckNoConsoleErrors()
}

func TestEchoPageCompare(t *testing.T) {
	b := site.OpenPage(t, "/echo")
	webtest.WaitLive(b.Tab)
	b.WaitFor("Compare to be enabled", `!document.querySelector("#compare-run").disabled`)
	b.Do(
		chromedp.SetValue(chromedp.ID("compare-size"), "32"),
		chromedp.SetValue(chromedp.ID("compare-count"), "20"),
		chromedp.Click(chromedp.ID("compare-run")),
	)
	b.WaitFor("the comparison", `document.querySelector("#compare-note").textContent.startsWith("20 round trips")`)
	cell := func(id string) float64 {
		text := webtest.Text(b.Tab, "#"+id)
		m := regexp.MustCompile(`^(\d+(?:\.\d+)?)( ms| B)?$`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("#%s reads %q", id, text)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	figures := map[string]float64{}
	for _, id := range []string{"ws-rtt", "stream-rtt", "ws-up", "stream-up", "ws-down", "stream-down", "ws-requests", "stream-requests"} {
		figures[id] = cell("cmp-" + id)
	}
	t.Logf("comparison, 32-byte messages: %v; %s", figures, webtest.Text(b.Tab, "#compare-note"))
	if figures["ws-up"] != 38 || figures["ws-down"] != 34 || figures["ws-requests"] != 0 {
		t.Errorf("a 32-byte WebSocket message costs %v up, %v down, %v requests; want 38, 34, 0", figures["ws-up"], figures["ws-down"], figures["ws-requests"])
	}
	if figures["stream-up"] < 200 || figures["stream-requests"] < 0.9 || figures["stream-down"] < 35 {
		t.Errorf("the stream's figures are implausible: %v", figures)
	}
	b.CheckNoConsoleErrors()
}
