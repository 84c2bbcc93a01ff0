//go:build js && wasm

// Command shimbench measures how fast messages go through duplex's Go API
// over the browser's WebSocket (duplex/wasm/websocket), for
// BenchmarkShimVsJS in measure_test.go, which compares it with the same
// loops written in plain JavaScript on the same page.
//
// It defines goBench(url, n, mode, transport) on the page, which connects
// to the echo endpoint at url and returns a promise of {ms, msgsPerSec}
// for n small text messages sent and echoed: one at a time, each waiting
// for its echo (mode "pingpong"), or all sent first and then all read
// ("pipelined"). Without a transport it dials a WebSocket with Dial; with
// "ws" or "stream", it connects with Connect, forced to that transport,
// for BenchmarkStreamVsWebSocket. goBenchReady is true once goBench is
// defined.
package main

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"syscall/js"

	"duplex/shared/conn"
	"duplex/wasm/websocket"
)

// warmup is how many round trips each run makes before it starts the clock.
const warmup = 100

// message is what each run sends: as small as a chat line or a game move.
var message = []byte("ping 0123456789a")

func main() {
	js.Global().Set("goBench", js.FuncOf(func(_ js.Value, args []js.Value) any {
		url, n, mode := args[0].String(), args[1].Int(), args[2].String()
		transport := ""
		if len(args) > 3 && args[3].Type() == js.TypeString {
			transport = args[3].String()
		}
		var executor js.Func
		executor = js.FuncOf(func(_ js.Value, settle []js.Value) any {
			executor.Release()
			resolve, reject := settle[0], settle[1]
			go func() { // the loop blocks: not on the browser's event loop
				ms, err := run(url, n, mode, transport)
				if err != nil {
					reject.Invoke(js.Global().Get("Error").New(err.Error()))
					return
				}
				resolve.Invoke(map[string]any{"ms": ms, "msgsPerSec": float64(n) / ms * 1000})
			}()
			return nil
		})
		return js.Global().Get("Promise").New(executor)
	}))
	js.Global().Set("goBenchReady", true)
	select {} // goBench is called until the page closes
}

// run connects, warms up, and returns how many milliseconds the n messages
// took, on the page's clock.
func run(url string, n int, mode, transport string) (float64, error) {
	if mode == "hooks" {
		return runHooks(url, n)
	}
	ctx := context.Background()
	c, err := dial(ctx, url, transport)
	if err != nil {
		return 0, err
	}
	defer c.Close(websocket.StatusNormalClosure, "")
	roundTrip := func() error {
		if err := c.WriteMessage(ctx, websocket.Text, message); err != nil {
			return err
		}
		return readEcho(ctx, c)
	}
	for range warmup {
		if err := roundTrip(); err != nil {
			return 0, err
		}
	}

	start := now()
	switch mode {
	case "pingpong":
		for range n {
			if err := roundTrip(); err != nil {
				return 0, err
			}
		}
	case "pipelined":
		for range n {
			if err := c.WriteMessage(ctx, websocket.Text, message); err != nil {
				return 0, err
			}
		}
		for range n {
			if err := readEcho(ctx, c); err != nil {
				return 0, err
			}
		}
	default:
		return 0, errors.New("unknown mode " + strconv.Quote(mode))
	}
	return now() - start, nil
}

// dial opens a WebSocket with Dial, or, if transport names one, connects
// with Connect forced to it.
func dial(ctx context.Context, url, transport string) (conn.Conn, error) {
	if transport == "" {
		return websocket.Dial(ctx, url, nil)
	}
	t, ok := websocket.ParseTransport(transport)
	if !ok {
		return nil, errors.New("unknown transport " + strconv.Quote(transport))
	}
	c, _, err := websocket.Connect(ctx, url, &websocket.Options{Transport: t})
	return c, err
}

func readEcho(ctx context.Context, c conn.Conn) error {
	typ, data, err := c.ReadMessage(ctx, nil)
	if err != nil {
		return err
	}
	if typ != websocket.Text || !bytes.Equal(data, message) {
		return errors.New("the echo differs from the message: " + strconv.Quote(string(data)))
	}
	return nil
}

// now is the page's clock, performance.now(), which the JavaScript loops
// use too.
func now() float64 { return js.Global().Get("performance").Call("now").Float() }

// runHooks is the ping-pong loop in the browser's model: the OnMessage hook
// sends the next message itself, with no goroutine in between.
func runHooks(url string, n int) (float64, error) {
	ctx := context.Background()
	var conn *websocket.Conn
	var start float64
	count := 0
	done := make(chan error, 1)
	opts := &websocket.Options{OnMessage: func(typ websocket.MessageType, data []byte) {
		count++
		if count == warmup {
			start = now()
		}
		if count == warmup+n {
			done <- nil
			return
		}
		if err := conn.WriteMessage(ctx, websocket.Text, message); err != nil {
			done <- err
		}
	}}
	conn, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return 0, err
	}
	defer conn.Close(websocket.StatusNormalClosure, "")
	if err := conn.WriteMessage(ctx, websocket.Text, message); err != nil {
		return 0, err
	}
	if err := <-done; err != nil {
		return 0, err
	}
	return now() - start, nil
}
