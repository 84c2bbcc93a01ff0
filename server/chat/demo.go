package chat

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"duplex/server/web"
	"duplex/server/ws"
	"duplex/shared/message"
)

// DemoOptions configure the chat demo. The zero value keeps the rooms in
// the process.
type DemoOptions struct {
	// NATS, if set, is the URL of a NATS server with JetStream, through
	// which the rooms are shared with other instances.
	NATS string

	// Hub, if set, is the hub to serve, instead of one Mount makes; for
	// tests.
	Hub *Hub
}

// Demo returns the chat demo, for the command's list of demos: it adds the
// -nats flag.
func Demo() web.Demo { return DemoWith(&DemoOptions{}) }

// DemoWith returns the chat demo with opts, which the -nats flag also sets.
func DemoWith(opts *DemoOptions) web.Demo {
	return web.Demo{
		Name:  "chat",
		Nav:   "Chat",
		Path:  "/chat",
		Title: "Chat",
		About: "Rooms, nicknames, presence and typing; drop the network and it reconnects and resumes without losing a message.",
		App:   "chat",
		Source: []web.SourceLink{
			{Label: "the client", File: "shared/chatclient/client.go"},
			{Label: "the page", File: "wasm/chat/view.go"},
			{Label: "reconnecting", File: "shared/conn/reconnect.go"},
			{Label: "the server", File: "server/chat/hub.go"},
			{Label: "the protocol", File: "shared/message/types.go"},
		},
		Page: func(p web.Page) templ.Component { return page(p) },
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&opts.NATS, "nats", opts.NATS, "share the chat's rooms with other instances through NATS JetStream at `URL`; default: rooms live in this process")
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
		metrics.WriteCounterUint64(w, "duplex_chat_deliveries_total", s.Deliveries.Load())
		metrics.WriteCounterUint64(w, `duplex_chat_dropped_total{reason="rate_limited"}`, s.RateLimited.Load())
		metrics.WriteCounterUint64(w, `duplex_chat_disconnected_total{reason="too_slow"}`, s.TooSlow.Load())
	})
	return s
}

// natsDialTimeout bounds the connection to NATS at start-up.
const natsDialTimeout = 10 * time.Second

// mount makes the hub, on NATS if opts say so, and routes /ws/chat.
func mount(r chi.Router, env *web.Env, opts *DemoOptions) error {
	hub := opts.Hub
	switch {
	case hub != nil:
	case opts.NATS == "":
		env.Log.Info("chat rooms live in this process")
		hub = NewHub(Config{Log: env.Log, Stats: newStats(env)})
	default:
		ctx, cancel := context.WithTimeout(context.Background(), natsDialTimeout)
		defer cancel()
		b, err := DialNATS(ctx, opts.NATS, NATSOptions{Log: env.Log})
		if err != nil {
			return err
		}
		env.Log.Info("chat rooms are shared through NATS JetStream", "server", b.Conn().ConnectedUrlRedacted())
		env.OnClose(b.Close)
		hub = NewHub(Config{Broker: b, Log: env.Log, Stats: newStats(env)})
	}
	set := env.Metrics.Set()
	set.NewGauge("duplex_chat_rooms", func() float64 { rooms, _ := hub.Census(); return float64(rooms) })
	set.NewGauge("duplex_chat_members", func() float64 { _, members := hub.Census(); return float64(members) })
	stats := &ws.Stats{}
	env.Metrics.Endpoint("chat", stats)
	r.Handle(Path, &endpoint{
		hub: hub,
		upgrader: &ws.Upgrader{
			Subprotocols: []string{message.Subprotocol},
			ReadLimit:    message.MaxClientMessage,
			KeepAlive:    env.KeepAlive,
			Group:        env.Conns,
			Stats:        stats,
		},
		log: env.Log,
	})
	return nil
}
