package chat

import (
	"net"
	"net/http"
	"strconv"

	"duplex/server/httpstream"
	"duplex/server/httpstream/natsforward"
	"duplex/server/web"
	"duplex/shared/message"
	"duplex/shared/wire"
)

// This file gives the chat's endpoint the HTTP stream fallback, for
// networks that block WebSocket: the same hub serves its sessions, with
// the same Upgrader's policy — origin, subprotocols, read limit — and the
// same limit on connections per client address. With -nats, a session's
// requests reach whichever instance a load balancer picks: they are
// passed to the instance that owns the session through NATS.

// streamSubject is the NATS subject prefix under which the chat's
// instances pass each other the stream's requests.
const streamSubject = "duplex.chat.stream"

// withFallback returns the handler of /ws/chat: endpoint for WebSocket
// handshakes, and the HTTP stream beside it.
func withFallback(env *web.Env, opts *DemoOptions, endpoint *Endpoint) (http.Handler, error) {
	stats := &httpstream.Stats{}
	env.Metrics.Stream("chat", stats)
	cfg := httpstream.Config{Upgrader: &endpoint.upgrader, Stopping: env.Stopping, Stats: stats, Log: env.Log}
	var fw *natsforward.Forwarder
	if opts.NATS != "" {
		var err error
		if fw, err = natsforward.Dial(opts.NATS, natsforward.Options{Subject: streamSubject, Log: env.Log}); err != nil {
			return nil, err
		}
		env.OnClose(fw.Close)
		cfg.Forwarder = fw
	}
	streams := httpstream.NewServer(cfg, endpoint.serveStream)
	env.OnClose(streams.Drain)
	if fw != nil {
		if err := fw.Serve(streams); err != nil {
			return nil, err
		}
	}
	return streams.Beside(endpoint), nil
}

// serveStream serves a session of the HTTP stream on the hub, as
// ServeHTTP serves a WebSocket, with the same refusals — which, the
// session being open already, are closes.
func (e *Endpoint) serveStream(c *httpstream.Conn) {
	hub := e.hub()
	if hub == nil {
		c.Close(wire.StatusTryAgainLater, "the chat is restarting: try again in a moment")
		return
	}
	if c.Subprotocol() == "" {
		c.Close(wire.StatusProtocolError, "the chat speaks the subprotocols "+message.Subprotocol+" and "+message.SubprotocolV1)
		return
	}
	addr := c.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if !e.admit(addr) {
		c.Close(wire.StatusTryAgainLater, "too many connections from "+addr+": at most "+strconv.Itoa(e.max)+" at once")
		return
	}
	defer e.leave(addr)
	hub.Serve(c)
}
