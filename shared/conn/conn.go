// Package conn is the WebSocket connection as application code sees it,
// the same in a native program and in the browser: an interface that both
// duplex/server/ws.Conn and duplex/wasm/websocket.Conn satisfy, and the
// client logic written once on it — typed messages, and a connection that
// redials and lets the application resume (reconnect.go).
//
// Code written against Conn compiles for linux and for js/wasm, and its
// tests run natively with plain go test.
package conn

import (
	"context"

	"duplex/shared/wire"
)

// A Conn is one WebSocket connection. Both sides implement it with the
// same meaning; what a platform adds (pings and read limits natively, the
// browser's readyState and bufferedAmount) is on the concrete types.
//
// The contract, on both sides:
//
//   - ReadMessage returns the next data message, its payload appended to
//     buf[:0]. Once the connection has ended it returns Err(): a
//     *wire.CloseError after a closing handshake, whoever started it (its
//     code is the close frame's), or after the connection dropped (1006);
//     wire.ErrClosed after CloseNow. Messages that arrived before the end
//     are read first. If ctx ends before a message is read, ReadMessage
//     returns ctx.Err() and closes the connection, as CloseNow does: a
//     frame may have been half read.
//   - WriteMessage sends p as one message of type typ, which must be
//     wire.Text or wire.Binary. Once the connection is closing or closed it
//     returns an error that matches wire.ErrClosed. If ctx ends during the
//     write, it returns ctx.Err() and closes the connection.
//   - Close sends a close frame with code and reason and waits, up to five
//     seconds, for the peer's; it returns nil if the handshake completed,
//     and an error matching wire.ErrClosed if the connection was closed
//     already. Only the first Close or CloseNow acts.
//   - CloseNow ends the connection without waiting for the peer.
//   - Done is closed when the connection has ended; Err then says why, as
//     ReadMessage would.
//   - Subprotocol and Extensions report what the handshake agreed on.
//
// Reads come from one goroutine at a time; writes and Close are safe from
// any goroutine.
type Conn interface {
	ReadMessage(ctx context.Context, buf []byte) (wire.MessageType, []byte, error)
	WriteMessage(ctx context.Context, typ wire.MessageType, p []byte) error
	Close(code wire.StatusCode, reason string) error
	CloseNow() error
	Done() <-chan struct{}
	Err() error
	Subprotocol() string
	Extensions() string
}
