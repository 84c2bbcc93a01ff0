//go:build !js

package lab_test

// The protocol lab in headless Chromium: the page opens its trace channel
// and a lab connection, and the tests check what it shows of them against
// what must have crossed the wire. See browser_test.go for the site the
// tests share; its listener records request heads, as the real server's
// does, so the lab shows the upgrade request as received.

import (
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"crypto/sha1"
	"encoding/hex"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"duplex/frontend/browsertest"
	"duplex/server/lab"
	"duplex/server/web"
	"duplex/server/web/webtest"
	"duplex/shared/handshake"
	labproto "duplex/shared/lab"
)

// A frameRow is what a row of the frames list says of its frame, from its
// data attributes.
type frameRow struct {
	Dir, Seq, Fin, Opcode, Mask, Len, Preview string
}

// frameRows returns the rows of the frames list that belong to the
// current lab connection: those after the last connection marker.
func frameRows(tab *browsertest.Tab) []frameRow {
	return browsertest.Eval[[]frameRow](tab, `(() => {
		const rows = [];
		for (const li of document.querySelectorAll("#lab-frames li")) {
			if (li.classList.contains("conn")) rows.length = 0;
			if (!li.classList.contains("frame")) continue;
			const d = li.dataset;
			rows.push({Dir: d.dir, Seq: d.seq, Fin: d.fin, Opcode: d.opcode, Mask: d.mask, Len: d.len,
				Preview: li.querySelector(".preview").textContent});
		}
		return rows;
	})()`)
}

// matching returns the rows of the current lab connection that match.
func matching(tab *browsertest.Tab, match func(frameRow) bool) []frameRow {
	var rows []frameRow
	for _, r := range frameRows(tab) {
		if match(r) {
			rows = append(rows, r)
		}
	}
	return rows
}

// waitRows waits until the current lab connection shows at least n
// frames that match, and returns those it shows.
func waitRows(t *testing.T, tab *browsertest.Tab, what string, n int, match func(frameRow) bool) []frameRow {
	t.Helper()
	for deadline := time.Now().Add(tab.Timeout); ; time.Sleep(10 * time.Millisecond) {
		if rows := matching(tab, match); len(rows) >= n {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; the frames shown are %+v", tab.Timeout, what, frameRows(tab))
		}
	}
}

// connectLab opens a lab connection from the page and waits until it is
// open and its handshake is shown.
func connectLab(tab *browsertest.Tab) {
	tab.WaitFor("Connect to be enabled", `!document.querySelector("#lab-connect").disabled`)
	browsertest.Eval[bool](tab, `document.querySelector("#lab-request").textContent = "", document.querySelector("#lab-connect").click(), true`)
	tab.WaitFor("the lab connection to open", `!document.querySelector("#lab-send").disabled`)
	tab.WaitFor("the handshake to be shown", `document.querySelector("#lab-request").textContent !== ""`)
	tab.WaitFor("the status line to say so", `document.querySelector("#status").textContent.startsWith("Lab connection open")`)
}

// setField sets a form field's value and tells the page, as typing would.
func setField(tab *browsertest.Tab, id, value string) {
	browsertest.Eval[bool](tab, `((el, v) => {
		if (el.type === "checkbox") el.checked = v === "true"; else el.value = v;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		return true;
	})(document.getElementById(`+webtest.JSString(id)+`), `+webtest.JSString(value)+`)`)
}

// click clicks the element with the id, as a reader would.
func click(tab *browsertest.Tab, id string) {
	browsertest.Eval[bool](tab, `document.getElementById(`+webtest.JSString(id)+`).click(), true`)
}

// site serves the lab alone, built once for the package's tests.
var site = webtest.Lazy{Demos: func() []web.Demo { return []web.Demo{lab.Demo()} }}

func TestMain(m *testing.M) {
	code := m.Run()
	site.Close()
	os.Exit(code)
}

// messagesIn returns the messages the page's WebSocket delivered, as the
// page lists them.
func messagesIn(tab *browsertest.Tab) []string { return webtest.Texts(tab, "#lab-messages li.in") }

// bytesOf reads hex written with spaces, as the page writes it.
func bytesOf(t *testing.T, spaced string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(spaced, " ", ""))
	if err != nil {
		t.Fatalf("the page shows %q, not hex bytes: %v", spaced, err)
	}
	return b
}

func TestLabPageInBrowser(t *testing.T) {
	b := site.OpenPage(t, "/lab")
	webtest.WaitLive(b.Tab)
	tab := b.Tab
	connectLab(tab)
	checkLabHandshake(t, tab)
	checkLabEcho(t, tab)
	checkLabFragments(t, tab)
	checkLabPing(t, tab)
	checkLabClose(t, tab)
	checkLabCompose(t, tab)
	b.CheckNoConsoleErrors()
}

// checkLabHandshake checks the handshake panel against the bytes it shows:
// the key in the request, each step of the accept computation, and the
// accept value in the response.
func checkLabHandshake(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	request, response := webtest.Text(tab, "#lab-request"), webtest.Text(tab, "#lab-response")
	key, digest, accept := webtest.Text(tab, "#lab-key"), webtest.Text(tab, "#lab-sha1"), webtest.Text(tab, "#lab-accept")
	if !strings.HasPrefix(request, "GET /ws/lab?session=") || !strings.HasSuffix(request, "\r\n\r\n") {
		t.Errorf("the request reads %q, want GET /ws/lab?session=… up to its empty line", request)
	}
	if !strings.Contains(request, "\r\nSec-WebSocket-Key: "+key+"\r\n") || !handshake.ValidKey(key) {
		t.Errorf("the key is shown as %q; the request reads\n%s", key, request)
	}
	if browsertest.Eval[bool](tab, `!document.querySelector("#lab-rebuilt").hidden`) {
		t.Error("the request is marked as rebuilt: the listener's raw bytes did not reach the lab")
	}
	if got := webtest.Text(tab, "#lab-key-guid"); got != key+handshake.KeyGUID {
		t.Errorf("key + GUID reads %q", got)
	}
	sum := sha1.Sum([]byte(key + handshake.KeyGUID))
	if !slices.Equal(bytesOf(t, digest), sum[:]) {
		t.Errorf("the SHA-1 step reads %q, want % x", digest, sum)
	}
	if want := handshake.AcceptKey(key); accept != want {
		t.Errorf("the base64 step reads %q, want %q", accept, want)
	}
	if !strings.HasPrefix(response, "HTTP/1.1 101 ") || !strings.Contains(response, "\r\nSec-WebSocket-Accept: "+accept+"\r\n") {
		t.Errorf("the response does not carry the accept value %q shown:\n%s", accept, response)
	}
}

// checkLabEcho sends "hello" and checks the browser's masked frame, bit
// by bit, and the server's echo.
func checkLabEcho(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	setField(tab, "lab-text", "hello")
	setField(tab, "lab-type", "text")
	click(tab, "lab-send")
	// The browser's frame: final, text, masked, 5 bytes.
	hello := waitRows(t, tab, "the browser's text frame", 1, func(r frameRow) bool {
		return r.Dir == "received" && r.Opcode == "1" && r.Len == "5"
	})[0]
	if hello.Fin != "1" || hello.Mask != "1" || hello.Preview != `"hello"` {
		t.Errorf("the browser's frame shows as %+v, want FIN 1, MASK 1, preview \"hello\"", hello)
	}
	browsertest.Eval[bool](tab, `document.querySelector('#lab-frames li.frame[data-dir="received"][data-seq="`+hello.Seq+`"]').click(), true`)
	tab.WaitFor("the frame's detail", `document.querySelector("#lab-detail-summary").textContent.startsWith("#`+hello.Seq+`, browser to server")`)

	// Unmask the bytes as shown with the key as shown: RFC 6455 §5.3.
	key, masked := bytesOf(t, webtest.Text(tab, "#lab-detail-key")), bytesOf(t, webtest.Text(tab, "#lab-detail-wire-hex"))
	if len(key) != 4 || len(masked) != 5 {
		t.Fatalf("the detail shows key % x and payload % x, want 4 and 5 bytes", key, masked)
	}
	plain := make([]byte, len(masked))
	for i, c := range masked {
		plain[i] = c ^ key[i%4]
	}
	if string(plain) != "hello" {
		t.Errorf("% x unmasked with % x is %q, want \"hello\"", masked, key, plain)
	}
	if got := webtest.Text(tab, "#lab-detail-plain-text"); got != "hello" {
		t.Errorf("the unmasked payload reads %q", got)
	}
	if got := webtest.Text(tab, "#lab-detail-length"); got != "5 bytes, 7-bit encoding" {
		t.Errorf("the length reads %q", got)
	}
	// The diagram's bits: FIN, opcode 1, MASK, length 5, and the key.
	for field, want := range map[string]string{
		"fin": "1", "rsv1": "0", "opcode": "0001", "mask": "1", "len": "0000101",
		"key": bitsOf(key),
	} {
		got := browsertest.Eval[string](tab, `[...document.querySelectorAll('#lab-detail-bits [data-field="`+field+`"] .lab-bitvals')].map(e => e.textContent).join("")`)
		if got != want {
			t.Errorf("the diagram's %s bits read %q, want %q", field, got, want)
		}
	}

	// The echo: the server's frame, not masked, and one message.
	waitRows(t, tab, "the echo's frame", 1, func(r frameRow) bool {
		return r.Dir == "sent" && r.Opcode == "1" && r.Len == "5" && r.Fin == "1" && r.Mask == "0" && r.Preview == `"hello"`
	})
	tab.WaitFor("the echo to be delivered", `document.querySelectorAll("#lab-messages li.in").length === 1`)
	if got, want := messagesIn(tab), []string{`← text, 5 B: "hello"`}; !slices.Equal(got, want) {
		t.Errorf("the page's WebSocket delivered %q, want %q", got, want)
	}
}

// checkLabFragments asks for a message in three frames: the frames list
// shows all three, the page's WebSocket delivers one message.
func checkLabFragments(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	const msg = "one message, three frames"
	sentBefore := len(matching(tab, func(r frameRow) bool { return r.Dir == "sent" }))
	delivered := len(messagesIn(tab))
	setField(tab, "lab-fragment-text", msg)
	setField(tab, "lab-fragments", "3")
	click(tab, "lab-fragment")
	sent := waitRows(t, tab, "three more frames from the server", sentBefore+3, func(r frameRow) bool { return r.Dir == "sent" })
	var ops, fins []string
	var payload int
	for _, r := range sent[sentBefore:] {
		ops, fins = append(ops, r.Opcode), append(fins, r.Fin)
		n, _ := strconv.Atoi(r.Len)
		payload += n
	}
	if len(sent) != sentBefore+3 || !slices.Equal(ops, []string{"1", "0", "0"}) || !slices.Equal(fins, []string{"0", "0", "1"}) || payload != len(msg) {
		t.Errorf("the server's frames show as %+v, want text, continuation, continuation, FIN only on the last, %d bytes in all", sent[sentBefore:], len(msg))
	}
	tab.WaitFor("the message to be delivered", `document.querySelectorAll("#lab-messages li.in").length > `+strconv.Itoa(delivered))
	if got, want := messagesIn(tab)[delivered:], []string{`← text, 25 B: "` + msg + `"`}; !slices.Equal(got, want) {
		t.Errorf("the page's WebSocket delivered %q, want one message %q", got, want)
	}
}

// checkLabPing asks for a ping, which the browser answers by itself.
func checkLabPing(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	click(tab, "lab-ping")
	waitRows(t, tab, "the server's ping", 1, func(r frameRow) bool { return r.Dir == "sent" && r.Opcode == "9" })
	pong := waitRows(t, tab, "the browser's pong", 1, func(r frameRow) bool { return r.Dir == "received" && r.Opcode == "10" })[0]
	if pong.Fin != "1" || pong.Mask != "1" {
		t.Errorf("the pong shows as %+v, want FIN and MASK", pong)
	}
	tab.WaitFor("the note on the pong", `[...document.querySelectorAll("#lab-frames li.note")].some(li => li.textContent.startsWith("The browser answered the ping with a pong after"))`)
}

// checkLabClose asks the server to close with 4001 "bye": the page's
// close event says so, and the frames list shows both close frames.
func checkLabClose(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	setField(tab, "lab-code", "4001")
	setField(tab, "lab-reason", "bye")
	click(tab, "lab-close")
	tab.WaitFor("the close event", `document.querySelector("#lab-close-code").dataset.code`)
	for sel, want := range map[string]string{
		"#lab-close-code":   "4001",
		"#lab-close-reason": `"bye"`,
		"#lab-close-clean":  "true",
	} {
		if got := webtest.Text(tab, sel); got != want {
			t.Errorf("%s reads %q, want %q", sel, got, want)
		}
	}
	sent := waitRows(t, tab, "the server's close frame", 1, func(r frameRow) bool { return r.Dir == "sent" && r.Opcode == "8" })
	received := waitRows(t, tab, "the browser's close frame", 1, func(r frameRow) bool { return r.Dir == "received" && r.Opcode == "8" })
	if sent[0].Preview != `4001 "bye"` || received[0].Mask != "1" {
		t.Errorf("the close frames show as %+v (server) and %+v (browser)", sent[0], received[0])
	}
	t.Logf("the browser answered the close with %q", received[0].Preview)
	tab.WaitFor("the note on the end", `[...document.querySelectorAll("#lab-frames li.note")].some(li => li.textContent.startsWith("The lab connection ended: the server sent a close frame"))`)
	if !browsertest.Eval[bool](tab, `document.querySelector("#lab-send").disabled && !document.querySelector("#lab-connect").disabled`) {
		t.Error("after the close, Send is enabled or Connect is not")
	}
}

// checkLabCompose builds RFC 6455's masked "Hi" in the compose box.
func checkLabCompose(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	setField(tab, "lab-compose-opcode", "1")
	setField(tab, "lab-compose-fin", "true")
	setField(tab, "lab-compose-mask", "true")
	setField(tab, "lab-compose-key", "37fa213d")
	setField(tab, "lab-compose-payload", "Hi")
	// RFC 6455 §5.7's arithmetic: 0x81 is FIN and opcode 1, 0x82 is
	// MASK and length 2, then the key, then 'H' (0x48) ^ 0x37 = 0x7f
	// and 'i' (0x69) ^ 0xfa = 0x93.
	if 'H'^0x37 != 0x7f || 'i'^0xfa != 0x93 {
		t.Fatal("the test's arithmetic is wrong")
	}
	if got, want := webtest.Text(tab, "#lab-compose-bytes"), "81 82 37 fa 21 3d 7f 93"; got != want {
		t.Errorf("the composed frame reads %q, want %q", got, want)
	}
	setField(tab, "lab-compose-mask", "false")
	if got, want := webtest.Text(tab, "#lab-compose-bytes"), "81 02 48 69"; got != want {
		t.Errorf("unmasked, the composed frame reads %q, want %q", got, want)
	}
	if got := webtest.Text(tab, "#lab-compose-verdict"); !strings.Contains(got, "1002: client frame is not masked") {
		t.Errorf("the verdict on an unmasked frame reads %q", got)
	}
}

// bitsOf writes b's bits, most significant first.
func bitsOf(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		s.WriteString(strconv.FormatUint(uint64(c)|0x100, 2)[1:])
	}
	return s.String()
}

// TestLabViolationsInBrowser asks the server to break each rule the lab
// knows, on a fresh lab connection each time, and checks that the browser
// fails the connection: its close event says 1006, not clean, and the
// server's note says how the connection ended. Chromium logs each failure
// to the console, as an error that names the lab connection; no other
// error may appear.
func TestLabViolationsInBrowser(t *testing.T) {
	b := site.OpenPage(t, "/lab")
	webtest.WaitLive(b.Tab)
	tab := b.Tab
	for _, rule := range labproto.Rules {
		connectLab(tab)
		notes := len(webtest.Texts(tab, "#lab-frames li.note"))
		setField(tab, "lab-rule", strconv.Itoa(int(rule)))
		click(tab, "lab-violate")
		tab.WaitFor("the close event", `document.querySelector("#lab-close-code").dataset.code`)
		tab.WaitFor("the server's note on the end", `[...document.querySelectorAll("#lab-frames li.note")].slice(`+strconv.Itoa(notes)+`).some(li => li.textContent.startsWith("The lab connection ended"))`)

		code, clean := webtest.Text(tab, "#lab-close-code"), webtest.Text(tab, "#lab-close-clean")
		if code != "1006 (abnormal closure)" || clean != "false" {
			t.Errorf("%s: the close event reads code %q, wasClean %s; want 1006, not clean: the browser fails the connection (RFC 6455 §7.1.7)", rule, code, clean)
		}
		// What else the browser did is its own choice; the log keeps it.
		closes := map[string][]string{}
		for _, r := range frameRows(tab) {
			if r.Opcode == "8" {
				closes[r.Dir] = append(closes[r.Dir], r.Preview)
			}
		}
		var ended string
		for _, n := range webtest.Texts(tab, "#lab-frames li.note")[notes:] {
			if strings.HasPrefix(n, "The lab connection ended") {
				ended = n
			}
		}
		t.Logf("%s: close event %s, wasClean %s; close frames from the browser %q, from the server %q; %s",
			rule, code, clean, closes["received"], closes["sent"], ended)
		// Where the browser sent a close frame, the page explains why its
		// close event says 1006 all the same.
		if len(closes["received"]) > 0 {
			tab.WaitFor("the explanation of 1006", `document.querySelector("#lab-close-why").textContent.startsWith("The browser itself sent close ")`)
		}
		if got := webtest.Text(tab, "#status"); !strings.HasPrefix(got, "The lab connection closed with 1006") {
			t.Errorf("%s: the status line reads %q after the close", rule, got)
		}
	}
	for _, e := range b.ConsoleErrors() {
		if !regexp.MustCompile(`^browser error: WebSocket connection to 'ws://[^']*/ws/lab\?session=[0-9a-f]+' failed: `).MatchString(e) {
			t.Errorf("the page reported a console error that is not a failed lab connection: %s", e)
		}
	}
}

// TestLabOnOneScreen opens the lab at 1280×800, a projector's screen: the
// controls, the frames and the frame detail are all in view without
// scrolling the page, and a new frame scrolls into view in its list.
func TestLabOnOneScreen(t *testing.T) {
	b := site.OpenPage(t, "/lab")
	if _, err := chromedp.Call(b.Tab.Context(), emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 1280, Height: 800, DeviceScaleFactor: 1}); err != nil {
		t.Fatal(err)
	}
	webtest.WaitLive(b.Tab)
	tab := b.Tab
	connectLab(tab)
	inView := func(sel string) bool {
		return browsertest.Eval[bool](tab, `(() => { const r = document.querySelector(`+webtest.JSString(sel)+`).getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth; })()`)
	}
	for _, sel := range []string{"#lab-connect", "#lab-send", "#lab-fragment", "#lab-ping", "#lab-frames-title", "#lab-detail-title"} {
		if !inView(sel) {
			t.Errorf("%s is not on the screen at 1280×800", sel)
		}
	}
	for i := range 40 {
		setField(tab, "lab-text", "message "+strconv.Itoa(i))
		click(tab, "lab-send")
	}
	tab.WaitFor("the 40 echoes", `document.querySelectorAll("#lab-messages li.in").length >= 40`)
	click(tab, "lab-ping")
	tab.WaitFor("the pong's note", `[...document.querySelectorAll("#lab-frames li.note")].some(li => li.textContent.startsWith("The browser answered the ping"))`)
	tab.WaitFor("the newest row in view", `(() => {
		const list = document.querySelector("#lab-frames"), last = list.lastElementChild;
		const l = list.getBoundingClientRect(), r = last.getBoundingClientRect();
		return r.bottom <= l.bottom + 1 && r.top >= l.top - 1 && r.bottom <= innerHeight;
	})()`)
	if y := browsertest.Eval[float64](tab, `scrollY`); y != 0 {
		t.Errorf("the page scrolled to %v px: the frames list should scroll, not the page", y)
	}
	b.CheckNoConsoleErrors()
}

// TestLabCompressionInBrowser lets the lab connection use
// permessage-deflate, sends 64 KiB of repetitive text through the page's
// Go shim, and checks that it crossed compressed both ways — RSV1 on the
// frames, far fewer bytes on the wire, a note with the ratio — and came
// back intact.
func TestLabCompressionInBrowser(t *testing.T) {
	b := site.OpenPage(t, "/lab")
	webtest.WaitLive(b.Tab)
	tab := b.Tab
	browsertest.Eval[bool](tab, `document.querySelector("#lab-compress").checked = true`)
	connectLab(tab)
	if got := webtest.Text(tab, "#lab-response"); !strings.Contains(got, "Sec-WebSocket-Extensions: permessage-deflate") {
		t.Fatalf("the 101 response agrees on no compression:\n%s", got)
	}
	text := strings.Repeat("all work and no play makes a dull frame. ", 1600)[:65536]
	setField(tab, "lab-text", text)
	click(tab, "lab-send")
	tab.WaitFor("the echo", `[...document.querySelectorAll("#lab-messages li.in")].some(li => li.textContent.includes("65536"))`)
	tab.WaitFor("both notes on compression", `[...document.querySelectorAll("#lab-frames li.note")].filter(li => / compressed a 65536-byte message into \d+ bytes on the wire/.test(li.textContent)).length === 2`)
	for _, dir := range []string{"received", "sent"} {
		n := browsertest.Eval[int](tab, `(() => { const f = [...document.querySelectorAll('#lab-frames li.frame[data-dir="`+dir+`"][data-rsv1="deflate"]')].pop(); return f ? Number(f.dataset.len) : -1; })()`)
		if n <= 0 || n > 65536/10 {
			t.Errorf("the %s frame with RSV1 carries %d bytes, want a few hundred for 64 KiB of repetition", dir, n)
		}
	}
	echoed := browsertest.Eval[bool](tab, `[...document.querySelectorAll("#lab-messages li.in")].some(li => li.textContent.includes(`+webtest.JSString(text[:40])+`))`)
	if !echoed {
		t.Error("the echoed message does not show the text sent")
	}
	b.CheckNoConsoleErrors()
}
