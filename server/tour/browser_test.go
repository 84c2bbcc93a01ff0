//go:build !js

package tour_test

// The tour walked in headless Chromium as a learner walks it: from the
// index, each step's "try" link into its demo, what the step says to do,
// then a check that what it says to notice is there, then Next.

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"duplex/frontend/browsertest"
	"duplex/server/web/webtest"
)

var site = webtest.Lazy{Demos: demos}

func TestMain(m *testing.M) {
	code := m.Run()
	site.Close()
	os.Exit(code)
}

// set sets a form field's value and tells the page, as typing would.
func set(tab *browsertest.Tab, id, value string) {
	browsertest.Eval[bool](tab, `((el, v) => { el.value = v; el.dispatchEvent(new Event("input", {bubbles: true})); return true; })(document.getElementById(`+webtest.JSString(id)+`), `+webtest.JSString(value)+`)`)
}

// press waits for the button to be enabled and clicks it.
func press(tab *browsertest.Tab, id string) {
	tab.WaitFor(id+" to be enabled", `!document.getElementById(`+webtest.JSString(id)+`).disabled`)
	browsertest.Eval[bool](tab, `document.getElementById(`+webtest.JSString(id)+`).click(), true`)
}

// connectLab opens the lab's connection.
func connectLab(tab *browsertest.Tab) {
	webtest.WaitLive(tab)
	press(tab, "lab-connect")
	tab.WaitFor("the handshake", `document.querySelector("#lab-request").textContent.includes("Upgrade: websocket")`)
}

// sendHello sends "hello" from the lab and opens its frame's detail.
func sendHello(tab *browsertest.Tab) {
	set(tab, "lab-text", "hello")
	press(tab, "lab-send")
	tab.WaitFor("hello's frame", `document.querySelector('#lab-frames li.frame[data-dir="received"]') !== null`)
	browsertest.Eval[bool](tab, `document.querySelector('#lab-frames li.frame[data-dir="received"]').click(), true`)
}

// try does what each step says to do, and waits for what it says to notice.
var try = map[string]func(tab *browsertest.Tab){
	"upgrade": func(tab *browsertest.Tab) {
		connectLab(tab)
		tab.WaitFor("Sec-WebSocket-Version: 13", `document.querySelector("#lab-request").textContent.includes("Sec-WebSocket-Version: 13")`)
		tab.WaitFor("the 101", `document.querySelector("#lab-response").textContent.startsWith("HTTP/1.1 101 Switching Protocols")`)
		tab.WaitFor("the accept value", `document.querySelector("#lab-accept").textContent.length === 28`)
	},
	"frame": func(tab *browsertest.Tab) {
		connectLab(tab)
		sendHello(tab)
		tab.WaitFor("the length", `document.querySelector("#lab-detail-length").textContent.startsWith("5 bytes")`)
	},
	"masking": func(tab *browsertest.Tab) {
		connectLab(tab)
		sendHello(tab)
		tab.WaitFor("the key and the plain text", `document.querySelector("#lab-detail-key").textContent.trim().split(" ").length === 4 && document.querySelector("#lab-detail-plain-text").textContent === "hello"`)
	},
	"fragments": func(tab *browsertest.Tab) {
		connectLab(tab)
		set(tab, "lab-fragment-text", "in three parts")
		set(tab, "lab-fragments", "3")
		press(tab, "lab-fragment")
		tab.WaitFor("three frames sent", `document.querySelectorAll('#lab-frames li.frame[data-dir="sent"]').length >= 3`)
	},
	"ping": func(tab *browsertest.Tab) {
		connectLab(tab)
		press(tab, "lab-ping")
		tab.WaitFor("the pong", `[...document.querySelectorAll("#lab-frames li.note")].some(li => li.textContent.startsWith("The browser answered the ping with a pong"))`)
	},
	"events": func(tab *browsertest.Tab) {
		webtest.WaitLive(tab)
		press(tab, "pg-connect")
		tab.WaitFor("open", `document.querySelector("#pg-ready-state").textContent === "1 OPEN"`)
		press(tab, "pg-send")
		set(tab, "pg-code", "4000")
		press(tab, "pg-close")
		tab.WaitFor("closed", `document.querySelector("#pg-ready-state").textContent === "3 CLOSED"`)
	},
	"close": func(tab *browsertest.Tab) {
		connectLab(tab)
		press(tab, "lab-close")
		tab.WaitFor("the close event", `document.querySelector("#lab-close-code").textContent === "4001"`)
	},
	"echo": func(tab *browsertest.Tab) {
		webtest.WaitLive(tab)
		set(tab, "echo-size", "3000000")
		press(tab, "send-binary")
		tab.WaitFor("the echo", `[...document.querySelectorAll("#echo-log li.in")].some(li => li.textContent.endsWith("✓ identical"))`)
	},
	"blocked": func(tab *browsertest.Tab) {
		webtest.WaitLive(tab)
		tab.WaitFor("the stream transport chosen", `document.querySelector("#pg-transport").value === "stream"`)
		press(tab, "pg-connect")
		tab.WaitFor("the stream open", `document.querySelector("#pg-ready-state").textContent === "1 OPEN" && document.querySelector("#pg-transport-used").textContent.startsWith("HTTP stream")`)
		press(tab, "pg-send")
		tab.WaitFor("the echo", `[...document.querySelectorAll("#pg-events li")].some(li => li.textContent.startsWith("message: text"))`)
	},
	"compression": func(tab *browsertest.Tab) {
		webtest.WaitLive(tab)
		tab.WaitFor("compression allowed", `document.querySelector("#lab-compress").checked`)
		connectLab(tab)
		tab.WaitFor("the agreement", `document.querySelector("#lab-response").textContent.includes("Sec-WebSocket-Extensions: permessage-deflate")`)
		set(tab, "lab-text", strings.Repeat("hello ", 100))
		press(tab, "lab-send")
		tab.WaitFor("a frame with RSV1", `document.querySelector('#lab-frames li.frame[data-dir="received"][data-rsv1="deflate"]') !== null`)
		browsertest.Eval[bool](tab, `document.querySelector('#lab-frames li.frame[data-dir="received"][data-rsv1="deflate"]').click(), true`)
		tab.WaitFor("its few bytes on the wire", `/^\d+ bytes/.test(document.querySelector("#lab-detail-length").textContent) && parseInt(document.querySelector("#lab-detail-length").textContent) < 100`)
	},
	"chat": func(tab *browsertest.Tab) {
		webtest.WaitLive(tab)
		set(tab, "chat-nick", "learner")
		set(tab, "chat-room", "tour")
		press(tab, "chat-join")
		tab.WaitFor("the room joined", `!document.querySelector("#chat-send").disabled`)
		set(tab, "chat-text", "hello from the tour")
		press(tab, "chat-send")
		tab.WaitFor("the message stored and shown once", `[...document.querySelectorAll("#chat-messages li.msg")].filter(li => li.textContent.includes("hello from the tour")).length === 1 && document.querySelectorAll("#chat-messages li.pending").length === 0`)
	},
	"draft76": func(tab *browsertest.Tab) {
		tab.WaitFor("the draft's answer", `document.querySelector("#lab-draft76-response").textContent === "8jKS'y:G*Co,Wxa-"`)
	},
}

func TestTourInBrowser(t *testing.T) {
	b := site.OpenPage(t, "/tour")
	url := site.Get(t).URL
	next := browsertest.Eval[string](b.Tab, `document.querySelector("#tour-start").getAttribute("href")`)
	walked := 0
	for next != "/" {
		slug := strings.TrimPrefix(next, "/tour/")
		b.Do(chromedp.Navigate(url + next))
		b.WaitFor("step "+slug, `document.querySelector("#tour-try") !== null`)
		walked++
		href := browsertest.Eval[string](b.Tab, `document.querySelector("#tour-try").getAttribute("href")`)
		nextHref := browsertest.Eval[string](b.Tab, `document.querySelector("#tour-next").getAttribute("href")`)
		f := try[slug]
		if f == nil {
			t.Fatalf("step %s has no check in this test: add one", slug)
		}
		t.Run(slug, func(t *testing.T) {
			b.Do(chromedp.Navigate(url + href))
			f(b.Tab)
			b.CheckNoConsoleErrors()
		})
		next = nextHref
	}
	if walked != len(try) {
		t.Errorf("walked %d steps, the test knows %d", walked, len(try))
	}
}
