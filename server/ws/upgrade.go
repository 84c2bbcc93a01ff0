package ws

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"duplex/shared/handshake"
)

// DefaultReadLimit is the largest message a connection accepts unless the
// Upgrader or SetReadLimit says otherwise.
const DefaultReadLimit = 1 << 20

// An Upgrader turns HTTP requests into WebSocket connections. Its zero
// value is ready to use: no subprotocols, same-origin browsers only,
// DefaultReadLimit and no keepalive pings.
type Upgrader struct {
	// Subprotocols lists the subprotocols the server speaks, in order of
	// preference. The first one the client also offers is chosen.
	Subprotocols []string

	// AllowedOrigins lists the hosts, other than the request's own, from
	// which browsers may connect, as path.Match patterns of the Origin's
	// host[:port], such as "localhost:5173" or "*.example.com". Requests
	// without an Origin header do not come from a browser and are allowed.
	AllowedOrigins []string

	// ReadLimit is the largest message accepted, in bytes; 0 means
	// DefaultReadLimit.
	ReadLimit int64

	// KeepAlive, if positive, is the interval at which the server pings an
	// idle peer; a peer whose pong does not come back within another
	// interval is disconnected. Pongs are seen only while the connection
	// is being read.
	KeepAlive time.Duration

	// Group, if not nil, tracks every connection made, so they can all be
	// closed at once on shutdown.
	Group *Group

	// Stats, if not nil, counts the handshakes answered and what the
	// connections do.
	Stats *Stats

	// Compression, if not nil, accepts permessage-deflate (RFC 7692) from
	// clients that offer it, such as browsers, with these options. The
	// server always asks the client not to keep context between messages
	// (client_no_context_takeover), so that it keeps nothing of what it
	// receives; see the package documentation for what it costs.
	Compression *CompressionOptions
}

// A HandshakeError is a refused upgrade request: the HTTP status it was
// answered with and a one-line reason, which is also the response body.
type HandshakeError struct {
	Status int
	Reason string
	Header http.Header // response headers the status calls for, such as Allow
}

func (e *HandshakeError) Error() string {
	return "websocket: handshake refused: " + http.StatusText(e.Status) + ": " + e.Reason
}

// Upgrade checks that r is a valid WebSocket opening handshake (RFC 6455
// §4.2.1), answers it with 101 Switching Protocols and returns the
// connection. A bad request is answered with a 4xx status and a one-line
// reason, returned as a *HandshakeError: 426 for a request that does not ask
// for an upgrade, 405 for a method other than GET, 403 for a foreign
// Origin, 400 for a malformed upgrade, 503 once the Upgrader's Group is
// closing, and 500 if its Compression options are invalid. With
// Compression set, the response accepts the client's first valid
// permessage-deflate offer, if any (see the package documentation).
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request) (*Conn, error) {
	subprotocol, err := u.Check(r)
	if err == nil && u.Compression != nil {
		if verr := u.Compression.validate(); verr != nil {
			err = &HandshakeError{Status: http.StatusInternalServerError, Reason: verr.Error()}
		}
	}
	if err == nil && u.Group != nil && u.Group.isClosing() {
		err = &HandshakeError{Status: http.StatusServiceUnavailable, Reason: "the server is shutting down"}
	}
	if err != nil {
		herr := err.(*HandshakeError)
		u.Stats.upgraded(herr.Status)
		refuse(w, herr)
		return nil, err
	}

	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		herr := &HandshakeError{Status: http.StatusInternalServerError, Reason: "the connection cannot be taken over for WebSocket"}
		u.Stats.upgraded(herr.Status)
		refuse(w, herr)
		return nil, errors.Join(herr, err)
	}
	var buffered []byte
	if n := brw.Reader.Buffered(); n > 0 { // frames sent right behind the request
		buffered, _ = brw.Reader.Peek(n)
	}

	limit := u.ReadLimit
	if limit == 0 {
		limit = DefaultReadLimit
	}
	c := newConn(nc, buffered, false, limit, u.Stats)
	c.subprotocol = subprotocol
	if u.Compression != nil {
		c.deflate, c.extensions = acceptDeflate(u.Compression, r.Header.Values("Sec-WebSocket-Extensions"))
	}
	// Join the group before answering, so that a shutdown that starts once
	// the client has its answer finds the connection.
	if u.Group != nil && !u.Group.add(c) {
		c.CloseNow()
		return nil, ErrClosed
	}

	resp := make([]byte, 0, 256)
	resp = append(resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	resp = append(resp, handshake.AcceptKey(r.Header.Get("Sec-WebSocket-Key"))...)
	if subprotocol != "" {
		resp = append(resp, "\r\nSec-WebSocket-Protocol: "...)
		resp = append(resp, subprotocol...)
	}
	if c.extensions != "" {
		resp = append(resp, "\r\nSec-WebSocket-Extensions: "...)
		resp = append(resp, c.extensions...)
	}
	resp = append(resp, "\r\n"...)
	resp = appendHeaders(resp, w.Header()) // such as Set-Cookie, set by the handler
	resp = append(resp, "\r\n"...)

	nc.SetWriteDeadline(time.Now().Add(closeTimeout))
	if _, err := nc.Write(resp); err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("websocket: writing the 101 response: %w", err)
	}
	nc.SetWriteDeadline(time.Time{})
	u.Stats.upgraded(http.StatusSwitchingProtocols)
	if u.KeepAlive > 0 {
		c.startKeepAlive(u.KeepAlive)
	}
	return c, nil
}

// Check validates r as an opening handshake without answering it, and
// returns the subprotocol the server would choose. A refusal is a
// *HandshakeError.
func (u *Upgrader) Check(r *http.Request) (subprotocol string, err error) {
	h := r.Header
	refuse := func(status int, reason string, header ...string) (string, error) {
		err := &HandshakeError{Status: status, Reason: reason, Header: http.Header{}}
		for i := 0; i+1 < len(header); i += 2 {
			err.Header.Set(header[i], header[i+1])
		}
		return "", err
	}
	switch {
	case !handshake.HasToken(h.Values("Upgrade"), "websocket"):
		return refuse(http.StatusUpgradeRequired, "this is a WebSocket endpoint: the request must carry Upgrade: websocket", "Upgrade", "websocket")
	case r.Method != http.MethodGet:
		return refuse(http.StatusMethodNotAllowed, "a WebSocket handshake must use GET, not "+r.Method, "Allow", http.MethodGet)
	case !r.ProtoAtLeast(1, 1):
		return refuse(http.StatusBadRequest, "a WebSocket handshake needs HTTP/1.1 or later, not "+r.Proto)
	case !handshake.HasToken(h.Values("Connection"), "upgrade"):
		return refuse(http.StatusBadRequest, "the Connection header must include the token upgrade")
	case len(h.Values("Sec-WebSocket-Version")) == 0:
		return refuse(http.StatusBadRequest, "the Sec-WebSocket-Version header is missing; this server speaks version 13", "Sec-WebSocket-Version", "13")
	case h.Get("Sec-WebSocket-Version") != "13" || len(h.Values("Sec-WebSocket-Version")) != 1:
		return refuse(http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version "+strings.Join(h.Values("Sec-WebSocket-Version"), ", ")+"; this server speaks version 13", "Sec-WebSocket-Version", "13")
	case len(h.Values("Sec-WebSocket-Key")) != 1 || !handshake.ValidKey(h.Get("Sec-WebSocket-Key")):
		return refuse(http.StatusBadRequest, "Sec-WebSocket-Key must be one base64-encoded 16-byte value")
	}
	if origins := h.Values("Origin"); len(origins) > 0 {
		if len(origins) > 1 || !u.originAllowed(origins[0], r.Host) {
			return refuse(http.StatusForbidden, "origin "+strings.Join(origins, ", ")+" is not allowed to connect to "+r.Host)
		}
	}
	offered, perr := handshake.ParseTokens(h.Values("Sec-WebSocket-Protocol"))
	if perr != nil {
		return refuse(http.StatusBadRequest, "malformed Sec-WebSocket-Protocol header: "+perr.Error())
	}
	for _, want := range u.Subprotocols {
		for _, p := range offered {
			if p == want {
				return p, nil
			}
		}
	}
	return "", nil
}

// originAllowed reports whether a browser page from origin may connect:
// its host is the request's own host or matches an allowed pattern.
func (u *Upgrader) originAllowed(origin, host string) bool {
	o, err := url.Parse(origin)
	if err != nil || o.Host == "" {
		return false // includes "null", sent by sandboxed and file: pages
	}
	// Hosts are ASCII (browsers send international names in punycode):
	// fold ASCII letters only, so that no Unicode look-alike matches.
	if lowerASCII(o.Host) == lowerASCII(host) {
		return true
	}
	for _, pattern := range u.AllowedOrigins {
		if ok, _ := path.Match(lowerASCII(pattern), lowerASCII(o.Host)); ok {
			return true
		}
	}
	return false
}

// lowerASCII returns s with its ASCII letters, and only those, in lower case.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// refuse answers a refused handshake with its status, headers and reason.
func refuse(w http.ResponseWriter, err *HandshakeError) {
	for k, v := range err.Header {
		w.Header()[k] = v
	}
	http.Error(w, err.Reason, err.Status)
}

// appendHeaders appends extra response headers as "Name: value\r\n" lines.
func appendHeaders(dst []byte, h http.Header) []byte {
	if len(h) == 0 {
		return dst
	}
	var b strings.Builder
	h.Write(&b)
	return append(dst, b.String()...)
}
