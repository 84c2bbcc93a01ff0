package dev

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"duplex/server/ws"
)

// backend serves h and returns its host:port.
func backend(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// front serves p on a loopback port and returns its URL.
func front(t *testing.T, p *proxy) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go p.serve(ln)
	t.Cleanup(func() {
		ln.Close()
		p.close()
	})
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// TestProxyHoldsRequests checks that a request made while the server
// restarts waits for it, rather than failing.
func TestProxyHoldsRequests(t *testing.T) {
	p := newProxy() // holding from the start: no server yet
	srv := front(t, p)
	type answer struct {
		status int
		body   string
	}
	answers := make(chan answer, 1)
	go func() {
		status, body := get(t, srv+"/page?x=1")
		answers <- answer{status, body}
	}()
	select {
	case a := <-answers:
		t.Fatalf("a request was answered (%d %q) before any server ran", a.status, a.body)
	case <-time.After(100 * time.Millisecond):
	}
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "served "+r.URL.RequestURI()+" for "+r.Host)
	}))
	t.Cleanup(old.Close)
	p.serveFrom(strings.TrimPrefix(old.URL, "http://"))
	a := <-answers
	if want := "served /page?x=1 for " + strings.TrimPrefix(srv, "http://"); a.status != http.StatusOK || a.body != want {
		t.Errorf("held request got %d %q, want 200 %q", a.status, a.body, want)
	}

	// A restart: the proxy holds, the old server stops (closing the
	// client's idle connection to it), a new one starts.
	p.hold()
	old.Close()
	go func() {
		status, body := get(t, srv+"/again")
		answers <- answer{status, body}
	}()
	time.Sleep(50 * time.Millisecond)
	p.serveFrom(backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "new server") })))
	if a := <-answers; a.body != "new server" {
		t.Errorf("a request held during a restart got %q, want the new server's answer", a.body)
	}
}

func TestProxyWithoutServer(t *testing.T) {
	p := newProxy()
	srv := front(t, p)
	p.tell(event{Kind: "failed", Text: "server/x.go:3:1: expected 'package' <found>"})
	p.down()
	status, body := get(t, srv+"/echo")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "server/x.go:3:1: expected &#39;package&#39; &lt;found&gt;") {
		t.Errorf("with no server: %d %q, want 503 with the errors, escaped", status, body)
	}

	p.serveFrom("127.0.0.1:1") // nothing listens there
	status, body = get(t, srv+"/echo")
	if status != http.StatusBadGateway || !strings.Contains(body, "The server did not answer at 127.0.0.1:1") {
		t.Errorf("with a server that is gone: %d %q, want 502 saying so", status, body)
	}
}

// TestProxyPassesWebSockets dials through the proxy to a WebSocket echo.
func TestProxyPassesWebSockets(t *testing.T) {
	p := newProxy()
	srv := front(t, p)
	p.serveFrom(backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&ws.Upgrader{}).Upgrade(w, r)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.ReadMessage(r.Context(), nil)
			if err != nil {
				return
			}
			c.WriteMessage(r.Context(), typ, msg)
		}
	})))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	origin := http.Header{"Origin": {srv}} // a page's, checked against the Host the proxy passes on
	c, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv, "http")+"/ws/echo", &ws.DialOptions{Header: origin})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.WriteMessage(ctx, ws.Text, []byte("through the proxy")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.ReadMessage(ctx, nil); err != nil || string(msg) != "through the proxy" {
		t.Errorf("echo = %q, %v", msg, err)
	}
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Errorf("Close = %v", err)
	}
}

// TestProxyEvents listens as a page does.
func TestProxyEvents(t *testing.T) {
	p := newProxy()
	srv := front(t, p)
	p.tell(event{Kind: "failed", Text: "before the page came"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv, "http")+EventsPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	next := func() event {
		t.Helper()
		_, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var e event
		if err := json.Unmarshal(msg, &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	if e := next(); e.Kind != "failed" || e.Text != "before the page came" {
		t.Errorf("a page that comes while a build has failed first hears %+v, want the failure", e)
	}
	p.tell(event{Kind: "reload", Apps: []string{"chat"}, CSS: true})
	if e := next(); e.Kind != "reload" || len(e.Apps) != 1 || e.Apps[0] != "chat" || !e.CSS {
		t.Errorf("then %+v, want the reload", e)
	}
	p.mu.Lock()
	failure := p.failure
	p.mu.Unlock()
	if failure != "" {
		t.Errorf("after a reload the proxy still shows %q", failure)
	}
}

// TestProxyPassesBytes sends a draft-76 handshake through the proxy: its
// head, with the spelling and order the client chose, and the eight bytes
// after it, which are no HTTP body, must reach the server as sent.
func TestProxyPassesBytes(t *testing.T) {
	const sent = "GET /ws/hixie76 HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nhost: example.com\r\nOrigin: http://example.com\r\n" +
		"Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\n^n:ds[4U"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	received := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, len(sent))
		n, _ := io.ReadFull(c, buf)
		received <- string(buf[:n])
		io.WriteString(c, "HTTP/1.1 101 WebSocket Protocol Handshake\r\n\r\n8jKS'y:G*Co,Wxa-")
	}()

	p := newProxy()
	srv := front(t, p)
	p.serveFrom(ln.Addr().String())
	c, err := net.Dial("tcp", strings.TrimPrefix(srv, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, sent); err != nil {
		t.Fatal(err)
	}
	if got := <-received; got != sent {
		t.Errorf("the server received\n%q\nwant\n%q", got, sent)
	}
	answer, _ := io.ReadAll(c)
	if want := "HTTP/1.1 101 WebSocket Protocol Handshake\r\n\r\n8jKS'y:G*Co,Wxa-"; string(answer) != want {
		t.Errorf("the client received %q, want %q", answer, want)
	}
}
