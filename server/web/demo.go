package web

import (
	"flag"
	"log/slog"
	"net"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"duplex/server/ws"
)

// A Demo is one demo of the site: its page, its endpoints, its line in the
// navigation and on the index. The command lists the demos it serves in
// one place (server/cmd/duplex/demos.go); that list alone drives the
// routes, the navigation, the index, and the test that opens every page.
// Nothing in the core imports a demo: removing one means deleting its
// folders and its line in that list.
type Demo struct {
	Name  string // one word, lower case, such as "chat": the key of `go run build.go new -keep`
	Nav   string // the navigation's label, such as "Chat"
	Path  string // the page, such as "/chat"
	Title string // the page's title
	About string // one line for the index

	// App is the page's program under wasm/app, which the build compiles
	// to App.wasm; "" for a page without one.
	App string

	// Source lists the files that implement what the page shows; the
	// footer links to them when the source viewer is on. A file may end
	// with an anchor of the viewer's, such as "#Conn.ReadMessage".
	Source []SourceLink

	// Needs names the demos this one uses (the playground talks to echo's
	// endpoint): an app made with `go run build.go new` keeps them too.
	Needs []string

	// Page renders the page: its content inside Layout(p).
	Page func(p Page) templ.Component

	// Flags, if set, defines the demo's command-line flags; it is called
	// before the flags are parsed.
	Flags func(fs *flag.FlagSet)

	// Mount, if set, routes the demo's endpoints, once the flags are
	// parsed. What it opens, it releases through env.OnClose.
	Mount func(r chi.Router, env *Env) error

	// Listener, if set, wraps the server's listener, for a demo that must
	// see connections before net/http does (the lab shows request heads
	// byte for byte). Only mounted demos wrap it.
	Listener func(net.Listener) net.Listener
}

// Env is what a demo's endpoints get from the site.
type Env struct {
	Log       *slog.Logger
	Conns     *ws.Group       // every WebSocket connection: give it to Upgraders, so that shutdown closes them
	KeepAlive time.Duration   // how often idle WebSocket peers are pinged
	Stopping  <-chan struct{} // closed when the server begins to shut down
	Metrics   *Metrics        // where endpoints publish what they count

	page    Page // what the site's pages share: assets, navigation, modes
	closers []func()
}

// Page returns the layout's fields for another page the demo serves, at
// path, under title: the site's assets and navigation, its modes.
func (e *Env) Page(path, title string) Page {
	p := e.page
	p.Path, p.Title = path, title
	return p
}

// OnClose registers f to run when the site closes, after its WebSockets
// have: a demo releases there what Mount opened, such as a connection to
// NATS. They run last registered, first run.
func (e *Env) OnClose(f func()) { e.closers = append(e.closers, f) }
