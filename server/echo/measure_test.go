//go:build !js

package echo_test

// Measurements, in headless Chromium, as benchmarks: plain `go test` does
// not run them. They log their figures and report them as metrics, and
// assert nothing about time. Run them with
//
//	go test ./server/web -run '^$' -bench 'TimeToConnected|ShimVsJS' -benchtime 1x
//
// BenchmarkTimeToConnected: how long after navigation the echo page's Go
// app is connected, from a cold cache and from a warm one.
//
// BenchmarkShimVsJS: messages per second through duplex/wasm/websocket
// (the Go API over the browser's WebSocket) against the same loop in
// plain JavaScript, on the same page and against the same echo endpoint.

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"duplex/frontend"
	"duplex/frontend/browsertest"
	"duplex/server/echo"
	"duplex/server/web"
	"duplex/server/web/webtest"
)

// loadMarks runs in every document before the page's own scripts, and
// notes, on the page's clock (milliseconds since navigation started), when
// the Go runtime took over the status line and when the app was live. It
// also sums the layout shifts, as Chrome's Cumulative Layout Shift does.
const loadMarks = `(() => {
	const marks = window.__marks = {cls: 0};
	new MutationObserver(() => {
		const s = document.getElementById("status");
		if (!s) return;
		if (marks.goStarted === undefined && s.textContent.startsWith("Connecting")) marks.goStarted = performance.now();
		if (marks.live === undefined && s.dataset.state === "live") marks.live = performance.now();
	}).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
	new PerformanceObserver(list => {
		for (const e of list.getEntries()) if (!e.hadRecentInput) marks.cls += e.value;
	}).observe({type: "layout-shift", buffered: true});
})()`

// readMarks completes the marks with the page's own timings.
const readMarks = `(() => {
	const m = window.__marks;
	const nav = performance.getEntriesByType("navigation")[0];
	const wasm = performance.getEntriesByType("resource").find(e => e.name.endsWith(".wasm"));
	return {
		html: nav.responseEnd,
		domContentLoaded: nav.domContentLoadedEventEnd,
		wasmLoaded: wasm ? wasm.responseEnd : -1,
		wasmBytes: wasm ? wasm.transferSize : -1,
		goStarted: m.goStarted ?? -1,
		live: m.live,
		cls: m.cls,
	};
})()`

// loadTimes are the milestones of one load of the echo page, in
// milliseconds since navigation started.
type loadTimes struct {
	HTML             float64 `json:"html"`
	DOMContentLoaded float64 `json:"domContentLoaded"`
	WasmLoaded       float64 `json:"wasmLoaded"`
	WasmBytes        float64 `json:"wasmBytes"` // transferred: 0 from the cache
	GoStarted        float64 `json:"goStarted"`
	Live             float64 `json:"live"`
	CLS              float64 `json:"cls"`
}

// addScript makes the tab run script in every document it opens from now
// on, before the document's own scripts.
func addScript(script string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdppage.AddScriptToEvaluateOnNewDocument,
			cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	})
}

// loadEcho opens the echo page in tab, waits until its app is live and
// returns the milestones.
func loadEcho(tab *browsertest.Tab, url string) loadTimes {
	tab.Do(chromedp.Navigate(url))
	webtest.WaitLive(tab)
	return browsertest.Eval[loadTimes](tab, readMarks)
}

func BenchmarkTimeToConnected(b *testing.B) {
	const runs = 5
	url := site.Get(b).URL + "/echo"
	br := browsertest.Start(b)
	br.Do(addScript(loadMarks))
	var cold, warm []loadTimes
	for b.Loop() {
		// Cold: every load in a new browser context, with an empty cache,
		// as on a first visit.
		for range runs {
			tab := br.NewTab(b, chromedp.WithNewBrowserContext())
			tab.Do(addScript(loadMarks))
			cold = append(cold, loadEcho(tab, url))
			tab.CheckNoConsoleErrors()
			tab.Close()
		}
		// Warm: the same tab again and again, with the assets in the cache,
		// as on a return visit. The first load fills the cache.
		loadEcho(br.Tab, url)
		for range runs {
			warm = append(warm, loadEcho(br.Tab, url))
		}
	}
	br.CheckNoConsoleErrors()

	b.ReportMetric(0, "ns/op") // the time of a whole op means nothing here
	for _, c := range []struct {
		name  string
		loads []loadTimes
	}{{"cold", cold}, {"warm", warm}} {
		med := func(f func(loadTimes) float64) float64 {
			var v []float64
			for _, l := range c.loads {
				v = append(v, f(l))
			}
			return median(v)
		}
		var connected []string
		maxCLS := 0.0
		for _, l := range c.loads {
			connected = append(connected, fmt.Sprintf("%.1f", l.Live))
			maxCLS = max(maxCLS, l.CLS)
		}
		live := med(func(l loadTimes) float64 { return l.Live })
		b.Logf("%s cache, %d loads: connected at %s ms after navigation started", c.name, len(c.loads), strings.Join(connected, ", "))
		b.Logf("  medians (ms): HTML %.1f, DOMContentLoaded %.1f, echo.wasm loaded %.1f (%.0f bytes over the wire), Go started %.1f, connected %.1f; layout shift at most %.4f",
			med(func(l loadTimes) float64 { return l.HTML }), med(func(l loadTimes) float64 { return l.DOMContentLoaded }),
			med(func(l loadTimes) float64 { return l.WasmLoaded }), med(func(l loadTimes) float64 { return l.WasmBytes }),
			med(func(l loadTimes) float64 { return l.GoStarted }), live, maxCLS)
		b.ReportMetric(live, c.name+"-ms-to-connected")
	}
}

// median returns the median of v, which it sorts.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// benchPage holds the two sides of BenchmarkShimVsJS: jsBench, plain
// JavaScript, and testdata/shimbench compiled to wasm, which defines
// goBench. Both have the same signature and do the same work; see
// testdata/shimbench/main.go.
var benchPage = template.Must(template.New("bench").Parse(`<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>duplex: Go shim vs JavaScript</title>
<link rel="icon" href="data:,">
<script src="/bench/wasm_exec.js"></script>
<script>
"use strict";
const warmup = {{.Warmup}};
const message = {{.Message}};

// jsBench connects to url and returns a promise of {ms, msgsPerSec} for n
// messages, sent and echoed one at a time ("pingpong") or all sent first
// and then all read ("pipelined").
async function jsBench(url, n, mode) {
	const ws = new WebSocket(url);
	ws.binaryType = "arraybuffer";
	await new Promise((resolve, reject) => {
		ws.onopen = resolve;
		ws.onerror = () => reject(new Error("could not connect to " + url));
	});
	// Messages wait in a queue until read, as they do in the Go API.
	const queue = [];
	let waiting = null;
	ws.onmessage = (e) => {
		if (waiting) {
			const w = waiting;
			waiting = null;
			w(e.data);
		} else {
			queue.push(e.data);
		}
	};
	const read = async () => {
		const data = queue.length > 0 ? queue.shift() : await new Promise((resolve) => { waiting = resolve; });
		if (data !== message) throw new Error("the echo differs from the message: " + data);
	};
	for (let i = 0; i < warmup; i++) {
		ws.send(message);
		await read();
	}

	const start = performance.now();
	if (mode === "pingpong") {
		for (let i = 0; i < n; i++) {
			ws.send(message);
			await read();
		}
	} else if (mode === "pipelined") {
		for (let i = 0; i < n; i++) ws.send(message);
		for (let i = 0; i < n; i++) await read();
	} else {
		throw new Error("unknown mode " + mode);
	}
	const ms = performance.now() - start;
	ws.close(1000);
	return {ms, msgsPerSec: n / ms * 1000};
}

const go = new Go();
WebAssembly.instantiateStreaming(fetch("/bench/shimbench.wasm"), go.importObject)
	.then((result) => go.run(result.instance))
	.catch((err) => console.error("could not start shimbench.wasm:", err));
</script>
</head>
<body></body>
</html>
`))

// The message each run sends, and how many round trips it makes before it
// starts the clock: the same as in testdata/shimbench.
const (
	benchMessage = "ping 0123456789a"
	benchWarmup  = 100
)

// buildShimBench compiles testdata/shimbench for the browser, as package
// frontend compiles the app.
func buildShimBench(b *testing.B) string {
	out := filepath.Join(b.TempDir(), "shimbench.wasm")
	cmd := exec.Command(frontend.GoTool(), "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./testdata/shimbench")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building testdata/shimbench: %v\n%s", err, msg)
	}
	return out
}

// startBenchPage serves the bench page, with the echo demo's endpoint, and
// opens it in a browser, once shimbench.wasm has started; it returns the
// browser and the endpoint's ws:// URL.
func startBenchPage(b *testing.B) (*browsertest.Browser, string) {
	browsertest.Find(b) // skip before building if there is no browser
	wasmPath := buildShimBench(b)

	mux := http.NewServeMux()
	echoSite, err := web.NewSite(web.Config{Assets: fstest.MapFS{}, Demos: []web.Demo{echo.Demo()}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(echoSite.Close)
	mux.Handle("/", echoSite) // for /ws/echo
	mux.HandleFunc("GET /bench/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		benchPage.Execute(w, map[string]any{"Warmup": benchWarmup, "Message": benchMessage})
	})
	mux.HandleFunc("GET /bench/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, frontend.WasmExecJS())
	})
	mux.HandleFunc("GET /bench/shimbench.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, wasmPath)
	})
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close) // after the browser has stopped

	br := browsertest.Start(b)
	br.Do(chromedp.Navigate(srv.URL + "/bench/"))
	br.WaitFor("shimbench.wasm to start", `window.goBenchReady === true`)
	return br, "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/echo"
}

// benchResult is what jsBench and goBench return.
type benchResult struct {
	MS         float64 `json:"ms"`
	MsgsPerSec float64 `json:"msgsPerSec"`
}

func BenchmarkShimVsJS(b *testing.B) {
	const (
		n      = 2000 // messages per run
		rounds = 3    // runs of each variant per op; the figures are medians
	)
	br, wsURL := startBenchPage(b)

	variants := []struct{ name, fn, mode string }{
		{"js-pingpong", "jsBench", "pingpong"},
		{"go-pingpong", "goBench", "pingpong"},
		{"go-hooks", "goBench", "hooks"},
		{"js-pipelined", "jsBench", "pipelined"},
		{"go-pipelined", "goBench", "pipelined"},
	}
	rates := map[string][]float64{}
	for b.Loop() {
		for range rounds {
			for _, v := range variants {
				expr := fmt.Sprintf("%s(%q, %d, %q)", v.fn, wsURL, n, v.mode)
				res := browsertest.Eval[benchResult](br.Tab, expr, chromedp.EvalAwaitPromise)
				rates[v.name] = append(rates[v.name], res.MsgsPerSec)
			}
		}
	}
	br.CheckNoConsoleErrors()

	b.ReportMetric(0, "ns/op") // the time of a whole op means nothing here
	b.Logf("%d messages of %d bytes per run, through %s (msgs/s):", n, len(benchMessage), wsURL)
	med := map[string]float64{}
	for _, v := range variants {
		med[v.name] = median(slices.Clone(rates[v.name]))
		b.Logf("  %-13s median %8.0f   runs %.0f", v.name, med[v.name], rates[v.name])
		b.ReportMetric(med[v.name], v.name+"-msgs/s")
	}
	for _, mode := range []string{"pingpong", "pipelined"} {
		ratio := med["go-"+mode] / med["js-"+mode]
		b.Logf("  Go/JS, %s: %.2f", mode, ratio)
		b.ReportMetric(ratio, "go/js-"+mode)
	}
}
