package web

import (
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/a-h/templ"
)

// source serves the files of the checkout the server runs from, so that
// every page can link to the code that implements it: as an HTML page with
// line numbers and anchors (see highlight.go), or, with ?raw, as the bytes
// of the file. Only source files are served: Go, templ, JavaScript, CSS
// and Markdown. /source/ itself lists them all.
type source struct {
	root string // the module root; "" if the server does not run from its checkout
	page Page   // the layout's fields: assets, navigation
}

// findModuleRoot returns the directory of the module this server was
// built from, whatever its path, searching up from the working directory;
// or "" if the server does not run inside its checkout.
func findModuleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	main := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		main = info.Main.Path
	}
	return moduleRootFrom(dir, main)
}

// moduleRootFrom returns the first directory at or above dir whose go.mod
// declares the module main, or, if main is "" (as in a test binary), holds
// any go.mod; or "".
func moduleRootFrom(dir, main string) string {
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			if main == "" || modfile(data) == main {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// modfile returns the module path that a go.mod file declares.
func modfile(data []byte) string {
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

var sourceExts = map[string]bool{".go": true, ".templ": true, ".js": true, ".css": true, ".md": true}

func (s source) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := path.Clean(strings.TrimPrefix(r.URL.Path, SourcePrefix))
	switch {
	case s.root == "":
		http.Error(w, "source files are shown only when the server runs from its checkout", http.StatusNotFound)
		return
	case name == "." || name == "":
		s.serveIndex(w, r)
		return
	case !sourceExts[path.Ext(name)] || strings.HasPrefix(name, "..") || strings.HasPrefix(name, ".") || strings.Contains(name, "/."):
		http.Error(w, "not a source file of this project: "+name, http.StatusNotFound)
		return
	}
	data, err := os.ReadFile(filepath.Join(s.root, filepath.FromSlash(name)))
	if err != nil {
		http.Error(w, "no such file in this checkout: "+name, http.StatusNotFound)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	if r.URL.Query().Has("raw") {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(data)
		return
	}
	p := s.page
	p.Title, p.Path = name, SourcePrefix+name
	templ.Handler(sourcePage(p, name, highlight(name, data))).ServeHTTP(w, r)
}

// A sourceDir is a folder of the index, with its source files.
type sourceDir struct {
	Name   string // "." for the root
	Prefix string // the path of its files, from the root: "server/ws/"
	Files  []string
}

// maxIndexFiles bounds the index, whatever the checkout holds.
const maxIndexFiles = 5000

func (s source) serveIndex(w http.ResponseWriter, r *http.Request) {
	var dirs []sourceDir
	count := 0
	filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || count >= maxIndexFiles {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(s.root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "static" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !sourceExts[path.Ext(rel)] || strings.HasSuffix(rel, "_templ.go") {
			return nil
		}
		dir, file := path.Split(rel)
		if len(dirs) == 0 || dirs[len(dirs)-1].Prefix != dir {
			name := strings.TrimSuffix(dir, "/")
			if name == "" {
				name = "."
			}
			dirs = append(dirs, sourceDir{Name: name, Prefix: dir})
		}
		dirs[len(dirs)-1].Files = append(dirs[len(dirs)-1].Files, file)
		count++
		return nil
	})
	p := s.page
	p.Title, p.Path = "Source files", SourcePrefix
	w.Header().Set("Cache-Control", "no-cache")
	templ.Handler(sourceIndex(p, dirs)).ServeHTTP(w, r)
}
