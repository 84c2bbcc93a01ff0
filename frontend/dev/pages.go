package dev

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"strings"

	"github.com/a-h/parse"
	"github.com/a-h/templ"
	"github.com/a-h/templ/generator"
	parser "github.com/a-h/templ/parser/v2"
	templruntime "github.com/a-h/templ/runtime"
)

// pages generates Go from the templ pages, as `templ generate` does, and
// the text that a server run with TEMPL_DEV_MODE reads at each render:
// an edit that changes only a page's text then shows without compiling.
//
// It belongs to the dev loop's goroutine.
type pages struct {
	root    string                               // the repository root
	textDir string                               // TEMPL_DEV_MODE_ROOT
	last    map[string]generator.GeneratorOutput // per page, by path from root
}

// An edit is what generating a page found.
type edit struct {
	goChanged   bool // the Go the page compiles to changed: the server must be rebuilt
	textChanged bool // only its text did: the running server shows it at once
}

// generate writes the Go for the page at path (from the root), if it
// differs from what is there, and the page's text for development mode.
func (p *pages) generate(path string) (edit, error) {
	abs := filepath.Join(p.root, path)
	tf, err := parser.Parse(abs)
	if err != nil {
		var perr parse.ParseError
		if errors.As(err, &perr) {
			return edit{}, fmt.Errorf("%s:%d:%d: %s", path, perr.Pos.Line+1, perr.Pos.Col, perr.Msg)
		}
		return edit{}, fmt.Errorf("%s: %w", path, err)
	}
	var code bytes.Buffer
	out, err := generator.Generate(tf, &code, generator.WithVersion(templ.Version()), generator.WithFileName(filepath.ToSlash(path)))
	if err != nil {
		return edit{}, fmt.Errorf("%s: %w", path, err)
	}
	formatted, err := format.Source(code.Bytes())
	if err != nil {
		return edit{}, fmt.Errorf("%s: the Go generated from it does not parse: %w", path, err)
	}
	goFile := abs[:len(abs)-len(".templ")] + "_templ.go"
	if old, err := os.ReadFile(goFile); err != nil || !bytes.Equal(old, formatted) {
		if err := os.WriteFile(goFile, formatted, 0o644); err != nil {
			return edit{}, err
		}
	}
	if err := os.MkdirAll(p.textDir, 0o755); err != nil {
		return edit{}, err
	}
	text := []byte(strings.Join(out.Literals, "\n"))
	if err := os.WriteFile(p.textFile(abs), text, 0o644); err != nil {
		return edit{}, err
	}
	var e edit
	if prev, ok := p.last[path]; ok {
		e = edit{goChanged: generator.HasGoChanged(prev, out), textChanged: generator.HasTextChanged(prev, out)}
	} else {
		e = edit{goChanged: true, textChanged: true}
	}
	p.last[path] = out
	return e, nil
}

// textFile is where templ's runtime looks for the text of the page at abs
// while TEMPL_DEV_MODE is set.
func (p *pages) textFile(abs string) string {
	name := templruntime.GetDevModeTextFileName(abs)
	return filepath.Join(p.textDir, filepath.Base(name))
}
