package lab

import (
	"flag"
	"net"
	"net/http"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"duplex/server/hixie"
	"duplex/server/web"
)

// The protocol lab's endpoints: the page's trace channel, the lab
// connection whose frames it shows, and, with -hixie76, the obsolete
// protocol its History panel tells of.
const (
	TracePath   = "/ws/lab/trace"
	ConnPath    = "/ws/lab"
	Hixie76Path = "/ws/hixie76"
)

// DemoOptions configure the lab demo.
type DemoOptions struct {
	// Hixie76 serves the obsolete draft-76 WebSocket protocol at
	// Hixie76Path (package hixie), to show why it was replaced. Off by
	// default: the route does not exist.
	Hixie76 bool
}

// Demo returns the protocol lab, for the command's list of demos: it adds
// the -hixie76 flag, and wraps the server's listener so that the lab can
// show request heads as they were received.
func Demo() web.Demo { return DemoWith(&DemoOptions{}) }

// DemoWith returns the lab with opts, which the -hixie76 flag also sets.
func DemoWith(opts *DemoOptions) web.Demo {
	return web.Demo{
		Name:  "lab",
		Nav:   "Lab",
		Path:  "/lab",
		Title: "Protocol lab",
		About: "What DevTools do not show: the upgrade handshake byte for byte and every frame's bits, in both directions; fragment, ping, close or break the protocol on command.",
		App:   "lab",
		Source: []web.SourceLink{
			{Label: "the client", File: "wasm/lab/lab.go#Run"},
			{Label: "the server", File: "server/lab/lab.go#Server"},
			{Label: "the protocol", File: "shared/lab/lab.go"},
			{Label: "the frame codec", File: "shared/wire/header.go#ParseHeader"},
		},
		Page: func(p web.Page) templ.Component { return page(p) },
		Flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&opts.Hixie76, "hixie76", opts.Hixie76, "serve the obsolete draft-76 WebSocket protocol at "+Hixie76Path+", for showing why it was replaced")
		},
		Mount: func(r chi.Router, env *web.Env) error {
			s := NewServer(env.Log, env.Conns, env.KeepAlive)
			r.Handle(TracePath, http.HandlerFunc(s.ServeTrace))
			r.Handle(ConnPath, http.HandlerFunc(s.ServeConn))
			if opts.Hixie76 {
				r.Handle(Hixie76Path, &hixie.Handler{Stopping: env.Stopping, Log: env.Log})
			}
			return nil
		},
		Listener: func(ln net.Listener) net.Listener { return RecordHeads(ln) },
	}
}
