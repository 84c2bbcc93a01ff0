package dev

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"duplex/frontend"
	"duplex/frontend/browsertest"
)

// page is a page as the site's layout marks it for development, with the
// front end's real script and stylesheet, built as the dev loop builds
// them. It counts its loads in sessionStorage.
const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dev</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">
<script>sessionStorage.loads = (+sessionStorage.loads || 0) + 1;</script>
</head><body data-app="echo" data-wasm="" data-dev><main><h1>A page</h1></main>
<script src="/static/main.js" defer></script></body></html>`

// TestOverlayInBrowser drives frontend/src/dev.js in Chromium: a failed
// build's errors over the page, file:line linked to the source viewer;
// the overlay gone and the stylesheet swapped without a reload; a reload
// only for a page whose app was rebuilt; the error page while no server
// runs, which turns into the page once one does; and no console errors
// on the way.
func TestOverlayInBrowser(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	static := t.TempDir()
	if err := (frontend.DevBuild{Root: "../..", Dir: static}).Update(ctx, nil, true); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.Dir(static))))
	site := backend(t, mux)

	p := newProxy()
	srv := front(t, p)
	p.serveFrom(site)

	b := browsertest.Start(t)
	b.Do(chromedp.Navigate(srv + "/"))
	waitListening(t, p, 1)
	browsertest.Eval[string](b.Tab, `window.marker = "this load"`)

	p.tell(event{Kind: "failed", Text: "# duplex/server/echo\nserver/echo/demo.go:12:2: undefined: x\n./shared/wire/frame.go:40: and another"})
	b.WaitFor("the errors over the page", `document.querySelector("#dev-overlay") !== null`)
	links := browsertest.Eval[[]string](b.Tab, `[...document.querySelectorAll("#dev-overlay a")].map(a => a.getAttribute("href") + " " + a.textContent)`)
	want := []string{"/source/server/echo/demo.go#L12 server/echo/demo.go:12:2", "/source/shared/wire/frame.go#L40 ./shared/wire/frame.go:40"}
	if len(links) != len(want) || links[0] != want[0] || links[1] != want[1] {
		t.Errorf("the overlay links %q, want %q", links, want)
	}
	if text := browsertest.Eval[string](b.Tab, `document.querySelector("#dev-overlay pre").textContent`); text != "# duplex/server/echo\nserver/echo/demo.go:12:2: undefined: x\n./shared/wire/frame.go:40: and another" {
		t.Errorf("the overlay shows %q", text)
	}
	covers := browsertest.Eval[bool](b.Tab, `(() => { const r = document.querySelector("#dev-overlay").getBoundingClientRect(); return r.top === 0 && r.left === 0 && r.width === innerWidth && r.height === innerHeight; })()`)
	if !covers {
		t.Error("the overlay does not cover the page")
	}

	p.tell(event{Kind: "building", What: "main.js and style.css"})
	b.WaitFor("the badge", `document.querySelector("#dev-badge")?.textContent === "rebuilding: main.js and style.css"`)
	p.tell(event{Kind: "reload", CSS: true})
	b.WaitFor("the stylesheet swapped, the overlay and badge gone, without a reload",
		`window.marker === "this load" && document.querySelector("#dev-overlay") === null && document.querySelector("#dev-badge") === null &&
		 [...document.querySelectorAll('link[rel="stylesheet"]')].map(l => l.getAttribute("href")).join() .match(/^\/static\/style\.css\?v=\d+$/) !== null`)

	p.tell(event{Kind: "reload", Apps: []string{"chat"}})
	p.tell(event{Kind: "building", What: "after chat"})
	b.WaitFor("no reload for another app's page", `window.marker === "this load" && document.querySelector("#dev-badge")?.textContent === "rebuilding: after chat"`)
	p.tell(event{Kind: "reload", Apps: []string{"chat", "echo"}})
	b.WaitFor("a reload for the page's app", `window.marker === undefined && sessionStorage.loads === "2"`)
	waitListening(t, p, 1)

	p.tell(event{Kind: "failed", Text: "server/web/site.go:1:1: expected 'package'"})
	p.down()
	b.Do(chromedp.Navigate(srv + "/"))
	b.WaitFor("the error page", `document.querySelector("#dev-errors")?.textContent === "server/web/site.go:1:1: expected 'package'"`)
	waitListening(t, p, 1)
	p.serveFrom(site)
	p.tell(event{Kind: "reload", Page: true})
	b.WaitFor("the page once a server runs", `document.body.dataset.dev !== undefined && sessionStorage.loads === "3"`)
	b.CheckNoConsoleErrors()
}

// waitListening waits until n pages listen to the proxy's events.
func waitListening(t *testing.T, p *proxy, n int) {
	t.Helper()
	deadline := time.Now().Add(browsertest.DefaultTimeout)
	for {
		p.mu.Lock()
		got := len(p.pages)
		p.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pages listen to the dev events, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
