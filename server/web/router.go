// Package web routes Duplex's HTTP endpoints: the demo pages (templ), the
// built front end, and the WebSocket endpoints.
package web

import (
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"duplex/server/chat"
	"duplex/server/hixie"
	"duplex/server/ws"
	"duplex/shared/message"
)

// keepAlive is how often idle WebSocket peers are pinged; one that does
// not answer within the next interval is disconnected.
const keepAlive = 30 * time.Second

// Config holds what the routes need from the program.
type Config struct {
	Log    *slog.Logger
	Conns  *ws.Group // every WebSocket connection, for shutdown
	Assets fs.FS     // the built front end; nil for the embedded one

	// Dev makes open pages reload when the server restarts, as it does on
	// every change under `go run build.go dev`. Stopping is closed when the
	// server shuts down.
	Dev      bool
	Stopping <-chan struct{}

	Chat *chat.Hub // nil for a hub with an in-memory broker

	// Hixie76 serves the obsolete draft-76 WebSocket protocol at
	// /ws/hixie76 (package hixie), to show why it was replaced. Off by
	// default: the route does not exist.
	Hixie76 bool
}

// NewRouter returns the handler for all of Duplex's endpoints.
func NewRouter(cfg Config) http.Handler {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Assets == nil {
		cfg.Assets = Embedded()
	}
	if cfg.Chat == nil {
		cfg.Chat = chat.NewHub(chat.Config{Log: cfg.Log})
	}
	assets, err := LoadAssets(cfg.Assets)
	if err != nil {
		cfg.Log.Warn("pages will not work", "err", err)
	}

	r := chi.NewRouter()
	r.Use(noCacheHTML)
	pages := []struct {
		path string
		view func(page) templ.Component
		page page
	}{
		{"/", indexPage, page{Title: "Duplex demos", Source: []sourceLink{
			{"this page", "server/web/index.templ"},
		}}},
		{"/echo", echoPage, page{Title: "Echo", App: "echo", Source: []sourceLink{
			{"the client", "wasm/echo/echo.go"},
			{"the endpoint", "server/web/echo.go"},
			{"the connection", "server/ws/conn.go"},
		}}},
		{"/chat", chatPage, page{Title: "Chat", App: "chat", Source: []sourceLink{
			{"the client", "shared/chatclient/client.go"},
			{"the page", "wasm/chat/view.go"},
			{"reconnecting", "shared/conn/reconnect.go"},
			{"the server", "server/chat/hub.go"},
			{"the protocol", "shared/message/types.go"},
		}}},
		{"/playground", playgroundPage, page{Title: "API playground", App: "playground", Source: []sourceLink{
			{"the client", "wasm/playground/playground.go"},
			{"the Go WebSocket API", "wasm/websocket/websocket.go"},
			{"the handshake", "server/ws/upgrade.go"},
		}}},
		{"/lab", labPage, page{Title: "Protocol lab", App: "lab", Source: []sourceLink{
			{"the client", "wasm/lab/lab.go"},
			{"the server", "server/lab/lab.go"},
			{"the protocol", "shared/lab/lab.go"},
			{"the frame codec", "shared/wire/header.go"},
		}}},
	}
	for _, p := range pages {
		p.page.Path, p.page.Assets, p.page.Dev = p.path, assets, cfg.Dev
		r.Get(p.path, func(w http.ResponseWriter, req *http.Request) {
			pg := p.page
			pg.Query = req.URL.Query() // for a page with a GET form, such as the lab's
			templ.Handler(p.view(pg)).ServeHTTP(w, req)
		})
	}
	if assets != nil {
		r.Get(staticPrefix+"*", assets.ServeHTTP)
	}
	r.Get(sourcePrefix+"*", source{root: findRepoRoot()}.ServeHTTP)
	if cfg.Dev {
		r.Get(devReloadPath, devReload(cfg.Stopping))
	}
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	r.Handle("/ws/chat", &chatEndpoint{
		hub: cfg.Chat,
		upgrader: &ws.Upgrader{
			Subprotocols: []string{message.Subprotocol},
			ReadLimit:    message.MaxClientMessage,
			KeepAlive:    keepAlive,
			Group:        cfg.Conns,
		},
		log: cfg.Log,
	})
	r.Handle("/ws/echo", &echo{
		upgrader: &ws.Upgrader{
			Subprotocols: []string{"echo"}, // lets the playground show a negotiation
			ReadLimit:    EchoReadLimit,
			KeepAlive:    keepAlive,
			Group:        cfg.Conns,
		},
		log: cfg.Log,
	})
	mountLab(r, cfg)
	if cfg.Hixie76 {
		r.Handle(Hixie76Path, &hixie.Handler{Stopping: cfg.Stopping, Log: cfg.Log})
	}
	return r
}

// Hixie76Path is where Config.Hixie76 serves the draft-76 protocol.
const Hixie76Path = "/ws/hixie76"

// noCacheHTML makes browsers revalidate every response but the
// content-hashed assets, which set their own caching.
func noCacheHTML(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// devReloadPath is an event stream that stays open while the server runs;
// in development, pages reload when it breaks and the server is back.
const devReloadPath = "/_dev/reload"

func devReload(stopping <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, ": the page reloads when this stream ends\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
		case <-stopping:
		}
	}
}
