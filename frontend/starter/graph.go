package starter

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A Graph is the Go packages of a checkout, by folder from its root
// ("server/chat", or "." for the root itself), each with the packages of
// the same checkout that it imports.
type Graph map[string]*Package

// A Package is one folder of Go files.
type Package struct {
	Name        string   // the package clause of its non-test files
	Imports     []string // the folders its own files import, sorted
	TestImports []string // the folders only its tests import, sorted
}

// LoadGraph reads the import clauses of every Go file under root, whose
// module path is module. Build constraints are ignored on purpose: a
// package's imports are those of every platform it builds for (the
// server's and the browser's) and of its files that no build includes,
// such as build.go. Folders named testdata or vendor, or starting with
// "." or "_", are skipped, as the go command skips them; nested modules
// are read, since they import the checkout's packages too.
func LoadGraph(root, module string) (Graph, error) {
	g := Graph{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(file string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if file != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(file))
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, file, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		p := g[dir]
		if p == nil {
			p = &Package{}
			g[dir] = p
		}
		test := strings.HasSuffix(name, "_test.go")
		if !test && p.Name == "" {
			p.Name = f.Name.Name
		}
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			to, ok := Folder(imp, module)
			if !ok {
				continue
			}
			if test {
				p.TestImports = append(p.TestImports, to)
			} else {
				p.Imports = append(p.Imports, to)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range g {
		slices.Sort(p.Imports)
		p.Imports = slices.Compact(p.Imports)
		slices.Sort(p.TestImports)
		p.TestImports = slices.Compact(p.TestImports)
		p.TestImports = slices.DeleteFunc(p.TestImports, func(to string) bool { return slices.Contains(p.Imports, to) })
	}
	return g, nil
}

// Folder returns the folder of the package with import path imp, if it
// belongs to module.
func Folder(imp, module string) (string, bool) {
	if imp == module {
		return ".", true
	}
	rest, ok := strings.CutPrefix(imp, module+"/")
	return rest, ok
}

// A Demo is one entry of the command's list of demos.
type Demo struct {
	Name  string   // its folder under server/, such as "chat"
	Needs []string // the demos it declares it uses (web.Demo's Needs)
}

// Folders returns the folders that belong to the demo alone: its server
// package, its browser code and its wasm program.
func (d Demo) Folders() []string {
	return []string{"server/" + d.Name, "wasm/" + d.Name, "wasm/app/" + d.Name}
}

// A Plan says what a new app keeps and what it leaves out.
type Plan struct {
	Keep []string // the demos kept, in the list's order
	Drop []string // the demos left out, in the list's order

	// Why says, for each demo kept without being asked for, which kept
	// demo needs it and how we know.
	Why map[string]string

	// Packages are the folders of the packages left out: the dropped
	// demos' and those that only they use. Sorted.
	Packages []string

	// Folders are the folders to leave out: the dropped demos' folders
	// and those of the packages only they use, each once. Sorted.
	Folders []string

	// Tests are the kept packages whose tests import a package left out;
	// their tests that use it go too.
	Tests []string

	// Lists are the kept packages that import a dropped demo: the
	// command, whose list of demos loses the demo's line.
	Lists []string
}

// MakePlan decides, from the import graph, what an app keeping the demos
// named in keep (all of them if keep is nil) leaves out. command is the
// folder of the command that lists the demos.
//
// A kept demo keeps the demos it declares it needs and those whose
// packages its own packages or tests import. A package is left out if it
// belongs to a dropped demo, or if a dropped demo imports it and nothing
// kept does: the kept demos, the command without the dropped demos' lines,
// and every package no dropped demo reaches (the core, the tools) are
// followed through the imports of their non-test files. A test's import
// does not keep a package: the test goes with it (see Plan.Tests).
func MakePlan(g Graph, demos []Demo, keep []string, command string) (*Plan, error) {
	byName := map[string]Demo{}
	var names []string
	for _, d := range demos {
		byName[d.Name] = d
		names = append(names, d.Name)
	}
	if keep == nil {
		keep = names
	}
	keep = slices.Clone(keep)
	for i := range keep {
		keep[i] = strings.TrimSpace(keep[i])
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("keep at least one demo of %s", strings.Join(names, ", "))
	}
	owner := func(dir string) string {
		for _, d := range demos {
			for _, f := range d.Folders() {
				if dir == f || strings.HasPrefix(dir, f+"/") {
					return d.Name
				}
			}
		}
		return ""
	}

	// The demos each demo needs, and why.
	needs := map[string]map[string]string{} // demo → needed demo → why
	need := func(d, other, why string) {
		if needs[d] == nil {
			needs[d] = map[string]string{}
		}
		if _, ok := needs[d][other]; !ok {
			needs[d][other] = why
		}
	}
	for _, d := range demos {
		for _, other := range d.Needs {
			if _, ok := byName[other]; !ok {
				return nil, fmt.Errorf("the demo %s needs %q, which is not in the list of demos", d.Name, other)
			}
			need(d.Name, other, "server/"+d.Name+" says it needs "+other)
		}
	}
	for _, dir := range slices.Sorted(maps.Keys(g)) {
		d := owner(dir)
		if d == "" {
			continue
		}
		p := g[dir]
		for _, to := range slices.Concat(p.Imports, p.TestImports) {
			if other := owner(to); other != "" && other != d {
				how := "imports"
				if slices.Contains(p.TestImports, to) {
					how = "tests import"
				}
				need(d, other, dir+"'s "+how+" "+to)
			}
		}
	}

	kept := map[string]bool{}
	why := map[string]string{}
	var add func(name string) error
	add = func(name string) error {
		if _, ok := byName[name]; !ok {
			return fmt.Errorf("no demo is named %q; the demos are %s", name, strings.Join(names, ", "))
		}
		if kept[name] {
			return nil
		}
		kept[name] = true
		for _, other := range slices.Sorted(maps.Keys(needs[name])) {
			if !kept[other] && !slices.Contains(keep, other) {
				why[other] = name + " needs it: " + needs[name][other]
			}
			if err := add(other); err != nil {
				return err
			}
		}
		return nil
	}
	for _, name := range keep {
		if err := add(name); err != nil {
			return nil, err
		}
	}
	plan := &Plan{Why: why}
	for _, name := range names {
		if kept[name] {
			plan.Keep = append(plan.Keep, name)
		} else {
			plan.Drop = append(plan.Drop, name)
		}
	}

	// What the dropped demos reach, through non-test imports.
	dropped := func(dir string) bool { o := owner(dir); return o != "" && !kept[o] }
	reached := map[string]bool{}
	var reach func(dir string)
	reach = func(dir string) {
		if reached[dir] {
			return
		}
		reached[dir] = true
		if p := g[dir]; p != nil {
			for _, to := range p.Imports {
				reach(to)
			}
		}
	}
	for dir := range g {
		if dropped(dir) {
			reach(dir)
		}
	}

	// What everything else reaches: the kept demos, and whatever no
	// dropped demo reaches. Only the command may import a dropped demo.
	needed := map[string]bool{}
	var errs []string
	var follow func(dir string)
	follow = func(dir string) {
		if needed[dir] {
			return
		}
		needed[dir] = true
		p := g[dir]
		if p == nil {
			return
		}
		for _, to := range p.Imports {
			if dropped(to) {
				if dir == command {
					plan.Lists = append(plan.Lists, dir)
				} else {
					errs = append(errs, dir+" imports "+to)
				}
				continue
			}
			follow(to)
		}
	}
	for _, dir := range slices.Sorted(maps.Keys(g)) {
		if !reached[dir] || kept[owner(dir)] {
			follow(dir)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("only the command may import a demo, but %s", strings.Join(errs, ", "))
	}
	plan.Lists = slices.Compact(plan.Lists)

	for _, dir := range slices.Sorted(maps.Keys(g)) {
		if reached[dir] && !needed[dir] {
			plan.Packages = append(plan.Packages, dir)
		}
	}
	for _, dir := range slices.Sorted(maps.Keys(g)) {
		p := g[dir]
		if needed[dir] && slices.ContainsFunc(p.TestImports, func(to string) bool { return slices.Contains(plan.Packages, to) }) {
			plan.Tests = append(plan.Tests, dir)
		}
	}

	// The folders: each dropped demo's, then each package's, less those
	// inside another; a folder that holds a kept package cannot go.
	folders := slices.Clone(plan.Packages)
	for _, name := range plan.Drop {
		folders = append(folders, byName[name].Folders()...)
	}
	slices.Sort(folders)
	for _, f := range slices.Compact(folders) {
		if len(plan.Folders) > 0 && Inside(f, plan.Folders[len(plan.Folders)-1]) {
			continue
		}
		if !slices.ContainsFunc(slices.Collect(maps.Keys(g)), func(dir string) bool { return Inside(dir, f) }) {
			continue // a demo without wasm code, say
		}
		for dir := range g {
			if needed[dir] && Inside(dir, f) {
				return nil, fmt.Errorf("cannot leave out %s: it holds %s, which is kept", f, dir)
			}
		}
		plan.Folders = append(plan.Folders, f)
	}
	return plan, nil
}

// Inside reports whether the slash-separated path file is folder or
// inside it.
func Inside(file, folder string) bool {
	return file == folder || strings.HasPrefix(file, folder+"/")
}

// appName returns the name of an app with module path module: its last
// element, or the one before a major version suffix (example.com/rt/v2).
func appName(module string) string {
	name := path.Base(module)
	if len(name) > 1 && name[0] == 'v' && strings.Trim(name[1:], "0123456789") == "" {
		name = path.Base(path.Dir(module))
	}
	return name
}

// readModulePath returns the module path declared in dir/go.mod.
func readModulePath(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("%s/go.mod declares no module", dir)
}
