//go:build !js

package main

// The test that the list of demos drives: every page of the site as main
// serves it, opened in headless Chromium. Each demo's own package tests
// its page in depth; this one checks that the site as a whole holds
// together — navigation, index, each app starting, no console error.

import (
	"os"
	"slices"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"duplex/frontend/browsertest"
	"duplex/server/web"
	"duplex/server/web/webtest"
)

// live serves every demo, built once for the package's tests.
var live = webtest.Lazy{Demos: demos}

func TestMain(m *testing.M) {
	code := m.Run()
	live.Close()
	os.Exit(code)
}

func TestEveryPageInBrowser(t *testing.T) {
	all := demos()
	b := live.OpenPage(t, "/")
	b.WaitFor("the index to load", `document.readyState === "complete"`)
	if got, want := browsertest.Eval[string](b.Tab, `document.title`), "Duplex demos · Duplex"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	var want []string
	for _, d := range all {
		want = append(want, d.Path)
	}
	if got := browsertest.Eval[[]string](b.Tab, `[...document.querySelectorAll("ul.demos a")].map(a => a.getAttribute("href"))`); !slices.Equal(got, want) {
		t.Errorf("the index links to %q, want %q", got, want)
	}
	if got := browsertest.Eval[[]string](b.Tab, `[...document.querySelectorAll("header nav a")].map(a => a.getAttribute("href"))`); !slices.Equal(got, append([]string{"/"}, want...)) {
		t.Errorf("the navigation links to %q", got)
	}
	if !browsertest.Eval[bool](b.Tab, `document.querySelector("#status") === null`) {
		t.Error("the index page has a status line, but no app to run")
	}

	for _, d := range all {
		t.Run(d.Name, func(t *testing.T) {
			// Each page is reached as a reader reaches it: from the index.
			b.Do(chromedp.Navigate(live.Get(t).URL + "/"))
			b.Do(chromedp.Click(chromedp.CSS(`ul.demos a[href="` + d.Path + `"]`)))
			b.WaitFor(d.Name+"'s page", `location.pathname === `+webtest.JSString(d.Path)+` && document.querySelector('header nav a[aria-current="page"]') !== null`)
			if got := browsertest.Eval[string](b.Tab, `document.querySelector('header nav a[aria-current="page"]').getAttribute("href")`); got != d.Path {
				t.Errorf("the navigation marks %q as current", got)
			}
			if d.App != "" {
				webtest.WaitLive(b.Tab)
			}
			b.CheckNoConsoleErrors()
		})
	}
}

// The type of the list, checked here so that a demo that forgets a field
// the site needs fails at once.
func TestDemosComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range demos() {
		switch {
		case d.Name == "" || d.Nav == "" || d.Path == "" || d.Title == "" || d.About == "" || d.Page == nil:
			t.Errorf("demo %+v lacks a name, label, path, title, line or page", d)
		case seen[d.Name] || seen[d.Path]:
			t.Errorf("two demos named %q or at %s", d.Name, d.Path)
		}
		seen[d.Name], seen[d.Path] = true, true
	}
	var _ []web.Demo = demos()
}

// TestPagesFitNarrowScreen opens every page 390 px wide, as a phone shows
// it, and checks that none scrolls sideways.
func TestPagesFitNarrowScreen(t *testing.T) {
	b := live.OpenPage(t, "/")
	if _, err := chromedp.Call(b.Tab.Context(), emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 390, Height: 844, DeviceScaleFactor: 1, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	paths := []string{"/"}
	for _, d := range demos() {
		paths = append(paths, d.Path)
	}
	for _, p := range paths {
		b.Do(chromedp.Navigate(live.Get(t).URL + p))
		b.WaitFor(p+" to load", `document.readyState === "complete"`)
		if w := browsertest.Eval[int](b.Tab, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("%s is %d px wide at 390 px: it scrolls sideways", p, w)
		}
	}
}
