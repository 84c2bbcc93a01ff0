package dev

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/a-h/templ/generator"
)

// TestGenerateAsTemplDoes generates every page of this repository, copied
// with its Go, and checks that the Go is left as `go tool templ generate`
// wrote it: CI fails if the committed Go is not current, so the dev loop
// must write exactly what the tool does.
func TestGenerateAsTemplDoes(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	var files []string
	filepath.WalkDir(repo, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin") && path != repo {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".templ") {
			rel, _ := filepath.Rel(repo, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no templ pages found")
	}
	for _, rel := range files {
		for _, name := range []string{rel, strings.TrimSuffix(rel, ".templ") + "_templ.go"} {
			data, err := os.ReadFile(filepath.Join(repo, name))
			if err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755)
			if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	p := &pages{root: root, textDir: filepath.Join(root, "text"), last: map[string]generator.GeneratorOutput{}}
	for _, rel := range files {
		if _, err := p.generate(rel); err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		goFile := strings.TrimSuffix(rel, ".templ") + "_templ.go"
		want, _ := os.ReadFile(filepath.Join(repo, goFile))
		got, _ := os.ReadFile(filepath.Join(root, goFile))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the Go generated differs from the committed %s", rel, goFile)
		}
		if _, err := os.Stat(p.textFile(filepath.Join(root, rel))); err != nil {
			t.Errorf("%s: no text for development mode: %v", rel, err)
		}
	}
}

func TestGenerateTellsTextFromGo(t *testing.T) {
	const page = "package page\n\ntempl Hello(name string) {\n\t<p>Hello, { name }!</p>\n}\n"
	tests := []struct {
		name string
		edit string
		want edit
	}{
		{"nothing", page, edit{}},
		{"text", strings.Replace(page, "Hello, ", "Hi there, ", 1), edit{textChanged: true}},
		{"attribute", strings.Replace(page, "<p>", `<p class="greeting">`, 1), edit{textChanged: true}},
		{"expression", strings.Replace(page, "{ name }", "{ name + \"?\" }", 1), edit{goChanged: true}},
		{"element", strings.Replace(page, "!</p>", "!</p><p>{ name }</p>", 1), edit{goChanged: true, textChanged: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			os.Mkdir(filepath.Join(root, "page"), 0o755)
			file := filepath.Join(root, "page", "page.templ")
			os.WriteFile(file, []byte(page), 0o644)
			p := &pages{root: root, textDir: filepath.Join(root, "text"), last: map[string]generator.GeneratorOutput{}}
			if e, err := p.generate("page/page.templ"); err != nil || e != (edit{goChanged: true, textChanged: true}) {
				t.Fatalf("first generate = %+v, %v; want everything changed", e, err)
			}
			os.WriteFile(file, []byte(tt.edit), 0o644)
			got, err := p.generate("page/page.templ")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("generate = %+v, want %+v", got, tt.want)
			}
			text, err := os.ReadFile(p.textFile(file))
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "text" && !bytes.Contains(text, []byte("Hi there, ")) {
				t.Errorf("the text for development mode is %q, without the edit", text)
			}
		})
	}
}

func TestGenerateSaysWhere(t *testing.T) {
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "page"), 0o755)
	os.WriteFile(filepath.Join(root, "page", "page.templ"), []byte("package page\n\ntempl Hello() {\n\t<p>Hello\n}\n"), 0o644)
	p := &pages{root: root, textDir: filepath.Join(root, "text"), last: map[string]generator.GeneratorOutput{}}
	_, err := p.generate("page/page.templ")
	if err == nil {
		t.Fatal("a page with an unclosed <p> generated")
	}
	if !regexp.MustCompile(`^page/page\.templ:\d+:\d+: `).MatchString(err.Error()) {
		t.Errorf("error %q does not start with file:line:col", err)
	}
}
