package web

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"duplex/server/ws"
)

// get serves a GET of path from h and returns the response and its body.
func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// fakeBuild is what a page needs of a build: only the manifest.
var fakeBuild = fstest.MapFS{
	"manifest.json": {Data: []byte(`{"demo.wasm": "demo.0123456789.wasm", "main.js": "main.abcdef0123.js", "style.css": "style.a1b2c3d4e5.css"}`)},
}

// fakeDemo is a demo as the core sees one: a page, an endpoint that
// counts, a flag, and something to release on Close.
func fakeDemo(closed *bool) Demo {
	greeting := "hello"
	return Demo{
		Name: "fake", Nav: "Fake", Path: "/fake", Title: "A fake demo", About: "Only for the core's tests.", App: "demo",
		Source: []SourceLink{{"the demo", "server/web/site_test.go"}},
		Page: func(p Page) templ.Component {
			return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
				return Layout(p).Render(templ.WithChildren(ctx, templ.Raw("<p id=fake>"+greeting+"</p>")), w)
			})
		},
		Flags: func(fs *flag.FlagSet) { fs.StringVar(&greeting, "greeting", greeting, "what the fake page says") },
		Mount: func(r chi.Router, env *Env) error {
			stats := &ws.Stats{}
			env.Metrics.Endpoint("fake", stats)
			u := &ws.Upgrader{Group: env.Conns, Stats: stats}
			r.Handle("/ws/fake", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c, err := u.Upgrade(w, r); err == nil {
					c.CloseNow()
				}
			}))
			env.OnClose(func() { *closed = true })
			return nil
		},
	}
}

func TestSiteMountsDemos(t *testing.T) {
	var closed bool
	d := fakeDemo(&closed)
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	d.Flags(fs)
	if err := fs.Parse([]string{"-greeting", "hi there"}); err != nil {
		t.Fatal(err)
	}
	s, err := NewSite(Config{Assets: fakeBuild, Demos: []Demo{d}})
	if err != nil {
		t.Fatal(err)
	}

	_, index := get(t, s, "/")
	for _, want := range []string{`<a href="/fake">A fake demo</a>`, `<span>Only for the core&#39;s tests.</span>`, `<a href="/fake">Fake</a>`} {
		if !strings.Contains(index, want) {
			t.Errorf("the index lacks %s", want)
		}
	}
	res, page := get(t, s, "/fake")
	for _, want := range []string{`<title>A fake demo · Duplex</title>`, `<p id=fake>hi there</p>`, `<a href="/fake" aria-current="page">Fake</a>`, `data-wasm="/static/demo.0123456789.wasm"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	if strings.Contains(page, "/source/") {
		t.Error("the page links to the source viewer, which is off")
	}
	if res, _ := get(t, s, "/source/server/web/site.go"); res.StatusCode != http.StatusNotFound {
		t.Errorf("/source/ with the viewer off: %d, want 404", res.StatusCode)
	}
	if res, _ := get(t, s, "/ws/fake"); res.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("GET /ws/fake: %d, want 426 from the demo's endpoint", res.StatusCode)
	}
	_, metrics := get(t, s, "/metrics")
	for _, want := range []string{`duplex_websocket_handshakes_total{endpoint="fake",status="426"} 1`, `duplex_websocket_open{endpoint="fake"} 0`, "go_goroutines"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	s.Close()
	if !closed {
		t.Error("Close did not release what the demo opened")
	}
}

func TestSiteSourceViewer(t *testing.T) {
	var closed bool
	s, err := NewSite(Config{Assets: fakeBuild, Demos: []Demo{fakeDemo(&closed)}, Source: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, page := get(t, s, "/fake"); !strings.Contains(page, `<a href="/source/server/web/site_test.go"><code>server/web/site_test.go</code> the demo</a>`) {
		t.Error("the page does not link to its source")
	}
	if res, body := get(t, s, "/source/server/web/site.go"); res.StatusCode != http.StatusOK || !strings.Contains(body, `<span class="k">package</span> web`) {
		t.Errorf("/source/server/web/site.go: %d", res.StatusCode)
	}
}

func TestSiteDemoFails(t *testing.T) {
	_, err := NewSite(Config{Assets: fakeBuild, Demos: []Demo{{Name: "broken", Path: "/broken",
		Page:  func(p Page) templ.Component { return Layout(p) },
		Mount: func(chi.Router, *Env) error { return errors.New("no broker") },
	}}})
	if err == nil || !strings.Contains(err.Error(), "the broken demo: no broker") {
		t.Fatalf("NewSite: %v, want the demo's error", err)
	}
}

func TestHealthz(t *testing.T) {
	s, err := NewSite(Config{Assets: fakeBuild})
	if err != nil {
		t.Fatal(err)
	}
	if res, body := get(t, s, "/healthz"); res.StatusCode != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", res.StatusCode, body)
	}
	s.Shutdown()
	if res, body := get(t, s, "/healthz"); res.StatusCode != http.StatusServiceUnavailable || body != "shutting down\n" {
		t.Errorf("/healthz after Shutdown: %d %q, want 503", res.StatusCode, body)
	}
	s.Close()
}
