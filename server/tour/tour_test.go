package tour_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"duplex/server/chat"
	"duplex/server/echo"
	"duplex/server/lab"
	"duplex/server/playground"
	"duplex/server/tour"
	"duplex/server/web"
)

// demos are the tour and the demos its steps lead into.
func demos() []web.Demo {
	return []web.Demo{tour.Demo(), lab.Demo(), playground.Demo(), echo.Demo(), chat.DemoWith(&chat.DemoOptions{Memory: true})}
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

// TestTourLinks follows every link of every step: to the previous and the
// next step, into the demo, and to the source — down to the declaration
// the link's anchor names, so that a renamed function breaks the test,
// not the tour.
func TestTourLinks(t *testing.T) {
	site, err := web.NewSite(web.Config{Assets: fstest.MapFS{}, Demos: demos(), Source: true})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	code, index := get(t, site, "/tour")
	if code != http.StatusOK {
		t.Fatalf("/tour: %d", code)
	}
	next := between(index, `id="tour-start" href="`, `"`)
	seen := 0
	for next != "/" {
		seen++
		if seen > 20 {
			t.Fatal("the tour does not end")
		}
		code, page := get(t, site, next)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", next, code)
		}
		try := between(page, `id="tour-try" href="`, `"`)
		tryPath, _, _ := strings.Cut(try, "#")
		if code, _ := get(t, site, tryPath); code != http.StatusOK {
			t.Errorf("%s: its demo %s answers %d", next, try, code)
		}
		for _, src := range strings.Split(page, `<li><a href="/source/`)[1:] {
			file, _, _ := strings.Cut(src, `"`)
			file, anchor, _ := strings.Cut(file, "#")
			code, body := get(t, site, "/source/"+file)
			switch {
			case code != http.StatusOK:
				t.Errorf("%s: its source %s answers %d", next, file, code)
			case anchor != "" && !strings.Contains(body, `id="`+anchor+`"`):
				t.Errorf("%s: %s has no declaration %s", next, file, anchor)
			}
		}
		if !strings.Contains(page, `<a href="/tour" aria-current="page">Tour</a>`) {
			t.Errorf("%s: the navigation does not mark the tour", next)
		}
		next = between(page, `id="tour-next" href="`, `"`)
	}
	if want := strings.Count(index, `<li><a href="/tour/`); seen != want {
		t.Errorf("following Next visits %d steps, the index lists %d", seen, want)
	}
	if code, _ := get(t, site, "/tour/nosuch"); code != http.StatusNotFound {
		t.Errorf("/tour/nosuch: %d, want 404", code)
	}
}

// between returns the text of s between the first before and the after
// that follows it, or "".
func between(s, before, after string) string {
	_, rest, ok := strings.Cut(s, before)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, after)
	return v
}
