// Package websocket is a Go API over the browser's WebSocket, for code
// compiled to WebAssembly (GOOS=js GOARCH=wasm). Its Conn has the same
// methods, with the same meanings, as the server's (duplex/server/ws): both
// are a duplex/shared/conn.Conn, so code written against that interface —
// the chat client in duplex/shared/chatclient, the reconnecting connection
// in duplex/shared/conn — runs on either side. The types that both sides
// share, MessageType, StatusCode, CloseError and ErrClosed, are
// duplex/shared/wire's, under the same names here.
//
// # The contract
//
// As conn.Conn states it, on both sides:
//
//   - ReadMessage returns the next message, its payload appended to
//     buf[:0]. Messages that arrived before the connection ended are read
//     first; then it returns Err(). If ctx ends while it waits, it returns
//     ctx's error and closes the connection, as CloseNow does.
//   - WriteMessage sends one Text or Binary message, and refuses any other
//     type. Once the connection is closing or closed it returns ErrClosed.
//     If ctx ends while it waits for the browser's buffer to drain, it
//     returns ctx's error and closes the connection.
//   - Close sends a close code and reason and waits, up to five seconds, for
//     the end of the closing handshake; it returns nil if it completed, and
//     ErrClosed if the connection was closing or closed already. CloseNow
//     ends the connection without waiting.
//   - Done is closed when the connection has ended, and Err says why: a
//     *CloseError, whoever closed (1006 if the connection dropped), or
//     ErrClosed after CloseNow.
//   - Subprotocol and Extensions report what the handshake agreed on.
//   - NextReader and NextWriter read and write a message through io
//     interfaces.
//
// # What differs from the server's Conn, and why
//
// The browser's WebSocket does the protocol itself and shows a page only
// whole messages and events, so:
//
//   - There is no Ping or keepalive, and no read limit (SetReadLimit): the
//     browser answers pings by itself, sends none, and accepts any size.
//   - NextWriter does not stream: the browser can send only whole
//     messages, so the writer collects the message and sends it on Close,
//     and has no Flush. NextReader's message is already in memory.
//   - There is no WriteMessages, which batches system calls, and no
//     RemoteAddr: a page sees neither.
//   - Go code in a page shares one thread with the browser's event loop,
//     and events are delivered only while Go waits. Code running on the
//     event loop — a hook, a DOM event handler — must never block, so New
//     (which does not wait for the open event), StartClose (which does not
//     wait for the close event) and the hooks in Options, which mirror
//     onopen, onmessage, onerror and onclose, are there for it; Dial and
//     Close wait, and must be called from a goroutine.
//   - ReadyState and BufferedAmount report the browser's readyState and
//     bufferedAmount; WriteMessage waits while the latter is above
//     Options.HighWater, which is the backpressure a page gets.
//   - Close accepts only the codes the browser lets a page send: 1000 and
//     3000–4999.
//   - A connection from New is not open at once: WriteMessage fails until
//     the open event. Dial, like the server's, returns an open connection.
//
// # When WebSocket is blocked
//
// Some networks do not let WebSocket through: a proxy strips the Upgrade
// header, or a middlebox cuts the connection right after its 101. Connect,
// in connect.go, tries WebSocket first and falls back to Duplex's HTTP
// stream (duplex/shared/streamclient over the browser's fetch, fetch.go;
// the server's side is duplex/server/httpstream), which carries the same
// messages behind the same methods: it returns a conn.Conn, a *Conn or a
// *streamclient.Conn, with the Choice it made and why. It falls back when
// WebSocket fails to open, or does not open within a timeout measured from
// the page's own load (Options.FallbackAfter), and learns from a
// WebSocket that opens and dies before its first message; it remembers a
// fall back in localStorage (remember.go) for Options.RememberFor, so that
// the next pages do not wait for WebSocket to fail again, and then tries
// WebSocket again. A page forces a transport with Options.Transport, or
// with ?transport=ws, stream or auto in its address (PageTransport).
// Dialer and Reconnect connect as Connect does; Dial and New always open
// a WebSocket.
//
// Reconnect, in reconnect.go, keeps a connection coming back with
// duplex/shared/conn's Reconnecting: it redials with exponential backoff
// and jitter when the connection drops, waits for the network while the
// browser is offline, and calls a hook on each new connection, where an
// application restores its state.
//
// The API exists only in js/wasm builds; on other platforms the package is
// empty. Its tests run inside headless Chromium: see browser_test.go.
package websocket
