// Command assets builds the front end into server/web/static, as package
// frontend describes: the programs under wasm/app compiled to WebAssembly,
// the JavaScript and CSS bundled with esbuild, every file hashed and
// precompressed. It runs from the module's root:
//
//	go run ./frontend/cmd/assets [-quick] [-out dir]
//
// build.go runs it. It is a program of its own so that build.go needs only
// the standard library: on a first run, build.go starts in seconds and
// says what it does while esbuild, the largest dependency, compiles here.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"duplex/frontend"
)

func main() {
	out := flag.String("out", "server/web/static", "the `directory` to fill")
	quick := flag.Bool("quick", false, "compress quickly (brotli 5 instead of 11), for development")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	assets, err := frontend.Build(ctx, frontend.Options{
		Root:   ".",
		OutDir: *out,
		Quick:  *quick,
		Step: func(name string, took time.Duration) {
			fmt.Printf("    %-44s %s\n", name, took.Round(time.Millisecond))
		},
	})
	for _, a := range assets {
		fmt.Printf("    %-44s %s raw, %s gzip, %s brotli\n", a.File, size(a.Size), size(a.Gzip), size(a.Br))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "assets:", err)
		os.Exit(1)
	}
}

func size(n int) string {
	switch {
	case n == 0:
		return "-"
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MB", float64(n)/1e6)
	default:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
}
