package dev

import (
	"context"
	"encoding/json"
	"html/template"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"duplex/server/ws"
)

// EventsPath is the WebSocket on which pages hear of builds (see
// frontend/src/dev.js).
const EventsPath = "/_dev/events"

// holdLimit bounds how long a request waits for the server to restart.
const holdLimit = 30 * time.Second

// An event is what the pages hear, as JSON.
type event struct {
	Kind string   `json:"kind"`           // building, failed, ok or reload
	What string   `json:"what,omitempty"` // building: what is being rebuilt
	Text string   `json:"text,omitempty"` // failed: the errors
	Page bool     `json:"page,omitempty"` // reload: every page (the server or the script changed)
	Apps []string `json:"apps,omitempty"` // reload: pages running these apps
	CSS  bool     `json:"css,omitempty"`  // reload: the stylesheet changed
}

// A proxy serves at the address users open: it passes requests, the
// WebSocket upgrades among them, to the server; holds them while the
// server restarts, so that a page never sees a refused connection; serves
// a page with the errors when no server runs; and tells the open pages,
// on EventsPath, of each build.
//
// Its fields are guarded by mu; the dev loop changes them, requests read
// them.
type proxy struct {
	rp       *httputil.ReverseProxy
	upgrader ws.Upgrader

	mu      sync.Mutex
	target  *url.URL              // the server; nil while none runs
	ready   chan struct{}         // closed unless the server is restarting
	failure string                // the last build's errors; "" if it worked
	pages   map[*ws.Conn]struct{} // listening on EventsPath
}

type targetKey struct{}

func newProxy() *proxy {
	p := &proxy{ready: make(chan struct{}), pages: map[*ws.Conn]struct{}{}}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(r.In.Context().Value(targetKey{}).(*url.URL))
			r.Out.Host = r.In.Host // the server checks Origin against it
		},
		FlushInterval: -1,                         // streams (the fallback transport) pass as they come
		ErrorLog:      log.New(io.Discard, "", 0), // errors go to ErrorHandler
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the page went away
			}
			p.errorPage(w, r, http.StatusBadGateway, "The server did not answer: "+err.Error())
		},
	}
	return p
}

// hold makes requests wait, from now until serve or down.
func (p *proxy) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.ready:
		p.ready = make(chan struct{})
	default: // already holding
	}
}

// serve sends requests to the server at target.
func (p *proxy) serve(target *url.URL) { p.release(target) }

// down answers requests with the errors: no server runs.
func (p *proxy) down() { p.release(nil) }

func (p *proxy) release(target *url.URL) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
	select {
	case <-p.ready:
	default:
		close(p.ready)
	}
}

// tell sends e to every page, and remembers a failure for pages that
// come later (and for the error page).
func (p *proxy) tell(e event) {
	p.mu.Lock()
	switch e.Kind {
	case "failed":
		p.failure = e.Text
	case "ok", "reload":
		p.failure = ""
	}
	pages := make([]*ws.Conn, 0, len(p.pages))
	for c := range p.pages {
		pages = append(pages, c)
	}
	p.mu.Unlock()
	msg, _ := json.Marshal(e)
	for _, c := range pages {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.WriteMessage(ctx, ws.Text, msg) // a page that cannot take it is closed by its end
		cancel()
	}
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == EventsPath {
		p.listen(w, r)
		return
	}
	p.mu.Lock()
	ready := p.ready
	p.mu.Unlock()
	timer := time.NewTimer(holdLimit)
	defer timer.Stop()
	select {
	case <-ready:
	case <-r.Context().Done():
		return
	case <-timer.C:
		http.Error(w, "the server is still restarting; try again", http.StatusServiceUnavailable)
		return
	}
	p.mu.Lock()
	target, failure := p.target, p.failure
	p.mu.Unlock()
	if target == nil {
		if failure == "" {
			failure = "The server is not running."
		}
		p.errorPage(w, r, http.StatusServiceUnavailable, failure)
		return
	}
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, target)))
}

// listen keeps a page's WebSocket on EventsPath until it closes.
func (p *proxy) listen(w http.ResponseWriter, r *http.Request) {
	c, err := p.upgrader.Upgrade(w, r)
	if err != nil {
		return // Upgrade answered
	}
	p.mu.Lock()
	p.pages[c] = struct{}{}
	failure := p.failure
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.pages, c)
		p.mu.Unlock()
		c.CloseNow()
	}()
	if failure != "" {
		msg, _ := json.Marshal(event{Kind: "failed", Text: failure})
		if c.WriteMessage(r.Context(), ws.Text, msg) != nil {
			return
		}
	}
	for {
		if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
			return // the page went away, or close closed it
		}
	}
}

// close closes the pages' WebSockets: the dev server is stopping.
func (p *proxy) close() {
	p.mu.Lock()
	pages := make([]*ws.Conn, 0, len(p.pages))
	for c := range p.pages {
		pages = append(pages, c)
	}
	p.mu.Unlock()
	for _, c := range pages {
		c.Close(ws.StatusGoingAway, "go run build.go dev stopped")
	}
}

// errorPage is served in place of the site while no server runs: the
// errors, and a script that reloads once a build works.
var errorPage = template.Must(template.New("").Parse(`<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The build failed · Duplex</title>
<link rel="icon" href="data:,">
<style>
body { margin: 0; padding: 1.5rem 2rem; background: #1d1f23; color: #f6f8fa; font: 16px/1.5 system-ui, sans-serif; }
h1 { margin: 0 0 0.25rem; font-size: 1.4rem; color: #ff8182; }
p { margin: 0 0 1rem; color: #c9d1d9; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font: 0.9rem/1.45 ui-monospace, Menlo, Consolas, monospace; }
</style>
<h1>No server is running</h1>
<p>Fix what is below and save: this page reloads by itself once the build works.</p>
<pre id="dev-errors">{{.}}</pre>
<script>
const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/_dev/events");
socket.onmessage = (e) => {
  const ev = JSON.parse(e.data);
  if (ev.kind === "failed") document.getElementById("dev-errors").textContent = ev.text;
  if (ev.kind === "ok" || ev.kind === "reload") location.reload();
};
</script>
</html>
`))

// errorPage answers with the page of errors: with status, unless the
// request is a page's navigation, which gets 200 so that the browser's
// console stays clean while the page waits for a good build.
func (p *proxy) errorPage(w http.ResponseWriter, r *http.Request, status int, text string) {
	if r.Header.Get("Sec-Fetch-Mode") == "navigate" {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	errorPage.Execute(w, text)
}
