package dev

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"duplex/server/ws"
)

// EventsPath is the WebSocket on which pages hear of builds (see
// frontend/src/dev.js).
const EventsPath = "/_dev/events"

// holdLimit bounds how long a connection waits for the server to restart.
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

// A proxy serves at the address users open. It works on connections,
// not requests: it reads a connection's first line and, unless that asks
// for EventsPath, passes the connection to the server byte for byte — so
// the lab shows the browser's own request heads, and every upgrade passes,
// draft-76's eight bytes after the head included. While the server
// restarts it holds new connections, so that a page never sees a refused
// one; while none runs, it serves a page with the errors itself. It tells
// the open pages, on EventsPath, of each build.
//
// A connection passed on stays with that server until one side closes
// it; a server that stops closes its idle ones, and the browser opens
// new ones, which reach the next server.
//
// The fields under mu are the dev loop's to change; connections read
// them.
type proxy struct {
	local    *http.Server // serves EventsPath and the error page
	handoff  *handoff     // the connections local serves
	upgrader ws.Upgrader

	mu      sync.Mutex
	target  string                  // the server's host:port; "" while none runs
	ready   chan struct{}           // closed unless the server is restarting
	failure string                  // the last build's errors; "" if it worked
	pages   map[*ws.Conn]struct{}   // listening on EventsPath
	passed  map[net.Conn]passedConn // connections passed on
}

func newProxy() *proxy {
	p := &proxy{
		handoff: newHandoff(),
		ready:   make(chan struct{}),
		pages:   map[*ws.Conn]struct{}{},
		passed:  map[net.Conn]passedConn{},
	}
	p.local = &http.Server{Handler: http.HandlerFunc(p.serveLocal), ErrorLog: log.New(io.Discard, "", 0)}
	go p.local.Serve(p.handoff)
	return p
}

// serve accepts connections on ln until it is closed.
func (p *proxy) serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go p.serveConn(c)
	}
}

// serveConn passes c to the server, or to the local server.
func (p *proxy) serveConn(c net.Conn) {
	// A browser may open a connection ahead of need and send nothing for
	// a while: wait for its first line, within reason.
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(5 * time.Minute))
	line, err := br.ReadSlice('\n')
	if err != nil && err != bufio.ErrBufferFull { // a longer line is no GET of EventsPath
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	rc := &replayConn{Conn: c, r: io.MultiReader(bytes.NewReader(append([]byte(nil), line...)), br)}
	if isEventsRequest(line) {
		p.handoff.push(rc)
		return
	}
	target, server, err := p.dial()
	if err != nil {
		p.handoff.push(rc) // the error page, which says why
		return
	}
	p.mu.Lock()
	p.passed[rc] = passedConn{server, target}
	p.mu.Unlock()
	splice(rc, server)
	p.mu.Lock()
	delete(p.passed, rc)
	p.mu.Unlock()
}

// isEventsRequest reports whether line is the request line of a GET of
// EventsPath.
func isEventsRequest(line []byte) bool {
	target, ok := bytes.CutPrefix(line, []byte("GET "))
	if !ok {
		return false
	}
	path, _, _ := bytes.Cut(target, []byte(" "))
	path, _, _ = bytes.Cut(path, []byte("?"))
	return string(path) == EventsPath
}

// dial connects to the server, waiting while it restarts. A connection
// that came as the server was stopping waits for the next one.
func (p *proxy) dial() (target string, server net.Conn, err error) {
	for attempt := 0; ; attempt++ {
		target = p.waitReady()
		if target == "" {
			return "", nil, errors.New("no server runs")
		}
		server, err = net.DialTimeout("tcp", target, 5*time.Second)
		if err == nil || attempt > 0 || !p.changedFrom(target) {
			return target, server, err
		}
	}
}

// changedFrom reports whether the proxy holds connections now, or passes
// them to another server than target.
func (p *proxy) changedFrom(target string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.ready:
		return p.target != target
	default:
		return true
	}
}

// waitReady waits while the server restarts, up to holdLimit, and returns
// its address, or "" if none runs (or it is still restarting).
func (p *proxy) waitReady() string {
	p.mu.Lock()
	ready := p.ready
	p.mu.Unlock()
	timer := time.NewTimer(holdLimit)
	defer timer.Stop()
	select {
	case <-ready:
	case <-timer.C:
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.target
}

// splice copies each way between a and b until both ways have ended,
// passing on a half close; then it closes both.
func splice(a, b net.Conn) {
	done := make(chan struct{}, 2)
	copyOneWay := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		} else {
			dst.Close()
		}
		done <- struct{}{}
	}
	go copyOneWay(b, a)
	go copyOneWay(a, b)
	<-done
	select { // a peer that half closed and never closes: let go after a while
	case <-done:
	case <-time.After(time.Minute):
	}
	a.Close()
	b.Close()
}

// A passedConn is the server's side of a connection passed on.
type passedConn struct {
	server net.Conn
	target string // the server's address
}

// A replayConn is a connection whose first bytes, already read, are read
// again.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// CloseWrite half closes the connection, as a TCP connection does.
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

// A handoff is the listener of the local server: the connections the
// proxy hands it.
type handoff struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newHandoff() *handoff {
	return &handoff{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (h *handoff) push(c net.Conn) {
	select {
	case h.conns <- c:
	case <-h.done:
		c.Close()
	}
}

func (h *handoff) Accept() (net.Conn, error) {
	select {
	case c := <-h.conns:
		return c, nil
	case <-h.done:
		return nil, net.ErrClosed
	}
}

func (h *handoff) Close() error {
	h.once.Do(func() { close(h.done) })
	return nil
}

func (h *handoff) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// hold makes new connections wait, from now until serve or down.
func (p *proxy) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.ready:
		p.ready = make(chan struct{})
	default: // already holding
	}
}

// serve passes connections to the server at addr, host:port.
func (p *proxy) serveFrom(addr string) { p.release(addr) }

// down has the errors served: no server runs.
func (p *proxy) down() { p.release("") }

// release lets held connections go on, to target or to the error page,
// and closes connections still passed to another server: a server that
// was stopped has closed them, and one that died may not have.
func (p *proxy) release(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
	for c, pc := range p.passed {
		if pc.target != target {
			c.Close()
			pc.server.Close()
		}
	}
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

// serveLocal serves what the proxy does not pass on: EventsPath, and,
// while no server runs, the error page, after which the connection
// closes, so that the next request, on a new connection, finds the server
// if one runs by then.
func (p *proxy) serveLocal(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == EventsPath {
		p.listen(w, r)
		return
	}
	w.Header().Set("Connection", "close")
	p.mu.Lock()
	target, failure := p.target, p.failure
	held := false
	select {
	case <-p.ready:
	default:
		held = true
	}
	p.mu.Unlock()
	switch {
	case held:
		http.Error(w, "the server is still restarting; try again", http.StatusServiceUnavailable)
	case target != "":
		p.errorPage(w, r, http.StatusBadGateway, "The server did not answer at "+target+".")
	case failure != "":
		p.errorPage(w, r, http.StatusServiceUnavailable, failure)
	default:
		p.errorPage(w, r, http.StatusServiceUnavailable, "The server is not running.")
	}
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

// close closes the pages' WebSockets, the connections passed on and the
// local server: the dev server is stopping.
func (p *proxy) close() {
	p.mu.Lock()
	pages := make([]*ws.Conn, 0, len(p.pages))
	for c := range p.pages {
		pages = append(pages, c)
	}
	for c, pc := range p.passed {
		c.Close()
		pc.server.Close()
	}
	p.mu.Unlock()
	for _, c := range pages {
		c.Close(ws.StatusGoingAway, "go run build.go dev stopped")
	}
	p.handoff.Close()
	p.local.Close()
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
