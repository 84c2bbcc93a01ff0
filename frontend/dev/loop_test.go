package dev

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"duplex/frontend/browsertest"
)

// TestDevLoop runs the dev loop on a copy of this repository and edits it
// as a developer would, in Chromium: a templ page's text and its Go, the
// stylesheet, a wasm app's Go and the server's Go, each three times; then
// a mistake in each of the Go, the wasm app and a page, which the open
// page shows over itself until it is fixed. It logs how long each edit
// took from the save until the page showed it (medians), and fails on a
// console error. It compiles everything from scratch in the copy (a
// minute or more), so it runs only when asked:
//
//	DUPLEX_DEV_LOOP=1 go test -run DevLoop -v ./frontend/dev
func TestDevLoop(t *testing.T) {
	if os.Getenv("DUPLEX_DEV_LOOP") == "" {
		t.Skip("set DUPLEX_DEV_LOOP=1 to run the dev loop on a copy of the repository (slow)")
	}
	for _, f := range []string{"server/echo/page.templ", "server/echo/demo.go", "wasm/app/echo/main.go"} {
		if _, err := os.Stat(filepath.Join("../..", f)); err != nil {
			t.Skip("the test edits the echo demo, which this app does not have")
		}
	}
	root := copyRepo(t)
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &logWriter{t: t}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Config{Root: root, Addr: addr, Args: []string{"-memory"}, Out: out}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})

	b := browsertest.Start(t)
	b.Timeout = 5 * time.Minute // the first build compiles everything
	b.Do(chromedp.Navigate("http://" + addr + "/echo"))
	b.WaitFor("the echo page to connect", `document.querySelector("#status")?.dataset.state === "live"`)
	b.Timeout = time.Minute

	edit := func(file, old, new string) {
		t.Helper()
		name := filepath.Join(root, file)
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte(old)) {
			t.Fatalf("%s has no %q", file, old)
		}
		if err := os.WriteFile(name, bytes.Replace(data, []byte(old), []byte(new), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// measure makes the edit and returns how long until the page shows it.
	measure := func(what, file, old, new, shown string) time.Duration {
		t.Helper()
		start := time.Now()
		edit(file, old, new)
		b.WaitFor(what, shown)
		return time.Since(start)
	}
	report := func(what string, took []time.Duration) {
		slices.Sort(took)
		t.Logf("save → visible, %s: median %v (of %v)", what, took[len(took)/2].Round(time.Millisecond), took)
	}

	// Each run's edits are new to the build cache, as a developer's are.
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	mark := func(i int) string { return run + "-" + strconv.Itoa(i) }

	var took []time.Duration
	lead := "comes back unchanged."
	for i := range 3 {
		next := "comes back unchanged (" + mark(i) + ")."
		took = append(took, measure("templ text edit "+strconv.Itoa(i), "server/echo/page.templ", lead, next,
			`document.querySelector(".lead").textContent.includes("`+next+`") && document.querySelector("#status").dataset.state === "live"`))
		lead = next
	}
	report("a templ page's text", took)

	took = nil
	expr := `<dd id="echo-count">0</dd>`
	for i := range 3 {
		next := `<dd id="echo-count" data-edit={ "` + mark(i) + `" }>0</dd>`
		took = append(took, measure("templ Go edit "+strconv.Itoa(i), "server/echo/page.templ", expr, next,
			`document.querySelector("#echo-count").dataset.edit === "`+mark(i)+`" && document.querySelector("#status").dataset.state === "live"`))
		expr = next
	}
	report("a templ page's Go", took)

	took = nil
	rule := "color-scheme: light;"
	for i := range 3 {
		next := "color-scheme: light; --dev-edit: " + strconv.Itoa(i+1) + ";"
		took = append(took, measure("CSS edit "+strconv.Itoa(i), "frontend/src/style.css", rule, next,
			`getComputedStyle(document.documentElement).getPropertyValue("--dev-edit").trim() === "`+strconv.Itoa(i+1)+`"`))
		rule = next
	}
	report("the stylesheet", took)

	took = nil
	call := `echo.Run(dom.ByID("status"))`
	for i := range 3 {
		next := `dom.ByID("echo-rtt").SetData("edit", "` + mark(i) + `"); echo.Run(dom.ByID("status"))`
		took = append(took, measure("wasm edit "+strconv.Itoa(i), "wasm/app/echo/main.go", call, next,
			`document.querySelector("#echo-rtt").dataset.edit === "`+mark(i)+`" && document.querySelector("#status").dataset.state === "live"`))
		call = next
	}
	report("a wasm app's Go", took)

	took = nil
	title := `Title: "Echo"`
	for i := range 3 {
		next := `Title: "Echo ` + mark(i) + `"`
		took = append(took, measure("server edit "+strconv.Itoa(i), "server/echo/demo.go", title, next,
			`document.title.startsWith("Echo `+mark(i)+` ") && document.querySelector("#status").dataset.state === "live"`))
		title = next
	}
	report("the server's Go", took)

	mistakes := []struct {
		file, old, new, where string
	}{
		{"server/echo/demo.go", title, title + ` + undefinedName`, "server/echo/demo.go#L"},
		{"wasm/app/echo/main.go", call, call + "; undefinedName()", "wasm/app/echo/main.go#L"},
		{"server/echo/page.templ", `<h2>Messages</h2>`, `<h2>Messages`, "server/echo/page.templ#L"},
	}
	for _, m := range mistakes {
		start := time.Now()
		edit(m.file, m.old, m.new)
		b.WaitFor("the errors of "+m.file+" over the page", `[...document.querySelectorAll("#dev-overlay a")].some(a => a.getAttribute("href").startsWith("/source/`+m.where+`"))`)
		t.Logf("save → errors shown, %s: %v", m.file, time.Since(start).Round(time.Millisecond))
		edit(m.file, m.new, m.old)
		b.WaitFor("the errors gone", `document.querySelector("#dev-overlay") === null && document.querySelector("#status").dataset.state === "live"`)
	}
	b.CheckNoConsoleErrors()
}

// copyRepo copies the repository's files (tracked and new, not ignored)
// to a temporary folder.
func copyRepo(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard", "-z")
	cmd.Dir = repo
	list, err := cmd.Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	root := t.TempDir()
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join(repo, name))
		if err != nil {
			continue // deleted, not yet committed
		}
		dst := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// A logWriter logs what is written to it, line by line.
type logWriter struct {
	t   *testing.T
	mu  sync.Mutex
	buf []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.t.Log("dev: " + string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}
