// Package webtest serves the site, with its front end built, for tests
// that open its pages in headless Chromium (duplex/frontend/browsertest):
// each demo's package tests its page with the demo alone, and the
// command's test opens every page of the list.
package webtest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"duplex/frontend"
	"duplex/frontend/browsertest"
	"duplex/server/web"
	"duplex/server/ws"
)

// TabCookie names the browser context that a request comes from, for
// DropConns: a test sets it in the context of the tab whose network it
// means to cut.
const TabCookie = "duplex-test-tab"

// A Site is the front end built into a temporary directory and served,
// with the demos' endpoints, by web.NewSite on a loopback port.
type Site struct {
	URL   string // http://127.0.0.1:port
	Conns *ws.Group

	dir  string
	srv  *httptest.Server
	site *web.Site

	// What stands between the browser and the site; see SetMiddlebox.
	middlebox atomic.Int32

	// The TCP connections, and which tab opened them, for DropConns.
	mu     sync.Mutex
	tcp    map[string]net.Conn // by remote address
	owners map[string]string   // remote address → the TabCookie of its requests
}

// Start builds the apps of demos and serves them; logf, if not nil, is
// told how long the build took.
func Start(demos []web.Demo, logf func(format string, args ...any)) (*Site, error) {
	root := moduleRoot()
	if root == "" {
		return nil, errors.New("the tests do not run inside the module's checkout")
	}
	dir, err := os.MkdirTemp("", "duplex-web-test-")
	if err != nil {
		return nil, err
	}
	s := &Site{dir: dir, Conns: &ws.Group{}, tcp: map[string]net.Conn{}, owners: map[string]string{}}
	apps := []string{}
	for _, d := range demos {
		if d.App != "" {
			apps = append(apps, d.App)
		}
	}
	start := time.Now()
	if _, err := frontend.Build(context.Background(), frontend.Options{Root: root, OutDir: dir, Quick: true, Apps: apps}); err != nil {
		s.Close()
		return nil, err
	}
	s.site, err = web.NewSite(web.Config{Assets: os.DirFS(dir), Conns: s.Conns, Demos: demos, Source: true})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(TabCookie); err == nil {
			s.mu.Lock()
			s.owners[r.RemoteAddr] = c.Value
			s.mu.Unlock()
		}
		Middlebox(s.middlebox.Load()).Wrap(s.site).ServeHTTP(w, r)
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
	s.srv.Listener = s.site.Listener(s.srv.Listener)
	s.srv.Start()
	s.URL = s.srv.URL
	if logf != nil {
		logf("built the front end (%v) in %v; serving it at %s", apps, time.Since(start).Round(time.Millisecond), s.URL)
	}
	return s, nil
}

// moduleRoot returns the directory of the go.mod above the working
// directory, or "".
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// SetMiddlebox puts m between the browser and the site, for the requests
// that come from now on: a test of the HTTP stream fallback blocks
// WebSocket with it, and gives it back with Transparent.
func (s *Site) SetMiddlebox(m Middlebox) { s.middlebox.Store(int32(m)) }

// Metrics returns the site's metrics.
func (s *Site) Metrics() *web.Metrics { return s.site.Metrics() }

// DropConns closes, without a word, every TCP connection that requests
// with the TabCookie value owner came on, WebSockets included — as a
// network that fails does, seen from the server — and returns how many it
// closed.
func (s *Site) DropConns(owner string) int {
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

// Close stops the server, closing the WebSockets still open, and removes
// the build.
func (s *Site) Close() {
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.Conns.Close(ctx, ws.StatusGoingAway, "the tests are over")
		cancel()
		s.srv.Close()
	}
	if s.site != nil {
		s.site.Close()
	}
	os.RemoveAll(s.dir)
}

// Lazy is a Site started by the first test that needs it, shared by the
// tests of a package: building the front end takes seconds. A package's
// TestMain closes it.
type Lazy struct {
	Demos func() []web.Demo

	once sync.Once
	site *Site
	err  error
}

// Get returns the site, starting it on first use.
func (l *Lazy) Get(t testing.TB) *Site {
	t.Helper()
	l.once.Do(func() { l.site, l.err = Start(l.Demos(), t.Logf) })
	if l.err != nil {
		t.Fatalf("serving a build of the front end: %v", l.err)
	}
	return l.site
}

// Close closes the site, if it was started.
func (l *Lazy) Close() {
	if l.site != nil {
		l.site.Close()
	}
}

// OpenPage starts a browser, opens the page at path on the site and waits
// until it has loaded. Without a browser the test skips, unless the CI
// environment variable is set.
func (l *Lazy) OpenPage(t *testing.T, path string) *browsertest.Browser {
	t.Helper()
	b := browsertest.Start(t) // first: it skips the test if there is no browser
	b.Do(chromedp.Navigate(l.Get(t).URL + path))
	return b
}

// Text returns the text of the first element matching the CSS selector, or
// fails the test if there is none.
func Text(tab *browsertest.Tab, selector string) string {
	return browsertest.Eval[string](tab, `document.querySelector(`+strconv.Quote(selector)+`).textContent`)
}

// Texts returns the text of every element matching the CSS selector.
func Texts(tab *browsertest.Tab, selector string) []string {
	return browsertest.Eval[[]string](tab, `[...document.querySelectorAll(`+strconv.Quote(selector)+`)].map(e => e.textContent)`)
}

// WaitLive waits until the page's Go app says, on the status line, that it
// is ready.
func WaitLive(tab *browsertest.Tab) {
	tab.WaitFor("the Go app to be live", `document.querySelector("#status").dataset.state === "live"`)
}

// JSString returns s as a JavaScript string literal.
func JSString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
