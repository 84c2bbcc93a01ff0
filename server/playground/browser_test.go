//go:build !js

package playground_test

// The playground in headless Chromium, with the echo demo, whose endpoint
// it talks to.

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"duplex/frontend/browsertest"
	"duplex/server/echo"
	"duplex/server/playground"
	"duplex/server/web"
	"duplex/server/web/webtest"
)

// site serves the playground and the echo demo it talks to.
var site = webtest.Lazy{Demos: func() []web.Demo { return []web.Demo{playground.Demo(), echo.Demo()} }}

func TestMain(m *testing.M) {
	code := m.Run()
	site.Close()
	os.Exit(code)
}

func TestPlaygroundPageInBrowser(t *testing.T) {
	b := site.OpenPage(t, "/playground")
	webtest.WaitLive(b.Tab)

	b.Do(
		chromedp.SetValue(chromedp.ID("pg-protocols"), "echo, chat"),
		chromedp.SetValue(chromedp.ID("pg-transport"), "ws"), // the browser's API itself
		chromedp.Click(chromedp.ID("pg-connect")),
	)
	b.WaitFor("the socket to open", `document.querySelector("#pg-ready-state").textContent === "1 OPEN"`)
	for sel, want := range map[string]string{
		"#pg-protocol":   `"echo"`,
		"#pg-extensions": `"permessage-deflate; client_no_context_takeover"`, // RFC 7692, as the echo agreed
		"#pg-socket-url": "ws" + site.Get(t).URL[len("http"):] + "/ws/echo",
	} {
		if got := webtest.Text(b.Tab, sel); got != want {
			t.Errorf("%s reads %q, want %q", sel, got, want)
		}
	}

	// send() is enabled once the socket is open.
	b.WaitFor("send() to be enabled", `!document.querySelector("#pg-send").disabled`)
	b.Do(
		chromedp.SetValue(chromedp.ID("pg-message"), "hello"),
		chromedp.Click(chromedp.ID("pg-send")),
	)
	b.WaitFor("the echo of hello", `[...document.querySelectorAll("#pg-events li")].some(li => li.textContent === 'message: text, 5 B: "hello"')`)

	b.Do(
		chromedp.SetValue(chromedp.ID("pg-code"), "4000"),
		chromedp.SetValue(chromedp.ID("pg-reason"), "bye"),
		chromedp.Click(chromedp.ID("pg-close")),
	)
	b.WaitFor("the socket to close", `document.querySelector("#pg-ready-state").textContent === "3 CLOSED"`)
	if got, want := webtest.Text(b.Tab, "#pg-close-event"), `code 4000, reason "bye", wasClean true`; got != want {
		t.Errorf("#pg-close-event reads %q, want %q", got, want)
	}

	// The log shows every call, every event, and each readyState the
	// socket went through, in order.
	want := []string{
		`new WebSocket("/ws/echo", ["echo", "chat"])`,
		`readyState → 0 CONNECTING`,
		`open`,
		`readyState → 1 OPEN`,
		`send: text, 5 B: "hello"`,
		`message: text, 5 B: "hello"`,
		`close(4000, "bye")`,
		`readyState → 2 CLOSING`,
		`close: code 4000 (private use: the application's own), reason "bye", wasClean true`,
		`readyState → 3 CLOSED`,
	}
	if got := webtest.Texts(b.Tab, "#pg-events li"); !slices.Equal(got, want) {
		t.Errorf("the event log reads\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	if !browsertest.Eval[bool](b.Tab, `document.querySelector("#pg-send").disabled && document.querySelector("#pg-close").disabled`) {
		t.Error("send() and close() are still enabled after the close")
	}
	b.CheckNoConsoleErrors()
}

// TestPlaygroundTransportInBrowser connects with the transport auto, with
// WebSocket free and then blocked: the playground says which transport it
// got and why, and the HTTP stream echoes and closes as a WebSocket does.
func TestPlaygroundTransportInBrowser(t *testing.T) {
	s := site.Get(t)
	b := site.OpenPage(t, "/playground")
	webtest.WaitLive(b.Tab)
	if got := browsertest.Eval[string](b.Tab, `document.querySelector("#pg-transport").value`); got != "auto" {
		t.Errorf("the transport select starts at %q, want auto", got)
	}
	for _, tc := range []struct {
		middlebox webtest.Middlebox
		used      string
		url       string
	}{
		{webtest.Transparent, "WebSocket", "ws" + s.URL[len("http"):] + "/ws/echo"},
		{webtest.StripUpgrade, "HTTP stream: WebSocket could not connect (closed with 1006 before it opened)", s.URL + "/ws/echo"},
	} {
		s.SetMiddlebox(tc.middlebox)
		browsertest.Eval[bool](b.Tab, `localStorage.clear(), document.querySelector("#pg-events").textContent = "", true`)
		b.Do(chromedp.Click(chromedp.ID("pg-connect")))
		b.WaitFor("the connection to open", `document.querySelector("#pg-ready-state").textContent === "1 OPEN"`)
		for sel, want := range map[string]string{
			"#pg-transport-used": tc.used,
			"#pg-protocol":       `"echo"`,
			"#pg-socket-url":     tc.url,
		} {
			if got := webtest.Text(b.Tab, sel); got != want {
				t.Errorf("%s reads %q, want %q", sel, got, want)
			}
		}
		b.WaitFor("send() to be enabled", `!document.querySelector("#pg-send").disabled`)
		b.Do(chromedp.SetValue(chromedp.ID("pg-message"), "hello"), chromedp.Click(chromedp.ID("pg-send")))
		b.WaitFor("the echo of hello", `[...document.querySelectorAll("#pg-events li")].some(li => li.textContent === 'message: text, 5 B: "hello"')`)
		b.Do(
			chromedp.SetValue(chromedp.ID("pg-code"), "4000"),
			chromedp.SetValue(chromedp.ID("pg-reason"), "bye"),
			chromedp.Click(chromedp.ID("pg-close")),
		)
		b.WaitFor("the connection to close", `document.querySelector("#pg-ready-state").textContent === "3 CLOSED"`)
		if got, want := webtest.Text(b.Tab, "#pg-close-event"), `code 4000, reason "bye", wasClean true`; got != want {
			t.Errorf("#pg-close-event reads %q, want %q", got, want)
		}
		t.Logf("%s:\n\t%s", tc.used, strings.Join(webtest.Texts(b.Tab, "#pg-events li"), "\n\t"))
	}
	s.SetMiddlebox(webtest.Transparent)
	for _, e := range b.ConsoleErrors() {
		if !strings.Contains(e, "WebSocket connection to") {
			t.Errorf("console error: %s", e)
		}
	}
}

// TestPlaygroundOneSocketInBrowser: Connect while a socket is open closes
// that one first, and says so; a connection that fails says where its
// reason is.
func TestPlaygroundOneSocketInBrowser(t *testing.T) {
	b := site.OpenPage(t, "/playground")
	webtest.WaitLive(b.Tab)
	b.Do(chromedp.SetValue(chromedp.ID("pg-transport"), "ws"), chromedp.Click(chromedp.ID("pg-connect")))
	b.WaitFor("the first socket to open", `document.querySelector("#pg-ready-state").textContent === "1 OPEN"`)
	b.Do(chromedp.Click(chromedp.ID("pg-connect")))
	b.WaitFor("the second socket to open", `document.querySelectorAll("#pg-events li").length > 0 && [...document.querySelectorAll("#pg-events li")].filter(li => li.textContent === "open").length === 2`)
	b.WaitFor("the first to be closed", `[...document.querySelectorAll("#pg-events li")].some(li => li.textContent.startsWith("close of the replaced socket: code 1000"))`)
	if got := webtest.Text(b.Tab, "#pg-ready-state"); got != "1 OPEN" {
		t.Errorf("readyState %q after the replacement, want the new socket open", got)
	}

	b.Do(chromedp.SetValue(chromedp.ID("pg-url"), "/nowhere"), chromedp.Click(chromedp.ID("pg-connect")))
	b.WaitFor("the failure", `[...document.querySelectorAll("#pg-events li")].some(li => li.textContent.startsWith("error — all a browser tells a page"))`)
	b.WaitFor("the close", `document.querySelector("#pg-ready-state").textContent === "3 CLOSED"`)
	// The failed connection is the one error the console shows.
	for _, e := range b.ConsoleErrors() {
		if !strings.Contains(e, "/nowhere") {
			t.Errorf("console error: %s", e)
		}
	}
}
