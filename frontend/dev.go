package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// A DevBuild is the front end of `go run build.go dev` (package
// frontend/dev), kept in a directory that it updates in place: each file
// under its logical name ("echo.wasm"), uncompressed, the JavaScript not
// minified. The server serves such names with no-cache (server/web
// Assets), so a rebuilt app or stylesheet needs no restart, and a rebuild
// compiles only what changed.
type DevBuild struct {
	Root string // the repository root, holding go.mod
	Dir  string // the directory it fills, such as bin/static
}

// All empties the directory and builds every app and the bundle.
func (b DevBuild) All(ctx context.Context) error {
	if err := clean(b.Dir); err != nil {
		return err
	}
	apps, err := Apps(b.Root)
	if err != nil {
		return err
	}
	return b.Update(ctx, apps, true)
}

// Update rebuilds the named apps and, if bundle, the JavaScript and CSS;
// the other files stay. Nothing is written unless everything compiled, so
// a failed build leaves the last good one served. Each file is replaced
// by a rename: a request never reads half of one.
func (b DevBuild) Update(ctx context.Context, apps []string, bundleToo bool) error {
	root, err := filepath.Abs(b.Root)
	if err != nil {
		return err
	}
	outputs := map[string][]byte{}
	if len(apps) > 0 {
		if err := buildWasm(ctx, root, apps, outputs); err != nil {
			return err
		}
	}
	if bundleToo {
		if err := bundle(root, false, outputs); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(b.Dir, 0o755); err != nil {
		return err
	}
	for name, data := range outputs {
		if err := replaceFile(filepath.Join(b.Dir, name), data); err != nil {
			return err
		}
	}
	return b.writeManifest()
}

// writeManifest lists the files in the directory, each under its own name.
func (b DevBuild) writeManifest() error {
	entries, err := os.ReadDir(b.Dir)
	if err != nil {
		return err
	}
	manifest := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		if e.Type().IsRegular() && name != ManifestName && !strings.HasPrefix(name, ".") {
			manifest[name] = name
		}
	}
	data, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return err
	}
	return replaceFile(filepath.Join(b.Dir, ManifestName), append(data, '\n'))
}

// replaceFile writes data to a temporary file beside name and renames it
// to name.
func replaceFile(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	err = errors.Join(err, f.Chmod(0o644), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
