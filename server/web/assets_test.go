package web

import (
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// testAssets is a build as package frontend writes it: hashed names, with
// compressed twins where they were worth it, and a manifest.
var testAssets = fstest.MapFS{
	"manifest.json": {Data: []byte(`{
  "app.wasm": "app.1111111111.wasm",
  "main.js": "main.2222222222.js",
  "style.css": "style.3333333333.css",
  "data.bin": "data.4444444444.bin"
}
`)},
	"app.1111111111.wasm":    {Data: []byte("\x00asm: the module itself")},
	"app.1111111111.wasm.br": {Data: []byte("the module, brotli")},
	"app.1111111111.wasm.gz": {Data: []byte("the module, gzip")},
	"main.2222222222.js":     {Data: []byte("console.log('the script');")},
	"main.2222222222.js.gz":  {Data: []byte("the script, gzip")},   // no brotli twin
	"style.3333333333.css":   {Data: []byte("body { margin: 0 }")}, // no twins
	"data.4444444444.bin":    {Data: []byte{0, 1, 2, 3}},
	".gitkeep":               {Data: nil},
	"old.5555555555.js":      {Data: []byte("left over, not in the manifest")},
}

func TestLoadAssets(t *testing.T) {
	a, err := LoadAssets(testAssets)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"app.wasm":            "/static/app.1111111111.wasm",
		"main.js":             "/static/main.2222222222.js",
		"style.css":           "/static/style.3333333333.css",
		"nope.js":             "",
		"":                    "",
		"manifest":            "",
		"app.1111111111.wasm": "", // a file name is not a logical name
	} {
		if got := a.Path(name); got != want {
			t.Errorf("Path(%q) = %q, want %q", name, got, want)
		}
	}
	var none *Assets // what NewSite has when the front end is not built
	if got := none.Path("main.js"); got != "" {
		t.Errorf("Path on nil Assets = %q, want \"\"", got)
	}
}

func TestLoadAssetsErrors(t *testing.T) {
	for _, tt := range []struct {
		name        string
		fsys        fs.FS
		notBuilt    bool   // the error is ErrNotBuilt
		errContains string // otherwise
	}{
		{name: "empty", fsys: fstest.MapFS{}, notBuilt: true},
		{name: "only .gitkeep", fsys: fstest.MapFS{".gitkeep": {}}, notBuilt: true},
		{name: "bad JSON", fsys: fstest.MapFS{"manifest.json": {Data: []byte(`{"main.js": `)}}, errContains: "read manifest.json"},
		{name: "not an object", fsys: fstest.MapFS{"manifest.json": {Data: []byte(`["main.js"]`)}}, errContains: "read manifest.json"},
		{name: "manifest is a directory", fsys: fstest.MapFS{"manifest.json/x": {}}, errContains: "manifest.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := LoadAssets(tt.fsys)
			if a != nil {
				t.Errorf("LoadAssets returned assets with error %v", err)
			}
			switch {
			case err == nil:
				t.Fatal("LoadAssets succeeded")
			case errors.Is(err, ErrNotBuilt) != tt.notBuilt:
				t.Errorf("error %q: is ErrNotBuilt %v, want %v", err, !tt.notBuilt, tt.notBuilt)
			case !tt.notBuilt && !strings.Contains(err.Error(), tt.errContains):
				t.Errorf("error %q does not contain %q", err, tt.errContains)
			}
		})
	}
	if !strings.Contains(ErrNotBuilt.Error(), "go run build.go serve") {
		t.Errorf("ErrNotBuilt does not say how to build: %q", ErrNotBuilt)
	}
}

func TestEmbeddedAssets(t *testing.T) {
	// A fresh clone has only .gitkeep in static: the embedding must still
	// work, and the pages then say how to build.
	if _, err := fs.Stat(Embedded(), ".gitkeep"); err != nil {
		t.Errorf("the embedded assets lack .gitkeep: %v", err)
	}
	if _, err := LoadAssets(Embedded()); err != nil && !errors.Is(err, ErrNotBuilt) {
		t.Errorf("LoadAssets(Embedded()): %v", err)
	}
}

func TestServeAssets(t *testing.T) {
	a, err := LoadAssets(testAssets)
	if err != nil {
		t.Fatal(err)
	}
	const (
		wasm = "/static/app.1111111111.wasm"
		js   = "/static/main.2222222222.js"
		css  = "/static/style.3333333333.css"
		bin  = "/static/data.4444444444.bin"
	)
	for _, tt := range []struct {
		name, path, accept string
		file               string // served, from testAssets; "" for 404
		encoding           string // Content-Encoding
		contentType        string
	}{
		{"brotli", wasm, "br", "app.1111111111.wasm.br", "br", "application/wasm"},
		{"brotli preferred", wasm, "gzip, deflate, br, zstd", "app.1111111111.wasm.br", "br", "application/wasm"},
		{"gzip", wasm, "gzip", "app.1111111111.wasm.gz", "gzip", "application/wasm"},
		{"gzip with q", wasm, "gzip;q=0.8, identity;q=0.5", "app.1111111111.wasm.gz", "gzip", "application/wasm"},
		{"identity", wasm, "identity", "app.1111111111.wasm", "", "application/wasm"},
		{"no Accept-Encoding", wasm, "", "app.1111111111.wasm", "", "application/wasm"},
		{"gzip refused", wasm, "gzip;q=0", "app.1111111111.wasm", "", "application/wasm"},
		{"both refused", wasm, "br;q=0, gzip;q=0.000", "app.1111111111.wasm", "", "application/wasm"},
		{"brotli refused", wasm, "br; q=0, gzip", "app.1111111111.wasm.gz", "gzip", "application/wasm"},
		{"case and spaces", wasm, " GZIP , BR ", "app.1111111111.wasm.br", "br", "application/wasm"},
		{"unknown coding", wasm, "deflate, zstd", "app.1111111111.wasm", "", "application/wasm"},
		{"no brotli twin", js, "br, gzip", "main.2222222222.js.gz", "gzip", "text/javascript; charset=utf-8"},
		{"no twin wanted", js, "br", "main.2222222222.js", "", "text/javascript; charset=utf-8"},
		{"no twins", css, "br, gzip", "style.3333333333.css", "", "text/css; charset=utf-8"},
		{"other type", bin, "gzip", "data.4444444444.bin", "", "application/octet-stream"},

		{"unknown name", "/static/nope.1234567890.js", "br", "", "", ""},
		{"no name", "/static/", "", "", "", ""},
		{"brotli twin by name", wasm + ".br", "br", "", "", ""},
		{"gzip twin by name", wasm + ".gz", "gzip", "", "", ""},
		{"path with a slash", "/static/x/app.1111111111.wasm", "", "", "", ""},
		{"path climbing out", "/static/../static/app.1111111111.wasm", "", "", "", ""},
		{"manifest", "/static/manifest.json", "", "", "", ""},
		{"dotfile", "/static/.gitkeep", "", "", "", ""},
		{"file not in the manifest", "/static/old.5555555555.js", "", "", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL.Path = tt.path // as the router passes it, unclean
			if tt.accept != "" {
				req.Header.Set("Accept-Encoding", tt.accept)
			}
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, req)
			res := rec.Result()
			if tt.file == "" {
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("status %d, want 404", res.StatusCode)
				}
				if cc := res.Header.Get("Cache-Control"); strings.Contains(cc, "immutable") {
					t.Errorf("a 404 is cached for good: Cache-Control %q", cc)
				}
				return
			}
			want := string(testAssets[tt.file].Data)
			if res.StatusCode != http.StatusOK || rec.Body.String() != want {
				t.Fatalf("status %d, body %q; want 200 with %s: %q", res.StatusCode, rec.Body.String(), tt.file, want)
			}
			for header, want := range map[string]string{
				"Content-Encoding": tt.encoding,
				"Content-Type":     tt.contentType,
				"Content-Length":   strconv.Itoa(len(want)),
				"Cache-Control":    "public, max-age=31536000, immutable",
				"Vary":             "Accept-Encoding",
			} {
				if got := res.Header.Get(header); got != want {
					t.Errorf("%s: %q, want %q", header, got, want)
				}
			}
		})
	}
}

// TestServeAssetsThroughRouter checks that the router mounts the assets
// and that its no-cache default for pages does not reach them.
func TestServeAssetsThroughRouter(t *testing.T) {
	h, err := NewSite(Config{Assets: testAssets})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/static/app.1111111111.wasm", nil)
	req.Header.Set("Accept-Encoding", "gzip, br")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Body.String() != "the module, brotli" {
		t.Fatalf("status %d, body %q", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control %q", got)
	}
	if res, _ := get(t, h, "/static/manifest.json"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /static/manifest.json: status %d, want 404", res.StatusCode)
	}
}

func TestAcceptsEncoding(t *testing.T) {
	for _, tt := range []struct {
		header, coding string
		want           bool
	}{
		{"", "gzip", false},
		{"gzip", "gzip", true},
		{"gzip", "br", false},
		{"br, gzip", "gzip", true},
		{"Gzip", "gzip", true},
		{"gzip;q=0", "gzip", false},
		{"gzip; q=0", "gzip", false},
		{"gzip;q=0.0", "gzip", false},
		{"gzip;q=0.000", "gzip", false},
		{"gzip;q=0.001", "gzip", true},
		{"gzip;q=1", "gzip", true},
		{"x-gzip", "gzip", false},
		{"gzipped", "gzip", false},
		{"br;q=0, gzip", "gzip", true},
		{"br;q=0, gzip", "br", false},
	} {
		if got := acceptsEncoding(tt.header, tt.coding); got != tt.want {
			t.Errorf("acceptsEncoding(%q, %q) = %v, want %v", tt.header, tt.coding, got, tt.want)
		}
	}
}

// TestServeDevAssets checks the assets of a development build, named as
// they are and rewritten in place: served, and asked for again each time.
func TestServeDevAssets(t *testing.T) {
	fsys := fstest.MapFS{
		"manifest.json": {Data: []byte(`{"echo.wasm": "echo.wasm", "style.css": "style.css"}`)},
		"echo.wasm":     {Data: []byte("\x00asm")},
		"style.css":     {Data: []byte("body {}")},
	}
	a, err := LoadAssets(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Path("style.css"); got != "/static/style.css" {
		t.Errorf(`Path("style.css") = %q`, got)
	}
	for _, name := range []string{"echo.wasm", "style.css"} {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/static/"+name, nil))
		if rec.Code != http.StatusOK || rec.Body.String() != string(fsys[name].Data) {
			t.Errorf("%s: %d %q", name, rec.Code, rec.Body.String())
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s: Cache-Control %q, want no-cache", name, cc)
		}
	}
}
