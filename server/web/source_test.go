package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
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
		{"script injection", "/source/<script>.go", "", "no such file"},
		{"missing", "/source/server/web/nope.go", "", "no such file in this checkout"},
		{"absolute", "/source//etc/passwd.md", "", "no such file in this checkout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/?raw", nil)
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

func TestSourcePage(t *testing.T) {
	s := source{root: findModuleRoot()}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/source/server/web/source.go", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{
		`<title>server/web/source.go · Duplex</title>`,
		`<tr id="L1">`,
		`<a href="#L1">1</a>`,
		`<span class="decl" id="source.ServeHTTP"></span>`,
		`<span class="decl" id="findModuleRoot"></span>`,
		`<span class="k">package</span> web`,
		`<a href="/source/">← all files</a>`,
		`<a href="/source/server/web/source.go?raw">raw</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}

	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/source/", nil))
	for _, want := range []string{`<h2><code>server/ws/</code></h2>`, `<a href="/source/server/ws/conn.go"><code>conn.go</code></a>`, `<a href="/source/README.md"><code>README.md</code></a>`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("the index lacks %s", want)
		}
	}
	if strings.Contains(rec.Body.String(), "_templ.go") {
		t.Error("the index lists generated files")
	}
}

func TestHighlight(t *testing.T) {
	src := "// Package p.\npackage p\n\nimport \"fmt\"\n\n/* two\nlines */\nconst (\n\tA = 1\n\tB = 2.5\n)\n\n// T is generic.\ntype T[K any] struct{}\n\nfunc (t *T[K]) M() string { return `<raw>` + fmt.Sprint('x') }\n\nfunc F() {}\n"
	lines := highlight("p.go", []byte(src))
	want := []struct {
		line    int
		html    string
		anchors []string
	}{
		{1, `<span class="c">// Package p.</span>`, nil},
		{2, `<span class="k">package</span> p`, nil},
		{4, `<span class="k">import</span> <span class="s">&#34;fmt&#34;</span>`, nil},
		{6, `<span class="c">/* two</span>`, nil},
		{7, `<span class="c">lines */</span>`, nil},
		{9, "\tA = <span class=\"n\">1</span>", []string{"A"}},
		{10, "\tB = <span class=\"n\">2.5</span>", []string{"B"}},
		{13, `<span class="c">// T is generic.</span>`, []string{"T"}},
		{16, `<span class="k">func</span> (t *T[K]) M() string { <span class="k">return</span> <span class="s">` + "`&lt;raw&gt;`" + `</span> + fmt.Sprint(<span class="s">&#39;x&#39;</span>) }`, []string{"T.M"}},
		{18, `<span class="k">func</span> F() {}`, []string{"F"}},
	}
	if len(lines) != 18 {
		t.Fatalf("%d lines, want 18", len(lines))
	}
	for _, w := range want {
		got := lines[w.line-1]
		if got.HTML != w.html || !slices.Equal(got.Anchors, w.anchors) {
			t.Errorf("line %d: %q %q, want %q %q", w.line, got.HTML, got.Anchors, w.html, w.anchors)
		}
	}
	if got := highlight("x.js", []byte("a < b && c\n")); len(got) != 1 || got[0].HTML != "a &lt; b &amp;&amp; c" {
		t.Errorf("plain text: %q", got)
	}
	// Broken Go still shows, escaped, without anchors.
	if got := highlight("bad.go", []byte("func <(\n")); len(got) != 1 || !strings.Contains(got[0].HTML, "&lt;") {
		t.Errorf("broken Go: %q", got)
	}
}
