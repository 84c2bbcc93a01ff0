package ws

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"duplex/shared/wire"
)

// This file tests the opening handshake (RFC 6455 §4.2) through a real
// server, byte for byte, and Upgrader.Check on its own.

// rfcKey and rfcAccept are the sample Sec-WebSocket-Key of RFC 6455 §1.3
// and the Sec-WebSocket-Accept that answers it.
const (
	rfcKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	rfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// testHost is the Host of the handshake requests, whatever the address the
// test server listens on.
const testHost = "duplex.test:8080"

// baseHeaders are the request headers of a valid handshake, besides Host.
var baseHeaders = []string{
	"Upgrade: websocket",
	"Connection: Upgrade",
	"Sec-WebSocket-Key: " + rfcKey,
	"Sec-WebSocket-Version: 13",
}

// chatUpgrader speaks two subprotocols, chat preferred.
var chatUpgrader = Upgrader{Subprotocols: []string{"chat", "superchat"}}

type handshakeCase struct {
	name   string
	method string   // GET if empty
	proto  string   // HTTP/1.1 if empty
	header []string // request header lines; each replaces the base headers of the same name
	drop   []string // names of base headers to leave out
	u      *Upgrader
	status int
	// want lists response headers that must have exactly this value, or,
	// for "", must be absent.
	want map[string]string
}

// handshakeCases is the table both TestHandshake and TestCheck run. In
// header values, {host} stands for the request's Host.
var handshakeCases = []handshakeCase{
	{name: "plain-get", drop: []string{"Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version"}, status: 426, want: map[string]string{"Upgrade": "websocket"}},
	{name: "no-upgrade-header", drop: []string{"Upgrade"}, status: 426, want: map[string]string{"Upgrade": "websocket"}},
	{name: "upgrade-to-h2c", header: []string{"Upgrade: h2c"}, status: 426, want: map[string]string{"Upgrade": "websocket"}},
	{name: "post", method: "POST", status: 405, want: map[string]string{"Allow": "GET"}},
	{name: "put", method: "PUT", status: 405, want: map[string]string{"Allow": "GET"}},
	{name: "http-1.0", proto: "HTTP/1.0", status: 400},
	{name: "connection-without-upgrade", header: []string{"Connection: keep-alive"}, status: 400},
	{name: "no-connection-header", drop: []string{"Connection"}, status: 400},
	{name: "connection-list", header: []string{"Connection: keep-alive, Upgrade"}, status: 101},
	{name: "connection-lowercase", header: []string{"Connection: upgrade"}, status: 101},
	{name: "connection-two-lines", header: []string{"Connection: keep-alive", "Connection: Upgrade"}, status: 101},
	{name: "upgrade-mixed-case", header: []string{"Upgrade: WebSocket"}, status: 101},
	{name: "upgrade-list", header: []string{"Upgrade: foo/2, websocket"}, status: 101},
	{name: "no-version", drop: []string{"Sec-WebSocket-Version"}, status: 400, want: map[string]string{"Sec-WebSocket-Version": "13"}},
	{name: "version-8", header: []string{"Sec-WebSocket-Version: 8"}, status: 426, want: map[string]string{"Sec-WebSocket-Version": "13"}},
	{name: "version-14", header: []string{"Sec-WebSocket-Version: 14"}, status: 426, want: map[string]string{"Sec-WebSocket-Version": "13"}},
	{name: "two-versions", header: []string{"Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"}, status: 426, want: map[string]string{"Sec-WebSocket-Version": "13"}},
	{name: "no-key", drop: []string{"Sec-WebSocket-Key"}, status: 400},
	{name: "key-not-base64", header: []string{"Sec-WebSocket-Key: not base64 at all!!!!!!"}, status: 400},
	{name: "key-15-bytes", header: []string{"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(make([]byte, 15))}, status: 400},
	{name: "key-17-bytes", header: []string{"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(make([]byte, 17))}, status: 400},
	{name: "key-16-bytes-unpadded", header: []string{"Sec-WebSocket-Key: " + base64.RawStdEncoding.EncodeToString(make([]byte, 16))}, status: 400},
	{name: "key-16-bytes", header: []string{"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))}, status: 101},
	{name: "two-keys", header: []string{"Sec-WebSocket-Key: " + rfcKey, "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="}, status: 400},
	{name: "origin-same-host", header: []string{"Origin: http://{host}"}, status: 101},
	{name: "origin-same-host-https", header: []string{"Origin: https://{host}"}, status: 101},
	{name: "origin-foreign", header: []string{"Origin: http://evil.example"}, status: 403},
	{name: "origin-same-host-uppercase", header: []string{"Origin: http://DUPLEX.Test:8080"}, status: 101},
	{name: "origin-same-name-other-port", header: []string{"Origin: http://duplex.test:1"}, status: 403},
	{name: "origin-same-name-no-port", header: []string{"Origin: http://duplex.test"}, status: 403},
	{name: "origin-unicode-lookalike", header: []string{"Origin: http://duplex.te\u017ft:8080"}, status: 403}, // ſ folds to s in Unicode, not in ASCII
	{name: "origin-null", header: []string{"Origin: null"}, status: 403},
	{name: "origin-not-a-url", header: []string{"Origin: :::"}, status: 403},
	{name: "two-origins", header: []string{"Origin: http://{host}", "Origin: http://evil.example"}, status: 403},
	{name: "no-origin", status: 101},
	{name: "origin-wildcard", header: []string{"Origin: https://app.example.com"}, u: &Upgrader{AllowedOrigins: []string{"*.example.com"}}, status: 101},
	{name: "origin-wildcard-uppercase", header: []string{"Origin: https://APP.Example.COM"}, u: &Upgrader{AllowedOrigins: []string{"*.example.com"}}, status: 101},
	{name: "origin-wildcard-needs-subdomain", header: []string{"Origin: https://example.com"}, u: &Upgrader{AllowedOrigins: []string{"*.example.com"}}, status: 403},
	{name: "origin-wildcard-other-domain", header: []string{"Origin: https://app.example.org"}, u: &Upgrader{AllowedOrigins: []string{"*.example.com"}}, status: 403},
	{name: "origin-dev-server", header: []string{"Origin: http://localhost:5173"}, u: &Upgrader{AllowedOrigins: []string{"localhost:5173"}}, status: 101},
	{name: "origin-dev-server-other-port", header: []string{"Origin: http://localhost:5174"}, u: &Upgrader{AllowedOrigins: []string{"localhost:5173"}}, status: 403},
	{name: "origin-list", header: []string{"Origin: http://localhost:5173"}, u: &Upgrader{AllowedOrigins: []string{"*.example.com", "localhost:5173"}}, status: 101},
	{name: "subprotocol-server-preference", header: []string{"Sec-WebSocket-Protocol: superchat, chat"}, u: &chatUpgrader, status: 101, want: map[string]string{"Sec-WebSocket-Protocol": "chat"}},
	{name: "subprotocol-second-choice", header: []string{"Sec-WebSocket-Protocol: other, superchat"}, u: &chatUpgrader, status: 101, want: map[string]string{"Sec-WebSocket-Protocol": "superchat"}},
	{name: "subprotocol-two-lines", header: []string{"Sec-WebSocket-Protocol: other", "Sec-WebSocket-Protocol: superchat"}, u: &chatUpgrader, status: 101, want: map[string]string{"Sec-WebSocket-Protocol": "superchat"}},
	{name: "subprotocol-empty-elements", header: []string{"Sec-WebSocket-Protocol: ,superchat,,"}, u: &chatUpgrader, status: 101, want: map[string]string{"Sec-WebSocket-Protocol": "superchat"}},
	{name: "subprotocol-case-sensitive", header: []string{"Sec-WebSocket-Protocol: Chat"}, u: &chatUpgrader, status: 101, want: map[string]string{"Sec-WebSocket-Protocol": ""}},
	{name: "subprotocol-none-matching", header: []string{"Sec-WebSocket-Protocol: other, another"}, u: &chatUpgrader, status: 101, want: map[string]string{"Sec-WebSocket-Protocol": ""}},
	{name: "subprotocol-none-offered", u: &chatUpgrader, status: 101, want: map[string]string{"Sec-WebSocket-Protocol": ""}},
	{name: "subprotocol-server-has-none", header: []string{"Sec-WebSocket-Protocol: chat"}, status: 101, want: map[string]string{"Sec-WebSocket-Protocol": ""}},
	{name: "subprotocol-malformed-params", header: []string{"Sec-WebSocket-Protocol: chat;v=1"}, u: &chatUpgrader, status: 400},
	{name: "subprotocol-malformed-space", header: []string{"Sec-WebSocket-Protocol: chat v1"}, u: &chatUpgrader, status: 400},
	{name: "subprotocol-malformed-separator", header: []string{"Sec-WebSocket-Protocol: chat/1"}, u: &chatUpgrader, status: 400},
}

// headerLines returns the request header lines of tc, with host for
// {host}, Host itself excluded.
func (tc handshakeCase) headerLines(host string) []string {
	name := func(line string) string { n, _, _ := strings.Cut(line, ":"); return strings.ToLower(n) }
	replaced := map[string]bool{}
	for _, h := range tc.header {
		replaced[name(h)] = true
	}
	var lines []string
	for _, h := range baseHeaders {
		if !replaced[name(h)] && !slices.ContainsFunc(tc.drop, func(d string) bool { return strings.EqualFold(d, name(h)) }) {
			lines = append(lines, h)
		}
	}
	for _, h := range tc.header {
		lines = append(lines, strings.ReplaceAll(h, "{host}", host))
	}
	return lines
}

func (tc handshakeCase) upgrader() *Upgrader {
	if tc.u == nil {
		return &Upgrader{}
	}
	u := *tc.u
	return &u
}

func (tc handshakeCase) methodAndProto() (string, string) {
	method, proto := tc.method, tc.proto
	if method == "" {
		method = http.MethodGet
	}
	if proto == "" {
		proto = "HTTP/1.1"
	}
	return method, proto
}

// handshakeServer starts a server that upgrades with u, reports each
// Upgrade's error, and echoes messages on the connections it makes.
// before, if not nil, runs before Upgrade.
func handshakeServer(t *testing.T, u *Upgrader, before func(w http.ResponseWriter)) (addr string, errs <-chan error) {
	t.Helper()
	ch := make(chan error, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if before != nil {
			before(w)
		}
		c, err := u.Upgrade(w, r)
		ch <- err
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.ReadMessage(r.Context(), nil)
			if err != nil || c.WriteMessage(r.Context(), typ, msg) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), ch
}

// rawHandshake sends request, as it is, on a new connection to addr, and
// returns the response and a client for the connection.
func rawHandshake(t *testing.T, addr, request string) (*http.Response, *rawPeer) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the handshake response: %v", err)
	}
	return resp, &rawPeer{t: t, conn: conn, br: br, resp: resp}
}

func buildRequest(method, proto, host string, lines []string) string {
	var b strings.Builder
	b.WriteString(method + " / " + proto + "\r\nHost: " + host + "\r\n")
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// TestHandshake sends each handshake of the table to a real server and
// checks the response: status, headers, and a one-line body that is the
// HandshakeError's reason; a 101 must give a working connection.
func TestHandshake(t *testing.T) {
	t.Parallel()
	for _, tc := range handshakeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr, errs := handshakeServer(t, tc.upgrader(), nil)
			method, proto := tc.methodAndProto()
			lines := tc.headerLines(testHost)
			resp, c := rawHandshake(t, addr, buildRequest(method, proto, testHost, lines))
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("reading the body: %v", err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %q, want %d", resp.StatusCode, body, tc.status)
			}
			for k, v := range tc.want {
				if got := resp.Header.Values(k); v == "" && len(got) != 0 || v != "" && !slices.Equal(got, []string{v}) {
					t.Errorf("response header %s: %q, want %q", k, got, v)
				}
			}
			var upErr error
			select {
			case upErr = <-errs:
			case <-time.After(10 * time.Second):
				t.Fatal("the handler did not report Upgrade's result")
			}

			if tc.status != http.StatusSwitchingProtocols {
				var herr *HandshakeError
				if !errors.As(upErr, &herr) {
					t.Fatalf("Upgrade returned %v, want a *HandshakeError", upErr)
				}
				if herr.Status != tc.status {
					t.Errorf("HandshakeError.Status = %d, want %d", herr.Status, tc.status)
				}
				if string(body) != herr.Reason+"\n" || strings.Count(string(body), "\n") != 1 || herr.Reason == "" {
					t.Errorf("body %q, want the reason %q on one line", body, herr.Reason)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Errorf("Content-Type %q, want text/plain", ct)
				}
				if resp.Header.Get("Sec-WebSocket-Accept") != "" {
					t.Error("a refused handshake carries Sec-WebSocket-Accept")
				}
				return
			}

			if upErr != nil {
				t.Fatalf("Upgrade returned %v with a 101", upErr)
			}
			if len(body) != 0 {
				t.Errorf("101 response has a body: %q", body)
			}
			key := rfcKey
			for _, l := range lines {
				if v, ok := strings.CutPrefix(l, "Sec-WebSocket-Key: "); ok {
					key = v
				}
			}
			for k, v := range map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": referenceAccept(key)} {
				if got := resp.Header.Values(k); !slices.Equal(got, []string{v}) {
					t.Errorf("101 response header %s: %q, want %q", k, got, v)
				}
			}
			// The connection speaks WebSocket.
			c.text("hello")
			c.expectMessage(wire.OpText, []byte("hello"))
			c.finish()
		})
	}
}

// referenceAccept computes Sec-WebSocket-Accept independently of package
// wire.
func referenceAccept(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// TestCheck runs the table through Upgrader.Check directly.
func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range handshakeCases {
		t.Run(tc.name, func(t *testing.T) {
			method, proto := tc.methodAndProto()
			r := httptest.NewRequest(method, "http://"+testHost+"/", nil)
			major, minor, ok := http.ParseHTTPVersion(proto)
			if !ok {
				t.Fatalf("bad proto %q in the table", proto)
			}
			r.Proto, r.ProtoMajor, r.ProtoMinor = proto, major, minor
			for _, l := range tc.headerLines(r.Host) {
				k, v, _ := strings.Cut(l, ":")
				r.Header.Add(k, strings.TrimSpace(v))
			}
			// Check returns a plain error, so that an accepted request
			// compares equal to nil however the result is stored.
			var err error
			var sub string
			sub, err = tc.upgrader().Check(r)
			if tc.status == http.StatusSwitchingProtocols {
				if err != nil {
					t.Fatalf("Check refused: %v", err)
				}
				if want := tc.want["Sec-WebSocket-Protocol"]; sub != want {
					t.Errorf("subprotocol %q, want %q", sub, want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check accepted (subprotocol %q), want %d", sub, tc.status)
			}
			herr, ok := err.(*HandshakeError)
			if !ok {
				t.Fatalf("Check returned %T, want *HandshakeError", err)
			}
			if herr.Status != tc.status {
				t.Errorf("status %d (%s), want %d", herr.Status, herr.Reason, tc.status)
			}
			if herr.Reason == "" || strings.ContainsAny(herr.Reason, "\r\n") {
				t.Errorf("reason %q, want one non-empty line", herr.Reason)
			}
			if !strings.Contains(herr.Error(), herr.Reason) {
				t.Errorf("Error() = %q does not give the reason", herr.Error())
			}
			for k, v := range tc.want {
				if got := herr.Header.Get(k); got != v {
					t.Errorf("HandshakeError.Header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestAcceptKey checks Sec-WebSocket-Accept against the RFC's sample.
func TestAcceptKey(t *testing.T) {
	t.Parallel()
	if got := referenceAccept(rfcKey); got != rfcAccept {
		t.Fatalf("the test's own computation gives %q, want %q", got, rfcAccept)
	}
	addr, _ := handshakeServer(t, &Upgrader{}, nil)
	resp, _ := rawHandshake(t, addr, buildRequest("GET", "HTTP/1.1", addr, baseHeaders))
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != rfcAccept {
		t.Fatalf("Sec-WebSocket-Accept %q, want %q", got, rfcAccept)
	}
}

// TestUpgradeKeepsHandlerHeaders checks that headers the handler set before
// Upgrade go out with the 101.
func TestUpgradeKeepsHandlerHeaders(t *testing.T) {
	t.Parallel()
	addr, errs := handshakeServer(t, &chatUpgrader, func(w http.ResponseWriter) {
		w.Header().Set("Set-Cookie", "session=abc123; Path=/; HttpOnly")
		w.Header().Add("X-Extra", "one")
		w.Header().Add("X-Extra", "two")
	})
	resp, c := rawHandshake(t, addr, buildRequest("GET", "HTTP/1.1", addr, append(slices.Clone(baseHeaders), "Sec-WebSocket-Protocol: chat")))
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %s", resp.Status)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string][]string{
		"Set-Cookie":             {"session=abc123; Path=/; HttpOnly"},
		"X-Extra":                {"one", "two"},
		"Sec-WebSocket-Protocol": {"chat"},
		"Upgrade":                {"websocket"},
	} {
		if got := resp.Header.Values(k); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	c.text("after the cookie")
	c.expectMessage(wire.OpText, []byte("after the cookie"))
	c.finish()
}

// TestUpgradePipelinedFrames sends frames in the same write as the
// handshake request: the server must not lose them.
func TestUpgradePipelinedFrames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		frames []frame
	}{
		{"one-frame", []frame{textFrame("right behind the request")}},
		{"several-frames", []frame{textFrame("one"), pingFrame("two"), binFrame(binOf(1000)), first(wire.OpText, "fo"), cont("ur", true)}},
		{"partial-frame", []frame{textFrame("whole"), binFrame(binOf(3000))}}, // the second is cut below
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr, _ := handshakeServer(t, &Upgrader{}, nil)
			conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(30 * time.Second))
			b := []byte(buildRequest("GET", "HTTP/1.1", addr, baseHeaders))
			for _, f := range tc.frames {
				b = append(b, encodeFrame(f, true)...)
			}
			rest := []byte(nil)
			if tc.name == "partial-frame" { // the rest of the last frame comes later
				b, rest = b[:len(b)-1000], b[len(b)-1000:]
			}
			if _, err := conn.Write(b); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("handshake: %v %v", resp, err)
			}
			c := &rawPeer{t: t, conn: conn, br: br, resp: resp}
			if rest != nil {
				c.writeRaw(rest)
			}
			for _, f := range tc.frames {
				switch {
				case f.op == wire.OpPing:
					c.expectFrame(wire.OpPong, f.payload)
				case f.op == wire.OpContinuation:
				case !f.fin:
					c.expectMessage(f.op, []byte("four"))
				default:
					c.expectMessage(f.op, f.payload)
				}
			}
			c.finish()
		})
	}
}

func TestUpgradeRefusedWhileGroupCloses(t *testing.T) {
	g := &Group{}
	addr := echoServer(t, &Upgrader{Group: g})
	if err := g.Close(context.Background(), wire.StatusGoingAway, "bye"); err != nil {
		t.Fatal(err)
	}
	_, resp := dialHandshake(t, addr)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || string(body) != "the server is shutting down\n" {
		t.Fatalf("got %s %q, want 503 \"the server is shutting down\"", resp.Status, body)
	}
}
