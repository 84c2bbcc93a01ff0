package dev

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// A snapshot records the size and modification time of each source file,
// by path from the repository root, with slashes.
type snapshot map[string]stamp

type stamp struct {
	size    int64
	modTime int64 // nanoseconds since 1970
}

// watched are the folders the dev loop watches, and the files at the root.
var (
	watchedDirs  = []string{"server", "shared", "wasm", "frontend"}
	watchedFiles = []string{"go.mod", "go.sum"}
)

// takeSnapshot walks the sources under root: Go, templ, JavaScript and CSS
// files. It skips what builds write (the Go generated from templ pages,
// built assets) and folders named with a leading dot or testdata.
func takeSnapshot(root string) snapshot {
	s := snapshot{}
	add := func(rel string, info fs.FileInfo) {
		s[filepath.ToSlash(rel)] = stamp{info.Size(), info.ModTime().UnixNano()}
	}
	for _, dir := range watchedDirs {
		filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // gone while we looked: the next snapshot sees it
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() {
				name := d.Name()
				if strings.HasPrefix(name, ".") || name == "testdata" || filepath.ToSlash(rel) == "server/web/static" {
					return filepath.SkipDir
				}
				return nil
			}
			if !isSource(rel) {
				return nil
			}
			if info, err := d.Info(); err == nil {
				add(rel, info)
			}
			return nil
		})
	}
	for _, f := range watchedFiles {
		if info, err := os.Stat(filepath.Join(root, f)); err == nil {
			add(f, info)
		}
	}
	return s
}

// isSource reports whether the file at rel is one a change to which the
// dev loop acts on.
func isSource(rel string) bool {
	switch path.Ext(filepath.ToSlash(rel)) {
	case ".go":
		return !strings.HasSuffix(rel, "_templ.go")
	case ".templ", ".js", ".css":
		return true
	}
	return false
}

// changes returns the paths that were added, removed or modified from
// before to after, sorted.
func changes(before, after snapshot) []string {
	var changed []string
	for p, st := range after {
		if old, ok := before[p]; !ok || old != st {
			changed = append(changed, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			changed = append(changed, p)
		}
	}
	sort.Strings(changed)
	return changed
}
