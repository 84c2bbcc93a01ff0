// Command duplex serves Duplex: its demo pages and WebSocket endpoints.
//
//	go run ./server/cmd/duplex [-addr host:port] [-source] [-dev] [-assets dir] [-v] [demo flags]
//
// Each demo may add flags (-nats for the chat, -hixie76 for the lab); -h
// lists them all.
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

	"duplex/server/web"
	"duplex/server/ws"
)

func main() {
	all := demos()
	fs := flag.CommandLine
	addr := fs.String("addr", "localhost:8080", "`host:port` to listen on")
	verbose := fs.Bool("v", false, "log every connection")
	dev := fs.Bool("dev", false, "development mode, as `go run build.go dev` runs the server: pages take its reloads and show its build errors (implies -source)")
	assets := fs.String("assets", "", "serve the front end from this `directory` rather than from the one built into the binary")
	source := fs.Bool("source", false, "show the source files of the checkout the server runs from at "+web.SourcePrefix+", as the workshop does")
	for _, d := range all {
		if d.Flags != nil {
			d.Flags(fs)
		}
	}
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	conns := &ws.Group{}
	cfg := web.Config{Log: log, Conns: conns, Demos: all, Dev: *dev, Source: *source || *dev}
	if *assets != "" {
		cfg.Assets = os.DirFS(*assets)
	}
	site, err := web.NewSite(cfg)
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		site.Close()
		log.Error("cannot listen", "addr", *addr, "err", err)
		os.Exit(1)
	}
	log.Info("Duplex is serving", "url", "http://"+displayAddr(*addr, ln.Addr()))
	err = run(ctx, ln, log, site, conns)
	site.Close() // now that run has closed the WebSockets
	if err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// shutdownTimeout bounds how long shutdown waits for connections to close.
const shutdownTimeout = 10 * time.Second

// run serves site on ln until ctx ends, then shuts down gracefully: /healthz
// fails from then on, the server stops accepting, closes every WebSocket
// (conns) with 1001 (going away) and waits for them and for HTTP requests
// in flight, up to shutdownTimeout.
func run(ctx context.Context, ln net.Listener, log *slog.Logger, site *web.Site, conns *ws.Group) error {
	srv := &http.Server{
		Handler:           site,
		ReadHeaderTimeout: 10 * time.Second, // against slow-loris clients
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(site.Shutdown)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(site.Listener(ln)) }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "websockets", conns.Len())
	site.Shutdown()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := errors.Join(
		srv.Shutdown(sctx),
		conns.Close(sctx, ws.StatusGoingAway, "server shutting down"),
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
