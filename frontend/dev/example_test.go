package dev_test

import (
	"context"
	"log"
	"os"
	"os/signal"

	"duplex/frontend/dev"
)

// What `go run build.go dev` runs (through frontend/cmd/dev): serve the
// checkout in the current folder at localhost:8080 until Ctrl-C, the
// chat's rooms in memory.
func ExampleRun() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := dev.Run(ctx, dev.Config{Addr: "localhost:8080", Args: []string{"-memory"}})
	if err != nil {
		log.Fatal(err)
	}
}
