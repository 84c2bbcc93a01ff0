// Package frontend builds the browser side of Duplex: each demo page's Go
// program compiled to WebAssembly, the JavaScript that starts it and the
// styles. esbuild bundles and minifies the JavaScript and CSS; every output
// gets a content-hashed name and gzip and brotli twins, and manifest.json
// maps each logical name ("echo.wasm") to its file ("echo.3f9a0c1b2d.wasm").
//
// The server embeds what Build writes (see server/web/static); build.go at
// the repository root (through frontend/cmd/assets) and the browser tests
// both call Build. `go run build.go dev` uses a DevBuild instead (dev.go):
// names without hashes, nothing compressed, updated in place.
package frontend

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/evanw/esbuild/pkg/api"
)

// ManifestName is the name of the file that maps logical asset names to
// their content-hashed file names.
const ManifestName = "manifest.json"

// Options say where Build finds the sources and puts the assets.
type Options struct {
	Root   string // the repository root, holding go.mod
	OutDir string // the directory to fill; files from earlier builds are removed

	// Quick trades size for speed, for development: brotli at level 5
	// instead of 11, which takes seconds on the wasm module.
	Quick bool

	// Apps names the programs under wasm/app to build; nil means all of
	// them. A demo's tests build only the app its page runs.
	Apps []string

	// Step, if not nil, is called after each step with its name and
	// duration, to show progress.
	Step func(name string, took time.Duration)
}

// An Asset is one built file.
type Asset struct {
	Name string // logical name, such as "echo.wasm"
	File string // content-hashed file name, such as "echo.3f9a0c1b2d.wasm"
	Size int    // bytes, uncompressed
	Gzip int    // bytes, gzip-compressed; 0 if not worth it
	Br   int    // bytes, brotli-compressed; 0 if not worth it
}

// Build compiles each program under wasm/app to a wasm module, bundles the
// JavaScript and CSS, and writes every asset, compressed, with a manifest,
// into opts.OutDir.
func Build(ctx context.Context, opts Options) ([]Asset, error) {
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, err
	}
	opts.Root = root
	step := func(name string, start time.Time) {
		if opts.Step != nil {
			opts.Step(name, time.Since(start))
		}
	}
	outputs := map[string][]byte{}

	start := time.Now()
	if err := buildWasm(ctx, root, opts.Apps, outputs); err != nil {
		return nil, err
	}
	step("compile wasm/app/... to WebAssembly", start)

	start = time.Now()
	if err := bundle(opts.Root, true, outputs); err != nil {
		return nil, err
	}
	step("bundle frontend/src with esbuild", start)

	start = time.Now()
	brotliLevel := brotli.BestCompression
	if opts.Quick {
		brotliLevel = 5
	}
	assets, err := write(opts.OutDir, outputs, brotliLevel)
	if err != nil {
		return nil, err
	}
	step("hash and compress assets", start)
	return assets, nil
}

// buildWasm compiles the programs under ./wasm/app named by apps (nil for
// all) for GOOS=js GOARCH=wasm, stripped of symbols and file paths, and
// adds each module to outputs as "<folder>.wasm". One go command builds
// them all, sharing the packages they have in common. A site without apps
// builds none.
func buildWasm(ctx context.Context, root string, apps []string, outputs map[string][]byte) error {
	if apps == nil {
		var err error
		if apps, err = Apps(root); err != nil {
			return err
		}
	}
	if len(apps) == 0 {
		return nil
	}
	tmp, err := os.MkdirTemp("", "duplex-wasm-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	args := []string{"build", "-trimpath", "-ldflags=-s -w", "-o", tmp + string(filepath.Separator)}
	for _, app := range apps {
		args = append(args, "./wasm/app/"+app)
	}
	cmd := exec.CommandContext(ctx, GoTool(), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("compile %s: %w\n%s", strings.Join(args[5:], " "), err, msg)
	}
	for _, app := range apps {
		data, err := os.ReadFile(filepath.Join(tmp, app))
		if err != nil {
			return fmt.Errorf("compile ./wasm/app/%s: %w", app, err)
		}
		outputs[app+".wasm"] = data
	}
	return nil
}

// Apps returns the names of the programs under root's wasm/app, one per
// folder, such as "echo".
func Apps(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "wasm", "app"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	apps := []string{}
	for _, e := range entries {
		if e.IsDir() {
			apps = append(apps, e.Name())
		}
	}
	return apps, nil
}

// bundle runs esbuild on frontend/src/main.js and frontend/src/style.css,
// minified unless for development.
// main.js imports "wasm_exec", which resolves to the toolchain's
// wasm_exec.js, so the page loads one script.
func bundle(root string, minify bool, outputs map[string][]byte) error {
	result := api.Build(api.BuildOptions{
		AbsWorkingDir: root,
		EntryPoints:   []string{"frontend/src/main.js", "frontend/src/style.css"},
		Alias:         map[string]string{"wasm_exec": WasmExecJS()},
		Bundle:        true,
		Format:        api.FormatIIFE,
		Target:        api.ES2020,
		Outdir:        "out",

		MinifyWhitespace:  minify,
		MinifyIdentifiers: minify,
		MinifySyntax:      minify,
		LegalComments:     api.LegalCommentsNone,
		LogLevel:          api.LogLevelSilent,
	})
	if len(result.Errors) > 0 {
		msgs := api.FormatMessages(result.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return errors.New("esbuild:\n" + strings.Join(msgs, ""))
	}
	for _, f := range result.OutputFiles {
		outputs[filepath.Base(f.Path)] = f.Contents
	}
	return nil
}

// write stores each output under its content-hashed name with compressed
// twins and writes the manifest. The outputs are compressed in parallel:
// brotli's best level takes seconds per wasm module.
func write(dir string, outputs map[string][]byte, brotliLevel int) ([]Asset, error) {
	if err := clean(dir); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(outputs))
	for name := range outputs {
		names = append(names, name)
	}
	sort.Strings(names)
	assets := make([]Asset, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { assets[i], errs[i] = writeAsset(dir, name, outputs[name], brotliLevel) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	manifest := map[string]string{}
	for _, a := range assets {
		manifest[a.Name] = a.File
	}
	m, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return nil, err
	}
	return assets, os.WriteFile(filepath.Join(dir, ManifestName), append(m, '\n'), 0o644)
}

// writeAsset writes one output under its content-hashed name, with its
// gzip and brotli twins if they are worth it.
func writeAsset(dir, name string, data []byte, brotliLevel int) (Asset, error) {
	a := Asset{Name: name, File: hashedName(name, data), Size: len(data)}
	if err := os.WriteFile(filepath.Join(dir, a.File), data, 0o644); err != nil {
		return a, err
	}
	var err error
	if a.Gzip, err = writeCompressed(filepath.Join(dir, a.File+".gz"), data, gzipData); err != nil {
		return a, err
	}
	brotliData := func(w io.Writer, data []byte) error {
		bw := brotli.NewWriterLevel(w, brotliLevel)
		if _, err := bw.Write(data); err != nil {
			return err
		}
		return bw.Close()
	}
	a.Br, err = writeCompressed(filepath.Join(dir, a.File+".br"), data, brotliData)
	return a, err
}

// clean empties dir of earlier builds, keeping dotfiles such as .gitkeep.
func clean(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// hashedName inserts a hash of data before name's extension.
func hashedName(name string, data []byte) string {
	sum := sha256.Sum256(data)
	ext := filepath.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
}

// writeCompressed writes the compressed data to name if that saves at
// least a tenth, and returns its size, or 0 if it was not worth it.
func writeCompressed(name string, data []byte, compress func(io.Writer, []byte) error) (int, error) {
	var buf bytes.Buffer
	if err := compress(&buf, data); err != nil {
		return 0, err
	}
	if buf.Len() > len(data)*9/10 {
		return 0, nil
	}
	return buf.Len(), os.WriteFile(name, buf.Bytes(), 0o644)
}

func gzipData(w io.Writer, data []byte) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(data); err != nil {
		return err
	}
	return zw.Close()
}
