// Package dev is `go run build.go dev`: it serves the site at the address
// users open through a proxy of its own, watches the sources, rebuilds
// only what a change needs, and tells the open pages what happened.
//
//   - A templ page whose text changed is shown without compiling: the
//     server runs in templ's development mode and reads the text at each
//     render (pages.go); a change to its Go rebuilds the server.
//   - A stylesheet is bundled again and swapped into the open pages; a
//     script, bundled again, reloads them.
//   - A Go package rebuilds the server if the server imports it, and the
//     wasm apps that import it (graph.go), uncompressed, in a folder the
//     server reads at each request (frontend.DevBuild), so that a new app
//     needs no restart.
//   - A failed build leaves the last good one running, and the open pages
//     show its errors over themselves, file:line linked to the source
//     viewer, until a build works (frontend/src/dev.js).
//   - The proxy passes each connection to the server byte for byte, and
//     while the server restarts, it holds new ones rather than let them
//     fail (proxy.go).
//
// The server's files live under bin/dev: the program, the front end and
// templ's text.
package dev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ/generator"

	"duplex/frontend"
)

// Config says what to serve and where.
type Config struct {
	Root string    // the repository root; "" means the current folder
	Addr string    // where users open the site; "" means localhost:8080
	Args []string  // more flags for the server
	Out  io.Writer // progress and the server's output; nil means os.Stdout

	// Poll is how often the sources are looked at; 0 means 100ms.
	Poll time.Duration
}

// Run serves and rebuilds until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	l, err := newLoop(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", l.cfg.Addr)
	if err != nil {
		return fmt.Errorf("%w (is a server already running there? -addr chooses another address)", err)
	}
	go l.proxy.serve(ln)
	fmt.Fprintf(l.out, "→ serving at %s (pages wait for the first build)\n", publicURL(l.cfg.Addr, ln.Addr()))
	err = l.run(ctx)
	ln.Close()
	l.proxy.close()
	return err
}

// A loop is the dev server's state. Its fields belong to the goroutine
// that runs it; the proxy guards its own.
type loop struct {
	cfg      Config
	out      io.Writer
	proxy    *proxy
	pages    *pages
	assets   frontend.DevBuild
	graph    *graph
	bin      string   // the server's program
	addr     string   // where the server listens, on loopback
	env      []string // the server's environment, added
	args     []string // the server's flags
	server   *server  // nil while none runs
	owed     plan     // what the last builds that failed still owe
	snapshot snapshot
}

// A plan is what a build does, and then what the pages do.
type plan struct {
	templ  map[string]bool // pages to generate Go from, by path from the root
	server bool            // rebuild the server (and restart it)
	apps   map[string]bool // wasm apps to rebuild
	bundle bool            // bundle the JavaScript and CSS again

	reloadAll bool // then reload every page
	css       bool // then swap the stylesheet in
}

func newLoop(cfg Config) (*loop, error) {
	if cfg.Root == "" {
		cfg.Root = "."
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, err
	}
	root, err = filepath.EvalSymlinks(root) // as templ's runtime names files
	if err != nil {
		return nil, err
	}
	cfg.Root = root
	if cfg.Addr == "" {
		cfg.Addr = "localhost:8080"
	}
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 100 * time.Millisecond
	}
	module, err := modulePath(root)
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	work := filepath.Join(root, "bin", "dev")
	textDir := filepath.Join(work, "templ")
	static := filepath.Join(work, "static")
	l := &loop{
		cfg:    cfg,
		out:    cfg.Out,
		proxy:  newProxy(),
		pages:  &pages{root: root, textDir: textDir, last: map[string]generator.GeneratorOutput{}},
		assets: frontend.DevBuild{Root: root, Dir: static},
		graph:  &graph{module: module},
		bin:    filepath.Join(work, "duplex"),
		addr:   addr,
		env:    []string{"TEMPL_DEV_MODE=true", "TEMPL_DEV_MODE_ROOT=" + textDir},
		args:   append([]string{"-dev", "-assets", static}, cfg.Args...),
	}
	return l, nil
}

func (l *loop) run(ctx context.Context) error {
	defer func() {
		if l.server != nil {
			l.server.stop()
		}
	}()
	l.snapshot = takeSnapshot(l.cfg.Root)
	first := plan{templ: map[string]bool{}, server: true, apps: map[string]bool{}, bundle: true}
	for p := range l.snapshot {
		if strings.HasSuffix(p, ".templ") {
			first.templ[p] = true
		}
	}
	apps, err := frontend.Apps(l.cfg.Root)
	if err != nil {
		return err
	}
	for _, app := range apps {
		first.apps[app] = true
	}
	if err := l.loadGraph(ctx); err != nil {
		fmt.Fprintln(l.out, "✗", err)
	}
	l.build(ctx, first, "the first build")

	tick := time.NewTicker(l.cfg.Poll)
	defer tick.Stop()
	for {
		var exited chan struct{}
		if l.server != nil {
			exited = l.server.exited
		}
		select {
		case <-ctx.Done():
			return nil
		case <-exited:
			err := l.server.exitError()
			l.server = nil
			fmt.Fprintln(l.out, "✗", err)
			l.proxy.down()
			l.proxy.tell(event{Kind: "failed", Text: err.Error()})
		case <-tick.C:
			changed := l.changes()
			if len(changed) == 0 {
				continue
			}
			p := l.plan(ctx, changed)
			l.build(ctx, p, describe(changed))
		}
	}
}

// changes returns the sources that changed since the last call, once
// they have stopped changing for a moment: editors save in steps.
func (l *loop) changes() []string {
	now := takeSnapshot(l.cfg.Root)
	if len(changes(l.snapshot, now)) == 0 {
		return nil
	}
	for range 10 {
		time.Sleep(30 * time.Millisecond)
		again := takeSnapshot(l.cfg.Root)
		if len(changes(now, again)) == 0 {
			break
		}
		now = again
	}
	changed := changes(l.snapshot, now)
	l.snapshot = now
	return changed
}

// plan works out what the changed files need, on top of what failed
// builds still owe.
func (l *loop) plan(ctx context.Context, changed []string) plan {
	p := l.owed.clone()
	for _, file := range changed {
		switch {
		case file == "go.mod" || file == "go.sum":
			if err := l.loadGraph(ctx); err != nil {
				fmt.Fprintln(l.out, "✗", err)
			}
			p.server = true
			for app := range l.graph.apps {
				p.apps[app] = true
			}
		case strings.HasSuffix(file, ".templ"):
			if _, err := os.Stat(filepath.Join(l.cfg.Root, file)); err == nil {
				p.templ[file] = true
			} else {
				p.server = true // a page removed: its Go is the developer's to remove
			}
		case strings.HasPrefix(file, "frontend/src/"):
			p.bundle = true
			if path.Ext(file) == ".css" {
				p.css = true
			} else {
				p.reloadAll = true
			}
		case strings.HasSuffix(file, "_test.go"):
			// tests are for go test
		case path.Ext(file) == ".go":
			pkg := l.graph.packageOf(file)
			server, apps, known := l.graph.targets(pkg)
			if !known { // a package new to a target, or the graph is older than an import
				if err := l.loadGraph(ctx); err != nil {
					fmt.Fprintln(l.out, "✗", err)
				}
				server, apps, known = l.graph.targets(pkg)
			}
			switch {
			case known:
				p.server = p.server || server
				for _, app := range apps {
					p.apps[app] = true
				}
			case strings.HasPrefix(file, "frontend/"):
				fmt.Fprintf(l.out, "    %s is part of the build: stop and start `go run build.go dev` again to use it\n", file)
			}
		}
	}
	return p
}

// build carries out p: pages first (they write Go), then the server and
// the wasm apps at once, two go commands; then, if everything worked, the
// server restarts if it changed and the pages hear what to do. What fails
// stays owed, and the pages show why.
func (l *loop) build(ctx context.Context, p plan, why string) {
	start := time.Now()
	what := p.describe()
	if what == "" {
		return
	}
	fmt.Fprintf(l.out, "→ %s: rebuilding %s…\n", why, what)
	l.proxy.tell(event{Kind: "building", What: what})

	var failures []string
	for _, file := range sortedKeys(p.templ) {
		e, err := l.pages.generate(file)
		if err != nil {
			failures = append(failures, err.Error())
			continue
		}
		delete(p.templ, file)
		p.server = p.server || e.goChanged
		p.reloadAll = p.reloadAll || e.textChanged
	}

	var wg sync.WaitGroup
	var serverErr, assetsErr error
	if p.server {
		wg.Go(func() { serverErr = l.buildServer(ctx) })
	}
	if len(p.apps) > 0 || p.bundle {
		wg.Go(func() { assetsErr = l.assets.Update(ctx, sortedKeys(p.apps), p.bundle) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	rebuilt := sortedKeys(p.apps)
	if assetsErr == nil {
		p.apps, p.bundle = map[string]bool{}, false
	} else {
		failures = append(failures, assetsErr.Error())
	}
	if serverErr != nil {
		failures = append(failures, serverErr.Error())
	}
	if len(failures) > 0 {
		l.owed = p
		if l.server == nil {
			l.proxy.down() // pages get the errors rather than wait
		}
		text := strings.Join(failures, "\n\n")
		fmt.Fprintf(l.out, "✗ the build failed; the last good one still runs:\n%s\n", indent(text))
		l.proxy.tell(event{Kind: "failed", Text: text})
		return
	}

	if p.server || l.server == nil {
		if err := l.restart(ctx); err != nil {
			p.server = true // try again on the next change
			l.owed = p
			fmt.Fprintln(l.out, "✗", err)
			l.proxy.tell(event{Kind: "failed", Text: err.Error()})
			return
		}
		p.reloadAll = true
	}
	l.owed = plan{}.clone()
	l.proxy.tell(event{Kind: "reload", Page: p.reloadAll, Apps: rebuilt, CSS: p.css})
	fmt.Fprintf(l.out, "✓ %s in %.1fs\n", what, time.Since(start).Seconds())
}

// buildServer compiles the server into l.bin's neighbour, l.bin+".next",
// which restart puts in place. Not with -trimpath: templ's development
// mode finds each page's text by the path it was compiled from.
func (l *loop) buildServer(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, frontend.GoTool(), "build", "-o", l.bin+".next", serverCommand)
	cmd.Dir = l.cfg.Root
	if out, err := cmd.CombinedOutput(); err != nil {
		if len(out) == 0 {
			return fmt.Errorf("go build %s: %w", serverCommand, err)
		}
		return errors.New(strings.TrimSpace(string(out)))
	}
	return nil
}

// restart stops the server, if one runs, and starts the one just built,
// while the proxy holds requests; they go on to the new server, or get
// the errors if it does not start. The two never run at once: they would
// share the chat's data folder.
func (l *loop) restart(ctx context.Context) error {
	l.proxy.hold()
	if l.server != nil {
		l.server.stop()
		l.server = nil
	}
	if _, err := os.Stat(l.bin + ".next"); err == nil {
		if err := os.Rename(l.bin+".next", l.bin); err != nil {
			l.proxy.down()
			return err
		}
	}
	s, err := startServer(ctx, l.bin, l.addr, l.args, l.env, l.out)
	if err != nil {
		l.proxy.down()
		return err
	}
	l.server = s
	l.proxy.serveFrom(l.addr)
	return nil
}

// loadGraph asks the go command again which packages each target imports.
func (l *loop) loadGraph(ctx context.Context) error {
	g, err := loadGraph(ctx, l.cfg.Root, l.graph.module)
	if err != nil {
		return err
	}
	l.graph = g
	return nil
}

// clone returns a copy of p whose maps may be changed.
func (p plan) clone() plan {
	c := p
	c.templ, c.apps = map[string]bool{}, map[string]bool{}
	for k := range p.templ {
		c.templ[k] = true
	}
	for k := range p.apps {
		c.apps[k] = true
	}
	return c
}

// describe names what p rebuilds, such as "server, echo.wasm, style.css".
func (p plan) describe() string {
	var parts []string
	switch n := len(p.templ); {
	case n > 2:
		parts = append(parts, strconv.Itoa(n)+" templ pages")
	case n > 0:
		parts = append(parts, strings.Join(sortedKeys(p.templ), ", "))
	}
	if p.server {
		parts = append(parts, "server")
	}
	if n := len(p.apps); n > 2 {
		parts = append(parts, strconv.Itoa(n)+" wasm apps")
	} else {
		for _, app := range sortedKeys(p.apps) {
			parts = append(parts, app+".wasm")
		}
	}
	if p.bundle {
		parts = append(parts, "main.js and style.css")
	}
	return strings.Join(parts, ", ")
}

// describe names the changed files, briefly.
func describe(changed []string) string {
	if len(changed) > 3 {
		return fmt.Sprintf("%s and %d more changed", strings.Join(changed[:3], ", "), len(changed)-3)
	}
	return strings.Join(changed, ", ") + " changed"
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func indent(text string) string {
	return "    " + strings.ReplaceAll(text, "\n", "\n    ")
}

// modulePath reads the module's path from go.mod at root.
func modulePath(root string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", errors.New("go.mod names no module")
}

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// publicURL is the URL to print for the address users open.
func publicURL(addr string, bound net.Addr) string {
	host, _, _ := net.SplitHostPort(addr)
	_, port, _ := net.SplitHostPort(bound.String())
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
