//go:build !js

package web

// The tests in this file open every page in headless Chromium, against the
// real router serving a real build of the front end, and use the pages as a
// reader would: they wait for the Go app to connect, fill in the forms,
// press the buttons and read what the page shows. Each test also fails if
// the page reports a console error.
//
// The front end is built once per test binary, by the first test that
// needs it (see liveSite). Without a browser the tests skip, unless the CI
// environment variable is set; see duplex/frontend/browsertest.

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"duplex/frontend"
	"duplex/frontend/browsertest"
	"duplex/server/lab"
	"duplex/server/ws"
	"duplex/shared/wire"
)

func TestMain(m *testing.M) {
	code := m.Run()
	site.close()
	os.Exit(code)
}

// A testSite is the front end built into a temporary directory and served,
// with every other endpoint, by NewRouter.
type testSite struct {
	once  sync.Once
	dir   string
	srv   *httptest.Server
	conns *ws.Group
	err   error

	// The TCP connections, and which tab opened them, for dropConns.
	mu     sync.Mutex
	tcp    map[string]net.Conn // by remote address
	owners map[string]string   // remote address → the tabCookie of its requests
}

// tabCookie names the browser context that a request comes from, for
// dropConns: a test sets it in the context of the tab whose network it
// means to cut.
const tabCookie = "duplex-test-tab"

// site is shared by every test of the package that needs it.
var site testSite

// liveSite builds the front end and starts the server on first use, and
// returns the server's URL.
func liveSite(t testing.TB) string {
	t.Helper()
	site.once.Do(func() { site.err = site.start(t) })
	if site.err != nil {
		t.Fatalf("serving a build of the front end: %v", site.err)
	}
	return site.srv.URL
}

func (s *testSite) start(t testing.TB) error {
	root := findRepoRoot()
	if root == "" {
		return errors.New("the tests do not run inside duplex's checkout")
	}
	dir, err := os.MkdirTemp("", "duplex-web-test-")
	if err != nil {
		return err
	}
	s.dir = dir
	start := time.Now()
	if _, err := frontend.Build(context.Background(), frontend.Options{Root: root, OutDir: dir, Quick: true}); err != nil {
		return err
	}
	s.conns = &ws.Group{}
	s.tcp, s.owners = map[string]net.Conn{}, map[string]string{}
	router := NewRouter(Config{Assets: os.DirFS(dir), Conns: s.conns})
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(tabCookie); err == nil {
			s.mu.Lock()
			s.owners[r.RemoteAddr] = c.Value
			s.mu.Unlock()
		}
		router.ServeHTTP(w, r)
	}))
	s.srv.Config.ConnState = func(c net.Conn, state http.ConnState) {
		addr := c.RemoteAddr().String()
		s.mu.Lock()
		defer s.mu.Unlock()
		switch state {
		case http.StateNew:
			s.tcp[addr] = c
			delete(s.owners, addr) // a port used before by another connection
		case http.StateClosed: // a hijacked connection, such as a WebSocket, never gets here
			delete(s.tcp, addr)
			delete(s.owners, addr)
		}
	}
	s.srv.Listener = lab.RecordHeads(s.srv.Listener) // as server/main.go does, for the lab's raw handshake
	s.srv.Start()
	t.Logf("built the front end in %v; serving it at %s", time.Since(start).Round(time.Millisecond), s.srv.URL)
	return nil
}

// dropConns closes, without a word, every TCP connection that requests
// with the tabCookie value owner came on, WebSockets included — as a
// network that fails does, seen from the server — and returns how many it
// closed.
func (s *testSite) dropConns(owner string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for addr, o := range s.owners {
		if c := s.tcp[addr]; o == owner && c != nil {
			c.Close()
			delete(s.tcp, addr)
			delete(s.owners, addr)
			n++
		}
	}
	return n
}

// close stops the server, closing the WebSockets still open, and removes
// the build.
func (s *testSite) close() {
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.conns.Close(ctx, wire.StatusGoingAway, "the tests are over")
		cancel()
		s.srv.Close()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// openPage starts a browser, opens the page at path on the live site and
// waits until it has loaded.
func openPage(t *testing.T, path string) *browsertest.Browser {
	t.Helper()
	b := browsertest.Start(t) // first: it skips the test if there is no browser
	b.Do(chromedp.Navigate(liveSite(t) + path))
	return b
}

// text returns the text of the first element matching the CSS selector, or
// fails the test if there is none.
func text(tab *browsertest.Tab, selector string) string {
	return browsertest.Eval[string](tab, `document.querySelector(`+strconv.Quote(selector)+`).textContent`)
}

// texts returns the text of every element matching the CSS selector.
func texts(tab *browsertest.Tab, selector string) []string {
	return browsertest.Eval[[]string](tab, `[...document.querySelectorAll(`+strconv.Quote(selector)+`)].map(e => e.textContent)`)
}

// waitLive waits until the page's Go app says, on the status line, that it
// is ready.
func waitLive(tab *browsertest.Tab) {
	tab.WaitFor("the Go app to be live", `document.querySelector("#status").dataset.state === "live"`)
}

func TestIndexPageInBrowser(t *testing.T) {
	b := openPage(t, "/")
	b.WaitFor("the page to load", `document.readyState === "complete"`)

	if got, want := browsertest.Eval[string](b.Tab, `document.title`), "Duplex demos · Duplex"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	demos := browsertest.Eval[[]string](b.Tab, `[...document.querySelectorAll("ul.demos a")].map(a => a.getAttribute("href"))`)
	if want := []string{"/echo", "/chat", "/playground", "/lab"}; !slices.Equal(demos, want) {
		t.Errorf("the demos link to %q, want %q", demos, want)
	}
	if got := browsertest.Eval[bool](b.Tab, `document.querySelector("#status") === null`); !got {
		t.Error("the index page has a status line, but no app to run")
	}

	// Following a link opens the demo, whose app starts.
	b.Do(chromedp.Click(chromedp.CSS(`ul.demos a[href="/echo"]`)))
	b.WaitFor("the echo page", `location.pathname === "/echo"`)
	waitLive(b.Tab)
	b.CheckNoConsoleErrors()
}

func TestEchoPageInBrowser(t *testing.T) {
	b := openPage(t, "/echo")
	waitLive(b.Tab)
	if got, want := text(b.Tab, "#echo-url"), "ws"+liveSite(t)[len("http"):]+"/ws/echo"; got != want {
		t.Errorf("#echo-url reads %q, want %q", got, want)
	}

	// A text message, not all ASCII, comes back identical.
	const msg = "Grüße aus dem Browser 👋"
	b.Do(
		chromedp.Clear(chromedp.ID("echo-text")),
		chromedp.SendKeys(chromedp.ID("echo-text"), msg), // typed, key by key
		chromedp.Click(chromedp.ID("send-text")),
	)
	b.WaitFor("the text's echo", `document.querySelectorAll("#echo-log li.in").length === 1`)
	wantText := regexp.MustCompile(`^← text ` + strconv.Itoa(len(msg)) + ` B ` + regexp.QuoteMeta(strconv.Quote(msg)) +
		` in \d+\.\d ms ✓ identical$`)
	if got := text(b.Tab, "#echo-log li.in"); !wantText.MatchString(got) {
		t.Errorf("the text's echo reads %q, want a match for %s", got, wantText)
	}

	// 70000 bytes of binary, shown as KiB with one decimal, come back identical.
	b.Do(
		chromedp.SetValue(chromedp.ID("echo-size"), "70000"),
		chromedp.Click(chromedp.ID("send-binary")),
	)
	b.WaitFor("the binary message's echo", `document.querySelectorAll("#echo-log li.in").length === 2`)
	wantBinary := regexp.MustCompile(`^← binary 68\.4 KiB in \d+\.\d ms ✓ identical$`)
	if got := texts(b.Tab, "#echo-log li.in")[1]; !wantBinary.MatchString(got) {
		t.Errorf("the binary echo reads %q, want a match for %s", got, wantBinary)
	}

	sent := texts(b.Tab, "#echo-log li.out")
	if want := []string{"→ text " + strconv.Itoa(len(msg)) + " B " + strconv.Quote(msg), "→ binary 68.4 KiB"}; !slices.Equal(sent, want) {
		t.Errorf("the log shows as sent %q, want %q", sent, want)
	}
	b.WaitFor("two round trips to be counted", `document.querySelector("#echo-count").textContent === "2"`)
	if got := text(b.Tab, "#echo-rtt"); !regexp.MustCompile(`^\d+\.\d ms for 68\.4 KiB$`).MatchString(got) {
		t.Errorf("#echo-rtt reads %q", got)
	}
	if errs := texts(b.Tab, "#echo-log li.err"); len(errs) > 0 {
		t.Errorf("the log shows errors: %q", errs)
	}
	b.CheckNoConsoleErrors()
}

func TestPlaygroundPageInBrowser(t *testing.T) {
	b := openPage(t, "/playground")
	waitLive(b.Tab)

	b.Do(
		chromedp.SetValue(chromedp.ID("pg-protocols"), "echo, chat"),
		chromedp.Click(chromedp.ID("pg-connect")),
	)
	b.WaitFor("the socket to open", `document.querySelector("#pg-ready-state").textContent === "1 OPEN"`)
	for sel, want := range map[string]string{
		"#pg-protocol":   `"echo"`,
		"#pg-extensions": `"" (none)`,
		"#pg-socket-url": "ws" + liveSite(t)[len("http"):] + "/ws/echo",
	} {
		if got := text(b.Tab, sel); got != want {
			t.Errorf("%s reads %q, want %q", sel, got, want)
		}
	}

	// send() is enabled once the socket is open.
	b.WaitFor("send() to be enabled", `!document.querySelector("#pg-send").disabled`)
	b.Do(
		chromedp.SetValue(chromedp.ID("pg-message"), "hello"),
		chromedp.Click(chromedp.ID("pg-send")),
	)
	b.WaitFor("the echo of hello", `[...document.querySelectorAll("#pg-events li")].some(li => li.textContent === 'message: text, 5 B: "hello"')`)

	b.Do(
		chromedp.SetValue(chromedp.ID("pg-code"), "4000"),
		chromedp.SetValue(chromedp.ID("pg-reason"), "bye"),
		chromedp.Click(chromedp.ID("pg-close")),
	)
	b.WaitFor("the socket to close", `document.querySelector("#pg-ready-state").textContent === "3 CLOSED"`)
	if got, want := text(b.Tab, "#pg-close-event"), `code 4000, reason "bye", wasClean true`; got != want {
		t.Errorf("#pg-close-event reads %q, want %q", got, want)
	}

	// The log shows every call, every event, and each readyState the
	// socket went through, in order.
	want := []string{
		`new WebSocket("/ws/echo", ["echo", "chat"])`,
		`readyState → 0 CONNECTING`,
		`open`,
		`readyState → 1 OPEN`,
		`send: text, 5 B: "hello"`,
		`message: text, 5 B: "hello"`,
		`close(4000, "bye")`,
		`readyState → 2 CLOSING`,
		`close: code 4000 (` + wire.StatusCode(4000).String() + `), reason "bye", wasClean true`,
		`readyState → 3 CLOSED`,
	}
	if got := texts(b.Tab, "#pg-events li"); !slices.Equal(got, want) {
		t.Errorf("the event log reads\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	if !browsertest.Eval[bool](b.Tab, `document.querySelector("#pg-send").disabled && document.querySelector("#pg-close").disabled`) {
		t.Error("send() and close() are still enabled after the close")
	}
	b.CheckNoConsoleErrors()
}
