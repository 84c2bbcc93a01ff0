package dev

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strings"

	"duplex/frontend"
)

// A graph says which packages of the module each target imports: the
// server's command, natively, and each wasm app, for GOOS=js. A change
// to a package rebuilds the targets that import it, and no others.
type graph struct {
	module string                     // the module's path, from go.mod
	server map[string]bool            // import paths, the command's own included
	apps   map[string]map[string]bool // app name → import paths
}

// serverCommand is the package of the server's command.
const serverCommand = "./server/cmd/duplex"

// loadGraph asks the go command for the graph of the module at root.
func loadGraph(ctx context.Context, root, module string) (*graph, error) {
	g := &graph{module: module, apps: map[string]map[string]bool{}}
	lists, err := listDeps(ctx, root, nil, serverCommand)
	if err != nil {
		return nil, err
	}
	for _, deps := range lists {
		g.server = deps
	}
	apps, err := frontend.Apps(root)
	if err != nil {
		return nil, err
	}
	if len(apps) > 0 {
		lists, err := listDeps(ctx, root, []string{"GOOS=js", "GOARCH=wasm"}, "./wasm/app/...")
		if err != nil {
			return nil, err
		}
		for pkg, deps := range lists {
			g.apps[path.Base(pkg)] = deps
		}
	}
	return g, nil
}

// listDeps returns, for each package that pattern matches, the set of
// packages of the module it imports, itself included. Packages that do
// not compile are listed all the same (-e): the build says what is wrong.
func listDeps(ctx context.Context, root string, env []string, pattern string) (map[string]map[string]bool, error) {
	cmd := exec.CommandContext(ctx, frontend.GoTool(), "list", "-e", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", pattern)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w\n%s", pattern, err, stderr.String())
	}
	lists := map[string]map[string]bool{}
	lines := bufio.NewScanner(bytes.NewReader(out))
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) == 0 {
			continue
		}
		deps := map[string]bool{}
		for _, f := range fields {
			deps[f] = true
		}
		lists[fields[0]] = deps
	}
	return lists, nil
}

// packageOf returns the import path of the package in the folder of the
// file at rel (a path from the root, with slashes).
func (g *graph) packageOf(rel string) string {
	dir := path.Dir(rel)
	if dir == "." {
		return g.module
	}
	return g.module + "/" + dir
}

// targets returns whether the server and which apps import pkg; known is
// false if no target does, which may mean the graph is out of date.
func (g *graph) targets(pkg string) (server bool, apps []string, known bool) {
	server = g.server[pkg]
	for app, deps := range g.apps {
		if deps[pkg] {
			apps = append(apps, app)
		}
	}
	return server, apps, server || len(apps) > 0
}
