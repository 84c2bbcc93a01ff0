//go:build !js

package conn_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"duplex/server/ws"
	"duplex/shared/conn"
	"duplex/shared/wire"
)

// greet is application code written once against conn.Conn: it runs the
// same over server/ws's native client and over wasm/websocket in a page.
func greet(ctx context.Context, c conn.Conn, name string) (string, error) {
	if err := c.WriteMessage(ctx, wire.Text, []byte("hello, "+name)); err != nil {
		return "", err
	}
	_, reply, err := c.ReadMessage(ctx, nil)
	return string(reply), err
}

// A connection that comes back: each new connection says hello in OnOpen,
// before anything else is written on it.
func ExampleReconnect() {
	srv := httptest.NewServer(echo())
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	dial := func(ctx context.Context) (conn.Conn, error) { return ws.Dial(ctx, url, nil) }
	r := conn.Reconnect(dial, &conn.ReconnectOptions{
		OnOpen: func(c conn.Conn) error {
			return c.WriteMessage(context.Background(), wire.Text, []byte("hello again"))
		},
	})
	_, msg, err := r.ReadMessage(context.Background(), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", msg)
	r.Close(wire.StatusNormalClosure, "")
	// Output: hello again
}

// The same code over any Conn.
func ExampleConn() {
	srv := httptest.NewServer(echo())
	defer srv.Close()
	ctx := context.Background()
	c, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	reply, err := greet(ctx, c, "Go")
	fmt.Println(reply, err)
	// Output: hello, Go <nil>
}

// echo serves a WebSocket echo.
func echo() http.Handler {
	var u ws.Upgrader
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.ReadMessage(r.Context(), nil)
			if err != nil || c.WriteMessage(r.Context(), typ, msg) != nil {
				return
			}
		}
	})
}
