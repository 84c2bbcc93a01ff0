package ws_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"duplex/server/ws"
)

// An echo server: every message goes back with its own type.
func ExampleUpgrader_Upgrade() {
	u := &ws.Upgrader{Subprotocols: []string{"echo"}}
	handler := func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r)
		if err != nil {
			return // Upgrade has answered the request with the reason.
		}
		go func() { // and return, so that net/http frees the request
			defer c.CloseNow()
			ctx := context.Background()
			var msg []byte
			for {
				typ, m, err := c.ReadMessage(ctx, msg)
				if err != nil {
					return // a *ws.CloseError once the peer closed
				}
				msg = m // reuse its memory for the next message
				if err := c.WriteMessage(ctx, typ, msg); err != nil {
					return
				}
			}
		}()
	}
	srv := httptest.NewServer(http.HandlerFunc(handler))
	defer srv.Close()

	c, err := ws.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), &ws.DialOptions{Subprotocols: []string{"echo"}})
	if err != nil {
		log.Fatal(err)
	}
	c.WriteMessage(context.Background(), ws.Text, []byte("hello"))
	_, msg, _ := c.ReadMessage(context.Background(), nil)
	fmt.Printf("%s, over %q\n", msg, c.Subprotocol())
	c.Close(ws.StatusNormalClosure, "")
	// Output: hello, over "echo"
}

// A client: dial, send, read the answer, and close with the handshake.
func ExampleDial() {
	srv := httptest.NewServer(echoHandler())
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") // ws://127.0.0.1:…

	ctx := context.Background()
	c, err := ws.Dial(ctx, url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.WriteMessage(ctx, ws.Text, []byte("ping?")); err != nil {
		log.Fatal(err)
	}
	typ, msg, err := c.ReadMessage(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(typ, string(msg))
	if err := c.Close(ws.StatusNormalClosure, "bye"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Err())
	// Output:
	// text ping?
	// websocket: closed: 1000 (normal closure) "bye"
}

// How a connection ended, whoever ended it.
func ExampleCloseStatus() {
	srv := httptest.NewServer(echoHandler())
	defer srv.Close()
	c, err := ws.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	c.CloseNow()
	_, _, err = c.ReadMessage(context.Background(), nil)
	fmt.Println(err, int(ws.CloseStatus(err)))
	// Output: websocket: connection closed 1006
}

// echoHandler serves an echo on every path.
func echoHandler() http.Handler {
	var u ws.Upgrader
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.ReadMessage(r.Context(), nil)
			if err != nil {
				return
			}
			c.WriteMessage(r.Context(), typ, msg)
		}
	})
}

// Compression: the server accepts permessage-deflate from clients that
// offer it, as browsers do, and the native client offers it. Messages of
// at least the threshold go out compressed; Extensions says what was
// agreed.
func ExampleCompressionOptions() {
	u := &ws.Upgrader{Compression: &ws.CompressionOptions{}} // defaults: level 1, 128-byte threshold, context takeover
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.ReadMessage(r.Context(), nil)
			if err != nil {
				return
			}
			c.WriteMessage(r.Context(), typ, msg) // compressed if large enough
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	c, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &ws.DialOptions{Compression: &ws.CompressionOptions{}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	fmt.Println(c.Extensions())

	msg := []byte(strings.Repeat(`{"room":"general","text":"hello"},`, 100))
	c.WriteMessage(ctx, ws.Text, msg)
	_, echo, _ := c.ReadMessage(ctx, nil)
	fmt.Println(len(echo) == len(msg))

	// A message whose data is compressed already goes out as it is.
	w, _ := c.NextWriter(ctx, ws.Binary)
	w.SetCompressed(false)
	w.Write([]byte{0x1f, 0x8b, 0x08}) // say, gzip
	w.Close()
	c.Close(ws.StatusNormalClosure, "")
	// Output:
	// permessage-deflate; client_no_context_takeover
	// true
}
