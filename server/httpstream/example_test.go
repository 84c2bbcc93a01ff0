package httpstream_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"duplex/server/httpstream"
	"duplex/server/ws"
	"duplex/shared/wire"
)

// An echo endpoint that speaks WebSocket and, where WebSocket is blocked,
// the HTTP stream, at one path; the same serve function serves both.
func ExampleNewEndpoint() {
	serve := func(c httpstream.Peer) { // a *ws.Conn or a *httpstream.Conn
		defer c.CloseNow()
		ctx := context.Background()
		for {
			typ, msg, err := c.ReadMessage(ctx, nil)
			if err != nil {
				return // a *wire.CloseError once the client closed
			}
			if err := c.WriteMessage(ctx, typ, msg); err != nil {
				return
			}
		}
	}
	upgrader := &ws.Upgrader{Subprotocols: []string{"echo"}}
	srv := httptest.NewServer(httpstream.NewEndpoint(upgrader, httpstream.Config{}, serve))
	defer srv.Close()

	// The native client of the stream; a browser's is wasm/websocket's
	// Connect, which tries WebSocket first.
	ctx := context.Background()
	c, err := httpstream.Dial(ctx, srv.URL, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	c.WriteMessage(ctx, wire.Text, []byte("hello"))
	typ, msg, err := c.ReadMessage(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(typ, string(msg))
	fmt.Println(c.Close(wire.StatusNormalClosure, "bye"))
	// Output:
	// text hello
	// <nil>
}

// An endpoint whose WebSocket handler is its own gets the stream beside
// it: the stream's requests go to the Server, every other to the handler.
func ExampleServer_Beside() {
	upgrader := &ws.Upgrader{}
	serve := func(c httpstream.Peer) { c.Close(wire.StatusNormalClosure, "nothing to say") }
	websocket := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The endpoint's own checks come here, before the upgrade.
		if c, err := upgrader.Upgrade(w, r); err == nil {
			go serve(c)
		}
	})
	streams := httpstream.NewServer(httpstream.Config{Upgrader: upgrader}, func(c *httpstream.Conn) { serve(c) })
	http.Handle("/ws/quiet", streams.Beside(websocket))
}
