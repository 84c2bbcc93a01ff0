package streamclient_test

import (
	"context"
	"fmt"
	"time"

	"duplex/shared/streamclient"
	"duplex/shared/wire"
)

// A session of the HTTP stream, through a platform's Doer: net/http's
// natively (duplex/server/httpstream.Doer), fetch's in a browser (what
// duplex/wasm/websocket's Connect uses). The connection is a conn.Conn.
func ExampleDial() {
	var do streamclient.Doer // httpstream.Doer(nil), natively
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := streamclient.Dial(ctx, do, "http://localhost:8080/ws/echo", &streamclient.Options{Subprotocols: []string{"echo"}})
	if err != nil {
		fmt.Println("dial:", err) // a *streamclient.StatusError if the server refused
		return
	}
	defer c.CloseNow()
	c.WriteMessage(ctx, wire.Binary, []byte{1, 2, 3})
	typ, msg, err := c.ReadMessage(ctx, nil)
	fmt.Println(typ, msg, err)
	fmt.Println(c.Close(wire.StatusNormalClosure, "bye"))
}
