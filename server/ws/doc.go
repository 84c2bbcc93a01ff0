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
// closes many connections at once. Compression is in deflate.go (options,
// negotiation, what a connection keeps), compress.go, inflate.go and
// prepared.go. The frame codec they share with the browser is
// duplex/shared/wire; the handshake's computations, permessage-deflate's
// parameters among them, are in duplex/shared/handshake.
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
// frame boundary on demand), RemoteAddr, Groups, and control over
// compression (Compression in Upgrader and DialOptions,
// MessageWriter.SetCompressed, PreparedMessage): a browser negotiates
// permessage-deflate by itself, and a server with Compression set agrees.
//
// # Compression
//
// With Upgrader.Compression (or DialOptions.Compression) set, a
// connection agrees on permessage-deflate (RFC 7692) with a peer that
// offers (or accepts) it. The server accepts the first valid offer of the
// client's, keeps to the window it asks for (server_max_window_bits) and
// to server_no_context_takeover, and always answers with
// client_no_context_takeover; it declines malformed offers (unknown or
// repeated parameters, bad values) and the handshake goes on without
// compression. The client offers
//
//	permessage-deflate; client_max_window_bits
//
// (with server_no_context_takeover and client_no_context_takeover if
// NoContextTakeover is set), and fails the dial on a response that RFC
// 7692 forbids or that does not fit its offer. Extensions returns what was
// agreed.
//
// Once agreed, WriteMessage, WriteMessages and WritePreparedMessage
// compress a message of at least the threshold (DefaultCompressionThreshold,
// 128 bytes, unless CompressionOptions.Threshold says otherwise) and send
// it with RSV1 set; a message that compression would not shrink goes out
// as it is. NextWriter compresses a message that reaches the threshold
// before its first frame goes out, if that first part shrinks, over as
// many frames as it takes; MessageWriter.SetCompressed overrides the
// threshold for one message. Control frames are never compressed. Reading
// inflates compressed messages and passes the others through; Stats
// counts the bytes of messages as the application sees them, inflated.
//
// With context takeover (the default), each message is compressed
// against the last 2 KiB of what the connection sent compressed before,
// which the peer's window still holds. PreparedMessage compresses a
// message once for all the connections of a fan-out, without that history.
//
// Memory: a connection holds no compressor or decompressor between
// messages; they come from pools. Between messages it keeps, with context
// takeover, the last 2 KiB of what it sent compressed (taken on the first
// compressed message); nothing of what it received on the server, which
// asks clients for client_no_context_takeover; and, on a client whose
// server keeps context, the server's window of what it received (32 KiB
// unless server_max_window_bits says less, in a buffer a quarter larger).
// While it reads a compressed message it holds a decompressor (about
// 45 KiB). A compressor (about 800 KiB) is held only while a message, or
// a chunk of one written with NextWriter, is being compressed, never
// during a write to the socket, so there are no more of them than
// messages being compressed at once. Measured with 10,000 idle server
// connections that each echoed a 1 KiB message, the application keeping
// no buffer (BenchmarkIdleConnMemory in duplex/server/ws/thirdparty):
// 7.3 KiB a connection with compression and context takeover, 5.3 KiB
// without takeover, 3.1 KiB without compression; gws 75.9 KiB with
// takeover and 11.8 KiB without. Of the 2.2 KiB that compression adds
// without takeover, 2 KiB is stack: the goroutine's stack grew to 4 KiB
// while it compressed, and the runtime keeps it.
//
// Close codes: a compressed message that is not valid DEFLATE data fails
// the connection with 1007 (invalid payload data), as does a compressed
// text message that inflates to invalid UTF-8; one that inflates past the
// read limit fails it with 1009 as soon as the limit is crossed, with no
// more than the limit inflated: the read limit applies to a compressed
// message's payload as it arrives and to its content as it inflates. RSV1
// on a continuation or control frame, or any reserved bit but RSV1, fails
// it with 1002.
//
// # Memory
//
// A connection holds no buffer while it waits for its peer (on unix), and
// its goroutine waits with a shallow stack, which the runtime shrinks to
// 2 KiB. Serving a connection from a goroutine of its own, and letting the
// HTTP handler return, frees what net/http holds for the request (about
// 16 KiB); an idle connection then costs about 4 KiB.
package ws
