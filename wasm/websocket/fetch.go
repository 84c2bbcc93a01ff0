//go:build js && wasm

package websocket

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall/js"

	"duplex/shared/streamclient"
	"duplex/shared/streamwire"
)

// This file makes the HTTP stream's requests with the browser's fetch: a
// streamclient.Doer whose response bodies are read chunk by chunk from a
// ReadableStream, so that the stream's frames come as they are flushed,
// binary included.

// fetcher is the streamclient.Doer of the browser.
type fetcher struct{}

// init returns the fetch options of req.
func fetchInit(req *streamclient.Request, signal js.Value, keepalive bool) js.Value {
	object := js.Global().Get("Object")
	headers := object.New()
	if req.Session != "" {
		headers.Set(streamwire.HeaderSession, req.Session)
	}
	opts := object.New()
	opts.Set("method", req.Method)
	opts.Set("cache", "no-store")
	opts.Set("credentials", "same-origin")
	if req.Body != nil {
		headers.Set("Content-Type", streamwire.ContentType)
		body := js.Global().Get("Uint8Array").New(len(req.Body))
		js.CopyBytesToJS(body, req.Body)
		opts.Set("body", body)
	}
	opts.Set("headers", headers)
	if !signal.IsUndefined() {
		opts.Set("signal", signal)
	}
	if keepalive {
		opts.Set("keepalive", true)
	}
	return opts
}

// Do fetches req; ctx's end aborts the fetch, body included.
func (fetcher) Do(ctx context.Context, req *streamclient.Request) (*streamclient.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	controller := js.Global().Get("AbortController").New()
	var promise js.Value
	if err := catch(func() {
		promise = js.Global().Call("fetch", req.URL, fetchInit(req, controller.Get("signal"), false))
	}); err != nil {
		return nil, err
	}
	body := &fetchBody{controller: controller, done: make(chan struct{})}
	go func() { // until the body is closed
		select {
		case <-ctx.Done():
			body.abort()
		case <-body.done:
		}
	}()
	resp, err := await(promise)
	if err != nil {
		body.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if stream := resp.Get("body"); !stream.IsNull() && !stream.IsUndefined() {
		body.reader = stream.Call("getReader")
	}
	return &streamclient.Response{Status: resp.Get("status").Int(), Body: body}, nil
}

// Send fetches req with keepalive and does not wait: the browser sends it
// even if the page is being unloaded. Its failure is nobody's concern: a
// JavaScript function that does nothing handles it.
func (fetcher) Send(req *streamclient.Request) {
	catch(func() {
		ignore := js.Global().Get("Function").New("")
		js.Global().Call("fetch", req.URL, fetchInit(req, js.Undefined(), true)).Call("catch", ignore)
	})
}

// A fetchBody reads a fetch's response body. Reads come from one goroutine
// at a time; Close may come from any, and more than once.
type fetchBody struct {
	controller js.Value
	reader     js.Value      // the body's ReadableStreamDefaultReader; undefined if it has none
	rest       js.Value      // what the last chunk held beyond the last Read
	done       chan struct{} // closed by Close

	once sync.Once
}

// Read copies the next bytes of the body into p, waiting for a chunk if
// none is left.
func (b *fetchBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	select {
	case <-b.done:
		return 0, errBodyClosed
	default:
	}
	if b.reader.IsUndefined() {
		return 0, io.EOF
	}
	for b.rest.IsUndefined() || b.rest.Length() == 0 {
		r, err := await(b.reader.Call("read"))
		if err != nil {
			return 0, err
		}
		if r.Get("done").Bool() {
			return 0, io.EOF
		}
		b.rest = r.Get("value")
	}
	n := js.CopyBytesToGo(p, b.rest)
	b.rest = b.rest.Call("subarray", n)
	return n, nil
}

var errBodyClosed = errors.New("http stream: the response body is closed")

// Close stops reading the body, and the fetch.
func (b *fetchBody) Close() error {
	b.once.Do(func() {
		close(b.done)
		b.abort()
	})
	return nil
}

// abort aborts the fetch: a Read that waits ends with an error.
func (b *fetchBody) abort() { b.controller.Call("abort") }

// await waits for promise to settle, and returns its value, or its
// rejection as an error.
func await(promise js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	var then, fail js.Func
	then = js.FuncOf(func(_ js.Value, args []js.Value) any {
		then.Release() // allowed while it runs
		fail.Release()
		ch <- result{v: args[0]}
		return nil
	})
	fail = js.FuncOf(func(_ js.Value, args []js.Value) any {
		then.Release()
		fail.Release()
		msg := "the request failed"
		if len(args) > 0 && args[0].Type() == js.TypeObject {
			if m := args[0].Get("message"); m.Type() == js.TypeString {
				msg = m.String()
			}
		}
		ch <- result{err: errors.New("http stream: " + msg)}
		return nil
	})
	promise.Call("then", then, fail)
	r := <-ch
	return r.v, r.err
}
