package httpstream

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"duplex/shared/streamclient"
	"duplex/shared/streamwire"
)

// Dial opens a session of the HTTP stream transport at url, an http or
// https URL of an endpoint, with client (nil for http.DefaultClient), and
// returns the connection once the server's Hello has arrived: the native
// client of the transport, for programs and tests, as ws.Dial is for
// WebSocket. The browser's is in duplex/wasm/websocket.
func Dial(ctx context.Context, url string, client *http.Client, opts *streamclient.Options) (*streamclient.Conn, error) {
	return streamclient.Dial(ctx, Doer(client), url, opts)
}

// Doer returns a streamclient.Doer that makes its requests with client
// (nil for http.DefaultClient).
func Doer(client *http.Client) streamclient.Doer {
	if client == nil {
		client = http.DefaultClient
	}
	return httpDoer{client}
}

type httpDoer struct{ client *http.Client }

func (d httpDoer) Do(ctx context.Context, req *streamclient.Request) (*streamclient.Response, error) {
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	r, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return nil, err
	}
	if req.Session != "" {
		r.Header.Set(streamwire.HeaderSession, req.Session)
	}
	if req.Body != nil {
		r.Header.Set("Content-Type", streamwire.ContentType)
	}
	resp, err := d.client.Do(r)
	if err != nil {
		return nil, err
	}
	return &streamclient.Response{Status: resp.StatusCode, Body: resp.Body}, nil
}

// Send makes req on a goroutine of its own: a native program goes on
// running while it does.
func (d httpDoer) Send(req *streamclient.Request) {
	go func() {
		resp, err := d.Do(context.Background(), req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
}
