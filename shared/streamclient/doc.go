// Package streamclient is the client of Duplex's HTTP stream transport, the
// fallback for networks that block WebSocket: a connection with the
// methods and the contract of duplex/shared/conn.Conn whose messages go
// down in one long HTTP response and up in POSTs (the format is
// duplex/shared/streamwire's; the server is duplex/server/httpstream).
//
// It knows nothing of the platform: it makes its requests through a Doer,
// which is net/http natively (duplex/server/httpstream.Dial) and fetch in
// a browser (duplex/wasm/websocket), so the same code runs in both and is
// tested with plain go test.
//
// # A session
//
// Dial opens a session with one POST; its response is the session's first
// stream, which begins with a Hello frame: the session's id, the
// subprotocol, and the server's limits. From then on:
//
//   - Down: the stream carries numbered messages. When it ends — the
//     server recycles it every minute or so, a proxy cuts it, the network
//     drops it, or nothing, not even a Ping, has come for two heartbeats —
//     the connection opens it again with the number of the last frame it
//     received, and the server resends what came after. A frame received
//     twice is dropped; a gap ends the stream, which is then reopened.
//   - Up: WriteMessage numbers each message and queues it; one goroutine
//     POSTs what is queued, as one batch, one POST at a time, so batches
//     arrive in order. A POST that fails on the way is sent again, the
//     same frames with the same numbers, and the server drops those it has
//     already taken.
//   - Acks: the server keeps what it sent until the client acknowledges
//     it — in every POST, in every reopened stream, and, when the client
//     has nothing to send, in an ack-only POST after AckDelay or once half
//     the server's window awaits acknowledgment.
//   - The end: Close sends a Close frame after the messages queued and
//     waits for the server's; a Close frame from the server is answered
//     the same way. CloseNow sends an Abort without waiting (Doer.Send),
//     which the server takes as a dropped connection. If the server cannot
//     be reached for the session's Timeout, or answers that the session is
//     gone, the connection ends with 1006, as a dropped WebSocket does.
//
// # Errors
//
// The server answers a bad request with a 4xx status and a one-line
// reason, which ends the connection with the close code a WebSocket would
// have ended with: 413 (a message over the server's limit) with 1009; 409
// (frames out of order) and 400 (malformed) with 1002; 403 with 1008; 404
// and 410 (no such session, or no more) with 1006. The reason becomes the
// CloseError's.
package streamclient
