package web

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// source serves the files of the checkout the server runs from, so that
// every page can link to the code that implements it. Only source files
// are served: Go, templ, JavaScript, CSS and Markdown.
type source struct {
	root string // the repository root; "" if the server is not run from one
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
	case !sourceExts[path.Ext(name)] || strings.HasPrefix(name, "..") || strings.HasPrefix(name, ".") || strings.Contains(name, "/."):
		http.Error(w, "not a source file of this project: "+name, http.StatusNotFound)
		return
	}
	data, err := os.ReadFile(filepath.Join(s.root, filepath.FromSlash(name)))
	if err != nil {
		http.Error(w, "no such file in this checkout: "+name, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(data)
}
