package chat

import (
	"context"
	"errors"
	"flag"
	"io"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"duplex/server/web"
	"duplex/server/ws"
)

// DefaultData is the -data flag's default: the directory, under the
// working directory, where the command keeps the chat's rooms.
const DefaultData = "data/chat"

// DemoOptions configure the chat demo; its flags set them. The zero value
// keeps the rooms in memory, as -memory does: the command's flags default
// to a data directory instead, DefaultData.
type DemoOptions struct {
	// NATS, if set, is the URL of a NATS server with JetStream, through
	// which the rooms are shared with other instances (-nats).
	NATS string
	// Data, if set and NATS is not, is the directory where an embedded
	// NATS server stores the rooms (-data).
	Data string
	// Memory keeps the rooms in memory, whatever Data says (-memory).
	Memory bool
	// MaxConnsPerAddr bounds the chat's connections from one client
	// address (-conns-per-addr); 0 for EndpointOptions' default.
	MaxConnsPerAddr int

	// Hub, if set, returns the hub to serve each new connection, instead
	// of the backend Mount starts: for tests, which may stop a backend and
	// start another behind the same address. While it returns nil, the
	// endpoint answers 503.
	Hub func() *Hub
}

// Demo returns the chat demo, for the command's list of demos: it adds the
// -data, -memory, -nats and -conns-per-addr flags.
func Demo() web.Demo { return DemoWith(&DemoOptions{}) }

// DemoWith returns the chat demo with opts, which the flags also set.
func DemoWith(opts *DemoOptions) web.Demo {
	return web.Demo{
		Name:  "chat",
		Nav:   "Chat",
		Path:  "/chat",
		Title: "Chat",
		About: "Rooms, nicknames, presence and typing; drop the network, or restart the server, and nothing is lost: every message is stored once and comes back in order.",
		App:   "chat",
		Source: []web.SourceLink{
			{Label: "the client", File: "shared/chatclient/client.go"},
			{Label: "the outbox", File: "shared/chatclient/outbox.go"},
			{Label: "the page", File: "wasm/chat/view.go"},
			{Label: "reconnecting", File: "shared/conn/reconnect.go"},
			{Label: "the server", File: "server/chat/hub.go"},
			{Label: "the protocol", File: "shared/message/types.go"},
		},
		Page: func(p web.Page) templ.Component { return page(p) },
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&opts.Data, "data", DefaultData, "keep the chat's rooms in `DIR`, in an embedded NATS JetStream, so that a restart loses nothing")
			fs.BoolVar(&opts.Memory, "memory", opts.Memory, "keep the chat's rooms in memory only: a restart loses them (for tests and demos)")
			fs.StringVar(&opts.NATS, "nats", opts.NATS, "share the chat's rooms with other instances through NATS JetStream at `URL`")
			fs.IntVar(&opts.MaxConnsPerAddr, "conns-per-addr", 1000, "accept at most `N` chat connections at once from one client address")
		},
		Mount: func(r chi.Router, env *web.Env) error { return mount(r, env, opts) },
	}
}

// newStats returns the hub's counters, published on the site's /metrics.
func newStats(env *web.Env) *Stats {
	s := &Stats{}
	set := env.Metrics.Set()
	publish := set.NewHistogram("duplex_chat_publish_seconds")
	s.ObservePublish = func(d time.Duration) { publish.Update(d.Seconds()) }
	set.RegisterMetricsWriter(func(w io.Writer) {
		metrics.WriteCounterUint64(w, "duplex_chat_published_total", s.Published.Load())
		metrics.WriteCounterUint64(w, "duplex_chat_duplicates_total", s.Duplicates.Load())
		metrics.WriteCounterUint64(w, "duplex_chat_deliveries_total", s.Deliveries.Load())
		metrics.WriteCounterUint64(w, `duplex_chat_dropped_total{reason="rate_limited"}`, s.RateLimited.Load())
		metrics.WriteCounterUint64(w, `duplex_chat_disconnected_total{reason="too_slow"}`, s.TooSlow.Load())
	})
	return s
}

// backendStart bounds the start of the chat's backend: connecting to NATS,
// or recovering the rooms of the embedded one.
const backendStart = time.Minute

// mount starts the backend as opts say, and routes /ws/chat.
func mount(r chi.Router, env *web.Env, opts *DemoOptions) error {
	hub := opts.Hub
	if hub == nil {
		o := BackendOptions{NATS: opts.NATS, Data: opts.Data, Hub: Config{Log: env.Log, Stats: newStats(env)}}
		switch {
		case opts.Memory && opts.NATS != "":
			return errors.New("-memory and -nats exclude each other")
		case opts.Memory || opts.NATS != "":
			o.Data = ""
		}
		ctx, cancel := context.WithTimeout(context.Background(), backendStart)
		defer cancel()
		start := time.Now()
		b, err := OpenBackend(ctx, o)
		if err != nil {
			return err
		}
		env.Log.Info("chat rooms are kept "+b.Where, "took", time.Since(start).Round(time.Millisecond))
		env.OnClose(b.Close)
		hub = func() *Hub { return b.Hub }
	}
	set := env.Metrics.Set()
	census := func() (rooms, members int) {
		if h := hub(); h != nil {
			return h.Census()
		}
		return 0, 0
	}
	set.NewGauge("duplex_chat_rooms", func() float64 { rooms, _ := census(); return float64(rooms) })
	set.NewGauge("duplex_chat_members", func() float64 { _, members := census(); return float64(members) })
	stats := &ws.Stats{}
	env.Metrics.Endpoint("chat", stats)
	handler, err := withFallback(env, opts, NewEndpoint(hub, EndpointOptions{
		// No compression: chat messages are small, and compressing each
		// for each member costs 2.7–3.8 µs per delivery (server/ws
		// BenchmarkFanOut) — at 1,000 members sending once a second, more
		// CPU than the machine has — to save 12–55% of ~150 bytes.
		Upgrader:        ws.Upgrader{KeepAlive: env.KeepAlive, Group: env.Conns, Stats: stats},
		MaxConnsPerAddr: opts.MaxConnsPerAddr,
		Log:             env.Log,
	}))
	if err != nil {
		return err
	}
	r.Handle(Path, handler)
	return nil
}
