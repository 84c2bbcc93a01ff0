//go:build js && wasm

package websocket_test

import (
	"context"
	"fmt"
	"time"

	"duplex/wasm/websocket"
)

// Example talks to Duplex's echo endpoint. It runs in a page, on a
// goroutine of its own: Dial, ReadMessage and Close wait, and the
// browser's event loop must not.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// A relative URL is resolved against the page's: http becomes ws.
	c, err := websocket.Dial(ctx, "/ws/echo", &websocket.Options{Subprotocols: []string{"echo"}})
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	if err := c.WriteMessage(ctx, websocket.Text, []byte("hello")); err != nil {
		fmt.Println("write:", err)
		return
	}
	var buf []byte
	typ, buf, err := c.ReadMessage(ctx, buf)
	if err != nil {
		// If ctx ended, ReadMessage closed the connection too.
		fmt.Println("read:", err)
		return
	}
	fmt.Println(typ, string(buf)) // text hello

	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		fmt.Println("close:", err)
	}
}

// ExampleConnect connects to an endpoint that speaks both transports, and
// says which one it got: a WebSocket, or, where a proxy blocks WebSocket,
// the HTTP stream. The connection is used the same way either way.
func ExampleConnect() {
	ctx := context.Background()
	c, choice, err := websocket.Connect(ctx, "/ws/echo", nil)
	if err != nil {
		fmt.Println("connect:", err)
		return
	}
	defer c.Close(websocket.StatusNormalClosure, "")
	fmt.Println(choice) // WebSocket, or: HTTP stream: WebSocket did not open within 1.5 s
	if err := c.WriteMessage(ctx, websocket.Text, []byte("hello")); err != nil {
		fmt.Println("write:", err)
		return
	}
	_, msg, err := c.ReadMessage(ctx, nil)
	fmt.Println(string(msg), err)
}
