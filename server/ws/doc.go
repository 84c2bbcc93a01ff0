// Package ws is the server side of the WebSocket protocol (RFC 6455): the
// HTTP/1.1 upgrade and a connection that reads and writes messages.
//
// Upgrade lives in upgrade.go, the connection and its closing handshake in
// conn.go, reading in read.go and writing in write.go; input.go buffers what
// the peer sends. The frame codec they share with the browser module is
// package duplex/shared/wire; the handshake's computations are in
// duplex/shared/handshake.
//
// An echo handler:
//
//	u := &ws.Upgrader{}
//	http.HandleFunc("/ws/echo", func(w http.ResponseWriter, r *http.Request) {
//		c, err := u.Upgrade(w, r)
//		if err != nil {
//			return // Upgrade has answered the request with the reason.
//		}
//		go echo(c) // and return: see below
//	})
//
//	func echo(c *ws.Conn) {
//		defer c.CloseNow()
//		ctx := context.Background()
//		var msg []byte
//		for {
//			typ, m, err := c.ReadMessage(ctx, msg)
//			if err != nil {
//				return // a *CloseError when the peer closed
//			}
//			msg = m
//			if err := c.WriteMessage(ctx, typ, msg); err != nil {
//				return
//			}
//		}
//	}
//
// Serving a connection from a goroutine of its own, and letting the handler
// return, frees what net/http holds for the request (about 16 KiB); an idle
// connection then costs about 4 KiB. Reading inside the handler works too.
//
// Memory: a connection holds no buffer while it waits for its peer (on
// unix), and its goroutine waits with a shallow stack, which the runtime
// shrinks to 2 KiB.
package ws
