package webtest

import (
	"bufio"
	"net"
	"net/http"
	"time"
)

// A Middlebox is what stands between the browser and the server in a test
// of the HTTP stream fallback: the ways networks break WebSocket.
type Middlebox int32

const (
	// Transparent lets everything through.
	Transparent Middlebox = iota

	// StripUpgrade is a proxy that drops the Upgrade and Connection
	// headers, as many do: a WebSocket handshake reaches the server as a
	// plain GET, which it refuses with 426, and the browser reports 1006.
	StripUpgrade

	// HoldUpgrade is a proxy that holds WebSocket handshakes unanswered
	// until the browser gives up.
	HoldUpgrade

	// KillUpgraded lets the 101 through and cuts the connection right
	// after it, as middleboxes do that take what follows for garbage: the
	// WebSocket opens, then dies with 1006 before its first message.
	KillUpgraded
)

// killAfter is how long after the 101 KillUpgraded cuts the connection: a
// moment, so that the browser sees the socket open first.
const killAfter = 20 * time.Millisecond

// Wrap returns next as seen through the middlebox. Requests other than
// WebSocket handshakes pass untouched.
func (m Middlebox) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			next.ServeHTTP(w, r)
			return
		}
		switch m {
		case StripUpgrade:
			r.Header.Del("Upgrade")
			r.Header.Del("Connection")
		case HoldUpgrade:
			select {
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
			return
		case KillUpgraded:
			w = &killWriter{ResponseWriter: w}
		}
		next.ServeHTTP(w, r)
	})
}

// A killWriter hands out, on Hijack, a connection that is cut right after
// its first write, the 101 response.
type killWriter struct{ http.ResponseWriter }

func (w *killWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *killWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &killConn{Conn: nc}, brw, nil
}

type killConn struct {
	net.Conn
	armed bool
}

func (c *killConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if !c.armed {
		c.armed = true
		time.AfterFunc(killAfter, func() { c.Conn.Close() })
	}
	return n, err
}
