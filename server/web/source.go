package web

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// source serves the files of the checkout the server runs from, so that
// every page can link to the code that implements it. Only source files
// are served: Go, templ, JavaScript, CSS and Markdown.
type source struct {
	root string // the repository root; "" if the server is not run from one
}

// findRepoRoot returns the directory holding duplex's go.mod, searching up
// from the working directory, or "".
func findRepoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(data), "module duplex\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

var sourceExts = map[string]bool{".go": true, ".templ": true, ".js": true, ".css": true, ".md": true}

func (s source) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := path.Clean(strings.TrimPrefix(r.URL.Path, sourcePrefix))
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
