//go:build ignore

// Build builds and serves Duplex. It needs nothing but Go:
//
//	go run build.go serve    build everything, then serve at http://localhost:8080
//	go run build.go build    build everything into bin/duplex
//	go run build.go dev      serve, rebuild on every change, reload the browser
//	go run build.go assets   only build the front end into server/web/static
//	go run build.go new [-keep echo,chat,…] <module path> <dir>
//	                         start an app of your own from this checkout
//	                         (./frontend/cmd/new, package frontend/starter)
//
// Building means: download the modules, generate Go from the templ pages
// if a page changed, compile the wasm apps, bundle the JavaScript and CSS
// with esbuild (./frontend/cmd/assets), precompress, and compile the
// server, which embeds the front end. The wasm apps compile while the
// modules download; the front end's builder and the server's packages
// compile in one go command, which compiles what they share once; only
// the server's link waits for the assets it embeds. Each step prints its
// name when it starts and its time when it ends.
// Arguments after the target go to the server, e.g. `go run build.go serve
// -addr :9000`.
//
// This file imports only the standard library, so that a first run starts
// talking after seconds, not after compiling esbuild: what needs more runs
// in programs of its own, ./frontend/cmd/assets and ./frontend/cmd/new.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	assetDir   = "server/web/static"
	binary     = "bin/duplex"
	devProgram = "bin/duplex-dev"
	command    = "./server/cmd/duplex"
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
	case "new":
		err = newApp(ctx, args)
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
	fmt.Fprintln(os.Stderr, "       go run build.go new [-keep demo,…] <module path> <dir>")
	os.Exit(2)
}

// begin starts a step that runs alongside others. It prints the step's
// name, and a note on what takes time, now; and its duration when it ends.
func begin(name, note string, f func() error) <-chan error {
	if note != "" {
		note = " (" + note + ")"
	}
	fmt.Printf("→ %s%s…\n", name, note)
	done := make(chan error, 1)
	go func() {
		start := time.Now()
		err := f()
		if err != nil {
			fmt.Printf("✗ %-46s %v\n", name, err)
			err = fmt.Errorf("%s: %w", name, err)
		} else {
			fmt.Printf("✓ %-46s %.1fs\n", name, time.Since(start).Seconds())
		}
		done <- err
	}()
	return done
}

// step runs one step and waits for it.
func step(name, note string, f func() error) error { return <-begin(name, note, f) }

// warm starts a go build whose only use is to fill the build cache ahead
// of a step that needs it; its errors are that step's to report.
func warm(ctx context.Context, name string, env []string, args ...string) <-chan error {
	return begin(name, "meanwhile, ahead of the step that needs them", func() error {
		if gocmd(ctx, env, args...) != nil {
			fmt.Printf("    %s: did not compile; the step that needs them says why\n", name)
		}
		return nil
	})
}

// prepare downloads the modules and generates Go from the templ pages,
// while the wasm apps compile. The wasm apps import no module from outside
// this one: they compile while the modules download, for GOOS=js, sharing
// nothing with the rest, and with the flags of the front end's build
// (frontend.Build, frontend.DevBuild), which then only links them. It
// returns once the first two are done, with the channel on which the
// compile ends.
func prepare(ctx context.Context) (wasm <-chan error, err error) {
	wasm = warm(ctx, "compile the wasm apps", []string{"GOOS=js", "GOARCH=wasm"}, "build", "-trimpath", "./wasm/app/...")
	if err := step("download the modules", "about 60 MB on a first run", func() error { return download(ctx) }); err != nil {
		<-wasm
		return nil, err
	}
	if err := <-generatePages(ctx); err != nil {
		<-wasm
		return nil, err
	}
	return wasm, nil
}

func buildAll(ctx context.Context, quick bool) error {
	start := time.Now()
	wasm, err := prepare(ctx)
	if err != nil {
		return err
	}
	// One go command compiles the front end's builder and the server's
	// packages: they share much of what they import, which two commands
	// at once would each compile. The builder then runs, and the server,
	// which embeds what it writes, links last.
	err = step("compile esbuild and the server's packages", "~20 s on a first run", func() error {
		return gocmd(ctx, nil, "build", "./frontend/cmd/assets", command)
	})
	if err = errors.Join(err, <-wasm); err != nil {
		return err
	}
	if err := step("build the front end", "", func() error { return frontEnd(ctx, quick) }); err != nil {
		return err
	}
	if err := step("link the server into "+binary, "", func() error {
		return gocmd(ctx, nil, "build", "-o", binary, command)
	}); err != nil {
		return err
	}
	fmt.Printf("built in %.1fs\n", time.Since(start).Seconds())
	return nil
}

func buildAssets(ctx context.Context, quick bool) error {
	if err := step("download the modules", "about 60 MB on a first run", func() error { return download(ctx) }); err != nil {
		return err
	}
	if err := <-generatePages(ctx); err != nil {
		return err
	}
	return step("build the front end", "the first run compiles esbuild, ~15 s", func() error { return frontEnd(ctx, quick) })
}

// download fetches the modules that go.mod requires into the module
// cache, if they are not there yet, and says how many and how large.
func download(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, goTool(), "mod", "download", "-json")
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go mod download: %w\n%s", err, stderr(err))
	}
	var n, size int64
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var m struct{ Zip string }
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		n++
		if info, err := os.Stat(m.Zip); err == nil {
			size += info.Size()
		}
	}
	fmt.Printf("    %d modules, %.0f MB of zip files in the module cache\n", n, float64(size)/1e6)
	return nil
}

// generatePages generates Go from the templ pages, if one is newer than
// the Go generated from it; the generated files are committed, so a fresh
// clone does not need the templ tool.
func generatePages(ctx context.Context) <-chan error {
	if !templStale() {
		done := make(chan error, 1)
		done <- nil
		fmt.Println("✓ generate Go from templ pages: not needed, no page changed since its Go was generated")
		return done
	}
	return begin("generate Go from templ pages", "the first run builds the templ tool, ~10 s", func() error {
		return gocmd(ctx, nil, "tool", "templ", "generate", "-log-level", "warn")
	})
}

// templStale reports whether a .templ file is newer than its _templ.go, or
// has none.
func templStale() bool {
	stale := false
	filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			stale = true
			return fs.SkipAll
		case d.IsDir():
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin" || path == assetDir) {
				return filepath.SkipDir
			}
			return nil
		case !strings.HasSuffix(path, ".templ"):
			return nil
		}
		page, err := d.Info()
		if err != nil {
			stale = true
			return fs.SkipAll
		}
		gen, err := os.Stat(strings.TrimSuffix(path, ".templ") + "_templ.go")
		if err != nil || gen.ModTime().Before(page.ModTime()) {
			stale = true
			return fs.SkipAll
		}
		return nil
	})
	return stale
}

// frontEnd runs ./frontend/cmd/assets, which compiles the wasm apps,
// bundles the JavaScript and CSS with esbuild and compresses everything,
// showing its steps as they end.
func frontEnd(ctx context.Context, quick bool) error {
	args := []string{"run", "./frontend/cmd/assets", "-out", assetDir}
	if quick {
		args = append(args, "-quick")
	}
	cmd := exec.CommandContext(ctx, goTool(), args...)
	var errs strings.Builder
	cmd.Stderr = &errs
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		fmt.Println(lines.Text())
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("%w\n%s", err, errs.String())
	}
	return nil
}

// serve runs the built server until ctx ends; the server shuts down
// gracefully on the same signal.
func serve(ctx context.Context, args []string) error { return run(ctx, binary, args) }

// run runs program until it exits or ctx ends, when it gets the same
// signal to end gracefully.
func run(ctx context.Context, program string, args []string) error {
	cmd := exec.Command(program, args...)
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

// dev builds and runs ./frontend/cmd/dev, which serves the site, and on
// every change rebuilds what changed and updates the open pages (package
// frontend/dev). The server's packages and the wasm apps compile
// meanwhile, so that its first build finds them compiled.
func dev(ctx context.Context, args []string) error {
	start := time.Now()
	wasm, err := prepare(ctx)
	if err != nil {
		return err
	}
	err = step("compile the dev server and the server's packages", "~20 s on a first run", func() error {
		if err := gocmd(ctx, nil, "build", "./frontend/cmd/dev", command); err != nil {
			return err
		}
		return gocmd(ctx, nil, "build", "-o", devProgram, "./frontend/cmd/dev")
	})
	if err = errors.Join(err, <-wasm); err != nil {
		return err
	}
	fmt.Printf("ready in %.1fs\n", time.Since(start).Seconds())
	return run(ctx, devProgram, args)
}

// newApp writes a new app from this checkout: it runs ./frontend/cmd/new,
// whose work is package frontend/starter's.
func newApp(ctx context.Context, args []string) error {
	cmd := exec.CommandContext(ctx, goTool(), append([]string{"run", "./frontend/cmd/new"}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode()) // it said why
	}
	return err
}

// gocmd runs the go command with args, and env added to the environment.
func gocmd(ctx context.Context, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, goTool(), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// goTool returns the go command of the toolchain running this program, as
// `go env GOROOT` names it (the go on $PATH may be another, older one).
var goTool = sync.OnceValue(func() string {
	root := os.Getenv("GOROOT")
	if root == "" {
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			return "go"
		}
		root = strings.TrimSpace(string(out))
	}
	name := filepath.Join(root, "bin", "go")
	if _, err := os.Stat(name); err != nil {
		return "go"
	}
	return name
})

func stderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}
