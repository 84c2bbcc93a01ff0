package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// get serves a GET of path from h and returns the response and its body.
func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// fakeBuild is what the pages need of a build: only the manifest, since
// rendering a page reads no asset.
var fakeBuild = fstest.MapFS{
	"manifest.json": {Data: []byte(`{"app.wasm": "app.0123456789.wasm", "main.js": "main.abcdef0123.js", "style.css": "style.a1b2c3d4e5.css"}`)},
}

func TestPagesWhenNotBuilt(t *testing.T) {
	h := NewRouter(Config{Assets: fstest.MapFS{}})
	for _, path := range []string{"/", "/echo", "/chat", "/playground"} {
		res, body := get(t, h, path)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200: the page still explains itself", path, res.StatusCode)
		}
		if want := `The front end is not built: run <code>go run build.go serve</code>.`; !strings.Contains(body, want) {
			t.Errorf("GET %s does not say how to build; want %q in\n%s", path, want, body)
		}
		for _, unwanted := range []string{"<script", `rel="stylesheet"`, `id="status"`, `data-wasm="/`} {
			if strings.Contains(body, unwanted) {
				t.Errorf("GET %s refers to the missing front end: %q", path, unwanted)
			}
		}
	}
	if res, _ := get(t, h, "/static/main.abcdef0123.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /static/…: status %d, want 404", res.StatusCode)
	}
	if res, body := get(t, h, "/healthz"); res.StatusCode != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz: %d %q, want 200 \"ok\\n\"", res.StatusCode, body)
	}
}

// TestPagesServerRendered checks the HTML as served, before any script
// runs: the status line says what is happening, and every control the app
// will use is there already, disabled until the app enables it, so that
// nothing moves when the app starts.
func TestPagesServerRendered(t *testing.T) {
	h := NewRouter(Config{Assets: fakeBuild})
	for _, tt := range []struct {
		name, path, app string
		controls        map[string]string // id → what its opening tag must contain
	}{
		{name: "index", path: "/", controls: map[string]string{}},
		{name: "echo", path: "/echo", app: "echo", controls: map[string]string{
			"text-form":   "<form",
			"echo-text":   "<textarea",
			"send-text":   "disabled",
			"binary-form": "<form",
			"echo-size":   `value="65536"`,
			"send-binary": "disabled",
			"echo-url":    "<dd",
			"echo-count":  "<dd",
			"echo-rtt":    "<dd",
			"echo-log":    "<ul",
		}},
		{name: "chat", path: "/chat", app: "chat", controls: map[string]string{
			"join-form":     "<form",
			"chat-nick":     `maxlength="24"`,
			"chat-room":     `value="lobby"`,
			"chat-join":     "disabled",
			"chat-error":    `role="alert"`,
			"chat-rooms":    "<div",
			"chat-messages": "<div",
			"chat-typing":   "<p",
			"send-form":     "<form",
			"chat-text":     "disabled",
			"chat-send":     "disabled",
			"chat-leave":    "disabled",
			"chat-presence": "<ul",
		}},
		{name: "playground", path: "/playground", app: "playground", controls: map[string]string{
			"connect-form":   "<form",
			"pg-url":         `value="/ws/echo"`,
			"pg-protocols":   `value="echo, chat"`,
			"pg-connect":     "disabled",
			"send-form":      "<form",
			"pg-message":     `value="hello"`,
			"pg-type":        "<select",
			"pg-send":        "disabled",
			"close-form":     "<form",
			"pg-code":        `value="1000"`,
			"pg-reason":      `value="done"`,
			"pg-close":       "disabled",
			"pg-ready-state": "<dd",
			"pg-socket-url":  "<dd",
			"pg-protocol":    "<dd",
			"pg-extensions":  "<dd",
			"pg-buffered":    "<dd",
			"pg-close-event": "<dd",
			"pg-events":      "<ul",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, h, tt.path)
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
			}
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control %q, want no-cache", got)
			}
			mustContain := []string{
				`<link rel="stylesheet" href="/static/style.a1b2c3d4e5.css">`,
				`<link rel="icon" href="data:,">`,
				`<script src="/static/main.abcdef0123.js" defer></script>`,
				`data-app="` + tt.app + `"`,
				`data-wasm="/static/app.0123456789.wasm"`,
			}
			status := `<p class="status" id="status" data-state="loading">Loading the Go runtime…</p>`
			preload := `<link rel="preload" href="/static/app.0123456789.wasm" as="fetch" type="application/wasm" crossorigin>`
			if tt.app != "" {
				mustContain = append(mustContain, status, preload)
			} else if strings.Contains(body, `id="status"`) || strings.Contains(body, preload) {
				t.Error("a page without an app has a status line or preloads the app")
			}
			for _, s := range mustContain {
				if !strings.Contains(body, s) {
					t.Errorf("the page lacks %s", s)
				}
			}
			for id, want := range tt.controls {
				tag := openingTag(body, id)
				if tag == "" {
					t.Errorf("the page has no element with id %q", id)
				} else if !strings.Contains(tag, want) {
					t.Errorf("%s lacks %s", tag, want)
				}
			}
		})
	}
}

// openingTag returns the opening tag of the element with the id in html, or
// "" if there is none.
func openingTag(html, id string) string {
	return regexp.MustCompile(`<[a-z]+\b[^>]*\sid="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(html)
}

// TestChatPageLinks checks that the chat page is in the navigation and
// among the demos, and links to the code behind it.
func TestChatPageLinks(t *testing.T) {
	h := NewRouter(Config{Assets: fakeBuild})
	_, body := get(t, h, "/chat")
	for _, want := range []string{
		`<title>Chat · Duplex</title>`,
		`<a href="/chat" aria-current="page">Chat</a>`,
		`<a href="/source/wasm/chat/chat.go"><code>wasm/chat/chat.go</code>`,
		`<a href="/source/wasm/websocket/reconnect.go"><code>wasm/websocket/reconnect.go</code>`,
		`<a href="/source/server/chat/hub.go"><code>server/chat/hub.go</code>`,
		`<a href="/source/shared/message/types.go"><code>shared/message/types.go</code>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /chat lacks %s", want)
		}
	}
	if _, index := get(t, h, "/"); !strings.Contains(index, `<span>Rooms, nicknames, presence and typing;`) {
		t.Error("the index does not list the chat")
	}
}
