// Command dev serves Duplex for development, as package frontend/dev
// describes: it rebuilds what each saved change needs, restarts the server
// if it changed, and updates the open pages, or shows them the errors.
// It runs from the module's root:
//
//	go run ./frontend/cmd/dev [-addr host:port] [server flags]
//
// `go run build.go dev` builds and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"duplex/frontend/dev"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "`host:port` where the pages are served")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: dev [-addr host:port] [server flags]")
		flag.PrintDefaults()
	}
	// The flags after dev's own are the server's: pass on what dev does
	// not know.
	var args []string
	for i := 1; i < len(os.Args); i++ {
		if a := os.Args[i]; a == "-addr" || a == "--addr" {
			if i+1 < len(os.Args) {
				*addr = os.Args[i+1]
				i++
			}
		} else if v, ok := cutFlag(a, "addr"); ok {
			*addr = v
		} else if a == "-h" || a == "-help" || a == "--help" {
			flag.Usage()
			os.Exit(2)
		} else {
			args = append(args, a)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := dev.Run(ctx, dev.Config{Addr: *addr, Args: args}); err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		os.Exit(1)
	}
}

// cutFlag returns v if arg is -name=v or --name=v.
func cutFlag(arg, name string) (string, bool) {
	for _, prefix := range []string{"-" + name + "=", "--" + name + "="} {
		if v, ok := strings.CutPrefix(arg, prefix); ok {
			return v, true
		}
	}
	return "", false
}
