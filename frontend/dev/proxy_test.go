package dev

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"duplex/server/ws"
)

func backend(t *testing.T, h http.Handler) *url.URL {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u
}

func front(t *testing.T, p *proxy) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		p.close()
		srv.Close()
	})
	return srv
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
		status, body := get(t, srv.URL+"/page?x=1")
		answers <- answer{status, body}
	}()
	select {
	case a := <-answers:
		t.Fatalf("a request was answered (%d %q) before any server ran", a.status, a.body)
	case <-time.After(100 * time.Millisecond):
	}
	p.serve(backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "served "+r.URL.RequestURI()+" for "+r.Host)
	})))
	a := <-answers
	if want := "served /page?x=1 for " + strings.TrimPrefix(srv.URL, "http://"); a.status != http.StatusOK || a.body != want {
		t.Errorf("held request got %d %q, want 200 %q", a.status, a.body, want)
	}

	p.hold()
	go func() {
		status, body := get(t, srv.URL+"/again")
		answers <- answer{status, body}
	}()
	time.Sleep(50 * time.Millisecond)
	p.serve(backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "new server") })))
	if a := <-answers; a.body != "new server" {
		t.Errorf("a request held during a restart got %q, want the new server's answer", a.body)
	}
}

func TestProxyWithoutServer(t *testing.T) {
	p := newProxy()
	srv := front(t, p)
	p.tell(event{Kind: "failed", Text: "server/x.go:3:1: expected 'package' <found>"})
	p.down()
	status, body := get(t, srv.URL+"/echo")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "server/x.go:3:1: expected &#39;package&#39; &lt;found&gt;") {
		t.Errorf("with no server: %d %q, want 503 with the errors, escaped", status, body)
	}

	p.serve(&url.URL{Scheme: "http", Host: "127.0.0.1:1"}) // nothing listens there
	status, body = get(t, srv.URL+"/echo")
	if status != http.StatusBadGateway || !strings.Contains(body, "The server did not answer") {
		t.Errorf("with a server that is gone: %d %q, want 502 saying so", status, body)
	}
}

// TestProxyPassesWebSockets dials through the proxy to a WebSocket echo.
func TestProxyPassesWebSockets(t *testing.T) {
	p := newProxy()
	srv := front(t, p)
	p.serve(backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	origin := http.Header{"Origin": {srv.URL}} // a page's, checked against the Host the proxy passes on
	c, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws/echo", &ws.DialOptions{Header: origin})
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
	c, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+EventsPath, nil)
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
