//go:build !js

package websocket

// This file runs the package's tests where they can run: in a browser.
// websocket_test.go is built only for GOOS=js GOARCH=wasm, so on any other
// platform `go test` compiles just this file, and TestBrowser
//
//  1. finds a Chromium binary (skipping the test if there is none, unless
//     the CI environment variable is set);
//  2. builds the package's test binary for js/wasm with `go test -c`;
//  3. serves, from one httptest server, a page that runs that binary with
//     Go's wasm_exec.js, and the WebSocket endpoints the tests talk to,
//     written with duplex's own server/ws;
//  4. opens the page in headless Chromium with chromedp, copies everything
//     the page prints to the console into the test log, and waits for the Go
//     program in the page to exit: exit code 0 passes, anything else fails.
//
// Environment:
//
//	CHROME_PATH    the browser to use, instead of looking for one
//	WASM_TEST_RUN  passed to the browser-side tests as -test.run
//	CI             if set, a missing browser fails the test instead of skipping it

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"duplex/server/ws"
)

// browserTimeout bounds the whole run of the test binary in the page.
const browserTimeout = 2 * time.Minute

func TestBrowser(t *testing.T) {
	chrome := findChromium(t)
	wasmPath := buildWasmTests(t)

	srv := httptest.NewServer(testServer(wasmPath))
	defer srv.Close()

	runInBrowser(t, chrome, srv.URL+"/")
}

// findChromium returns the browser to run the tests in: $CHROME_PATH if it is
// set, or else the first of the usual Chromium and Chrome binaries found.
func findChromium(t *testing.T) string {
	candidates := []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	if p := os.Getenv("CHROME_PATH"); p != "" {
		candidates = []string{p} // an explicit choice: do not fall back to others
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	t.Logf("looked for a browser among %s", strings.Join(candidates, ", "))
	const msg = "no Chromium found: install Debian's chromium to run the browser tests"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so this is an error, not a skip)")
	}
	t.Skip(msg)
	return ""
}

// buildWasmTests compiles this package's tests for the browser and returns
// the path of the binary.
func buildWasmTests(t *testing.T) string {
	out := filepath.Join(t.TempDir(), "shim_test.wasm")
	goTool := "go"
	if root := runtime.GOROOT(); root != "" { // the go that runs this test
		goTool = filepath.Join(root, "bin", "go")
	}
	// The test runs in the package's directory, so "." is ./wasm/websocket.
	cmd := exec.Command(goTool, "test", "-c", "-o", out, ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	start := time.Now()
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the js/wasm test binary: %v\n%s", err, output)
	}
	t.Logf("built %s in %v", filepath.Base(out), time.Since(start).Round(time.Millisecond))
	return out
}

// page runs the test binary: wasm_exec.js defines Go, which provides the
// binary's imports (syscall/js among them) and prints its output with
// console.log. go.exit is called with the exit code when the program ends;
// the page keeps the code for the runner to find.
var page = template.Must(template.New("page").Parse(`<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>duplex wasm/websocket tests</title>
<link rel="icon" href="data:,">
<script src="/wasm_exec.js"></script>
<script>
"use strict";
const go = new Go();
go.argv = {{.}};
go.exit = code => { window.__exitCode = code; };
WebAssembly.instantiateStreaming(fetch("/shim_test.wasm"), go.importObject)
	.then(result => go.run(result.instance))
	.catch(err => { window.__startError = String(err && err.stack || err); });
</script>
</head>
<body></body>
</html>
`))

// testServer serves the page, what it loads, and the WebSocket endpoints
// that websocket_test.go uses.
func testServer(wasmPath string) http.Handler {
	argv := []string{"js", "-test.v", "-test.timeout=" + (browserTimeout - 10*time.Second).String()}
	if run := os.Getenv("WASM_TEST_RUN"); run != "" {
		argv = append(argv, "-test.run="+run)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page.Execute(w, argv)
	})
	mux.HandleFunc("GET /wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
	})
	mux.HandleFunc("GET /shim_test.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm") // instantiateStreaming insists
		http.ServeFile(w, r, wasmPath)
	})

	echo := &ws.Upgrader{ReadLimit: 2 << 20}
	mux.HandleFunc("/ws/echo", serveEcho(echo))
	mux.HandleFunc("/ws/echo-proto", serveEcho(&ws.Upgrader{Subprotocols: []string{"duplex.v1"}, ReadLimit: 2 << 20}))

	// Echoes the first message, then closes with 4001 "server bye".
	mux.HandleFunc("/ws/close-after-first", func(w http.ResponseWriter, r *http.Request) {
		c, err := echo.Upgrade(w, r)
		if err != nil {
			return
		}
		defer c.CloseNow()
		typ, msg, err := c.ReadMessage(r.Context(), nil)
		if err != nil {
			return
		}
		if err := c.WriteMessage(r.Context(), typ, msg); err != nil {
			return
		}
		c.Close(4001, "server bye")
	})

	// A slow reader: it takes 5 ms over each message, and answers the text
	// message "count" with the number of binary bytes read so far.
	mux.HandleFunc("/ws/slow", func(w http.ResponseWriter, r *http.Request) {
		c, err := echo.Upgrade(w, r)
		if err != nil {
			return
		}
		defer c.CloseNow()
		var total int
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(r.Context(), buf)
			if err != nil {
				return
			}
			buf = msg
			if typ == ws.Text && string(msg) == "count" {
				if err := c.WriteMessage(r.Context(), ws.Text, []byte(strconv.Itoa(total))); err != nil {
					return
				}
				continue
			}
			total += len(msg)
			time.Sleep(5 * time.Millisecond)
		}
	})

	// Never answers the handshake, for a Dial that must give up.
	mux.HandleFunc("/ws/stall", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done(): // the browser gave up
		case <-time.After(10 * time.Second):
		}
	})
	return mux
}

// serveEcho returns a handler that sends every message back as it came.
func serveEcho(u *ws.Upgrader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r)
		if err != nil {
			return // Upgrade has answered with the reason, e.g. 426 to a plain GET
		}
		defer c.CloseNow()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(r.Context(), buf)
			if err != nil {
				return
			}
			if err := c.WriteMessage(r.Context(), typ, msg); err != nil {
				return
			}
			buf = msg
		}
	}
}

// pageState is what the runner polls from the page.
type pageState struct {
	ExitCode   *int    `json:"exitCode"`   // set by go.exit
	StartError *string `json:"startError"` // set if the binary could not be loaded or crashed
}

// runInBrowser opens url in headless Chromium, streams the page's console to
// the test log, and fails unless the Go program in the page exits with 0.
func runInBrowser(t *testing.T, chrome, url string) {
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox, // root in a container cannot use the sandbox
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers often have a tiny /dev/shm
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc() // stops the browser and waits for it to exit
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()

	// chromedp.Listen (chromedp v0.22's name for ListenTarget) calls
	// console.handle with every event of the tab, in order.
	console := &consoleLog{t: t}
	defer console.stop() // runs first: no logging once the test returns
	if err := chromedp.Listen(ctx, console.handle); err != nil {
		t.Fatalf("starting %s: %v", chrome, err)
	}
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening the test page: %v", err)
	}

	// Poll for the exit code. The first Run above started the browser, so a
	// timeout on this derived context bounds the wait without killing it
	// early.
	waitCtx, cancelWait := context.WithTimeout(ctx, browserTimeout)
	defer cancelWait()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	const state = `({exitCode: window.__exitCode ?? null, startError: window.__startError ?? null})`
	for {
		st, err := chromedp.Run(waitCtx, chromedp.Evaluate[pageState](state))
		switch {
		case err != nil && waitCtx.Err() != nil:
			t.Fatalf("the tests in the browser did not finish within %v; output so far:\n%s", browserTimeout, console.tail(40))
		case err != nil:
			t.Fatalf("reading the page's state: %v", err)
		case st.StartError != nil:
			t.Fatalf("running the test binary in the page: %s\n%s", *st.StartError, console.tail(40))
		}
		if exc := console.exceptions(); len(exc) > 0 {
			t.Fatalf("uncaught exception in the page:\n%s", strings.Join(exc, "\n"))
		}
		if st.ExitCode != nil {
			t.Logf("the test binary exited with code %d after %v", *st.ExitCode, time.Since(start).Round(time.Millisecond))
			if *st.ExitCode != 0 {
				t.Fatalf("the tests in the browser failed (exit code %d); last output:\n%s", *st.ExitCode, console.tail(40))
			}
			return
		}
		select {
		case <-tick.C:
		case <-waitCtx.Done():
		}
	}
}

// A consoleLog receives the page's events from chromedp: console output and
// the browser's own messages (such as why a WebSocket handshake failed),
// which it passes on to t.Log line by line and keeps, and uncaught
// exceptions, which it keeps for the runner to fail on.
type consoleLog struct {
	t *testing.T

	mu      sync.Mutex
	stopped bool
	lines   []string
	excs    []string
}

// handle is called on chromedp's event loop, so it must be quick.
func (c *consoleLog) handle(ev any) {
	switch ev := ev.(type) {
	case *cdpruntime.EventConsoleAPICalled:
		args := make([]string, len(ev.Args))
		for i, a := range ev.Args {
			args[i] = remoteText(a)
		}
		text := strings.Join(args, " ")
		if ev.Type != cdpruntime.ConsoleAPICalledTypeLog {
			text = "console." + string(ev.Type) + ": " + text
		}
		c.add(strings.Split(strings.TrimSuffix(text, "\n"), "\n")...)
	case *cdplog.EventEntryAdded:
		c.add("browser " + string(ev.Entry.Level) + ": " + ev.Entry.Text)
	case *cdpruntime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		if d.URL != "" {
			text += " (" + d.URL + ":" + strconv.FormatInt(d.LineNumber+1, 10) + ")"
		}
		c.mu.Lock()
		c.excs = append(c.excs, text)
		c.mu.Unlock()
		c.add("uncaught exception: " + text)
	}
}

// remoteText renders a console argument: strings as they are, other values
// as the browser describes them.
func remoteText(o *cdpruntime.RemoteObject) string {
	if len(o.Value) > 0 {
		var s string
		if json.Unmarshal([]byte(o.Value), &s) == nil {
			return s
		}
		return string(o.Value)
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Type)
}

func (c *consoleLog) add(lines ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, lines...)
	if c.stopped {
		return
	}
	for _, l := range lines {
		c.t.Log("[browser] " + l)
	}
}

// stop ends the streaming to t.Log, which must not be called once the test
// has returned.
func (c *consoleLog) stop() {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
}

func (c *consoleLog) exceptions() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.excs...)
}

// tail returns the last n lines of output.
func (c *consoleLog) tail(n int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines[max(0, len(c.lines)-n):], "\n")
}
