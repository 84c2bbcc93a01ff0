// Package ws is the server side of the WebSocket protocol (RFC 6455): the
// HTTP/1.1 upgrade and a connection that reads and writes messages.
//
// Upgrade lives in upgrade.go, the connection and its closing handshake in
// conn.go, reading in read.go and writing in write.go. The frame codec they
// share with the browser module is package duplex/shared/wire.
//
// A minimal echo handler:
//
//	u := &ws.Upgrader{}
//	http.HandleFunc("/ws/echo", func(w http.ResponseWriter, r *http.Request) {
//		c, err := u.Upgrade(w, r)
//		if err != nil {
//			return // Upgrade has answered the request with the reason.
//		}
//		defer c.CloseNow()
//		for {
//			typ, msg, err := c.ReadMessage(r.Context(), nil)
//			if err != nil {
//				return
//			}
//			if err := c.WriteMessage(r.Context(), typ, msg); err != nil {
//				return
//			}
//		}
//	})
package ws
