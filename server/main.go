// Command server serves Duplex: its demo pages and WebSocket endpoints.
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
	"duplex/shared/wire"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "`host:port` to listen on")
	verbose := flag.Bool("v", false, "log every connection")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := run(*addr, log); err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// shutdownTimeout bounds how long shutdown waits for connections to close.
const shutdownTimeout = 10 * time.Second

func run(addr string, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	conns := &ws.Group{}
	srv := &http.Server{
		Handler:           web.NewRouter(web.Config{Log: log, Conns: conns}),
		ReadHeaderTimeout: 10 * time.Second, // against slow-loris clients
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("Duplex is serving", "url", "http://"+displayAddr(ln.Addr()))

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	stop() // a second signal kills the process
	log.Info("shutting down", "websockets", conns.Len())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = errors.Join(
		srv.Shutdown(sctx),
		conns.Close(sctx, wire.StatusGoingAway, "server shutting down"),
	)
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// displayAddr turns a listening address into one a browser can open:
// an unspecified host becomes localhost.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
