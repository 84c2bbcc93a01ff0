package httpstream

import (
	"context"
	"io"
	"net"
	"net/http"

	"duplex/server/ws"
	"duplex/shared/conn"
	"duplex/shared/wire"
)

// A Peer is the server's side of one client connection, over either
// transport: a WebSocket (*ws.Conn) or a session of the HTTP stream
// (*Conn). An endpoint written against it serves both unchanged.
type Peer interface {
	conn.Conn
	NextReader(ctx context.Context) (wire.MessageType, io.Reader, error)
	WriteMessages(ctx context.Context, typ wire.MessageType, msgs [][]byte) error
	RemoteAddr() net.Addr
}

var _ Peer = (*ws.Conn)(nil)

// An Endpoint serves one endpoint over both transports at one path:
// WebSocket handshakes are upgraded by its Upgrader, and the requests of
// the HTTP stream are served by its Server, which shares the Upgrader's
// policy. Each new connection, of either kind, goes to the endpoint's
// serve function, on a goroutine of its own, which owns it.
type Endpoint struct {
	upgrader *ws.Upgrader
	streams  *Server
	serve    func(Peer)
}

// NewEndpoint returns the endpoint that upgrades WebSockets with u, serves
// the HTTP stream with a Server configured by cfg (whose Upgrader is u),
// and calls serve with each connection. It is the one line of wiring that
// gives an endpoint the fallback:
//
//	r.Handle(path, httpstream.NewEndpoint(upgrader, httpstream.Config{Stopping: env.Stopping}, serve))
func NewEndpoint(u *ws.Upgrader, cfg Config, serve func(Peer)) *Endpoint {
	cfg.Upgrader = u
	return &Endpoint{upgrader: u, streams: NewServer(cfg, func(c *Conn) { serve(c) }), serve: serve}
}

// Beside returns a handler for one path that serves the HTTP stream's
// requests with s, and hands every other request to websocket: for an
// endpoint whose WebSocket handler is its own, which NewEndpoint's is not.
func (s *Server) Beside(websocket http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsStream(r) {
			s.ServeHTTP(w, r)
			return
		}
		websocket.ServeHTTP(w, r)
	})
}

// Streams returns the endpoint's Server, the HTTP stream's side.
func (e *Endpoint) Streams() *Server { return e.streams }

// ServeHTTP serves a request of either transport.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if IsStream(r) {
		e.streams.ServeHTTP(w, r)
		return
	}
	c, err := e.upgrader.Upgrade(w, r)
	if err != nil {
		e.streams.cfg.Log.Debug("websocket: upgrade refused", "remote", r.RemoteAddr, "path", r.URL.Path, "err", err)
		return
	}
	// Serve from a goroutine of its own and return: net/http then lets go
	// of the request and its buffers.
	go e.serve(c)
}
