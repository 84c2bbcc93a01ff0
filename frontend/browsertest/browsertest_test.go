package browsertest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// noisy is a page that writes to the console in every way a page can.
const noisy = `<!doctype html>
<html>
<head><meta charset="utf-8"><link rel="icon" href="data:,"></head>
<body>
<img src="/missing.png" alt="">
<script>
console.log("a log line");
console.log("two\nlines");
console.warn("a warning");
console.error("an error", 42);
console.assert(1 === 2, "an assertion");
setTimeout(() => { throw new Error("thrown"); });
Promise.reject(new Error("rejected"));
setTimeout(() => { window.done = true; }, 50);
</script>
</body>
</html>`

func TestConsole(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(noisy))
		case "/quiet":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(`<!doctype html><link rel="icon" href="data:,"><script>console.log("quiet"); window.done = true;</script>`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)

	b := Start(t)
	b.Do(chromedp.Navigate(srv.URL))
	b.WaitFor("the page's scripts to finish", "window.done === true")
	if got := Eval[int](b.Tab, "6 * 7"); got != 42 {
		t.Errorf("Eval: 6 * 7 = %d", got)
	}

	console := b.Console()
	for _, want := range []string{"a log line", "two", "lines", "console.warning: a warning"} {
		if !slices.Contains(console, want) {
			t.Errorf("the console lacks %q:\n%s", want, strings.Join(console, "\n"))
		}
	}
	errs := b.ConsoleErrors()
	for _, want := range []string{"console.error: an error 42", "console.assert: an assertion", "/missing.png", "Error: thrown", "Error: rejected"} {
		if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, want) }) {
			t.Errorf("the console errors lack %q:\n%s", want, strings.Join(errs, "\n"))
		}
	}
	if len(errs) != 5 {
		t.Errorf("%d console errors, want 5:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	if exc := b.Exceptions(); len(exc) != 2 {
		t.Errorf("%d exceptions, want 2:\n%s", len(exc), strings.Join(exc, "\n"))
	}
	if tail := b.Tail(1); tail != console[len(console)-1] {
		t.Errorf("Tail(1) = %q, want the last line, %q", tail, console[len(console)-1])
	}

	// Another tab has a console of its own.
	tab := b.NewTab(t)
	tab.Do(chromedp.Navigate(srv.URL + "/quiet"))
	tab.WaitFor("the page's script to finish", "window.done === true")
	if got := tab.Console(); !slices.Equal(got, []string{"quiet"}) {
		t.Errorf("the second tab's console is %q, want only \"quiet\"", got)
	}
	tab.CheckNoConsoleErrors()
	tab.Close()
	tab.Close() // a second Close does nothing
	if got := len(b.ConsoleErrors()); got != 5 {
		t.Errorf("after the second tab, the first has %d console errors, want still 5", got)
	}
}
