package streamclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"duplex/shared/streamwire"
)

// This file holds the in-memory server that the tests play: a Doer whose
// streams are pipes the test writes frames into, and which hands the test
// every request.

// A fakeServer answers a connection's requests as the test scripts it.
type fakeServer struct {
	t     *testing.T
	hello streamwire.Hello

	streams  chan *io.PipeWriter // each stream opened, for the test to write to
	requests chan *Request       // every down and up request, in order

	mu      sync.Mutex
	answers []answer // how to answer the next down or up requests, in order; none: 200 or 204
}

// An answer scripts the response to a request: a status with a reason, or
// a network error.
type answer struct {
	status int
	reason string
	fail   bool
}

var errNetwork = errors.New("fake: the network failed")

func newFakeServer(t *testing.T, hello streamwire.Hello) *fakeServer {
	if hello.Session == "" {
		hello.Session = "inst.secret"
	}
	if hello.Window == 0 {
		hello.Window = 1 << 20
	}
	if hello.MaxPost == 0 {
		hello.MaxPost = 1 << 20
	}
	if hello.Heartbeat == 0 {
		hello.Heartbeat = time.Minute
	}
	if hello.Timeout == 0 {
		hello.Timeout = time.Minute
	}
	return &fakeServer{t: t, hello: hello, streams: make(chan *io.PipeWriter, 16), requests: make(chan *Request, 256)}
}

// script queues answers for the next requests.
func (s *fakeServer) script(a ...answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers = append(s.answers, a...)
}

func (s *fakeServer) Do(ctx context.Context, req *Request) (*Response, error) {
	op := "open"
	if !strings.Contains(req.URL, "stream=open") {
		op = "other"
		s.requests <- req
		s.mu.Lock()
		var a answer
		if len(s.answers) > 0 {
			a, s.answers = s.answers[0], s.answers[1:]
		}
		s.mu.Unlock()
		switch {
		case a.fail:
			return nil, errNetwork
		case a.status != 0:
			return &Response{Status: a.status, Body: io.NopCloser(strings.NewReader(a.reason + "\n"))}, nil
		case req.Method == "POST":
			return &Response{Status: 204, Body: io.NopCloser(strings.NewReader(""))}, nil
		}
	}
	r, w := io.Pipe()
	go func() {
		<-ctx.Done()
		w.CloseWithError(ctx.Err())
	}()
	if op == "open" {
		payload, _ := s.hello.Append(nil)
		go w.Write(streamwire.AppendFrame(nil, streamwire.Frame{Kind: streamwire.KindHello, Payload: payload}))
	}
	s.streams <- w
	return &Response{Status: 200, Body: r}, nil
}

func (s *fakeServer) Send(req *Request) { s.requests <- req }

// dial opens a connection to s, and closes it when the test ends.
func (s *fakeServer) dial(opts *Options) (*Conn, *io.PipeWriter) {
	s.t.Helper()
	c, err := Dial(testContext(s.t), s, "http://test/ws", opts)
	if err != nil {
		s.t.Fatalf("Dial: %v", err)
	}
	s.t.Cleanup(func() { c.CloseNow() })
	return c, s.stream()
}

// stream returns the next stream the connection opens.
func (s *fakeServer) stream() *io.PipeWriter {
	s.t.Helper()
	select {
	case w := <-s.streams:
		return w
	case <-time.After(5 * time.Second):
		s.t.Fatal("no stream was opened")
		return nil
	}
}

// request returns the next down or up request.
func (s *fakeServer) request() *Request {
	s.t.Helper()
	select {
	case r := <-s.requests:
		return r
	case <-time.After(5 * time.Second):
		s.t.Fatal("no request came")
		return nil
	}
}

// frames returns the frames of an up request's body.
func frames(t *testing.T, req *Request) []streamwire.Frame {
	t.Helper()
	var out []streamwire.Frame
	for b := req.Body; len(b) > 0; {
		f, n, err := streamwire.Parse(b, 1<<20)
		if err != nil {
			t.Fatalf("the POST's body % x: %v", req.Body, err)
		}
		out = append(out, f)
		b = b[n:]
	}
	return out
}

// describe lists frames as kind:seq:payload.
func describe(fs []streamwire.Frame) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, f.Kind.String()+":"+strconv.FormatUint(f.Seq, 10)+":"+string(f.Payload))
	}
	return strings.Join(parts, " ")
}

// send writes frames to a stream.
func send(t *testing.T, w *io.PipeWriter, fs ...streamwire.Frame) {
	t.Helper()
	var b []byte
	for _, f := range fs {
		b = streamwire.AppendFrame(b, f)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatalf("writing to the stream: %v", err)
	}
}

func text(seq uint64, s string) streamwire.Frame {
	return streamwire.Frame{Kind: streamwire.KindText, Seq: seq, Payload: []byte(s)}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// read reads a message from c and returns its text, or the error.
func read(t *testing.T, c *Conn) string {
	t.Helper()
	_, p, err := c.ReadMessage(testContext(t), nil)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(p)
}

// The fake keeps the Doer's contract.
var _ Doer = (*fakeServer)(nil)

// bytesOf returns the bytes of frames, encoded.
func bytesOf(fs ...streamwire.Frame) []byte {
	var b bytes.Buffer
	for _, f := range fs {
		b.Write(streamwire.AppendFrame(nil, f))
	}
	return b.Bytes()
}
