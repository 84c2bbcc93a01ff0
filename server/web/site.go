// Package web is the site's shell: the router, the page layout and the
// index, the built front end, the source viewer, /healthz and /metrics.
// The demos plug into it (demo.go); it imports none of them.
package web

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"duplex/server/ws"
)

// KeepAlive is how often idle WebSocket peers are pinged; one that does
// not answer within the next interval is disconnected.
const KeepAlive = 30 * time.Second

// Config holds what the site needs from the program.
type Config struct {
	Log    *slog.Logger
	Conns  *ws.Group // every WebSocket connection, for shutdown
	Assets fs.FS     // the built front end; nil for the embedded one
	Demos  []Demo    // the demos served, in the navigation's order

	// Dev marks the pages for `go run build.go dev` (package frontend/dev):
	// they listen to it for reloads and build errors.
	Dev bool

	// Source serves the files of the checkout the server runs from under
	// /source/, for the workshop: `go run build.go serve` and `dev` turn
	// it on; a deployed binary leaves it off.
	Source bool
}

// A Site serves every page and endpoint. Create it with NewSite, serve it
// with net/http, and Close it after the server's shutdown.
type Site struct {
	router   chi.Router
	demos    []Demo
	env      *Env
	stopping chan struct{}
	stopOnce sync.Once
	closing  atomic.Bool
}

// NewSite mounts the demos and returns the site. It fails if a demo
// cannot start, such as a chat that cannot reach its NATS server.
func NewSite(cfg Config) (*Site, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Conns == nil {
		cfg.Conns = &ws.Group{}
	}
	if cfg.Assets == nil {
		cfg.Assets = Embedded()
	}
	assets, err := LoadAssets(cfg.Assets)
	if err != nil {
		cfg.Log.Warn("pages will not work", "err", err)
	}
	s := &Site{router: chi.NewRouter(), demos: cfg.Demos, stopping: make(chan struct{})}
	s.env = &Env{Log: cfg.Log, Conns: cfg.Conns, KeepAlive: KeepAlive, Stopping: s.stopping, Metrics: NewMetrics()}

	r := s.router
	r.Use(noCacheHTML)
	nav := []NavLink{{"/", "Demos"}}
	for _, d := range cfg.Demos {
		nav = append(nav, NavLink{d.Path, d.Nav})
	}
	s.env.page = Page{Assets: assets, Dev: cfg.Dev, Nav: nav, ShowSource: cfg.Source}
	page := func(path, title, app string, source []SourceLink, view func(Page) templ.Component) {
		base := s.env.Page(path, title)
		base.App, base.Source = app, source
		r.Get(path, func(w http.ResponseWriter, req *http.Request) {
			p := base
			p.Query = req.URL.Query() // for a page with a GET form, such as the lab's
			templ.Handler(view(p)).ServeHTTP(w, req)
		})
	}
	page("/", "Duplex demos", "", []SourceLink{{"this page", "server/web/index.templ"}, {"the demos", "server/cmd/duplex/demos.go"}},
		func(p Page) templ.Component { return indexPage(p, cfg.Demos) })
	for _, d := range cfg.Demos {
		page(d.Path, d.Title, d.App, d.Source, d.Page)
		if d.Mount != nil {
			if err := d.Mount(r, s.env); err != nil {
				s.Close()
				return nil, errors.New("the " + d.Name + " demo: " + err.Error())
			}
		}
	}
	if assets != nil {
		r.Get(staticPrefix+"*", assets.ServeHTTP)
	}
	if cfg.Source {
		viewer := source{root: findModuleRoot(), page: s.env.page}
		r.Get(strings.TrimSuffix(SourcePrefix, "/"), http.RedirectHandler(SourcePrefix, http.StatusMovedPermanently).ServeHTTP)
		r.Get(SourcePrefix+"*", viewer.ServeHTTP)
	}
	r.Get("/healthz", s.healthz)
	r.Handle("/metrics", s.env.Metrics)
	return s, nil
}

// ServeHTTP serves a request.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Metrics returns the site's metrics.
func (s *Site) Metrics() *Metrics { return s.env.Metrics }

// Listener wraps ln as the mounted demos need.
func (s *Site) Listener(ln net.Listener) net.Listener {
	for _, d := range s.demos {
		if d.Listener != nil {
			ln = d.Listener(ln)
		}
	}
	return ln
}

// Shutdown tells the site that the server is shutting down: /healthz
// fails from now on, so that a load balancer stops sending traffic, and
// demos that hold streams open let them go.
func (s *Site) Shutdown() {
	s.closing.Store(true)
	s.stopOnce.Do(func() { close(s.stopping) })
}

// Close releases what the demos opened. Call it once the server's
// WebSockets are closed.
func (s *Site) Close() {
	s.Shutdown()
	for _, f := range slices.Backward(s.env.closers) {
		f()
	}
	s.env.closers = nil
}

// healthz answers 200 ok while the site serves, and 503 once shutdown has
// begun.
func (s *Site) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.closing.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "shutting down\n")
		return
	}
	io.WriteString(w, "ok\n")
}

// noCacheHTML makes browsers revalidate every response but the
// content-hashed assets, which set their own caching.
func noCacheHTML(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}
