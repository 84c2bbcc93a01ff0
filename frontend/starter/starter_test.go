package starter

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// A small checkout: the command lists three demos; b's tests use a, c has
// a package of its own in shared/, and the core is web, ws and dom.
var graph = Graph{
	".":             {Imports: []string{"tool"}},
	"tool":          {},
	"cmd/app":       {Imports: []string{"server/a", "server/b", "server/c", "server/web"}, TestImports: []string{"shared/conly"}},
	"server/web":    {Imports: []string{"server/ws"}},
	"server/ws":     {},
	"server/a":      {Imports: []string{"server/web"}},
	"server/b":      {Imports: []string{"server/web"}, TestImports: []string{"server/a"}},
	"server/c":      {Imports: []string{"server/web", "shared/conly"}},
	"shared/conly":  {},
	"wasm/dom":      {},
	"wasm/app/a":    {Imports: []string{"wasm/dom"}},
	"wasm/app/c":    {Imports: []string{"wasm/c"}},
	"wasm/c":        {Imports: []string{"wasm/dom", "shared/conly"}},
	"wasm/c/inside": {},
}

var demos = []Demo{{Name: "a"}, {Name: "b"}, {Name: "c"}}

func TestMakePlan(t *testing.T) {
	for _, tt := range []struct {
		keep []string
		want Plan
	}{
		{nil, Plan{Keep: []string{"a", "b", "c"}, Why: map[string]string{}}},
		{[]string{"a"}, Plan{
			Keep:     []string{"a"},
			Drop:     []string{"b", "c"},
			Why:      map[string]string{},
			Packages: []string{"server/b", "server/c", "shared/conly", "wasm/app/c", "wasm/c", "wasm/c/inside"},
			Folders:  []string{"server/b", "server/c", "shared/conly", "wasm/app/c", "wasm/c"},
			Tests:    []string{"cmd/app"},
			Lists:    []string{"cmd/app"},
		}},
		{[]string{"b"}, Plan{
			Keep:     []string{"a", "b"},
			Drop:     []string{"c"},
			Why:      map[string]string{"a": "b needs it: server/b's tests import server/a"},
			Packages: []string{"server/c", "shared/conly", "wasm/app/c", "wasm/c", "wasm/c/inside"},
			Folders:  []string{"server/c", "shared/conly", "wasm/app/c", "wasm/c"},
			Tests:    []string{"cmd/app"},
			Lists:    []string{"cmd/app"},
		}},
		{[]string{"c"}, Plan{
			// wasm/dom stays: c uses it, through wasm/c.
			Keep:     []string{"c"},
			Drop:     []string{"a", "b"},
			Why:      map[string]string{},
			Packages: []string{"server/a", "server/b", "wasm/app/a"},
			Folders:  []string{"server/a", "server/b", "wasm/app/a"},
			Lists:    []string{"cmd/app"},
		}},
	} {
		got, err := MakePlan(graph, demos, tt.keep, "cmd/app")
		if err != nil {
			t.Errorf("keep %q: %v", tt.keep, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("keep %q:\ngot  %+v\nwant %+v", tt.keep, *got, tt.want)
		}
	}
}

func TestMakePlanDeclaredNeeds(t *testing.T) {
	got, err := MakePlan(graph, []Demo{{Name: "a", Needs: []string{"c"}}, {Name: "b"}, {Name: "c"}}, []string{"a"}, "cmd/app")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "c"}; !slices.Equal(got.Keep, want) || got.Why["c"] != "a needs it: server/a says it needs c" {
		t.Errorf("kept %q (%q), want %q because a says it needs c", got.Keep, got.Why, want)
	}
}

func TestMakePlanErrors(t *testing.T) {
	if _, err := MakePlan(graph, demos, []string{"a", "z"}, "cmd/app"); err == nil || !strings.Contains(err.Error(), `no demo is named "z"; the demos are a, b, c`) {
		t.Errorf("keep z: %v, want the list of demos", err)
	}
	if _, err := MakePlan(graph, demos, []string{}, "cmd/app"); err == nil {
		t.Error("keeping no demo: no error")
	}
	core := maps.Clone(graph)
	core["server/web"] = &Package{Imports: []string{"server/ws", "server/c"}}
	if _, err := MakePlan(core, demos, []string{"a"}, "cmd/app"); err == nil || !strings.Contains(err.Error(), "server/web imports server/c") {
		t.Errorf("a core package importing a dropped demo: %v", err)
	}
}

// TestCheckout plans, for each demo of this checkout kept alone, what a
// new app leaves out: never the core, always the demo's own packages for
// the others.
func TestCheckout(t *testing.T) {
	root := filepath.Join("..", "..")
	module, err := readModulePath(root)
	if err != nil {
		t.Fatal(err)
	}
	command := "server/cmd/" + appName(module)
	demos, err := ReadDemos(root, command, module)
	if err != nil {
		t.Fatal(err)
	}
	g, err := LoadGraph(root, module)
	if err != nil {
		t.Fatal(err)
	}
	core := []string{".", "frontend", "frontend/browsertest", "frontend/starter", "frontend/cmd/assets", command,
		"server/web", "server/web/webtest", "server/ws", "server/internal/wsbench", "shared/wire",
		"shared/handshake", "shared/conn", "wasm/websocket", "wasm/dom"}
	for _, dir := range core {
		if g[dir] == nil {
			t.Fatalf("the graph has no package %s", dir)
		}
	}
	all, err := MakePlan(g, demos, nil, command)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Drop) > 0 || len(all.Packages) > 0 {
		t.Errorf("keeping every demo drops %q, %q", all.Drop, all.Packages)
	}
	for _, d := range demos {
		plan, err := MakePlan(g, demos, []string{d.Name}, command)
		if err != nil {
			t.Errorf("keep %s: %v", d.Name, err)
			continue
		}
		t.Logf("keep %s: %s; drop %s: %s", d.Name, plan.Keep, plan.Drop, plan.Packages)
		for _, dir := range core {
			if slices.Contains(plan.Packages, dir) {
				t.Errorf("keep %s: drops %s, of the core", d.Name, dir)
			}
		}
		for _, dropped := range plan.Drop {
			for _, f := range (Demo{Name: dropped}).Folders() {
				if g[f] != nil && !slices.Contains(plan.Folders, f) {
					t.Errorf("keep %s: keeps %s, of %s, which it drops", d.Name, f, dropped)
				}
			}
		}
	}
}

func TestPrune(t *testing.T) {
	const list = `package main

import (
	"m/server/chat"
	"m/server/echo"
	"m/server/web"
)

func demos() []web.Demo {
	return []web.Demo{
		echo.Demo(),
		chat.Demo(), // rooms
	}
}
`
	const pages = `package main

import (
	"strings"
	"testing"

	"m/shared/message"
)

var fake = map[string]string{"/chat": "x", "/echo": "y"}

// TestPages is a table.
func TestPages(t *testing.T) {
	for _, tt := range []struct{ name, path string }{
		{name: "echo", path: "/echo"},
		// The chat's row.
		{name: "chat", path: "/chat?room=a"},
	} {
		_ = strings.ToUpper(tt.name + tt.path)
	}
	for _, p := range []string{"/echo", "/chat", "/chatroom", "wasm/chat/x.go"} {
		_ = p
	}
}

// TestChat goes: it needs the chat's route.
func TestChat(t *testing.T) { get(t, "/ws/chat") }

// TestMessage goes: it uses a package that goes.
func TestMessage(t *testing.T) { _ = message.Join{} }

// chatURL goes: it uses what goes.
func chatURL() string { return "/ws/chat" }

// TestURL goes, since chatURL does.
func TestURL(t *testing.T) { _ = chatURL() }

// get is a helper that only TestChat used: it goes.
func get(t *testing.T, path string) { helper() }

// helper goes, once get has gone.
func helper() {}

// unused was never used: it stays.
func unused() {}
`
	const other = `package main

import "testing"

func TestOther(t *testing.T) { _ = message }

var message = "a variable"
`
	changed, removed, err := Prune(map[string][]byte{
		"demos.go":      []byte(list),
		"pages_test.go": []byte(pages),
		"other_test.go": []byte(other),
	}, Mentions{Packages: map[string]bool{"m/server/chat": true, "m/shared/message": true}, Routes: []string{"/chat", "/ws/chat"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("removed:\n%s", strings.Join(removed, "\n"))
	wantList := `package main

import (
	"m/server/echo"
	"m/server/web"
)

func demos() []web.Demo {
	return []web.Demo{
		echo.Demo(),
	}
}
`
	if got := string(changed["demos.go"]); got != wantList {
		t.Errorf("demos.go:\n%s\nwant\n%s", got, wantList)
	}
	wantPages := `package main

import (
	"strings"
	"testing"
)

var fake = map[string]string{"/echo": "y"}

// TestPages is a table.
func TestPages(t *testing.T) {
	for _, tt := range []struct{ name, path string }{
		{name: "echo", path: "/echo"},
	} {
		_ = strings.ToUpper(tt.name + tt.path)
	}
	for _, p := range []string{"/echo", "/chatroom", "wasm/chat/x.go"} {
		_ = p
	}
}

// unused was never used: it stays.
func unused() {}
`
	if got := string(changed["pages_test.go"]); got != wantPages {
		t.Errorf("pages_test.go:\n%s\nwant\n%s", got, wantPages)
	}
	if _, ok := changed["other_test.go"]; ok {
		t.Error("other_test.go changed: its message is a variable, not the package")
	}
}

func TestPruneDeletesEmptyTestFiles(t *testing.T) {
	const src = `package x

import (
	"testing"

	"m/gone"
)

func TestGone(t *testing.T) { gone.F() }
`
	changed, _, err := Prune(map[string][]byte{"x_test.go": []byte(src)}, Mentions{Packages: map[string]bool{"m/gone": true}})
	if err != nil {
		t.Fatal(err)
	}
	if src, ok := changed["x_test.go"]; !ok || src != nil {
		t.Errorf("x_test.go: %q, want it deleted", src)
	}
}

func TestPruneRefusesNonTestDeclarations(t *testing.T) {
	const src = "package x\n\nimport \"m/gone\"\n\nfunc F() { gone.F() }\n"
	if _, _, err := Prune(map[string][]byte{"x.go": []byte(src)}, Mentions{Packages: map[string]bool{"m/gone": true}}); err == nil {
		t.Error("no error for a non-test function that uses what goes")
	}
}

func TestHoldsRoute(t *testing.T) {
	routes := []string{"/chat", "/ws/chat"}
	for s, want := range map[string]bool{
		"/chat":                    true,
		`<a href="/chat">`:         true,
		"GET /ws/chat HTTP/1.1":    true,
		"/chat?room=x":             true,
		"/ws/chat/sub":             true,
		"/chatroom":                false,
		"/ws/chat-proto":           false,
		"wasm/chat/view.go":        false,
		"/source/server/chat/x.go": false,
		"chat":                     false,
	} {
		if got := holdsRoute(s, routes); got != want {
			t.Errorf("holdsRoute(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestRenamer(t *testing.T) {
	// Not this checkout's names: a new app rewrites those, in this file
	// too.
	r := newRenamer("old.example/kit", "Kit", "example.com/acme/rt", "rt")
	for _, tt := range []struct{ file, in, want string }{
		{"x.go", `import "old.example/kit/server/ws"`, `import "example.com/acme/rt/server/ws"`},
		{"x.templ", `import "old.example/kit/server/web"`, `import "example.com/acme/rt/server/web"`},
		{"README.md", "`go doc old.example/kit/server/ws`", "`go doc example.com/acme/rt/server/ws`"},
		{"README.md", "# Kit\n\nKit is a kit.", "# rt\n\nKit is a kit."},
		{"build.go", `binary = "bin/kit"; command = "./server/cmd/kit"`, `binary = "bin/rt"; command = "./server/cmd/rt"`},
		{"site.go", `"server/cmd/kit/demos.go"`, `"server/cmd/rt/demos.go"`},
		{"main.go", "// Command kit serves Kit: its pages.\nlog.Info(\"Kit is serving\")", "// Command rt serves rt: its pages.\nlog.Info(\"rt is serving\")"},
		{"layout.templ", `<title>{ p.Title } · Kit</title>`, `<title>{ p.Title } · rt</title>`},
		{"x_test.go", `"Kit demos · Kit", "Kit demos"`, `"rt demos · rt", "rt demos"`},
		{"go.mod", "module old.example/kit\n\ngo 1.26.0\n", "module example.com/acme/rt\n\ngo 1.26.0\n"},
		{"server/ws/thirdparty/go.mod", "module old.example/kit/server/ws/thirdparty\n\nrequire (\n\told.example/kit v0.0.0\n)\n\nreplace old.example/kit => ../../..\n",
			"module example.com/acme/rt/server/ws/thirdparty\n\nrequire (\n\texample.com/acme/rt v0.0.0\n)\n\nreplace example.com/acme/rt => ../../..\n"},
		// What is not the module path stays.
		{"x.go", `wsbench.KitMin, "kit-chat.v1", "http://old.example/kit", "github.com/x/old.example/kit/y", "bin/kitten", "server/cmd/kit2"`,
			`wsbench.KitMin, "kit-chat.v1", "http://old.example/kit", "github.com/x/old.example/kit/y", "bin/kitten", "server/cmd/kit2"`},
		{"x.go", "// the kit server, Kit's chat", "// the kit server, Kit's chat"},
		{"metrics.go", "metrics.WriteGaugeUint64(w, \"kit_websocket_open\"+label)", "metrics.WriteGaugeUint64(w, \"rt_websocket_open\"+label)"},
		{"x_test.go", "`kit_chat_rooms 1`, KIT_MEMBENCH, kit_x", "`rt_chat_rooms 1`, KIT_MEMBENCH, rt_x"},
	} {
		if got := r.text(tt.file, tt.in); got != tt.want {
			t.Errorf("%s: %q\n→ %q\nwant %q", tt.file, tt.in, got, tt.want)
		}
	}
}

// TestProductNamePhrases checks that every phrase in which users see the
// product's name is still in the checkout: a phrase that is not would
// leave the old name in new apps.
func TestProductNamePhrases(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	module, err := readModulePath(root)
	if err != nil {
		t.Fatal(err)
	}
	product := productOf(string(readme))
	var text strings.Builder
	filepath.WalkDir(root, func(file string, d fs.DirEntry, err error) error {
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && file != root {
			return filepath.SkipDir
		}
		switch filepath.Ext(file) {
		case ".go", ".templ", ".md":
			data, _ := os.ReadFile(file)
			text.Write(data)
		}
		return nil
	})
	for _, p := range productName {
		p = strings.NewReplacer("{name}", product, "{cmd}", appName(module)).Replace(p)
		if !strings.Contains(text.String(), p) {
			t.Errorf("no file says %q: update productName", p)
		}
	}
}

func TestDropLines(t *testing.T) {
	in := "a\n  - go test ./shared/lab -fuzz x\n  - go test ./shared/labs\n  - go test ./server/lab/... \n  - go test ./shared/wire\n"
	want := "a\n  - go test ./shared/labs\n  - go test ./shared/wire\n"
	if got := dropLines(in, []string{"shared/lab", "server/lab"}); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	in = "    cmds:\n      - for: [FuzzA, FuzzB]\n        cmd: go test ./shared/lab -fuzz x\n      - for: [FuzzC]\n        cmd: go test ./shared/wire\n      - go test ./server/lab\n"
	want = "    cmds:\n      - for: [FuzzC]\n        cmd: go test ./shared/wire\n"
	if got := dropLines(in, []string{"shared/lab", "server/lab"}); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMetricName(t *testing.T) {
	for in, want := range map[string]string{"rt": "rt", "my-app": "my_app", "app.v2": "app_v2", "9lives": "_9lives"} {
		if got := metricName(in); got != want {
			t.Errorf("metricName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAppName(t *testing.T) {
	for in, want := range map[string]string{"example.com/acme/rt": "rt", "rt": "rt", "example.com/rt/v2": "rt", "duplex": "duplex"} {
		if got := appName(in); got != want {
			t.Errorf("appName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	for _, tt := range []struct{ module, dir, want string }{
		{"example.com/acme/rt", full, "is not empty"},
		{"bad path", t.TempDir(), "is not a module path"},
		{"example.com/../rt", t.TempDir(), "is not a module path"},
		{"example.com/acme/.x", t.TempDir(), "cannot name the app"},
	} {
		err := New(t.Context(), Options{From: filepath.Join("..", ".."), Module: tt.module, Dir: tt.dir, Go: "go"})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%q, %q): %v, want an error saying %q", tt.module, tt.dir, err, tt.want)
		}
	}
}
