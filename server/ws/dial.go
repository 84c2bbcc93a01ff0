package ws

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"duplex/shared/handshake"
)

// This file is the client side of the opening handshake (RFC 6455 §4.1):
// Dial sends the upgrade request and checks the server's 101 response
// before handing the connection to the same Conn the server uses.

// DialOptions configure Dial. The zero value is usable: no subprotocols,
// DefaultReadLimit, no keepalive pings.
type DialOptions struct {
	// Subprotocols offered to the server, in order of preference. The
	// server may choose one of them or none; choosing another fails the
	// dial.
	Subprotocols []string

	// Header holds extra request headers, such as Origin, Cookie or
	// Authorization. The handshake's own headers (Upgrade, Connection and
	// the Sec-WebSocket-… ones) are set by Dial and may not appear here.
	Header http.Header

	// TLSConfig is used for wss:// URLs; nil means the defaults, with the
	// server name taken from the URL.
	TLSConfig *tls.Config

	// NetDial opens the TCP connection; nil means a net.Dialer.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)

	// ReadLimit is the largest message accepted, in bytes; 0 means
	// DefaultReadLimit.
	ReadLimit int64

	// KeepAlive, if positive, is the interval at which the client pings
	// an idle server, as Upgrader.KeepAlive does.
	KeepAlive time.Duration

	// Stats, if not nil, counts what the connection does.
	Stats *Stats

	// Compression, if not nil, offers permessage-deflate (RFC 7692) with
	// these options. The offer lets the server limit the client's window;
	// a response that breaks RFC 7692 or does not fit the offer fails the
	// dial. If the server keeps context between the messages it sends, the
	// connection keeps the server's window of what it received (32 KiB
	// unless the server says less); NoContextTakeover asks it not to.
	Compression *CompressionOptions
}

// maxResponseHead bounds the size of the server's response head, so that
// a hostile server cannot make Dial allocate without limit.
const maxResponseHead = 16 << 10

// Dial opens a WebSocket connection to a ws:// or wss:// URL (http:// and
// https:// are taken as the same) and returns it once the server has
// agreed. ctx bounds the whole handshake; once Dial has returned, it has
// no effect on the connection. A server that refuses the upgrade yields a
// *HandshakeError with its status and the first line of its answer; a 101
// response that breaks the protocol — a wrong Sec-WebSocket-Accept, a
// subprotocol or extension that was not offered — is an error that says
// which.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	c, err := dial(ctx, rawURL, opts)
	if err != nil {
		return nil, fmt.Errorf("websocket: dial %s: %w", rawURL, err)
	}
	if opts.KeepAlive > 0 {
		c.startKeepAlive(opts.KeepAlive)
	}
	return c, nil
}

func dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, error) {
	u, addr, secure, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if opts.Compression != nil {
		if err := opts.Compression.validate(); err != nil {
			return nil, err
		}
	}
	key := newKey()
	req, err := appendRequest(nil, u, key, opts)
	if err != nil {
		return nil, err
	}

	netDial := opts.NetDial
	if netDial == nil {
		netDial = (&net.Dialer{}).DialContext
	}
	nc, err := netDial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	// Until the handshake is over, ctx's end closes the connection, which
	// ends whatever read or write is in progress.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	fail := func(err error) (*Conn, error) {
		stop()
		nc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if secure {
		tc := tls.Client(nc, tlsConfig(opts.TLSConfig, u.Hostname()))
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(err)
		}
		nc = tc
	}
	if _, err := nc.Write(req); err != nil {
		return fail(fmt.Errorf("sending the handshake: %w", err))
	}
	br := bufio.NewReader(io.LimitReader(nc, maxResponseHead))
	subprotocol, extensions, deflate, err := readResponse(br, key, opts)
	if err != nil {
		return fail(err)
	}
	if !stop() { // ctx ended just now, and closed nc
		return fail(ctx.Err())
	}
	var buffered []byte // frames the server sent right behind its response
	if n := br.Buffered(); n > 0 {
		buffered, _ = br.Peek(n)
	}
	limit := opts.ReadLimit
	if limit == 0 {
		limit = DefaultReadLimit
	}
	c := newConn(nc, buffered, true, limit, opts.Stats)
	c.subprotocol, c.extensions, c.deflate = subprotocol, extensions, deflate
	return c, nil
}

// parseURL checks a WebSocket URL and returns it with the address to dial
// and whether it needs TLS.
func parseURL(rawURL string) (u *url.URL, addr string, secure bool, err error) {
	u, err = url.Parse(rawURL)
	if err != nil {
		return nil, "", false, err
	}
	port := ""
	switch u.Scheme {
	case "ws", "http":
		port = "80"
	case "wss", "https":
		port, secure = "443", true
	default:
		return nil, "", false, fmt.Errorf("unsupported scheme %q: want ws or wss", u.Scheme)
	}
	switch {
	case u.Host == "":
		return nil, "", false, errors.New("the URL has no host")
	case u.User != nil:
		return nil, "", false, errors.New("the URL carries user information: send credentials in DialOptions.Header")
	case u.Fragment != "":
		return nil, "", false, errors.New("a WebSocket URL may not have a fragment")
	}
	if p := u.Port(); p != "" {
		port = p
	}
	return u, net.JoinHostPort(u.Hostname(), port), secure, nil
}

// tlsConfig returns the TLS configuration for a wss:// dial: a copy of
// cfg, with the server name set and HTTP/1.1, the only protocol in which
// a WebSocket upgrade is possible here, as the one to negotiate.
func tlsConfig(cfg *tls.Config, host string) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg = cfg.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.NextProtos = []string{"http/1.1"}
	return cfg
}

// newKey returns a fresh Sec-WebSocket-Key: 16 random bytes in base64.
func newKey() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// handshakeHeaders are the request headers that Dial sets itself.
var handshakeHeaders = []string{
	"Host", "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version",
	"Sec-Websocket-Protocol", "Sec-Websocket-Extensions",
}

// appendRequest appends the opening handshake's request to dst.
func appendRequest(dst []byte, u *url.URL, key string, opts *DialOptions) ([]byte, error) {
	for _, p := range opts.Subprotocols {
		if !handshake.IsToken(p) {
			return nil, fmt.Errorf("subprotocol %q is not a token (RFC 6455 §4.1)", p)
		}
	}
	for name, values := range opts.Header {
		for _, h := range handshakeHeaders {
			if strings.EqualFold(name, h) {
				return nil, fmt.Errorf("DialOptions.Header may not set %s: Dial sets it", name)
			}
		}
		if !handshake.IsToken(name) {
			return nil, fmt.Errorf("invalid header name %q", name)
		}
		for _, v := range values {
			if strings.ContainsAny(v, "\r\n\x00") {
				return nil, fmt.Errorf("the value of header %s holds a line break or NUL", name)
			}
		}
	}
	dst = append(dst, "GET "...)
	dst = append(dst, u.RequestURI()...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, u.Host...)
	dst = append(dst, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "...)
	dst = append(dst, key...)
	if len(opts.Subprotocols) > 0 {
		dst = append(dst, "\r\nSec-WebSocket-Protocol: "...)
		dst = append(dst, strings.Join(opts.Subprotocols, ", ")...)
	}
	if opts.Compression != nil {
		dst = append(dst, "\r\nSec-WebSocket-Extensions: "...)
		dst = append(dst, deflateOffer(opts.Compression)...)
	}
	dst = append(dst, "\r\n"...)
	dst = appendHeaders(dst, opts.Header)
	return append(dst, "\r\n"...), nil
}

// readResponse reads the server's answer to a handshake that sent key and
// made the offers of opts, and checks it (RFC 6455 §4.1, the client's
// checks 1–6, and RFC 7692 §5 for permessage-deflate). It returns the
// subprotocol and extensions agreed on, with the compression state if the
// server accepted compression.
func readResponse(br *bufio.Reader, key string, opts *DialOptions) (subprotocol, extensions string, deflate *deflateState, err error) {
	fail := func(err error) (string, string, *deflateState, error) { return "", "", nil, err }
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fail(errors.New("the server closed the connection before answering the handshake, or its answer was over 16 KiB"))
		}
		return fail(fmt.Errorf("reading the handshake response: %w", err))
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fail(refusal(resp))
	}
	h := resp.Header
	switch {
	case !handshake.HasToken(h.Values("Upgrade"), "websocket"):
		return fail(errors.New("the 101 response lacks Upgrade: websocket"))
	case !handshake.HasToken(h.Values("Connection"), "upgrade"):
		return fail(errors.New("the 101 response lacks Connection: Upgrade"))
	}
	want := handshake.AcceptKey(key)
	if got := h.Values("Sec-WebSocket-Accept"); len(got) != 1 || got[0] != want {
		return fail(fmt.Errorf("the server's Sec-WebSocket-Accept is %q, want %q", strings.Join(got, ", "), want))
	}
	protocols := h.Values("Sec-WebSocket-Protocol")
	switch {
	case len(protocols) > 1:
		return fail(fmt.Errorf("the server chose several subprotocols: %q", protocols))
	case len(protocols) == 1:
		subprotocol = protocols[0]
		if !contains(opts.Subprotocols, subprotocol) {
			return fail(fmt.Errorf("the server chose subprotocol %q, which was not offered", subprotocol))
		}
	}
	exts := h.Values("Sec-WebSocket-Extensions")
	extensions = strings.Join(exts, ", ")
	switch {
	case opts.Compression != nil:
		deflate, err = agreeDeflate(opts.Compression, exts)
		if err != nil {
			return fail(err)
		}
		if deflate == nil {
			extensions = "" // the header held only empty elements
		}
	case extensions != "":
		return fail(fmt.Errorf("the server accepted extensions that were not offered: %q", extensions))
	default:
		extensions = ""
	}
	return subprotocol, extensions, deflate, nil
}

// refusal turns a response other than 101 into a *HandshakeError whose
// reason is the first line of the body, as Upgrader.Upgrade writes it, or
// the status text.
func refusal(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	reason, _, _ := strings.Cut(string(body), "\n")
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = "the server answered " + strconv.Itoa(resp.StatusCode) + " instead of 101 Switching Protocols"
	}
	return &HandshakeError{Status: resp.StatusCode, Reason: reason, Header: resp.Header}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
