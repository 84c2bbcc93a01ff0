package chat

import (
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"

	"duplex/server/ws"
	"duplex/shared/message"
)

// Path is the chat's WebSocket endpoint.
const Path = "/ws/chat"

// readLimit is the largest message the endpoint reads. It is well above
// message.MaxClientMessage, so that a text just over message.MaxText is
// answered with the protocol's CodeTooLong, which the client can show,
// rather than a close; a message larger than this is closed with 1009.
const readLimit = 64 << 10

// EndpointOptions configure an Endpoint. The zero value gives the
// defaults.
type EndpointOptions struct {
	// Upgrader upgrades the connections: its Group, KeepAlive, Stats and
	// AllowedOrigins are the caller's; its Subprotocols and ReadLimit are
	// the endpoint's own.
	Upgrader ws.Upgrader

	// MaxConnsPerAddr bounds the connections open at once from one client
	// address; default 1000. Behind a proxy every client comes from the
	// proxy's address: raise it there.
	MaxConnsPerAddr int

	Log *slog.Logger
}

// An Endpoint serves the chat's WebSocket endpoint: it admits a connection
// if its client has not too many open already and offers a version of the
// protocol the server speaks, and serves it on the hub.
type Endpoint struct {
	hub      func() *Hub
	upgrader ws.Upgrader
	max      int
	log      *slog.Logger

	mu    sync.Mutex
	conns map[string]int // client address → connections open
}

// NewEndpoint returns an endpoint that serves each connection on the hub
// that hub returns at the time: a test that stops and restarts the chat's
// backend behind one address swaps hubs. While hub returns nil, the
// endpoint answers 503.
func NewEndpoint(hub func() *Hub, opts EndpointOptions) *Endpoint {
	u := opts.Upgrader
	u.Subprotocols = []string{message.Subprotocol, message.SubprotocolV1}
	u.ReadLimit = readLimit
	if opts.MaxConnsPerAddr <= 0 {
		opts.MaxConnsPerAddr = 1000
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Endpoint{hub: hub, upgrader: u, max: opts.MaxConnsPerAddr, log: opts.Log, conns: map[string]int{}}
}

// ServeHTTP upgrades the request and serves the connection, or refuses it
// with a status and a one-line reason: 400 for a client that offers none
// of the chat's subprotocols, 429 for one that has too many connections
// open, 503 while there is no hub; or as the Upgrader refuses a request
// that is not a valid WebSocket handshake.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hub := e.hub()
	if hub == nil {
		refuseHandshake(w, http.StatusServiceUnavailable, "the chat is restarting: try again in a moment")
		return
	}
	if proto, err := e.upgrader.Check(r); err == nil && proto == "" {
		refuseHandshake(w, http.StatusBadRequest, "the chat speaks the subprotocols "+message.Subprotocol+" and "+message.SubprotocolV1+": offer one in Sec-WebSocket-Protocol")
		return
	} // a request that fails Check is refused by Upgrade, as it should be
	addr := clientAddr(r)
	if !e.admit(addr) {
		refuseHandshake(w, http.StatusTooManyRequests, "too many connections from "+addr+": at most "+strconv.Itoa(e.max)+" at once")
		return
	}
	c, err := e.upgrader.Upgrade(w, r)
	if err != nil {
		e.leave(addr)
		e.log.Debug("chat: upgrade refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	go func() { // and return, as echo does, to free the request's memory
		defer e.leave(addr)
		hub.Serve(c)
	}()
}

// refuseHandshake answers a handshake with status and a one-line reason.
func refuseHandshake(w http.ResponseWriter, status int, reason string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	w.WriteHeader(status)
	w.Write([]byte(reason + "\n"))
}

// clientAddr returns the client's IP address.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// admit counts a connection from addr, unless it has as many as it may.
func (e *Endpoint) admit(addr string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conns[addr] >= e.max {
		return false
	}
	e.conns[addr]++
	return true
}

func (e *Endpoint) leave(addr string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conns[addr]--; e.conns[addr] <= 0 {
		delete(e.conns, addr)
	}
}
