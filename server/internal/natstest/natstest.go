// Package natstest starts NATS servers inside a test's process, for the
// tests of the chat's brokers, of the stream fallback's forwarding between
// instances and of the command's many-instance set-ups.
package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Start starts a NATS server on a random loopback port — with JetStream,
// storing under a temporary directory, if jetStream — and shuts it down
// when the test ends.
func Start(tb testing.TB, jetStream bool) *server.Server {
	tb.Helper()
	opts := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: jetStream, NoLog: true, NoSigs: true}
	if jetStream {
		opts.StoreDir = tb.TempDir()
	}
	s, err := server.NewServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		tb.Fatal("the NATS server did not start")
	}
	tb.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}
