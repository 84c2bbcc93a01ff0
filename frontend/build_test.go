package frontend

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

// The tests share one build, made by the first test that needs it, into a
// directory that holds what an earlier build left behind.
var shared struct {
	once   sync.Once
	dir    string
	assets []Asset
	steps  []string
	err    error
}

// leftovers are the files of an earlier build, which Build must remove,
// and dotfiles, which it must keep.
var leftovers = map[string]bool{
	"app.0000000000.wasm":    false,
	"app.0000000000.wasm.br": false,
	"main.0000000000.js.gz":  false,
	"old-dir/file.txt":       false,
	ManifestName:             false, // replaced
	".gitkeep":               true,
	".hidden/kept.txt":       true,
}

func build(t *testing.T) (dir string, assets []Asset) {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "duplex-frontend-test-")
		if err != nil {
			shared.err = err
			return
		}
		shared.dir = dir
		for name := range leftovers {
			path := filepath.Join(dir, filepath.FromSlash(name))
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, []byte("from an earlier build"), 0o644); err != nil {
				shared.err = err
				return
			}
		}
		start := time.Now()
		shared.assets, shared.err = Build(context.Background(), Options{
			Root:   "..", // the tests run in the package's directory
			OutDir: dir,
			Quick:  true,
			Step:   func(name string, _ time.Duration) { shared.steps = append(shared.steps, name) },
		})
		t.Logf("built in %v", time.Since(start).Round(time.Millisecond))
	})
	if shared.err != nil {
		t.Fatalf("Build: %v", shared.err)
	}
	return shared.dir, shared.assets
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// hashedFile is how Build names a file: the logical name's stem, ten hex
// digits of the content's hash, and the logical name's extension.
var hashedFile = regexp.MustCompile(`^([a-z]+)\.[0-9a-f]{10}\.(wasm|js|css)$`)

func TestBuildManifest(t *testing.T) {
	dir, assets := build(t)
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var manifest map[string]string
	if err := json.Unmarshal(data, &manifest); err != nil {
		t.Fatalf("%s: %v\n%s", ManifestName, err, data)
	}
	var names []string
	for name, file := range manifest {
		names = append(names, name)
		m := hashedFile.FindStringSubmatch(file)
		if m == nil || m[1]+"."+m[2] != name {
			t.Errorf("%s maps %s to %s, not to a hashed name of it", ManifestName, name, file)
			continue
		}
		content, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Errorf("%s maps %s to a file that is not there: %v", ManifestName, name, err)
			continue
		}
		if want := hashedName(name, content); file != want {
			t.Errorf("%s is named %s, but its content hashes to %s", name, file, want)
		}
	}
	slices.Sort(names)
	// One module per program under wasm/app, whichever demos the
	// checkout has, and the script and the styles.
	want := []string{"main.js", "style.css"}
	apps, err := os.ReadDir("../wasm/app")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range apps {
		if e.IsDir() {
			want = append(want, e.Name()+".wasm")
		}
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("%s names %q, want %q", ManifestName, names, want)
	}

	// Build returns what it wrote, in the order of the names.
	if len(assets) != len(manifest) {
		t.Fatalf("Build returned %d assets for a manifest of %d", len(assets), len(manifest))
	}
	for i, a := range assets {
		if i > 0 && assets[i-1].Name >= a.Name {
			t.Errorf("assets not sorted by name: %s before %s", assets[i-1].Name, a.Name)
		}
		if manifest[a.Name] != a.File {
			t.Errorf("Build returned %s as %s, the manifest says %s", a.Name, a.File, manifest[a.Name])
		}
		if info, err := os.Stat(filepath.Join(dir, a.File)); err != nil || int(info.Size()) != a.Size {
			t.Errorf("%s: Build says %d bytes, the file has %v (%v)", a.File, a.Size, info.Size(), err)
		}
	}
	if want := []string{"compile wasm/app/... to WebAssembly", "bundle frontend/src with esbuild", "hash and compress assets"}; !slices.Equal(shared.steps, want) {
		t.Errorf("Build reported the steps %q, want %q", shared.steps, want)
	}
}

func TestBuildCompressedTwins(t *testing.T) {
	dir, assets := build(t)
	for _, a := range assets {
		original, err := os.ReadFile(filepath.Join(dir, a.File))
		if err != nil {
			t.Fatal(err)
		}
		for _, twin := range []struct {
			ext    string
			size   int
			decode func(io.Reader) (io.Reader, error)
		}{
			{".gz", a.Gzip, func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
			{".br", a.Br, func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil }},
		} {
			name := a.File + twin.ext
			compressed, err := os.ReadFile(filepath.Join(dir, name))
			if twin.size == 0 { // not worth it, so not written
				if err == nil {
					t.Errorf("%s was written, but Build says it was not worth it", name)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if len(compressed) != twin.size || len(compressed) > len(original)*9/10 {
				t.Errorf("%s has %d bytes (Build says %d) for an original of %d: not a tenth smaller",
					name, len(compressed), twin.size, len(original))
			}
			r, err := twin.decode(bytes.NewReader(compressed))
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, original) {
				t.Errorf("%s does not decompress to %s (%v)", name, a.File, err)
			}
		}
	}
	// The three assets are all text or code: each compresses well.
	for _, a := range assets {
		if a.Gzip == 0 || a.Br == 0 {
			t.Errorf("%s has no gzip or brotli twin: %+v", a.Name, a)
		}
	}
}

func TestBuildBundlesTheScript(t *testing.T) {
	dir, assets := build(t)
	i := slices.IndexFunc(assets, func(a Asset) bool { return a.Name == "main.js" })
	if i < 0 {
		t.Fatal("no main.js")
	}
	js, err := os.ReadFile(filepath.Join(dir, assets[i].File))
	if err != nil {
		t.Fatal(err)
	}
	// Bundled: no import or export is left for the browser to resolve.
	if m := regexp.MustCompile(`(^|[^\w$.])(import\s*[("'{*]|import\s+[\w$]+\s*from|export\s*[{*]|export\s+default)`).Find(js); m != nil {
		t.Errorf("the bundle still has a module statement: %q", m)
	}
	// It carries Go's wasm_exec.js, which defines the Go class main.js uses,
	// and main.js itself, which reads the page's data-wasm attribute.
	for _, want := range []string{"globalThis.Go=class", "instantiateStreaming", ".dataset.wasm"} {
		if !bytes.Contains(js, []byte(want)) {
			t.Errorf("the bundle lacks %q", want)
		}
	}
	// Minified: one line of code, give or take the line breaks inside
	// template literals.
	if lines := bytes.Count(js, []byte("\n")); lines > 10 {
		t.Errorf("the bundle has %d lines: not minified", lines)
	}
}

func TestBuildWasm(t *testing.T) {
	dir, assets := build(t)
	modules := 0
	for _, a := range assets {
		if !strings.HasSuffix(a.Name, ".wasm") {
			continue
		}
		modules++
		f, err := os.Open(filepath.Join(dir, a.File))
		if err != nil {
			t.Fatal(err)
		}
		magic := make([]byte, 8)
		if _, err := io.ReadFull(f, magic); err != nil || !bytes.Equal(magic, []byte("\x00asm\x01\x00\x00\x00")) {
			t.Errorf("%s does not start as a WebAssembly module, version 1: %q (%v)", a.File, magic, err)
		}
		f.Close()
	}
	if modules == 0 {
		t.Fatal("no wasm module was built")
	}
}

// wasmBudget is the most a page's wasm module may weigh, brotli-compressed
// as the test builds it (quickly): what a browser downloads before the page
// works. The largest, the chat's, is about 725 kB. One import can blow it:
// encoding/json adds 1.2 MB raw to a module (the chat page writes and reads
// its JSON with the browser's JSON object instead), and fmt or net/http
// hundreds of kB. Raise it knowingly, if an app needs more.
const wasmBudget = 850_000

func TestWasmBudget(t *testing.T) {
	_, assets := build(t)
	for _, a := range assets {
		if !strings.HasSuffix(a.Name, ".wasm") {
			continue
		}
		t.Logf("%s: %d bytes, %d brotli-compressed", a.Name, a.Size, a.Br)
		if a.Br == 0 || a.Br > wasmBudget {
			t.Errorf("%s weighs %d bytes brotli-compressed, over the budget of %d: what did it start importing? (go list -deps, with GOOS=js GOARCH=wasm)", a.Name, a.Br, wasmBudget)
		}
	}
}

func TestBuildRemovesEarlierBuilds(t *testing.T) {
	dir, assets := build(t)
	for name, kept := range leftovers {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		switch {
		case name == ManifestName:
			data, _ := os.ReadFile(filepath.Join(dir, name))
			if string(data) == "from an earlier build" {
				t.Errorf("%s was not replaced", name)
			}
		case kept && err != nil:
			t.Errorf("%s was removed: dotfiles must stay (%v)", name, err)
		case !kept && err == nil:
			t.Errorf("%s, from an earlier build, is still there", name)
		}
	}

	// What is left is the new build and the dotfiles.
	var want []string
	for _, a := range assets {
		want = append(want, a.File)
		if a.Gzip > 0 {
			want = append(want, a.File+".gz")
		}
		if a.Br > 0 {
			want = append(want, a.File+".br")
		}
	}
	want = append(want, ManifestName, ".gitkeep", ".hidden")
	slices.Sort(want)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, want) {
		t.Errorf("after the build, the directory holds\n\t%q\nwant\n\t%q", got, want)
	}
}
