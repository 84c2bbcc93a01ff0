// Package ws is the native side of the WebSocket protocol (RFC 6455): the
// server's HTTP/1.1 upgrade (Upgrader), the client's dial (Dial), and the
// connection both return (Conn), which reads and writes messages.
//
// The browser's side, duplex/wasm/websocket, has the same API over the
// browser's WebSocket, and both satisfy duplex/shared/conn.Conn, so code
// written against that interface runs natively and in the browser.
//
// # Files
//
// The server's handshake is in upgrade.go and the client's in dial.go;
// the connection and its closing handshake in conn.go, reading in read.go
// and writing in write.go; input.go buffers what the peer sends; group.go
// closes many connections at once. The frame codec they share with the
// browser is duplex/shared/wire; the handshake's computations are in
// duplex/shared/handshake.
//
// # The contract
//
// A Conn reads from one goroutine at a time; it writes, closes and pings
// from any number. What each method returns:
//
//   - ReadMessage, NextReader: the next data message. After the peer
//     closed, or after this side's Close completed the handshake, a
//     *CloseError with the code and reason of the first close frame (its
//     WasClean is true); after the connection dropped without a close
//     frame, a *CloseError with code 1006; after CloseNow, ErrClosed; after
//     the peer broke the protocol, the *wire.Error this side failed the
//     connection with (CloseStatus gives the code it sent). If ctx ends
//     during the call, ctx.Err(), and the connection is closed, since a
//     frame may have been half read; a ctx that had ended before the call
//     changes nothing.
//   - WriteMessage, WriteMessages, NextWriter: nil once the frames are
//     written to the socket. Only Text and Binary are messages: other types
//     are refused and nothing is sent. Once a close frame has been sent or
//     the connection has ended, an error that matches ErrClosed. If ctx
//     ends during the call, ctx.Err(), and the connection is closed, since
//     part of a frame may have been written.
//   - Close: nil once the closing handshake is complete; an error matching
//     ErrClosed if the connection had ended; another error if the peer did
//     not answer within five seconds (the connection is then closed all
//     the same, and Err reports 1006).
//   - CloseNow: nil, or ErrClosed if the connection had ended.
//   - Done, Err: Done is closed once the connection has ended; Err is nil
//     until then, and afterwards why, as ReadMessage reports it.
//
// Every *CloseError matches ErrClosed (errors.Is), and ErrClosed matches
// net.ErrClosed, so errors.Is(err, ws.ErrClosed) asks "has the connection
// ended?" whatever ended it. CloseStatus gives the code: 1006 for an end
// without a close frame.
//
// The server closes the TCP connection first once the closing handshake is
// over; the client waits for it to, up to five seconds (RFC 6455 §7.1.1).
// A client masks every frame with a fresh key from crypto/rand (§5.3) and
// fails a connection on which the server masks frames; a server does the
// reverse.
//
// Natively, and not in the browser: Ping, KeepAlive (in Upgrader and
// DialOptions), SetReadLimit, WriteMessages, MessageWriter.Flush (a
// frame boundary on demand), RemoteAddr, and Groups.
//
// # Memory
//
// A connection holds no buffer while it waits for its peer (on unix), and
// its goroutine waits with a shallow stack, which the runtime shrinks to
// 2 KiB. Serving a connection from a goroutine of its own, and letting the
// HTTP handler return, frees what net/http holds for the request (about
// 16 KiB); an idle connection then costs about 4 KiB.
package ws
