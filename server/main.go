// Command server serves Duplex: its demo pages and WebSocket endpoints.
//
//	go run ./server [-addr host:port] [-nats URL] [-hixie76] [-v]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"duplex/server/chat"
	"duplex/server/lab"
	"duplex/server/web"
	"duplex/server/ws"
	"duplex/shared/wire"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "`host:port` to listen on")
	verbose := flag.Bool("v", false, "log every connection")
	dev := flag.Bool("dev", false, "development mode: open pages reload when the server restarts")
	hixie76 := flag.Bool("hixie76", false, "serve the obsolete draft-76 WebSocket protocol at "+web.Hixie76Path+", for showing why it was replaced")
	natsURL := flag.String("nats", "", "share rooms with other instances through NATS JetStream at `URL`; default: rooms live in this process")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hub, closeChat, err := newChat(ctx, *natsURL, log)
	if err != nil {
		log.Error("cannot share the chat rooms", "err", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		closeChat()
		log.Error("cannot listen", "addr", *addr, "err", err)
		os.Exit(1)
	}
	log.Info("Duplex is serving", "url", "http://"+displayAddr(*addr, ln.Addr()))
	err = run(ctx, ln, log, options{dev: *dev, hixie76: *hixie76}, hub)
	closeChat() // now that run has closed the WebSockets
	if err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// newChat returns the chat hub, whose rooms are shared with other
// instances through the NATS server at natsURL or, if it is "", live in
// this process; and a function that closes the connection to NATS.
func newChat(ctx context.Context, natsURL string, log *slog.Logger) (*chat.Hub, func(), error) {
	if natsURL == "" {
		log.Info("chat rooms live in this process")
		return chat.NewHub(chat.Config{Log: log}), func() {}, nil
	}
	b, err := chat.DialNATS(ctx, natsURL, chat.NATSOptions{Log: log})
	if err != nil {
		return nil, nil, err
	}
	log.Info("chat rooms are shared through NATS JetStream", "server", b.Conn().ConnectedUrlRedacted())
	return chat.NewHub(chat.Config{Broker: b, Log: log}), b.Close, nil
}

// options are the flags that choose what run serves.
type options struct {
	dev     bool // -dev
	hixie76 bool // -hixie76
}

// shutdownTimeout bounds how long shutdown waits for connections to close.
const shutdownTimeout = 10 * time.Second

// run serves on ln until ctx ends, then shuts down gracefully: it stops
// accepting, closes every WebSocket with 1001 (going away) and waits for
// them and for HTTP requests in flight, up to shutdownTimeout. The chat
// is hub's, or one in memory if hub is nil.
func run(ctx context.Context, ln net.Listener, log *slog.Logger, opts options, hub *chat.Hub) error {
	conns := &ws.Group{}
	stopping := make(chan struct{})
	router := web.NewRouter(web.Config{
		Log: log, Conns: conns, Stopping: stopping, Chat: hub,
		Dev: opts.dev, Hixie76: opts.hixie76,
	})
	srv := &http.Server{
		Handler:           router,
		ReadHeaderTimeout: 10 * time.Second, // against slow-loris clients
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(func() { close(stopping) })
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lab.RecordHeads(ln)) }() // so the protocol lab shows requests as received

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "websockets", conns.Len())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := errors.Join(
		srv.Shutdown(sctx),
		conns.Close(sctx, wire.StatusGoingAway, "server shutting down"),
	)
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// displayAddr returns the address to print for a browser: the host as the
// user gave it (an empty or unspecified one becomes localhost) with the
// port actually bound.
func displayAddr(flagAddr string, bound net.Addr) string {
	host, _, _ := net.SplitHostPort(flagAddr)
	_, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return bound.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
