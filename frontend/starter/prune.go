package starter

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mentions says what a new app leaves out, as code can mention it.
type Mentions struct {
	// Packages are the import paths of the packages left out.
	Packages map[string]bool

	// Routes are the paths that the dropped demos serve, such as "/lab"
	// and "/ws/lab": a string that holds one mentions it. Nil in the
	// packages that do not list demos, whose tests serve routes of their
	// own (wasm/websocket's tests serve their own /ws/echo).
	Routes []string
}

// Prune removes from the Go files of one package (file name → source)
// the code that mentions what the app leaves out. Only an element of a
// slice or map literal, such as a row of a test's table or a line of the
// list of demos, goes if the mention is inside one; otherwise its whole
// declaration goes. In test files, so do the declarations that use one
// that went, and the unexported helpers that only those used. Imports
// left unused go too, and a test file left without a declaration is
// deleted: its entry in the result is nil.
//
// A non-test file loses only elements: where a declaration would have to
// go, Prune fails, since non-test code of a kept package must not need
// what is left out.
//
// Prune returns the files it changed, and what it removed, for the log.
func Prune(files map[string][]byte, m Mentions) (changed map[string][]byte, removed []string, err error) {
	fset := token.NewFileSet()
	var pfs []*pruneFile
	for _, name := range slices.Sorted(maps.Keys(files)) {
		f, err := parser.ParseFile(fset, name, files[name], parser.ParseComments)
		if err != nil {
			return nil, nil, err
		}
		pf := &pruneFile{name: name, src: files[name], fset: fset, f: f, test: strings.HasSuffix(name, "_test.go")}
		pf.imports = importNames(f)
		pfs = append(pfs, pf)
	}

	// The declarations, and what mentions the left-out code.
	var units []*unit
	for _, pf := range pfs {
		for _, decl := range pf.f.Decls {
			switch decl := decl.(type) {
			case *ast.FuncDecl:
				units = append(units, pf.unit(decl, nil))
			case *ast.GenDecl:
				if decl.Tok == token.IMPORT {
					continue
				}
				for _, spec := range decl.Specs {
					units = append(units, pf.unit(spec, decl))
				}
			}
		}
	}
	for _, u := range units {
		u.findMentions(m)
		if u.whole && !u.file.test {
			return nil, nil, fmt.Errorf("%s: %s mentions what is left out, outside a list", u.file.name, u.label())
		}
	}
	before := map[string]bool{}
	for _, u := range units {
		for r := range u.references(false) {
			before[r] = true
		}
	}

	// Declarations that use one that goes go too; so do test helpers
	// that only the declarations that went used.
	for again := true; again; {
		again = false
		gone := map[string]bool{}
		now := map[string]bool{}
		for _, u := range units {
			if u.whole {
				for _, n := range u.names {
					gone[n] = true
				}
				continue
			}
			for r := range u.references(true) {
				now[r] = true
			}
		}
		for _, u := range units {
			if u.whole || !u.file.test {
				continue
			}
			for r := range u.references(true) {
				if gone[r] {
					u.whole, again = true, true
				}
			}
			if !u.whole && u.helper() && slices.ContainsFunc(u.names, func(n string) bool { return before[n] && !now[n] }) {
				u.whole, again = true, true
			}
		}
	}

	changed = map[string][]byte{}
	for _, pf := range pfs {
		var cuts []span
		specsGone := map[*ast.GenDecl]int{}
		for _, u := range units {
			switch {
			case u.file != pf:
			case u.whole:
				removed = append(removed, pf.name+": "+u.label())
				cuts = append(cuts, u.span())
				if u.decl != nil {
					if specsGone[u.decl]++; specsGone[u.decl] == len(u.decl.Specs) {
						cuts = append(cuts, pf.declSpan(u.decl))
					}
				}
			case len(u.elements) > 0:
				removed = append(removed, fmt.Sprintf("%s: %d of the elements of %s", pf.name, len(u.elements), u.label()))
				for _, e := range u.elements {
					cuts = append(cuts, pf.elementSpan(e.list, e.index))
				}
			}
		}
		if len(cuts) == 0 {
			continue
		}
		out, empty, err := pf.rewrite(cuts)
		if err != nil {
			return nil, nil, err
		}
		if empty && pf.test {
			out = nil
		}
		changed[pf.name] = out
	}
	return changed, removed, nil
}

type pruneFile struct {
	name    string
	src     []byte
	fset    *token.FileSet
	f       *ast.File
	test    bool
	imports map[string]string // local name → import path
}

// A unit is a top-level declaration: a function, or one spec of a var,
// const or type declaration.
type unit struct {
	file  *pruneFile
	node  ast.Node     // *ast.FuncDecl, *ast.ValueSpec or *ast.TypeSpec
	decl  *ast.GenDecl // the spec's declaration, or nil
	names []string     // the package-level names it declares

	whole    bool      // the whole unit goes
	elements []element // or only these elements of its literals
}

// An element is one element of a slice, array or map literal.
type element struct {
	list  *ast.CompositeLit
	index int
}

func (pf *pruneFile) unit(node ast.Node, decl *ast.GenDecl) *unit {
	u := &unit{file: pf, node: node, decl: decl}
	switch n := node.(type) {
	case *ast.FuncDecl:
		if n.Recv == nil {
			u.names = []string{n.Name.Name}
		}
	case *ast.ValueSpec:
		for _, id := range n.Names {
			u.names = append(u.names, id.Name)
		}
	case *ast.TypeSpec:
		u.names = []string{n.Name.Name}
	}
	return u
}

func (u *unit) label() string {
	if len(u.names) > 0 {
		return strings.Join(u.names, ", ")
	}
	if fd, ok := u.node.(*ast.FuncDecl); ok {
		return "the method " + fd.Name.Name
	}
	return "a declaration"
}

// helper reports whether the unit is a test's helper: unexported, and not
// something that go test runs.
func (u *unit) helper() bool {
	if len(u.names) == 0 {
		return false
	}
	for _, n := range u.names {
		if n == "_" || n == "init" || ast.IsExported(n) {
			return false
		}
	}
	return true
}

// findMentions finds what in the unit mentions the left-out code, and
// sets u.whole or u.elements.
func (u *unit) findMentions(m Mentions) {
	litType := map[*ast.CompositeLit]ast.Expr{} // the type of each literal, elided or not
	var stack []ast.Node
	ast.Inspect(u.node, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		if cl, ok := n.(*ast.CompositeLit); ok {
			t := cl.Type
			if t == nil {
				t = litType[cl]
			}
			for _, e := range cl.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					e = kv.Value
				}
				if inner, ok := e.(*ast.CompositeLit); ok && inner.Type == nil {
					litType[inner] = elementType(t)
				}
			}
			litType[cl] = t
		}
		if !u.mentions(n, m) {
			return true
		}
		// The innermost element of a slice or map literal that holds
		// the mention goes; without one, the whole unit.
		for i := len(stack) - 2; i >= 0; i-- {
			cl, ok := stack[i].(*ast.CompositeLit)
			if !ok || !isList(litType[cl]) {
				continue
			}
			if j := slices.Index(cl.Elts, stack[i+1].(ast.Expr)); j >= 0 {
				if !slices.Contains(u.elements, element{cl, j}) {
					u.elements = append(u.elements, element{cl, j})
				}
				return true
			}
		}
		u.whole = true
		return true
	})
	if u.whole {
		u.elements = nil
	}
}

// mentions reports whether n names a package left out (pkg.Name), or is a
// string holding one of the routes.
func (u *unit) mentions(n ast.Node, m Mentions) bool {
	switch n := n.(type) {
	case *ast.SelectorExpr:
		id, ok := n.X.(*ast.Ident)
		return ok && id.Obj == nil && m.Packages[u.file.imports[id.Name]]
	case *ast.BasicLit:
		if n.Kind != token.STRING || m.Routes == nil {
			return false
		}
		s, err := strconv.Unquote(n.Value)
		return err == nil && holdsRoute(s, m.Routes)
	}
	return false
}

// references returns the package-level names the unit uses; with
// pruned set, leaving out the elements that go.
func (u *unit) references(pruned bool) map[string]bool {
	refs := map[string]bool{}
	skip := map[ast.Node]bool{}
	if pruned {
		for _, e := range u.elements {
			skip[e.list.Elts[e.index]] = true
		}
	}
	own := map[*ast.Ident]bool{}
	switch n := u.node.(type) {
	case *ast.FuncDecl:
		own[n.Name] = true
	case *ast.ValueSpec:
		for _, id := range n.Names {
			own[id] = true
		}
	case *ast.TypeSpec:
		own[n.Name] = true
	}
	var visit func(n ast.Node)
	visit = func(n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			if n == nil || skip[n] {
				return false
			}
			switch n := n.(type) {
			case *ast.SelectorExpr:
				visit(n.X) // n.Sel is a field, a method or a package's member
				return false
			case *ast.KeyValueExpr:
				if _, ok := n.Key.(*ast.Ident); ok { // a struct's field
					visit(n.Value)
					return false
				}
			case *ast.Ident:
				if !own[n] && u.file.topLevel(n) {
					refs[n.Name] = true
				}
			}
			return true
		})
	}
	visit(u.node)
	return refs
}

// topLevel reports whether id may name a package-level declaration: one
// of another file (the file does not resolve it), or one of the file's.
func (pf *pruneFile) topLevel(id *ast.Ident) bool {
	return id.Obj == nil || pf.f.Scope.Lookup(id.Name) == id.Obj
}

// elementType returns the type of the elements of a literal of type t,
// when they elide it.
func elementType(t ast.Expr) ast.Expr {
	var e ast.Expr
	switch t := t.(type) {
	case *ast.ArrayType:
		e = t.Elt
	case *ast.MapType:
		e = t.Value
	default:
		return nil
	}
	if star, ok := e.(*ast.StarExpr); ok {
		return star.X
	}
	return e
}

func isList(t ast.Expr) bool {
	switch t.(type) {
	case *ast.ArrayType, *ast.MapType:
		return true
	}
	return false
}

// holdsRoute reports whether s holds one of routes as a whole path: not
// inside a longer name ("/chat" is in `href="/chat"` and "/chat?x", not in
// "/chatroom" or "wasm/chat").
func holdsRoute(s string, routes []string) bool {
	for _, r := range routes {
		for i := 0; ; {
			j := strings.Index(s[i:], r)
			if j < 0 {
				break
			}
			at, end := i+j, i+j+len(r)
			before, _ := utf8.DecodeLastRuneInString(s[:at])
			after, _ := utf8.DecodeRuneInString(s[end:])
			if (at == 0 || !pathRune(before) && before != '/') && (end == len(s) || !pathRune(after)) {
				return true
			}
			i = at + 1
		}
	}
	return false
}

func pathRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '.'
}

// routePattern is what a string must look like to be taken for a route.
var routePattern = regexp.MustCompile(`^/[A-Za-z0-9_.~-]+(/[A-Za-z0-9_.~-]+)*/?$`)

// Routes returns the strings of the Go sources given that look like
// routes ("/chat", "/ws/chat").
func Routes(files map[string][]byte) (map[string]bool, error) {
	routes := map[string]bool{}
	fset := token.NewFileSet()
	for name, src := range files {
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && routePattern.MatchString(s) {
					routes[s] = true
				}
			}
			return true
		})
	}
	return routes, nil
}

// importNames maps the name under which f uses each import to its path.
func importNames(f *ast.File) map[string]string {
	names := map[string]string{}
	for _, spec := range f.Imports {
		p, _ := strconv.Unquote(spec.Path.Value)
		names[importName(spec, p)] = p
	}
	return names
}

// importName returns the name under which a file uses an import: the one
// it gives, or, as a guess, the path's last element without a version
// ("github.com/go-chi/chi/v5" → "chi", "gopkg.in/yaml.v3" → "yaml").
func importName(spec *ast.ImportSpec, p string) string {
	if spec.Name != nil {
		return spec.Name.Name
	}
	name := path.Base(p)
	if strings.Trim(name, "v0123456789") == "" && strings.Contains(p, "/") {
		name = path.Base(path.Dir(p))
	}
	name, _, _ = strings.Cut(name, ".")
	name = strings.TrimPrefix(name, "go-")
	return strings.ReplaceAll(name, "-", "")
}

// A span is a range of bytes to cut from a file.
type span struct{ from, to int }

func (pf *pruneFile) offset(p token.Pos) int { return pf.fset.Position(p).Offset }

// lines widens [from, to) to whole lines, with their newline.
func (pf *pruneFile) lines(from, to int) span {
	for from > 0 && pf.src[from-1] != '\n' {
		from--
	}
	for to > 0 && to < len(pf.src) && pf.src[to-1] != '\n' {
		to++
	}
	return span{from, to}
}

// span returns the lines of the unit, with its doc comment; for the only
// spec of a declaration, the declaration's.
func (u *unit) span() span {
	var from, to token.Pos
	switch n := u.node.(type) {
	case *ast.FuncDecl:
		from, to = n.Pos(), n.End()
		if n.Doc != nil {
			from = n.Doc.Pos()
		}
	case *ast.ValueSpec:
		from, to = n.Pos(), n.End()
		if n.Doc != nil {
			from = n.Doc.Pos()
		}
		if n.Comment != nil {
			to = n.Comment.End()
		}
	case *ast.TypeSpec:
		from, to = n.Pos(), n.End()
		if n.Doc != nil {
			from = n.Doc.Pos()
		}
		if n.Comment != nil {
			to = n.Comment.End()
		}
	}
	if u.decl != nil && (len(u.decl.Specs) == 1 || !u.decl.Lparen.IsValid()) {
		return u.file.declSpan(u.decl)
	}
	return u.file.lines(u.file.offset(from), u.file.offset(to))
}

// declSpan returns the lines of a declaration, with its doc comment.
func (pf *pruneFile) declSpan(d *ast.GenDecl) span {
	from := d.Pos()
	if d.Doc != nil {
		from = d.Doc.Pos()
	}
	return pf.lines(pf.offset(from), pf.offset(d.End()))
}

// elementSpan returns what to cut for the element i of list: its lines if
// it has them to itself (with the comment lines just above it), or else
// the element and the comma between it and a neighbour.
func (pf *pruneFile) elementSpan(list *ast.CompositeLit, i int) span {
	e := list.Elts[i]
	from, to := pf.offset(e.Pos()), pf.offset(e.End())
	lineStart := pf.lines(from, from).from
	rest := pf.src[to:]
	if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
		rest = rest[:nl]
	}
	tail := strings.TrimSpace(string(rest))
	tail = strings.TrimSpace(strings.TrimPrefix(tail, ","))
	if strings.TrimSpace(string(pf.src[lineStart:from])) == "" && (tail == "" || strings.HasPrefix(tail, "//")) {
		s := pf.lines(from, to)
		for s.from > 0 {
			above := pf.lines(s.from-1, s.from-1)
			if !strings.HasPrefix(strings.TrimSpace(string(pf.src[above.from:above.to])), "//") {
				break
			}
			s.from = above.from
		}
		return s
	}
	switch {
	case i+1 < len(list.Elts):
		return span{from, pf.offset(list.Elts[i+1].Pos())}
	case i > 0:
		return span{pf.offset(list.Elts[i-1].End()), to}
	}
	return span{from, to}
}

// rewrite cuts the spans from the file, then the imports left unused,
// and formats it. It reports whether the file has no declaration left.
func (pf *pruneFile) rewrite(cuts []span) (out []byte, empty bool, err error) {
	src := cut(pf.src, cuts)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, pf.name, src, parser.ParseComments)
	if err != nil {
		return nil, false, fmt.Errorf("%s after pruning: %v", pf.name, err)
	}
	usedBefore := selectorBases(pf.f)
	usedNow := selectorBases(f)
	next := &pruneFile{name: pf.name, src: src, fset: fset, f: f}
	var unused []span
	empty = true
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			empty = false
			continue
		}
		var gone []span
		for _, spec := range gd.Specs {
			is := spec.(*ast.ImportSpec)
			p, _ := strconv.Unquote(is.Path.Value)
			name := importName(is, p)
			if name == "_" || name == "." || !usedBefore[name] || usedNow[name] {
				continue // in use, or we cannot tell
			}
			gone = append(gone, next.lines(next.offset(is.Pos()), next.offset(is.End())))
		}
		if len(gone) == len(gd.Specs) {
			gone = []span{next.lines(next.offset(gd.Pos()), next.offset(gd.End()))}
		}
		unused = append(unused, gone...)
	}
	out, err = format.Source(cut(src, unused))
	if err != nil {
		return nil, false, fmt.Errorf("%s after pruning: %v", pf.name, err)
	}
	return out, empty, nil
}

// selectorBases returns the names used as X in X.Sel that the file does
// not resolve itself: the imports it uses, mostly.
func selectorBases(f *ast.File) map[string]bool {
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Obj == nil {
				used[id.Name] = true
			}
		}
		return true
	})
	return used
}

// cut returns src without the spans, which may overlap.
func cut(src []byte, spans []span) []byte {
	slices.SortFunc(spans, func(a, b span) int { return a.from - b.from })
	var out []byte
	at := 0
	for _, s := range spans {
		if s.from > at {
			out = append(out, src[at:s.from]...)
		}
		at = max(at, s.to)
	}
	return append(out, src[at:]...)
}
