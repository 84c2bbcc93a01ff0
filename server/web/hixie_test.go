package web

import (
	"net/http"
	"testing"
	"testing/fstest"
)

// The draft-76 endpoint exists only when Config.Hixie76 is set. Its
// protocol is tested in package hixie; a plain GET is not a handshake.
func TestHixie76Route(t *testing.T) {
	for _, tc := range []struct {
		on   bool
		want int
	}{{false, http.StatusNotFound}, {true, http.StatusBadRequest}} {
		h := NewRouter(Config{Assets: fstest.MapFS{}, Hixie76: tc.on})
		if res, body := get(t, h, Hixie76Path); res.StatusCode != tc.want {
			t.Errorf("Hixie76: %v: GET %s: %s %q, want %d", tc.on, Hixie76Path, res.Status, body, tc.want)
		}
	}
}
