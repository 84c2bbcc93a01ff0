package dev

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestChanges(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755)
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/x\n")
	write("server/a.go", "package a\n")
	write("server/a_templ.go", "package a\n")        // the dev loop writes it
	write("server/web/static/main.js", "x\n")        // a build writes it
	write("server/.hidden/b.go", "package b\n")      // not watched
	write("server/notes.txt", "not a source\n")      // not a source
	write("frontend/src/style.css", "body {}\n")     //
	write("frontend/src/main.js", "console.log()\n") //
	before := takeSnapshot(root)
	if want := []string{"frontend/src/main.js", "frontend/src/style.css", "go.mod", "server/a.go"}; !slices.Equal(sortedKeys(toSet(before)), want) {
		t.Fatalf("snapshot has %v, want %v", sortedKeys(toSet(before)), want)
	}

	write("server/a.go", "package a // changed\n")
	write("server/b.templ", "package a\n")
	os.Remove(filepath.Join(root, "frontend/src/style.css"))
	write("server/a_templ.go", "package a // regenerated\n")
	write("server/notes.txt", "still not a source\n")
	got := changes(before, takeSnapshot(root))
	want := []string{"frontend/src/style.css", "server/a.go", "server/b.templ"}
	if !slices.Equal(got, want) {
		t.Errorf("changes = %v, want %v", got, want)
	}
	if got := changes(before, before); len(got) != 0 {
		t.Errorf("changes between a snapshot and itself = %v", got)
	}
}

func toSet(s snapshot) map[string]bool {
	m := map[string]bool{}
	for k := range s {
		m[k] = true
	}
	return m
}
