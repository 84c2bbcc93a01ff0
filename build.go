//go:build ignore

// Build builds and serves Duplex. It needs nothing but Go:
//
//	go run build.go serve    build everything, then serve at http://localhost:8080
//	go run build.go build    build everything into bin/duplex
//	go run build.go dev      serve, rebuild on every change, reload the browser
//	go run build.go assets   only build the front end into server/web/static
//
// Building means: generate Go from the templ pages, compile the wasm app,
// bundle the JavaScript and CSS with esbuild, precompress, and compile the
// server, which embeds the front end. Arguments after the target go to the
// server, e.g. `go run build.go serve -addr :9000`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"duplex/frontend"
)

const (
	assetDir = "server/web/static"
	binary   = "bin/duplex"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	target, args := os.Args[1], os.Args[2:]
	var err error
	switch target {
	case "assets":
		err = buildAssets(ctx, false)
	case "build":
		err = buildAll(ctx, false)
	case "serve":
		// Quick compression: on localhost, seconds of brotli are not worth
		// the bytes they save. `build` compresses as hard as it can.
		// The workshop shows each page's source: -source.
		if err = buildAll(ctx, true); err == nil {
			err = serve(ctx, append([]string{"-source"}, args...))
		}
	case "dev":
		err = dev(ctx, args)
	default:
		usage()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: go run build.go serve|build|dev|assets [server flags]")
	os.Exit(2)
}

// step runs one build step and prints its name and duration.
func step(name string, f func() error) error {
	start := time.Now()
	err := f()
	if err != nil {
		fmt.Printf("✗ %-40s %v\n", name, err)
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Printf("✓ %-40s %s\n", name, time.Since(start).Round(time.Millisecond))
	return nil
}

func buildAll(ctx context.Context, quick bool) error {
	start := time.Now()
	if err := buildAssets(ctx, quick); err != nil {
		return err
	}
	if err := step("compile the server into "+binary, func() error {
		return run(ctx, frontend.GoTool(), "build", "-o", binary, "./server/cmd/duplex")
	}); err != nil {
		return err
	}
	fmt.Printf("built in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

func buildAssets(ctx context.Context, quick bool) error {
	if err := step("generate Go from templ pages", func() error {
		return run(ctx, frontend.GoTool(), "tool", "templ", "generate", "-log-level", "warn")
	}); err != nil {
		return err
	}
	var assets []frontend.Asset
	err := step("build the front end", func() error {
		var err error
		assets, err = frontend.Build(ctx, frontend.Options{
			Root:   ".",
			OutDir: assetDir,
			Quick:  quick,
			Step: func(name string, took time.Duration) {
				fmt.Printf("    %-38s %s\n", name, took.Round(time.Millisecond))
			},
		})
		return err
	})
	for _, a := range assets {
		fmt.Printf("    %-38s %s raw, %s gzip, %s brotli\n", a.File, size(a.Size), size(a.Gzip), size(a.Br))
	}
	return err
}

// serve runs the built server until ctx ends; the server shuts down
// gracefully on the same signal.
func serve(ctx context.Context, args []string) error {
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		cmd.Process.Signal(os.Interrupt)
		return <-done
	}
}

// dev serves, and on every change to a source file rebuilds what changed,
// restarts the server and makes open pages reload.
func dev(ctx context.Context, args []string) error {
	args = append([]string{"-dev"}, args...)
	for {
		if err := buildAll(ctx, true); err != nil {
			fmt.Println("waiting for a change to try again…")
		} else {
			fmt.Println("watching for changes (Ctrl-C to stop)")
		}
		sctx, stopServer := context.WithCancel(ctx)
		served := make(chan error, 1)
		go func() { served <- serve(sctx, args) }()
		changed := waitForChange(ctx)
		stopServer()
		<-served
		if !changed {
			return ctx.Err()
		}
		fmt.Println("\nchange detected: rebuilding")
	}
}

// waitForChange polls the sources every 300ms and returns true when one
// changes, or false when ctx ends.
func waitForChange(ctx context.Context) bool {
	before := snapshot()
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
			if now := snapshot(); now != before {
				return true
			}
		}
	}
}

// snapshot sums up the names, sizes and times of the source files.
func snapshot() string {
	var b strings.Builder
	for _, dir := range []string{"server", "shared", "wasm", "frontend/src", "frontend"} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() && path == assetDir {
				return filepath.SkipDir
			}
			switch filepath.Ext(path) {
			case ".go", ".templ", ".js", ".css":
				if strings.HasSuffix(path, "_templ.go") {
					return nil
				}
				if info, err := d.Info(); err == nil {
					fmt.Fprintf(&b, "%s %d %d\n", path, info.Size(), info.ModTime().UnixNano())
				}
			}
			return nil
		})
	}
	return b.String()
}

func run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	return nil
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
