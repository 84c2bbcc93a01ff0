package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSource(t *testing.T) {
	root := findModuleRoot()
	if root == "" {
		t.Fatal("findModuleRoot found no checkout above the test's directory")
	}
	s := source{root: root}
	for _, tt := range []struct {
		name, path string
		file       string // served, from the checkout; "" for a refusal
		says       string // the refusal says
	}{
		{"Go", "/source/server/web/source.go", "server/web/source.go", ""},
		{"templ", "/source/server/web/layout.templ", "server/web/layout.templ", ""},
		{"JavaScript", "/source/frontend/src/main.js", "frontend/src/main.js", ""},
		{"CSS", "/source/frontend/src/style.css", "frontend/src/style.css", ""},
		{"Markdown", "/source/README.md", "README.md", ""},
		{"unclean but inside", "/source/server/../server/web/source.go", "server/web/source.go", ""},

		{"parent directory", "/source/../main/go.mod.go", "", "not a source file"},
		{"climbing out", "/source/server/../../../etc/passwd.go", "", "not a source file"},
		{"parent alone", "/source/..", "", "not a source file"},
		{"dotfile", "/source/.hidden.go", "", "not a source file"},
		{"dot directory", "/source/.git/hooks/pre-commit.md", "", "not a source file"},
		{"nested dot directory", "/source/server/.cache/x.go", "", "not a source file"},
		{"go.mod", "/source/go.mod", "", "not a source file"},
		{"go.sum", "/source/go.sum", "", "not a source file"},
		{"JSON", "/source/server/web/static/manifest.json", "", "not a source file"},
		{"no extension", "/source/.ci/run", "", "not a source file"},
		{"built asset", "/source/server/web/static/app.wasm", "", "not a source file"},
		{"directory", "/source/server/", "", "not a source file"},
		{"missing", "/source/server/web/nope.go", "", "no such file in this checkout"},
		{"absolute", "/source//etc/passwd.md", "", "no such file in this checkout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL.Path = tt.path // as the router passes it, unclean
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if tt.file == "" {
				if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), tt.says) {
					t.Errorf("status %d, body %q; want 404 saying %q", rec.Code, rec.Body.String(), tt.says)
				}
				return
			}
			want, err := os.ReadFile(filepath.Join(root, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if rec.Code != http.StatusOK || rec.Body.String() != string(want) {
				t.Errorf("status %d and %d bytes, want 200 with the %d bytes of %s", rec.Code, rec.Body.Len(), len(want), tt.file)
			}
			for header, want := range map[string]string{
				"Content-Type":  "text/plain; charset=utf-8",
				"Cache-Control": "no-cache",
			} {
				if got := rec.Header().Get(header); got != want {
					t.Errorf("%s: %q, want %q", header, got, want)
				}
			}
		})
	}
}

func TestSourceOutsideACheckout(t *testing.T) {
	rec := httptest.NewRecorder()
	source{}.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/source/server/web/source.go", nil))
	if want := "only when the server runs from its checkout"; rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), want) {
		t.Errorf("status %d, body %q; want 404 saying %q", rec.Code, rec.Body.String(), want)
	}

	// findModuleRoot searches up from the working directory: from a
	// directory outside the checkout it finds none.
	t.Chdir(t.TempDir())
	if root := findModuleRoot(); root != "" {
		t.Errorf("findModuleRoot from a temporary directory = %q, want \"\"", root)
	}
}

// TestModuleRoot: the viewer finds the module root from its go.mod,
// whatever the module's path, as in an app made with build.go new.
func TestModuleRoot(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "server", "cmd", "rt")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("// An app.\nmodule example.com/acme/rt\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(root, "server", "thirdparty")
	os.MkdirAll(nested, 0o755)
	os.WriteFile(filepath.Join(nested, "go.mod"), []byte("module example.com/acme/rt/server/thirdparty\n"), 0o644)
	for _, tc := range []struct{ dir, main, want string }{
		{sub, "example.com/acme/rt", root},
		{sub, "", root},
		{nested, "example.com/acme/rt", root}, // past a nested module
		{nested, "", nested},
		{sub, "duplex", ""}, // built from another module
	} {
		if got := moduleRootFrom(tc.dir, tc.main); got != tc.want {
			t.Errorf("moduleRootFrom(%s, %q) = %q, want %q", tc.dir, tc.main, got, tc.want)
		}
	}
}
