// Command new writes a new app from this checkout (see package
// frontend/starter). It runs from the module's root, as build.go runs it:
//
//	go run build.go new [-keep echo,chat,…] <module path> <dir>
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"duplex/frontend/starter"
)

func main() {
	keep := flag.String("keep", "", "the demos to keep, separated by commas (default: all of them)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run build.go new [-keep demo,…] <module path> <dir>")
		fmt.Fprintln(os.Stderr, "\nWrites a new app into dir: the core and the demos kept, under the module path.")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := starter.Options{From: ".", Module: flag.Arg(0), Dir: flag.Arg(1), Log: os.Stdout}
	if *keep != "" {
		opts.Keep = strings.Split(*keep, ",")
	}
	if err := starter.New(ctx, opts); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "new:", err)
		os.Exit(1)
	}
}
