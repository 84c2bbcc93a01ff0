//go:build !js

package websocket

// This file runs the package's tests where they can run: in a browser.
// websocket_test.go is built only for GOOS=js GOARCH=wasm, so on any other
// platform `go test` compiles just this file, and TestBrowser
//
//  1. finds a Chromium binary with duplex/frontend/browsertest (skipping the
//     test if there is none, unless the CI environment variable is set);
//  2. builds the package's test binary for js/wasm with `go test -c`;
//  3. serves, from one httptest server, a page that runs that binary with
//     Go's wasm_exec.js, and the WebSocket endpoints the tests talk to,
//     written with duplex's own server/ws, and those of the HTTP stream
//     fallback, written with server/httpstream, behind the middleboxes of
//     server/web/webtest;
//  4. opens the page in headless Chromium, which browsertest starts and whose
//     console it copies into the test log, and waits for the Go program in
//     the page to exit: exit code 0 passes, anything else fails.
//
// Environment:
//
//	CHROME_PATH    the browser to use, instead of looking for one
//	WASM_TEST_RUN  passed to the browser-side tests as -test.run
//	CI             if set, a missing browser fails the test instead of skipping it

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"duplex/frontend"
	"duplex/frontend/browsertest"
	"duplex/server/httpstream"
	"duplex/server/web/webtest"
	"duplex/server/ws"
)

// browserTimeout bounds the whole run of the test binary in the page.
const browserTimeout = 2 * time.Minute

func TestBrowser(t *testing.T) {
	browsertest.Find(t) // skip before building if there is no browser
	wasmPath := buildWasmTests(t)

	srv := httptest.NewServer(testServer(wasmPath))
	t.Cleanup(srv.Close) // after the browser has stopped: cleanups run last first

	runInBrowser(t, srv.URL+"/")
}

// buildWasmTests compiles this package's tests for the browser and returns
// the path of the binary.
func buildWasmTests(t *testing.T) string {
	out := filepath.Join(t.TempDir(), "shim_test.wasm")
	// The test runs in the package's directory, so "." is ./wasm/websocket.
	cmd := exec.Command(frontend.GoTool(), "test", "-c", "-o", out, ".")
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
		http.ServeFile(w, r, frontend.WasmExecJS())
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

	// At the first message, sends 64 messages in one write, then closes:
	// the close event comes right behind the message events.
	mux.HandleFunc("/ws/burst-then-close", func(w http.ResponseWriter, r *http.Request) {
		c, err := echo.Upgrade(w, r)
		if err != nil {
			return
		}
		defer c.CloseNow()
		if _, _, err := c.ReadMessage(r.Context(), nil); err != nil {
			return
		}
		burst := make([][]byte, 64)
		for i := range burst {
			burst[i] = []byte("burst " + strconv.Itoa(i))
		}
		if err := c.WriteMessages(r.Context(), ws.Text, burst); err != nil {
			return
		}
		c.Close(ws.StatusNormalClosure, "")
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

	// Echoes n messages (the query's n, default 0), waits ms milliseconds
	// (default 0), then drops the connection: it closes the TCP connection
	// without a close frame, as a network that fails does, so the browser
	// reports 1006.
	mux.HandleFunc("/ws/drop-after", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		c, err := echo.Upgrade(w, r)
		if err != nil {
			return
		}
		defer c.CloseNow()
		var buf []byte
		for range n {
			typ, msg, err := c.ReadMessage(r.Context(), buf)
			if err != nil {
				return
			}
			if err := c.WriteMessage(r.Context(), typ, msg); err != nil {
				return
			}
			buf = msg
		}
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-c.Done():
		}
	})

	// The endpoints of the fall back: an echo that speaks both transports,
	// behind each kind of middlebox that breaks WebSocket.
	fallback := httpstream.NewEndpoint(&ws.Upgrader{Subprotocols: []string{"duplex.v1"}, ReadLimit: 2 << 20},
		httpstream.Config{}, func(p httpstream.Peer) { echoPeer(p) })
	mux.Handle("/ws/fb/echo", fallback)
	mux.Handle("/ws/fb/refused", webtest.StripUpgrade.Wrap(fallback))
	mux.Handle("/ws/fb/held", webtest.HoldUpgrade.Wrap(fallback))
	mux.Handle("/ws/fb/killed", webtest.KillUpgraded.Wrap(fallback))

	// Never answers the handshake, for a Dial that must give up.
	mux.HandleFunc("/ws/stall", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done(): // the browser gave up
		case <-time.After(10 * time.Second):
		}
	})
	return mux
}

// echoPeer sends every message back as it came, over either transport.
func echoPeer(p httpstream.Peer) {
	defer p.CloseNow()
	ctx := context.Background()
	var buf []byte
	for {
		typ, msg, err := p.ReadMessage(ctx, buf)
		if err != nil {
			return
		}
		if err := p.WriteMessage(ctx, typ, msg); err != nil {
			return
		}
		buf = msg
	}
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

// runInBrowser opens url in headless Chromium, with the page's console in
// the test log, and fails unless the Go program in the page exits with 0.
func runInBrowser(t *testing.T, url string) {
	b := browsertest.Start(t)
	start := time.Now()
	b.Do(chromedp.Navigate(url))

	// Poll for the exit code. Start has started the browser, so a timeout
	// on this derived context bounds the wait without killing it early.
	waitCtx, cancelWait := context.WithTimeout(b.Context(), browserTimeout)
	defer cancelWait()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	const state = `({exitCode: window.__exitCode ?? null, startError: window.__startError ?? null})`
	for {
		st, err := chromedp.Run(waitCtx, chromedp.Evaluate[pageState](state))
		switch {
		case err != nil && waitCtx.Err() != nil:
			t.Fatalf("the tests in the browser did not finish within %v; output so far:\n%s", browserTimeout, b.Tail(40))
		case err != nil:
			t.Fatalf("reading the page's state: %v", err)
		case st.StartError != nil:
			t.Fatalf("running the test binary in the page: %s\n%s", *st.StartError, b.Tail(40))
		}
		if exc := b.Exceptions(); len(exc) > 0 {
			t.Fatalf("uncaught exception in the page:\n%s", strings.Join(exc, "\n"))
		}
		if st.ExitCode != nil {
			t.Logf("the test binary exited with code %d after %v", *st.ExitCode, time.Since(start).Round(time.Millisecond))
			for _, line := range b.Console() {
				if strings.Contains(line, "call to released function") {
					t.Errorf("the page called a js.Func after its release: %s", line)
				}
			}
			if *st.ExitCode != 0 {
				t.Fatalf("the tests in the browser failed (exit code %d); last output:\n%s", *st.ExitCode, b.Tail(40))
			}
			return
		}
		select {
		case <-tick.C:
		case <-waitCtx.Done():
		}
	}
}
