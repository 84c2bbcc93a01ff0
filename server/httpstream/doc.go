// Package httpstream is the server's side of Duplex's HTTP stream
// transport: the fallback for networks where WebSocket cannot pass —
// proxies that strip the Upgrade header, middleboxes that kill a
// connection right after its 101. It carries the same messages, text or
// binary, with their types, over plain HTTP: one long response streams
// them down, and POSTs carry them up. Each session is a *Conn with the
// methods and the contract of a *ws.Conn, so an endpoint serves both
// transports unchanged; NewEndpoint mounts both at one path:
//
//	r.Handle("/ws/echo", httpstream.NewEndpoint(upgrader, httpstream.Config{Stopping: env.Stopping}, serve))
//
// where serve takes a Peer, which *ws.Conn and *Conn both are. The
// browser's side, and its choice between the transports, is in
// duplex/wasm/websocket (Connect); a native client is Dial, here; both are
// duplex/shared/streamclient over a platform's HTTP. The name says what it
// is, not what it is for: HTTP streaming, as ws says WebSocket.
//
// # Requests
//
// The format is duplex/shared/streamwire's. At the endpoint's path:
//
//	POST ?stream=open&protocol=…   opens a session; the response is its first stream, which
//	                               begins with a Hello frame: the session's id, the subprotocol, the limits
//	GET  ?stream=down&after=N      the stream again, from frame N+1; acknowledges frames up to N
//	POST ?stream=up                frames from the client: an Ack of what it received, messages, a Close
//
// with the session's id in the Duplex-Session header. An open is admitted
// by the Upgrader's Check run on the WebSocket handshake the same page
// would have sent — the same Origin rule and AllowedOrigins — and gets the
// subprotocol the WebSocket would have got; later requests must come from
// the Origin that opened the session, or from none.
//
// # Order and loss
//
// Both directions number their messages and Close frames from 1. The
// server takes frame n+1 of a POST only after frame n, drops a frame it
// has taken before — a POST that the client sent again because its answer
// was lost — and refuses a gap with 409. Down, it keeps every frame until
// the client acknowledges it, in a POST's Ack or in the after of a down
// request, and a stream that drops resumes after the last frame the
// client received: nothing is lost, nothing comes twice.
//
// # Lifecycle and limits
//
//   - A session lives while a stream is open or requests come; with
//     neither for Config.Timeout (30 s), it ends as a dropped WebSocket
//     does, with 1006. A stream lasts Config.StreamAge (55 s) and carries
//     a Ping every Config.Heartbeat (15 s) when idle; the client opens the
//     next, so that a client that vanished is noticed within a minute and a
//     half, and proxies that limit a response's life never cut it
//     unawares.
//   - A session lasts at most Config.MaxLifetime (24 h): then it is closed
//     with 1001, and the client opens another.
//   - Down, Config.Window bytes (1 MiB) may wait for acknowledgment; then
//     WriteMessage waits, as it would on a full TCP buffer. Up, a POST
//     waits while Config.InboxLimit bytes (1 MiB) wait for ReadMessage.
//     A message is at most the Upgrader's ReadLimit; a POST body at most
//     Config.MaxPost. At most Config.MaxSessions (100,000) are open.
//   - When Config.Stopping closes, every session is closed with 1001 and
//     opens get 503; Server.Drain waits for the Close frames to go out.
//   - A session that has ended stays known for a few seconds, so that its
//     stream may still carry its last frames, then as a tombstone, so that
//     a late request gets 410 and the reason.
//
// # Errors
//
// A refused request gets a status and a one-line reason in a text/plain
// body: 400 for a malformed request or frame, 403 for a foreign Origin,
// 404 for an unknown session, 405 for a wrong method, 409 for a frame out
// of order or a resume from a frame that is gone, 410 for a session that
// has ended, 413 for a message or a body over the limits, 503 while
// shutting down or full. A message over the limit or a malformed frame
// ends its session too, with the close code a WebSocket would have ended
// with (1009, 1002, 1007); no bad request disturbs another session.
//
// # Many instances
//
// A session lives in the instance that opened it, whose name its id
// carries. With a Forwarder (duplex/server/httpstream/natsforward), a
// request that reaches another instance is passed to the owner and its
// answer relayed — a stream as it streams — so that a load balancer need
// not be sticky.
//
// # Memory
//
// Over HTTP/1.1 a stream is carried on the connection taken over from
// net/http, from a goroutine of its own, and its handler returns, as a
// WebSocket's does: an idle session then holds two small goroutines — its
// stream's and the endpoint's — and about 8.5 KiB, against 4 for an idle
// WebSocket (BenchmarkIdleSessionMemory). Over HTTP/2, or when forwarded,
// net/http carries the stream, and holds some 40 KiB more.
package httpstream
