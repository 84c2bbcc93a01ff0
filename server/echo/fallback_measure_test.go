//go:build !js

package echo_test

// Measurements of the HTTP stream fallback, in headless Chromium, as
// benchmarks (see measure_test.go):
//
//	go test ./server/echo -run '^$' -bench 'StreamVsWebSocket|FallbackTime' -benchtime 1x
//
// BenchmarkStreamVsWebSocket: messages per second and round-trip time
// through the Go API over each transport, forced, on the same page and
// against the same echo endpoint, in the same run.
//
// BenchmarkFallbackTime: with WebSocket blocked each way webtest's
// middleboxes block it, how long the echo page takes to choose the stream,
// and to be live after navigation, on a first visit and on the next, which
// remembers.

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"duplex/frontend/browsertest"
	"duplex/server/web/webtest"
)

func BenchmarkStreamVsWebSocket(b *testing.B) {
	const (
		n      = 1000 // messages per run
		rounds = 3    // runs of each variant per op; the figures are medians
	)
	br, wsURL := startBenchPage(b)
	variants := []struct{ transport, mode string }{
		{"ws", "pingpong"}, {"stream", "pingpong"},
		{"ws", "pipelined"}, {"stream", "pipelined"},
	}
	rates := map[string][]float64{}
	for b.Loop() {
		for range rounds {
			for _, v := range variants {
				expr := fmt.Sprintf("goBench(%q, %d, %q, %q)", wsURL, n, v.mode, v.transport)
				res := browsertest.Eval[benchResult](br.Tab, expr, chromedp.EvalAwaitPromise)
				rates[v.transport+"-"+v.mode] = append(rates[v.transport+"-"+v.mode], res.MsgsPerSec)
			}
		}
	}
	br.CheckNoConsoleErrors()

	b.ReportMetric(0, "ns/op")
	b.Logf("%d messages of %d bytes per run, through %s, Go API forced to each transport:", n, len(benchMessage), wsURL)
	med := map[string]float64{}
	for _, v := range variants {
		name := v.transport + "-" + v.mode
		med[name] = median(slices.Clone(rates[name]))
		b.Logf("  %-17s median %8.0f msgs/s   runs %.0f", name, med[name], rates[name])
		b.ReportMetric(med[name], name+"-msgs/s")
	}
	for _, t := range []string{"ws", "stream"} {
		rtt := 1000 / med[t+"-pingpong"]
		b.Logf("  %-6s round trip, mean over a ping-pong run: %.3f ms", t, rtt)
		b.ReportMetric(rtt, t+"-rtt-ms")
	}
	b.Logf("  stream/ws: ping-pong %.2f, pipelined %.2f", med["stream-pingpong"]/med["ws-pingpong"], med["stream-pipelined"]/med["ws-pipelined"])
}

// chosenIn reads how long the echo page's Connect took to choose, from its
// transport fact.
var chosenIn = regexp.MustCompile(`\(chosen in (\d+\.\d) ms\)$`)

func BenchmarkFallbackTime(b *testing.B) {
	const runs = 5
	s := site.Get(b)
	br := browsertest.Start(b)
	br.Do(addScript(loadMarks))
	middleboxes := []struct {
		name string
		m    webtest.Middlebox
	}{{"none", webtest.Transparent}, {"strip-upgrade", webtest.StripUpgrade}, {"hold-upgrade", webtest.HoldUpgrade}, {"kill-upgraded", webtest.KillUpgraded}}
	type figures struct{ chose, live, choseAgain, liveAgain []float64 }
	got := map[string]*figures{}
	for b.Loop() {
		for _, mb := range middleboxes {
			f := &figures{}
			got[mb.name] = f
			s.SetMiddlebox(mb.m)
			for range runs {
				tab := br.NewTab(b, chromedp.WithNewBrowserContext()) // nothing remembered
				tab.Do(addScript(loadMarks))
				for again := range 2 {
					tab.Do(chromedp.Navigate(s.URL + "/echo"))
					want := "HTTP stream"
					if mb.m == webtest.Transparent {
						want = "WebSocket"
					}
					tab.WaitFor("the transport", `document.querySelector("#echo-transport").textContent.startsWith(`+webtest.JSString(want)+`) &&
						document.querySelector("#status").dataset.state === "live"`)
					m := chosenIn.FindStringSubmatch(webtest.Text(tab, "#echo-transport"))
					chose, _ := strconv.ParseFloat(m[1], 64)
					live := browsertest.Eval[float64](tab, `performance.now()`) // the app is live by now
					if marks := browsertest.Eval[loadTimes](tab, readMarks); marks.Live > 0 && mb.m != webtest.KillUpgraded {
						live = marks.Live // the first time live; a killed WebSocket is live, then not
					}
					if again == 0 {
						f.chose, f.live = append(f.chose, chose), append(f.live, live)
					} else {
						f.choseAgain, f.liveAgain = append(f.choseAgain, chose), append(f.liveAgain, live)
					}
				}
				tab.Close()
			}
		}
		s.SetMiddlebox(webtest.Transparent)
	}
	b.ReportMetric(0, "ns/op")
	b.Logf("the echo page, %d cold loads each (a new browser context), then a reload that remembers; medians, ms:", runs)
	for _, mb := range middleboxes {
		f := got[mb.name]
		chose, live := median(f.chose), median(f.live)
		b.Logf("  %-14s choice %7.1f, live %7.1f after navigation; reload: choice %6.1f, live %6.1f",
			mb.name, chose, live, median(f.choseAgain), median(f.liveAgain))
		b.ReportMetric(chose, mb.name+"-choice-ms")
		b.ReportMetric(live, mb.name+"-live-ms")
	}
}
