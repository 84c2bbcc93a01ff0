package web

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// manifestName is the file, written by package frontend, that maps logical
// asset names to content-hashed ones.
const manifestName = "manifest.json"

// static holds the assets written by `go run build.go`. A fresh clone has
// only .gitkeep here; the pages then say how to build.
//
//go:embed all:static
var static embed.FS

// Embedded returns the assets built into the binary.
func Embedded() fs.FS {
	sub, _ := fs.Sub(static, "static")
	return sub
}

// ErrNotBuilt means the assets have not been built yet.
var ErrNotBuilt = errors.New("the front end is not built: run `go run build.go serve` (or `go run build.go build`)")

// Assets serves the built front end: content-hashed files, precompressed,
// cached for a year.
type Assets struct {
	fsys     fs.FS
	manifest map[string]string // logical name → hashed file name
	files    map[string]string // hashed file name → logical name: all that is served
}

// LoadAssets reads the manifest in fsys. It returns ErrNotBuilt if there is
// none.
func LoadAssets(fsys fs.FS) (*Assets, error) {
	data, err := fs.ReadFile(fsys, manifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotBuilt
	}
	if err != nil {
		return nil, err
	}
	a := &Assets{fsys: fsys}
	if err := json.Unmarshal(data, &a.manifest); err != nil {
		return nil, fmt.Errorf("read %s: %w", manifestName, err)
	}
	a.files = make(map[string]string, len(a.manifest))
	for name, file := range a.manifest {
		a.files[file] = name
	}
	return a, nil
}

// staticPrefix is where the assets are served.
const staticPrefix = "/static/"

// Path returns the URL path of the asset with the logical name, such as
// "main.js", or "" if there is no such asset.
func (a *Assets) Path(name string) string {
	if a == nil || a.manifest[name] == "" {
		return ""
	}
	return staticPrefix + a.manifest[name]
}

// ServeHTTP serves one asset, brotli- or gzip-compressed if the client
// accepts it and a compressed twin exists. A name that carries the
// content's hash never changes and may be cached for good; one that does
// not (a development build's, which `go run build.go dev` rewrites in
// place) must be asked for again each time. Other files, such as the
// manifest, are not served.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, staticPrefix)
	logical, ok := a.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	file, encoding := name, ""
	accept := r.Header.Get("Accept-Encoding")
	for _, enc := range []struct{ token, ext string }{{"br", ".br"}, {"gzip", ".gz"}} {
		if acceptsEncoding(accept, enc.token) && exists(a.fsys, name+enc.ext) {
			file, encoding = name+enc.ext, enc.token
			break
		}
	}
	data, err := fs.ReadFile(a.fsys, file)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType(name))
	if name == logical {
		h.Set("Cache-Control", "no-cache")
	} else {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	h.Set("Vary", "Accept-Encoding")
	if encoding != "" {
		h.Set("Content-Encoding", encoding)
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

func exists(fsys fs.FS, name string) bool {
	_, err := fs.Stat(fsys, name)
	return err == nil
}

// acceptsEncoding reports whether an Accept-Encoding header value accepts
// the coding, ignoring q-values other than an explicit q=0.
func acceptsEncoding(header, coding string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), coding) {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".wasm":
		return "application/wasm"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	return "application/octet-stream"
}
