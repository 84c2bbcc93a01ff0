//go:build !js

package echo_test

// The echo page in headless Chromium, against the echo demo served with a
// real build of its front end: the test uses the page as a reader would.

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"duplex/server/echo"
	"duplex/server/web"
	"duplex/server/web/webtest"
)

// site serves the echo demo alone, built once for the package's tests.
var site = webtest.Lazy{Demos: func() []web.Demo { return []web.Demo{echo.Demo()} }}

func TestMain(m *testing.M) {
	code := m.Run()
	site.Close()
	os.Exit(code)
}

func TestEchoPageInBrowser(t *testing.T) {
	b := site.OpenPage(t, "/echo")
	webtest.WaitLive(b.Tab)
	if got, want := webtest.Text(b.Tab, "#echo-url"), "ws"+site.Get(t).URL[len("http"):]+"/ws/echo"; got != want {
		t.Errorf("#echo-url reads %q, want %q", got, want)
	}

	// A text message, not all ASCII, comes back identical.
	const msg = "Grüße aus dem Browser 👋"
	b.Do(
		chromedp.Clear(chromedp.ID("echo-text")),
		chromedp.SendKeys(chromedp.ID("echo-text"), msg), // typed, key by key
		chromedp.Click(chromedp.ID("send-text")),
	)
	b.WaitFor("the text's echo", `document.querySelectorAll("#echo-log li.in").length === 1`)
	wantText := regexp.MustCompile(`^← text ` + strconv.Itoa(len(msg)) + ` B ` + regexp.QuoteMeta(strconv.Quote(msg)) +
		` in \d+\.\d ms ✓ identical$`)
	if got := webtest.Text(b.Tab, "#echo-log li.in"); !wantText.MatchString(got) {
		t.Errorf("the text's echo reads %q, want a match for %s", got, wantText)
	}

	// 70000 bytes of binary, shown as KiB with one decimal, come back identical.
	b.Do(
		chromedp.SetValue(chromedp.ID("echo-size"), "70000"),
		chromedp.Click(chromedp.ID("send-binary")),
	)
	b.WaitFor("the binary message's echo", `document.querySelectorAll("#echo-log li.in").length === 2`)
	wantBinary := regexp.MustCompile(`^← binary 68\.4 KiB in \d+\.\d ms ✓ identical$`)
	if got := webtest.Texts(b.Tab, "#echo-log li.in")[1]; !wantBinary.MatchString(got) {
		t.Errorf("the binary echo reads %q, want a match for %s", got, wantBinary)
	}

	sent := webtest.Texts(b.Tab, "#echo-log li.out")
	if want := []string{"→ text " + strconv.Itoa(len(msg)) + " B " + strconv.Quote(msg), "→ binary 68.4 KiB"}; !slices.Equal(sent, want) {
		t.Errorf("the log shows as sent %q, want %q", sent, want)
	}
	b.WaitFor("two round trips to be counted", `document.querySelector("#echo-count").textContent === "2"`)
	if got := webtest.Text(b.Tab, "#echo-rtt"); !regexp.MustCompile(`^\d+\.\d ms for 68\.4 KiB$`).MatchString(got) {
		t.Errorf("#echo-rtt reads %q", got)
	}
	if errs := webtest.Texts(b.Tab, "#echo-log li.err"); len(errs) > 0 {
		t.Errorf("the log shows errors: %q", errs)
	}
	b.CheckNoConsoleErrors()
}
