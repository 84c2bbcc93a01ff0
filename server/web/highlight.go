package web

import (
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"html"
	"strings"
)

// This file turns a source file into the lines the source viewer shows:
// Go through the standard library's own scanner and parser, which know the
// language exactly, so that keywords, comments, strings and numbers get a
// class each and every top-level declaration an anchor (#Upgrade,
// #Conn.ReadMessage) that a page can link to and that survives edits
// elsewhere in the file. Other files are shown as plain text.
//
// A general-purpose highlighter (chroma) would add some 6 MB of lexers to
// every binary for a page only the workshop shows; nearly all the files a
// page links to are Go.

// A sourceLine is one line of a file, as HTML that is safe to insert.
type sourceLine struct {
	HTML    string
	Anchors []string // the declarations that start on the line
}

// highlight splits src into lines, highlighted if name is a Go file.
func highlight(name string, src []byte) []sourceLine {
	if !strings.HasSuffix(name, ".go") {
		return plainLines(string(src))
	}
	var b strings.Builder
	fset := token.NewFileSet()
	file := fset.AddFile(name, -1, len(src))
	var s scanner.Scanner
	s.Init(file, src, nil, scanner.ScanComments)
	last := 0 // bytes of src written so far
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		start := file.Offset(pos)
		if tok == token.SEMICOLON && lit == "\n" {
			continue // inserted by the scanner, not in the source
		}
		end := start + len(lit)
		if lit == "" {
			end = start + len(tok.String())
		}
		if start < last || end > len(src) {
			continue
		}
		class := ""
		switch {
		case tok == token.COMMENT:
			class = "c"
		case tok.IsKeyword():
			class = "k"
		case tok == token.STRING || tok == token.CHAR:
			class = "s"
		case tok == token.INT || tok == token.FLOAT || tok == token.IMAG:
			class = "n"
		}
		b.WriteString(html.EscapeString(string(src[last:start])))
		text := html.EscapeString(string(src[start:end]))
		if class != "" {
			// A span per line, so that a multi-line comment or raw string
			// does not cross the lines the viewer splits.
			text = `<span class="` + class + `">` + strings.ReplaceAll(text, "\n", "</span>\n<span class=\""+class+"\">") + `</span>`
		}
		b.WriteString(text)
		last = end
	}
	b.WriteString(html.EscapeString(string(src[last:])))

	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	out := make([]sourceLine, len(lines))
	for i, l := range lines {
		out[i].HTML = l
	}
	for line, names := range declarations(name, src) {
		if line >= 1 && line <= len(out) {
			out[line-1].Anchors = names
		}
	}
	return out
}

func plainLines(src string) []sourceLine {
	lines := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	out := make([]sourceLine, len(lines))
	for i, l := range lines {
		out[i].HTML = html.EscapeString(l)
	}
	return out
}

// declarations returns the top-level declarations of a Go file by the line
// they start on (their doc comment's first line, if they have one): funcs
// by name, methods as Type.Method, and each name a type, const or var
// declaration introduces. A file that does not parse has none.
func declarations(name string, src []byte) map[int][]string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil
	}
	decls := map[int][]string{}
	add := func(doc *ast.CommentGroup, at token.Pos, name string) {
		if doc != nil {
			at = doc.Pos()
		}
		line := fset.Position(at).Line
		decls[line] = append(decls[line], name)
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			name := d.Name.Name
			if d.Recv != nil && len(d.Recv.List) == 1 {
				name = receiverType(d.Recv.List[0].Type) + "." + name
			}
			add(d.Doc, d.Pos(), name)
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				doc := d.Doc
				if len(d.Specs) > 1 || d.Lparen.IsValid() {
					doc = nil // a grouped declaration: anchor each name on its own line
				}
				switch s := spec.(type) {
				case *ast.TypeSpec:
					add(doc, s.Pos(), s.Name.Name)
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.Name != "_" {
							add(doc, n.Pos(), n.Name)
						}
					}
				}
			}
		}
	}
	return decls
}

// receiverType returns the name of a method's receiver type: "Conn" for
// (c *Conn) and for (s *set[K]).
func receiverType(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.Ident:
			return t.Name
		default:
			return "?"
		}
	}
}
