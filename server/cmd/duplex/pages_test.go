package main

import (
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"duplex/server/web"
)

// site returns the site as main serves it, with every demo, the assets in
// fsys and the source viewer on, as in the workshop.
func site(t *testing.T, fsys fstest.MapFS) *web.Site {
	t.Helper()
	s, err := web.NewSite(web.Config{Assets: fsys, Demos: demos(), Source: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

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
	"manifest.json": {Data: []byte(`{"chat.wasm": "chat.0123456789.wasm", "echo.wasm": "echo.0123456789.wasm", ` +
		`"lab.wasm": "lab.0123456789.wasm", "playground.wasm": "playground.0123456789.wasm", ` +
		`"main.js": "main.abcdef0123.js", "style.css": "style.a1b2c3d4e5.css"}`)},
}

func TestPagesWhenNotBuilt(t *testing.T) {
	h := site(t, fstest.MapFS{})
	paths := []string{"/"}
	for _, d := range demos() {
		paths = append(paths, d.Path)
	}
	for _, path := range paths {
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
	h := site(t, fakeBuild)
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
		{name: "lab", path: "/lab", app: "lab", controls: map[string]string{
			"lab-connect":         "disabled",
			"lab-disconnect":      "disabled",
			"lab-send":            "disabled",
			"lab-text":            `value="hello"`,
			"lab-fragments":       `value="3"`,
			"lab-fragment":        "disabled",
			"lab-ping":            "disabled",
			"lab-code":            `value="4001"`,
			"lab-reason":          `value="bye"`,
			"lab-close":           "disabled",
			"lab-rule":            "<select",
			"lab-violate":         "disabled",
			"lab-close-code":      "<dd",
			"lab-messages":        "<ul",
			"lab-request":         "<pre",
			"lab-response":        "<pre",
			"lab-rebuilt":         "hidden",
			"lab-accept":          "<code",
			"lab-frames":          "<ol",
			"lab-detail-bits":     "<div",
			"lab-detail-wire-hex": "<pre",
			"lab-compose-opcode":  "disabled",
			"lab-compose-key":     `value="37fa213d"`,
			"lab-compose-payload": `value="Hi"`,
			"lab-compose-random":  "disabled",
			"lab-compose-bits":    "<div",
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
			}
			// Each page loads the module of its own program, and only that.
			module := `/static/` + tt.app + `.0123456789.wasm`
			status := `<p class="status" id="status" data-state="loading">Loading the Go runtime…</p>`
			preload := `<link rel="preload" href="` + module + `" as="fetch" type="application/wasm" crossorigin>`
			if tt.app != "" {
				mustContain = append(mustContain, status, preload, `data-wasm="`+module+`"`)
				if n := strings.Count(body, ".wasm"); n != 2 {
					t.Errorf("the page names a .wasm file %d times, want 2 (preload and data-wasm)", n)
				}
			} else if strings.Contains(body, `id="status"`) || strings.Contains(body, ".wasm") {
				t.Error("a page without an app has a status line or names a wasm module")
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
	h := site(t, fakeBuild)
	_, body := get(t, h, "/chat")
	for _, want := range []string{
		`<title>Chat · Duplex</title>`,
		`<a href="/chat" aria-current="page">Chat</a>`,
		`<a href="/source/shared/chatclient/client.go"><code>shared/chatclient/client.go</code>`,
		`<a href="/source/wasm/chat/view.go"><code>wasm/chat/view.go</code>`,
		`<a href="/source/shared/conn/reconnect.go"><code>shared/conn/reconnect.go</code>`,
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

// TestLabPageServerRendered checks what the lab's page shows before its app
// runs: the compose box's first frame, every rule the server can break, and
// the History panel's draft-76 handshake, worked out on the server for the
// draft's example or for keys from its form.
func TestLabPageServerRendered(t *testing.T) {
	h := site(t, fakeBuild)
	_, body := get(t, h, "/lab")
	for _, want := range []string{
		`<a href="/lab" aria-current="page">Lab</a>`,
		`<pre class="lab-bytes" id="lab-compose-bytes">81 82 37 fa 21 3d 7f 93</pre>`,
		`<option value="2">RSV1 set, with no extension agreed</option>`,
		`<option value="6">a continuation frame with no message to continue</option>`,
		`4146546015 ÷ 5 = <b>829309203</b>`,
		`1299853100 ÷ 5 = <b>259970620</b>`,
		`<code id="lab-draft76-hex">38 6a 4b 53 27 79 3a 47 2a 43 6f 2c 57 78 61 2d</code>`,
		`<code class="lab-key" id="lab-draft76-response">8jKS&#39;y:G*Co,Wxa-</code>`,
		`This is the draft's own example`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /lab lacks %s", want)
		}
	}
	for _, file := range []string{
		"server/ws/upgrade.go#Upgrader.Upgrade", "shared/handshake/accept.go#AcceptKey", "server/lab/heads.go#RecordHeads",
		"server/lab/tracer.go#frameScanner.scanHeader", "shared/wire/header.go#ParseHeader", "shared/wire/mask.go#Mask",
		"shared/handshake/draft76.go#Draft76", "server/hixie/hixie.go#Handler.ServeHTTP",
	} {
		if want := `<a href="/source/` + file + `"><code>` + file + `</code></a>`; !strings.Contains(body, want) {
			t.Errorf("GET /lab does not link to %s", file)
		}
	}
	if _, index := get(t, h, "/"); !strings.Contains(index, `<a href="/lab">Protocol lab</a>`) {
		t.Error("the index does not list the lab")
	}

	// The draft's second example (§5.2), from the form.
	_, body = get(t, h, "/lab?"+url.Values{
		"key1": {"18x 6]8vM;54 *(5:  {   U1]8  z [  8"},
		"key2": {"1_ tx7X d  <  nw  334J702) 7]o}` 0"},
		"key3": {"Tm[K T2u"},
	}.Encode())
	if want := `id="lab-draft76-response">fQJ,fN/4F4!~K~MH</code>`; !strings.Contains(body, want) {
		t.Errorf("the draft's second example does not end in %s", want)
	}
	for query, want := range map[string]string{
		"key1=12++3&key2=4+4&key3=12345678": "Sec-WebSocket-Key1: 123 is not a multiple of its 2 spaces",
		"key1=1+2&key2=33&key3=12345678":    "Sec-WebSocket-Key2: has no spaces to divide 33 by",
		"key1=1+2&key2=3+3&key3=short":      "key3 is exactly 8 bytes, not 5",
	} {
		_, body := get(t, h, "/lab?"+query)
		if tag := openingTag(body, "lab-draft76-error"); tag == "" || !strings.Contains(body, want) {
			t.Errorf("GET /lab?%s does not show the error %q", query, want)
		}
		if strings.Contains(body, `id="lab-draft76-response"`) {
			t.Errorf("GET /lab?%s shows a response despite the error", query)
		}
	}
}

// The draft-76 endpoint exists only with -hixie76. Its protocol is tested
// in package hixie; a plain GET is not a handshake.
func TestHixie76Flag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{{[]string{"-memory"}, http.StatusNotFound}, {[]string{"-memory", "-hixie76"}, http.StatusBadRequest}} {
		all := demos()
		fs := flag.NewFlagSet("duplex", flag.ContinueOnError)
		for _, d := range all {
			if d.Flags != nil {
				d.Flags(fs)
			}
		}
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		s, err := web.NewSite(web.Config{Assets: fstest.MapFS{}, Demos: all})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if res, body := get(t, s, "/ws/hixie76"); res.StatusCode != tc.want {
			t.Errorf("%q: GET /ws/hixie76: %s %q, want %d", tc.args, res.Status, body, tc.want)
		}
	}
}

// TestSourceLinksResolve follows every link to the source viewer on every
// page: each file exists, and each anchor names a declaration in it, so
// that a renamed function breaks this test rather than a page's link.
func TestSourceLinksResolve(t *testing.T) {
	h := site(t, fakeBuild)
	paths := []string{"/"}
	for _, d := range demos() {
		paths = append(paths, d.Path)
	}
	checked := map[string]bool{}
	for _, p := range paths {
		_, body := get(t, h, p)
		links := regexp.MustCompile(`href="/source/([^"]+)"`).FindAllStringSubmatch(body, -1)
		if len(links) == 0 {
			t.Errorf("%s links to no source file: each page should link to its code", p)
		}
		for _, m := range links {
			link := m[1]
			if checked[link] {
				continue
			}
			checked[link] = true
			file, anchor, _ := strings.Cut(link, "#")
			res, src := get(t, h, "/source/"+file)
			switch {
			case res.StatusCode != http.StatusOK:
				t.Errorf("%s links to %s: %d", p, file, res.StatusCode)
			case anchor != "" && !strings.Contains(src, `id="`+anchor+`"`):
				t.Errorf("%s links to %s#%s: no such declaration", p, file, anchor)
			}
		}
	}
}
