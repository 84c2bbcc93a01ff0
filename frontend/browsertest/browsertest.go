// Package browsertest drives headless Chromium from Go tests: it finds the
// browser, starts it with flags that suit containers and CI, copies what
// each tab prints to its console into the test log, and keeps the console
// errors and uncaught exceptions so that a test can fail on them.
//
// Only tests import it. A test of a page looks like this:
//
//	b := browsertest.Start(t) // skips the test if there is no browser
//	b.Do(chromedp.Navigate(srv.URL + "/echo"))
//	b.WaitFor("the app to connect", `document.querySelector("#status").dataset.state === "live"`)
//	b.CheckNoConsoleErrors()
//
// Everything started here stops when the test ends, through t.Cleanup.
// Steps that wait (Do, WaitFor, Eval) give up after the tab's Timeout and
// fail the test with the end of the console's output; like t.Fatal, they
// must be called from the test's goroutine. For finer control, run
// chromedp's actions on the tab's Context.
//
// Environment:
//
//	CHROME_PATH  the browser to use, instead of looking for one
//	CI           if set, a missing browser fails the test instead of skipping it
package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// DefaultTimeout is how long each step of a tab may take, unless its
// Timeout says otherwise.
const DefaultTimeout = 30 * time.Second

// candidates are the browsers Find looks for, in order, when CHROME_PATH is
// not set.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the browser to run tests in: $CHROME_PATH if it is set, or
// else the first of the usual Chromium and Chrome binaries found. If there
// is none it skips the test, or fails it when the CI environment variable
// is set, since CI must not pass by skipping the browser tests.
func Find(t testing.TB) string {
	t.Helper()
	list := candidates
	if p := os.Getenv("CHROME_PATH"); p != "" {
		list = []string{p} // an explicit choice: do not fall back to others
	}
	for _, c := range list {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	t.Logf("looked for a browser among %s", strings.Join(list, ", "))
	const msg = "no Chromium found: install Debian's chromium to run the browser tests"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so this is an error, not a skip)")
	}
	t.Skip(msg)
	return ""
}

// A Browser is a headless Chromium process started for one test, and its
// first tab, which the embedded Tab drives.
type Browser struct {
	*Tab
	Path string // the browser's binary

	tabs atomic.Int32 // tabs opened, for their names
}

// Start finds the browser (see Find), starts it with a fresh profile in a
// temporary directory, and opens its first tab, whose console goes to t's
// log. The browser stops when t ends; extra options, such as
// chromedp.WindowSize, add to or override the flags Start uses.
func Start(t testing.TB, opts ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	path := Find(t)
	flags := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
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
		chromedp.UserDataDir(t.TempDir()),            // removed after the browser has stopped
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(flags, opts...)...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	tab := newTab(ctx, t, "browser", func() {
		cancel()      // closes the first tab, and with it the browser
		cancelAlloc() // waits for the process to exit
	})
	t.Cleanup(tab.Close)
	// Listening opens the tab, and so starts the browser. Starting it here,
	// with a context that has no deadline, lets later steps bound their
	// own waits without stopping the browser when one gives up.
	start := time.Now()
	if err := chromedp.Listen(ctx, tab.handle); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	t.Logf("started %s in %v", path, time.Since(start).Round(time.Millisecond))
	return &Browser{Tab: tab, Path: path}
}

// NewTab opens another tab in the browser, with its own console, logged to
// t, and closes it when t ends, or on Close. t is the browser's test or
// one of its subtests, which may run in parallel, each in its own tab.
// Options such as chromedp.WithNewBrowserContext() give the tab a profile
// of its own: no cache, cookies or storage shared with the other tabs.
func (b *Browser) NewTab(t testing.TB, opts ...chromedp.ContextOption) *Tab {
	t.Helper()
	name := "tab " + strconv.Itoa(int(b.tabs.Add(1))+1)
	ctx, cancel := chromedp.NewContext(b.ctx, opts...)
	tab := newTab(ctx, t, name, cancel)
	t.Cleanup(tab.Close)
	if err := chromedp.Listen(ctx, tab.handle); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return tab
}

// A Tab is one browser tab and what its pages have printed to the console.
type Tab struct {
	// Timeout bounds each Do, WaitFor and Eval; it starts as DefaultTimeout.
	Timeout time.Duration

	t     testing.TB
	ctx   context.Context
	name  string // prefixes its console lines in the test log
	close sync.Once
	stop  func() // closes the tab

	mu    sync.Mutex
	quiet bool // set once t may not log any more
	lines []string
	errs  []string
	excs  []string
}

func newTab(ctx context.Context, t testing.TB, name string, stop func()) *Tab {
	return &Tab{Timeout: DefaultTimeout, t: t, ctx: ctx, name: name, stop: stop}
}

// Close closes the tab before its test ends, which it does by itself
// otherwise; closing a Browser's own tab stops the browser. The tab's
// console stays readable, but is no longer logged.
func (tab *Tab) Close() {
	tab.close.Do(func() {
		tab.silence() // its test may be ending: no more logging to it
		tab.stop()
	})
}

// Context returns the tab's chromedp context, to run actions in it with
// chromedp.Run or chromedp.Do. It has no deadline: derive one with
// context.WithTimeout to bound a wait. Cancelling it closes the tab.
func (tab *Tab) Context() context.Context { return tab.ctx }

// Do runs the steps in the tab, in order, and fails the test if one fails
// or they take longer than the tab's Timeout.
func (tab *Tab) Do(steps ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tab.t.Fatalf("in the browser: %v\nlast console output:\n%s", err, tab.Tail(20))
	}
}

// Eval evaluates the JavaScript expression in tab's page and returns its
// value, decoded from JSON into a T; it fails the test if the expression
// throws or its value does not decode. With chromedp.EvalAwaitPromise, a
// promise is awaited and its value returned.
func Eval[T any](tab *Tab, expr string, opts ...chromedp.EvaluateOption) T {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		tab.t.Fatalf("evaluating %s: %v\nlast console output:\n%s", expr, err, tab.Tail(20))
	}
	return v
}

// WaitFor waits until the JavaScript expression is truthy in the tab's page,
// and fails the test, saying it was waiting for what, if the tab's Timeout
// passes first. An expression that throws counts as false, so that it may
// refer to elements that do not exist yet. It polls from Go, which works
// across navigations and whatever the page does with its timers.
func (tab *Tab) WaitFor(what, expr string) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.Timeout)
	defer cancel()
	check := "(() => { try { return !!(" + expr + "); } catch (e) { return 'throws: ' + e; } })()"
	var last string
	for {
		res, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](check))
		if err == nil && string(res) == "true" {
			return
		}
		last = string(res)
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			tab.t.Fatalf("waited %v for %s; %s is %s\nlast console output:\n%s",
				tab.Timeout, what, expr, last, tab.Tail(20))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Console returns everything the tab's pages have printed so far, one line
// per entry: console calls, the browser's own messages (such as why a
// resource failed to load) and uncaught exceptions.
func (tab *Tab) Console() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.lines...)
}

// ConsoleErrors returns the errors the tab's pages have reported so far:
// console.error and console.assert calls, the browser's error messages
// (a resource that failed to load, a WebSocket that could not connect) and
// uncaught exceptions and unhandled promise rejections.
func (tab *Tab) ConsoleErrors() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.errs...)
}

// Exceptions returns the uncaught exceptions and unhandled promise
// rejections so far; they are among the ConsoleErrors too.
func (tab *Tab) Exceptions() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.excs...)
}

// CheckNoConsoleErrors fails the test, without stopping it, if the tab has
// reported any console error.
func (tab *Tab) CheckNoConsoleErrors() {
	tab.t.Helper()
	if errs := tab.ConsoleErrors(); len(errs) > 0 {
		tab.t.Errorf("the page reported %d console error(s):\n%s", len(errs), strings.Join(errs, "\n"))
	}
}

// Tail returns the last n lines of the console, for failure messages.
func (tab *Tab) Tail(n int) string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return strings.Join(tab.lines[max(0, len(tab.lines)-n):], "\n")
}

// handle receives every event of the tab from chromedp. It runs on
// chromedp's event loop, so it only records and logs.
func (tab *Tab) handle(ev any) {
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
		isErr := ev.Type == cdpruntime.ConsoleAPICalledTypeError || ev.Type == cdpruntime.ConsoleAPICalledTypeAssert
		tab.add(text, isErr, false)
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		text := "browser " + string(e.Level) + ": " + e.Text
		if e.URL != "" {
			text += " (" + e.URL + ")"
		}
		tab.add(text, e.Level == cdplog.EntryLevelError, false)
	case *cdpruntime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		if d.URL != "" {
			text += " (" + d.URL + ":" + strconv.FormatInt(d.LineNumber+1, 10) + ")"
		}
		tab.add("uncaught exception: "+text, true, true)
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

// add records one console entry, which may span lines, and logs it.
func (tab *Tab) add(text string, isErr, isExc bool) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	text = strings.TrimSuffix(text, "\n")
	lines := strings.Split(text, "\n")
	tab.lines = append(tab.lines, lines...)
	if isErr {
		tab.errs = append(tab.errs, text)
	}
	if isExc {
		tab.excs = append(tab.excs, text)
	}
	if tab.quiet {
		return
	}
	for _, l := range lines {
		tab.t.Log("[" + tab.name + "] " + l)
	}
}

// silence ends the logging to t, which must not be called once the test
// has returned; the tab keeps recording.
func (tab *Tab) silence() {
	tab.mu.Lock()
	tab.quiet = true
	tab.mu.Unlock()
}
