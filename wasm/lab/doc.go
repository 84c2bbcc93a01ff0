// Package lab is the client of the protocol lab, the page that shows a
// WebSocket's handshake and frames as they crossed the wire.
//
// The page opens the trace channel (see duplex/shared/lab), and then, when
// the reader asks, the lab connection: an echo whose every byte the server
// records and reports on the trace channel. The app shows those reports —
// the handshake and each frame, decoded with duplex/shared/wire like the
// server decodes them — next to what the browser's WebSocket API says of
// the same connection, and sends the reader's commands (fragment, ping,
// close, break the protocol) to the server. Its compose box builds frames
// on the page with the same codec.
//
// frame.go, which lays out a frame's bits and builds the compose box's
// frame, is plain Go and is tested on any platform; the rest exists only
// in js/wasm builds.
package lab
