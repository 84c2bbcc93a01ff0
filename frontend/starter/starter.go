// Package starter writes a new app from this checkout: what `go run
// build.go new [-keep echo,chat,…] <module path> <dir>` does.
//
// The new app is the checkout's files (those git tracks, and new ones it
// does not ignore) under the new module path, with the command, its
// binary and the product's name after the path's last element, and
// without the demos not kept. Which packages go with a demo is read from
// the import graph (MakePlan): its own folders (server/<name>,
// wasm/<name>, wasm/app/<name>) and the packages that only it uses. Its
// line in the command's list of demos goes, and so do the tests of kept
// packages that use what is gone (Prune). Then templ generates the pages,
// go mod tidy drops the modules only the dropped demos needed, and git
// starts a repository.
//
// The package uses only the standard library, like build.go, which
// imports it.
package starter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options say what app New writes, and where.
type Options struct {
	From   string    // the checkout to start from: its module's root
	Module string    // the new app's module path, such as example.com/acme/rt
	Dir    string    // where to write it: a folder that does not exist, or is empty
	Keep   []string  // the demos to keep; nil keeps all of them
	Go     string    // the go command; "" for the toolchain's that `go env GOROOT` names
	Log    io.Writer // where to say what happens; nil for nowhere
}

// New writes the app that opts describe.
func New(ctx context.Context, opts Options) error {
	if opts.Go == "" {
		opts.Go = goTool()
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	s := &starter{Options: opts}
	return s.run(ctx)
}

type starter struct {
	Options
	oldModule string
	product   string // the checkout's product's name: its README's title
	from      string // the product and its commit, for the README and the log
	name      string // the new app's name
	command   string // the command's folder in the checkout
	demos     []Demo
	plan      *Plan
	g         Graph
}

// modulePath is what New accepts as a module path: dot-free first
// elements are fine (a module that is never fetched), but no spaces,
// quotes or empty elements.
var modulePath = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~-]*(/[A-Za-z0-9._~-]+)*$`)

// appNamePattern is what the app's name, its command's folder and binary,
// must look like.
var appNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (s *starter) run(ctx context.Context) error {
	start := time.Now()
	if !modulePath.MatchString(s.Module) || strings.Contains(s.Module, "..") {
		return fmt.Errorf("%q is not a module path such as example.com/acme/rt", s.Module)
	}
	s.name = appName(s.Module)
	if !appNamePattern.MatchString(s.name) {
		return fmt.Errorf("%q cannot name the app: its module path's last element must start with a letter or digit", s.name)
	}
	if entries, err := os.ReadDir(s.Dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty", s.Dir)
	}
	var err error
	if s.oldModule, err = readModulePath(s.From); err != nil {
		return err
	}
	s.command = "server/cmd/" + appName(s.oldModule)

	if err := s.step("read the demos and the import graph", s.read); err != nil {
		return err
	}
	s.say()
	steps := []struct {
		name string
		f    func() error
	}{
		{"copy the checkout", s.copy},
		{"remove the dropped demos from the list and from the tests", s.prune},
		{"rename " + s.oldModule + " to " + s.Module + ", the command to " + s.name, s.rename},
		{"generate Go from the templ pages", func() error {
			return s.gocmd(ctx, s.Dir, "tool", "templ", "generate", "-log-level", "warn")
		}},
		{"go mod tidy", func() error { return s.tidy(ctx) }},
		{"git init", func() error { return s.git(ctx) }},
	}
	if len(s.plan.Drop) == 0 {
		steps = slices.Delete(steps, 1, 2)
	}
	for _, st := range steps {
		if err := s.step(st.name, st.f); err != nil {
			return err
		}
	}
	fmt.Fprintf(s.Log, "\n%s is ready in %s (%.1fs): the core, and %s %s. Next:\n\n",
		s.name, s.Dir, time.Since(start).Seconds(), plural(len(s.plan.Keep), "the demo", "the demos"), list(s.plan.Keep))
	fmt.Fprintf(s.Log, "\tcd %s\n", s.Dir)
	fmt.Fprintf(s.Log, "\tgo run build.go serve    # build it and serve it at http://localhost:8080\n")
	fmt.Fprintf(s.Log, "\tgo test ./...            # run its tests; the browser tests need Chromium\n")
	return nil
}

// step runs one step, saying so when it starts and how long it took.
func (s *starter) step(name string, f func() error) error {
	fmt.Fprintf(s.Log, "→ %s…\n", name)
	start := time.Now()
	if err := f(); err != nil {
		fmt.Fprintf(s.Log, "✗ %s\n", name)
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(s.Log, "✓ %-60s %.1fs\n", name, time.Since(start).Seconds())
	return nil
}

func (s *starter) read() error {
	readme, _ := os.ReadFile(filepath.Join(s.From, "README.md"))
	if s.product = productOf(string(readme)); s.product == "" {
		s.product = appName(s.oldModule)
	}
	s.from = s.product
	if out, err := exec.Command("git", "-C", s.From, "rev-parse", "--short", "HEAD").Output(); err == nil {
		s.from += " (commit " + strings.TrimSpace(string(out)) + ")"
	}
	var err error
	if s.demos, err = ReadDemos(s.From, s.command, s.oldModule); err != nil {
		return err
	}
	if s.g, err = LoadGraph(s.From, s.oldModule); err != nil {
		return err
	}
	s.plan, err = MakePlan(s.g, s.demos, s.Keep, s.command)
	return err
}

// say tells what the plan keeps and drops.
func (s *starter) say() {
	p := s.plan
	fmt.Fprintf(s.Log, "    keep: %s\n", list(p.Keep))
	for _, name := range p.Keep {
		if why, ok := p.Why[name]; ok {
			fmt.Fprintf(s.Log, "    keep %s too: %s\n", name, why)
		}
	}
	if len(p.Drop) == 0 {
		return
	}
	fmt.Fprintf(s.Log, "    drop: %s\n", list(p.Drop))
	fmt.Fprintf(s.Log, "    and their folders: %s\n", strings.Join(p.Folders, ", "))
	var only []string
	for _, dir := range p.Packages {
		if !slices.ContainsFunc(p.Drop, func(d string) bool {
			return slices.ContainsFunc(Demo{Name: d}.Folders(), func(f string) bool { return Inside(dir, f) })
		}) {
			only = append(only, dir)
		}
	}
	if len(only) > 0 {
		fmt.Fprintf(s.Log, "    (%s: used by the dropped demos alone)\n", strings.Join(only, ", "))
	}
}

// copy copies the checkout's files, less the folders left out.
func (s *starter) copy() error {
	files, err := checkoutFiles(s.From)
	if err != nil {
		return err
	}
	// A module of another path inside the checkout, such as an app made
	// there by an earlier run, is not the checkout's.
	skip := slices.Clone(s.plan.Folders)
	for _, name := range files {
		if dir, ok := strings.CutSuffix(name, "/go.mod"); ok {
			if m, err := readModulePath(filepath.Join(s.From, dir)); err == nil && m != s.oldModule+"/"+dir {
				fmt.Fprintf(s.Log, "    leaving out %s: the module %s\n", dir, m)
				skip = append(skip, dir)
			}
		}
	}
	n := 0
	for _, name := range files {
		if slices.ContainsFunc(skip, func(f string) bool { return Inside(name, f) }) {
			continue
		}
		src := filepath.Join(s.From, filepath.FromSlash(name))
		info, err := os.Lstat(src)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted, not yet committed
		} else if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		dst := filepath.Join(s.Dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
			return err
		}
		n++
	}
	fmt.Fprintf(s.Log, "    %d files\n", n)
	return nil
}

// checkoutFiles lists the files of the checkout at root: those git
// tracks and the new ones it does not ignore; or, without git, every file
// but .git's, bin/'s and the built front end's.
func checkoutFiles(root string) ([]string, error) {
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err == nil {
		files := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		slices.Sort(files)
		return slices.Compact(files), nil
	}
	var files []string
	err = filepath.WalkDir(root, func(file string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, file)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir() && (rel == ".git" || rel == "bin"):
			return filepath.SkipDir
		case d.IsDir():
		case strings.HasPrefix(rel, "server/web/static/") && d.Name() != ".gitkeep":
		default:
			files = append(files, rel)
		}
		return nil
	})
	return files, err
}

// prune removes the dropped demos' lines from the command's list, and,
// from the kept packages' tests, what uses a package that is gone.
func (s *starter) prune() error {
	gone := map[string]bool{}
	for _, dir := range s.plan.Packages {
		gone[path.Join(s.oldModule, dir)] = true
	}
	routes, err := s.routes()
	if err != nil {
		return err
	}
	dirs := slices.Concat(s.plan.Lists, s.plan.Tests)
	slices.Sort(dirs)
	for _, dir := range slices.Compact(dirs) {
		m := Mentions{Packages: gone}
		if slices.Contains(s.plan.Lists, dir) {
			m.Routes = routes
		}
		files := map[string][]byte{}
		entries, err := os.ReadDir(filepath.Join(s.Dir, dir))
		if err != nil {
			return err
		}
		for _, e := range entries {
			name := e.Name()
			if !strings.HasSuffix(name, ".go") || !strings.HasSuffix(name, "_test.go") && !s.lists(dir, name) {
				continue
			}
			if files[name], err = os.ReadFile(filepath.Join(s.Dir, dir, name)); err != nil {
				return err
			}
		}
		changed, removed, err := Prune(files, m)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		for _, r := range removed {
			fmt.Fprintf(s.Log, "    %s/%s\n", dir, r)
		}
		for name, src := range changed {
			file := filepath.Join(s.Dir, dir, name)
			if src == nil {
				fmt.Fprintf(s.Log, "    %s/%s: deleted, nothing left\n", dir, name)
				err = os.Remove(file)
			} else {
				err = os.WriteFile(file, src, 0o644)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// lists reports whether the non-test file name, in dir, imports a
// dropped demo: the command's list of demos.
func (s *starter) lists(dir, name string) bool {
	if !slices.Contains(s.plan.Lists, dir) {
		return false
	}
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(s.Dir, dir, name), nil, parser.ImportsOnly)
	if err != nil {
		return false
	}
	for _, spec := range f.Imports {
		p, _ := strconv.Unquote(spec.Path.Value)
		if folder, ok := Folder(p, s.oldModule); ok && slices.ContainsFunc(s.plan.Drop, func(d string) bool {
			return slices.ContainsFunc(Demo{Name: d}.Folders(), func(f string) bool { return Inside(folder, f) })
		}) {
			return true
		}
	}
	return false
}

// routes returns the routes of the dropped demos: the strings of their
// packages that look like paths, less those of the kept packages.
func (s *starter) routes() ([]string, error) {
	read := func(keep func(dir string) bool) (map[string]bool, error) {
		files := map[string][]byte{}
		for dir := range s.g {
			if !keep(dir) {
				continue
			}
			matches, _ := filepath.Glob(filepath.Join(s.From, filepath.FromSlash(dir), "*.go"))
			for _, m := range matches {
				if strings.HasSuffix(m, "_test.go") {
					continue
				}
				data, err := os.ReadFile(m)
				if err != nil {
					return nil, err
				}
				files[m] = data
			}
		}
		return Routes(files)
	}
	gone, err := read(func(dir string) bool { return slices.Contains(s.plan.Packages, dir) })
	if err != nil {
		return nil, err
	}
	kept, err := read(func(dir string) bool { return !slices.Contains(s.plan.Packages, dir) })
	if err != nil {
		return nil, err
	}
	var routes []string
	for _, r := range slices.Sorted(maps.Keys(gone)) {
		if !kept[r] {
			routes = append(routes, r)
		}
	}
	return routes, nil
}

// rename rewrites every text file for the new module path and name,
// drops the Taskfile's and CI's lines for packages that are gone, notes in
// the README where the app comes from, gofmts the Go files that changed,
// and moves the command's folder.
func (s *starter) rename() error {
	r := newRenamer(s.oldModule, s.product, s.Module, s.name)
	origin := s.origin()
	err := filepath.WalkDir(s.Dir, func(file string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.Name() == ".git" {
				return filepath.SkipDir
			}
			return err
		}
		data, err := os.ReadFile(file)
		if err != nil || bytes.IndexByte(data, 0) >= 0 {
			return err // binary, or unreadable
		}
		rel, _ := filepath.Rel(s.Dir, file)
		rel = filepath.ToSlash(rel)
		text := r.text(rel, string(data))
		switch rel {
		case "Taskfile.yml", ".ci/run":
			text = dropLines(text, s.plan.Packages)
		case "README.md":
			title, rest, _ := strings.Cut(text, "\n")
			text = title + "\n\n" + origin + "\n" + rest
		}
		if text == string(data) {
			return nil
		}
		out := []byte(text)
		if strings.HasSuffix(rel, ".go") {
			if out, err = format.Source(out); err != nil {
				return fmt.Errorf("%s: %v", rel, err)
			}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(file, out, info.Mode().Perm())
	})
	if err != nil {
		return err
	}
	from := filepath.Join(s.Dir, filepath.FromSlash(s.command))
	to := filepath.Join(s.Dir, "server", "cmd", s.name)
	if from == to {
		return nil
	}
	if _, err := os.Stat(to); err == nil {
		return fmt.Errorf("cannot move %s to server/cmd/%s: it exists", s.command, s.name)
	}
	return os.Rename(from, to)
}

// origin is the README's note on where the app comes from.
func (s *starter) origin() string {
	note := fmt.Sprintf("%s was started from %s with `go run build.go new`", s.name, s.from)
	if len(s.plan.Drop) == 0 {
		return note + ", with every demo. The rest of this README is " + s.product + "'s.\n"
	}
	return fmt.Sprintf("%s, keeping %s. The rest of this README is %s's: it describes %s too, which %s does not have.\n",
		note, list(s.plan.Keep), s.product, list(s.plan.Drop), s.name)
}

// tidy runs go mod tidy in every module of the app.
func (s *starter) tidy(ctx context.Context) error {
	var mods []string
	err := filepath.WalkDir(s.Dir, func(file string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.Name() == "go.mod":
			mods = append(mods, filepath.Dir(file))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, dir := range mods {
		if err := s.gocmd(ctx, dir, "mod", "tidy"); err != nil {
			return err
		}
	}
	return nil
}

// git starts a repository with the app in it, committed if git knows who
// commits.
func (s *starter) git(ctx context.Context) error {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = s.Dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}
	if _, err := exec.LookPath("git"); err != nil {
		fmt.Fprintln(s.Log, "    git is not installed: no repository")
		return nil
	}
	if _, err := git("init", "--quiet"); err != nil {
		return err
	}
	user, _ := git("config", "user.name")
	email, _ := git("config", "user.email")
	if user == "" || email == "" {
		fmt.Fprintln(s.Log, "    a new repository, nothing committed: git has no user.name and user.email to commit with")
		return nil
	}
	if _, err := git("add", "--all"); err != nil {
		return err
	}
	msg := fmt.Sprintf("Start %s from %s, with %s", s.name, s.from, list(s.plan.Keep))
	if _, err := git("commit", "--quiet", "-m", msg); err != nil {
		return err
	}
	fmt.Fprintf(s.Log, "    committed as %s <%s>: %q\n", user, email, msg)
	return nil
}

func (s *starter) gocmd(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, s.Go, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// goTool returns the go command of the toolchain in use, as `go env
// GOROOT` names it: the go on $PATH may be an older one that switched
// toolchains.
func goTool() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "go"
	}
	name := filepath.Join(strings.TrimSpace(string(out)), "bin", "go")
	if _, err := os.Stat(name); err != nil {
		return "go"
	}
	return name
}

// ReadDemos returns the demos listed by the command in the folder command
// of the checkout at root, whose module path is module: the elements of a
// list that call a function of a package server/<name>, such as
// chat.Demo(), in order, with the demos each declares it needs (a Needs
// field with a literal list of names).
func ReadDemos(root, command, module string) ([]Demo, error) {
	files, err := parsePackage(filepath.Join(root, filepath.FromSlash(command)))
	if err != nil {
		return nil, err
	}
	var demos []Demo
	for _, f := range files {
		pkgs := importNames(f)
		ast.Inspect(f, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			for _, e := range cl.Elts {
				call, ok := e.(*ast.CallExpr)
				if !ok {
					continue
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					continue
				}
				id, ok := sel.X.(*ast.Ident)
				if !ok {
					continue
				}
				folder, ok := Folder(pkgs[id.Name], module)
				if name, ok2 := strings.CutPrefix(folder, "server/"); ok && ok2 && !strings.Contains(name, "/") {
					demos = append(demos, Demo{Name: name})
				}
			}
			return true
		})
	}
	if len(demos) == 0 {
		return nil, fmt.Errorf("%s lists no demo", command)
	}
	for i, d := range demos {
		if demos[i].Needs, err = readNeeds(filepath.Join(root, "server", d.Name)); err != nil {
			return nil, err
		}
	}
	return demos, nil
}

// readNeeds returns the names in a Needs field's literal list, in the
// package in dir.
func readNeeds(dir string) ([]string, error) {
	files, err := parsePackage(dir)
	if err != nil {
		return nil, err
	}
	var needs []string
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			kv, ok := n.(*ast.KeyValueExpr)
			if !ok {
				return true
			}
			if key, ok := kv.Key.(*ast.Ident); !ok || key.Name != "Needs" {
				return true
			}
			if cl, ok := kv.Value.(*ast.CompositeLit); ok {
				for _, e := range cl.Elts {
					if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						name, _ := strconv.Unquote(lit.Value)
						needs = append(needs, name)
					}
				}
			}
			return false
		})
	}
	return needs, nil
}

// parsePackage parses the Go files of the package in dir, its tests left
// out.
func parsePackage(dir string) ([]*ast.File, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	fset := token.NewFileSet()
	for _, file := range matches {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// plural returns one if n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// list joins names as prose: "echo", "echo and chat", "echo, chat and lab".
func list(names []string) string {
	switch len(names) {
	case 0:
		return "no demo"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
