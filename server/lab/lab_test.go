package lab

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"duplex/server/ws"
	"duplex/shared/handshake"
	"duplex/shared/lab"
	"duplex/shared/wire"
)

// These tests play the browser's part with ws.Dial, the native client: like
// a browser, it masks its frames, answers pings and close frames by itself,
// and fails on a frame that breaks the protocol, invalid UTF-8 included.

const testTimeout = 10 * time.Second

// testContext returns a context that ends after testTimeout, or with the
// test.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// dial opens a WebSocket connection to url, offering subprotocols, and
// closes it when the test ends.
func dial(t *testing.T, url string, subprotocols ...string) *ws.Conn {
	t.Helper()
	c, err := ws.Dial(testContext(t), url, &ws.DialOptions{Subprotocols: subprotocols})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// labServer serves the lab's endpoints at /trace and /lab, on a listener
// that records request heads, as the lab demo's Listener does.
func labServer(t *testing.T) string {
	t.Helper()
	s := NewServer(nil, nil, 0)
	mux := http.NewServeMux()
	mux.HandleFunc("/trace", s.ServeTrace)
	mux.HandleFunc("/lab", s.ServeConn)
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener = RecordHeads(srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// A traceClient is the page's trace channel.
type traceClient struct {
	t       *testing.T
	conn    *ws.Conn
	reports chan lab.Message
	id      string
}

func openTrace(t *testing.T, url string) *traceClient {
	t.Helper()
	c := dial(t, url+"/trace", lab.Subprotocol)
	if p := c.Subprotocol(); p != lab.Subprotocol {
		t.Errorf("subprotocol %q, want %q", p, lab.Subprotocol)
	}
	tc := &traceClient{t: t, conn: c, reports: make(chan lab.Message, 4096)}
	go func() {
		defer close(tc.reports)
		for {
			typ, b, err := c.ReadMessage(context.Background(), nil)
			if err != nil {
				return
			}
			m, err := lab.Decode(b)
			if typ != ws.Binary || err != nil {
				t.Errorf("trace channel: %v message: %v", typ, err)
				return
			}
			tc.reports <- m
		}
	}()
	tc.id = expect[*lab.Session](tc).ID
	return tc
}

// next returns the next report.
func (tc *traceClient) next() lab.Message {
	tc.t.Helper()
	select {
	case m, ok := <-tc.reports:
		if !ok {
			tc.t.Fatal("the trace channel closed")
		}
		return m
	case <-time.After(testTimeout):
		tc.t.Fatal("no report came")
	}
	return nil
}

// expect returns the next report, which must be a T.
func expect[T lab.Message](tc *traceClient) T {
	tc.t.Helper()
	m := tc.next()
	v, ok := m.(T)
	if !ok {
		var want T
		tc.t.Fatalf("got report %#v, want a %T", m, want)
	}
	return v
}

// expectFrame returns the next report, which must be a frame in the given
// direction with the given header bytes.
func (tc *traceClient) expectFrame(sent bool, header []byte) *lab.Frame {
	tc.t.Helper()
	f := expect[*lab.Frame](tc)
	if f.Sent != sent || !bytes.Equal(f.Header, header) {
		tc.t.Fatalf("frame sent=%v header % x, want sent=%v header % x", f.Sent, f.Header, sent, header)
	}
	return f
}

func (tc *traceClient) command(m lab.Message) {
	tc.t.Helper()
	if err := tc.conn.WriteMessage(testContext(tc.t), ws.Binary, lab.Append(nil, m)); err != nil {
		tc.t.Fatal(err)
	}
}

// openLab opens a lab connection for the trace channel's session and
// returns it with the handshake reported.
func (tc *traceClient) openLab(url string) (*ws.Conn, *lab.Handshake) {
	tc.t.Helper()
	c := dial(tc.t, url+"/lab?session="+tc.id)
	return c, expect[*lab.Handshake](tc)
}

// unmasked returns a frame's payload unmasked with the key in its header.
func unmasked(f *lab.Frame) []byte {
	h, _, err := wire.ParseHeader(f.Header)
	p := bytes.Clone(f.Payload)
	if err == nil && h.Masked {
		wire.Mask(h.Mask, 0, p)
	}
	return p
}

func TestLab(t *testing.T) {
	url := labServer(t)
	tc := openTrace(t, url)
	c, hs := tc.openLab(url)

	// The handshake, as received and as sent.
	if hs.Rebuilt || !strings.HasPrefix(string(hs.Request), "GET /lab?session="+tc.id+" HTTP/1.1\r\n") ||
		!strings.HasSuffix(string(hs.Request), "\r\n\r\n") {
		t.Errorf("request (rebuilt %v):\n%s", hs.Rebuilt, hs.Request)
	}
	// ws.Dial spells the header so; net/http's map would say Sec-Websocket-Key.
	if !strings.Contains(string(hs.Request), "\r\nSec-WebSocket-Key: "+hs.Key+"\r\n") {
		t.Errorf("the request does not carry its key as sent:\n%s", hs.Request)
	}
	if hs.KeyGUID != hs.Key+handshake.KeyGUID || len(hs.SHA1) != 20 || hs.Accept != handshake.AcceptKey(hs.Key) {
		t.Errorf("accept steps: %q → %q → %x → %q", hs.Key, hs.KeyGUID, hs.SHA1, hs.Accept)
	}
	if !strings.HasPrefix(string(hs.Response), "HTTP/1.1 101 Switching Protocols\r\n") ||
		!strings.Contains(string(hs.Response), "\r\nSec-WebSocket-Accept: "+hs.Accept+"\r\n") ||
		!strings.HasSuffix(string(hs.Response), "\r\n\r\n") {
		t.Errorf("response:\n%s", hs.Response)
	}

	// A message and its echo: masked on the way in, not on the way out.
	if err := c.WriteMessage(testContext(t), ws.Text, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	in := expect[*lab.Frame](tc)
	if in.Sent || len(in.Header) != 6 || in.Header[0] != 0x81 || in.Header[1] != 0x85 {
		t.Fatalf("received frame: sent=%v header % x", in.Sent, in.Header)
	}
	if bytes.Equal(in.Payload, []byte("hello")) && !bytes.Equal(in.Header[2:], make([]byte, 4)) {
		t.Errorf("the payload %q was reported unmasked", in.Payload)
	}
	if got := unmasked(in); string(got) != "hello" {
		t.Errorf("payload % x unmasks to %q", in.Payload, got)
	}
	out := tc.expectFrame(true, []byte{0x81, 0x05})
	if string(out.Payload) != "hello" || out.Seq != in.Seq+1 || out.Micros < in.Micros {
		t.Errorf("sent frame %d at %d µs %q after received %d at %d µs", out.Seq, out.Micros, out.Payload, in.Seq, in.Micros)
	}
	readMessage(t, c, ws.Text, "hello")

	// A message in three frames arrives as one.
	tc.command(&lab.Fragment{N: 3, Text: "fragmented"})
	tc.expectFrame(true, []byte{0x01, 0x03})
	tc.expectFrame(true, []byte{0x00, 0x03})
	tc.expectFrame(true, []byte{0x80, 0x04})
	readMessage(t, c, ws.Text, "fragmented")

	// A ping, answered by the client by itself while it reads.
	readErr := make(chan error, 1)
	ctx := testContext(t)
	go func() {
		_, _, err := c.ReadMessage(ctx, nil)
		readErr <- err
	}()
	tc.command(&lab.Ping{})
	ping := tc.expectFrame(true, []byte{0x89, 0x08})
	pong := expect[*lab.Frame](tc)
	if h, _, _ := wire.ParseHeader(pong.Header); pong.Sent || h.Opcode != wire.OpPong || !bytes.Equal(unmasked(pong), ping.Payload) {
		t.Fatalf("after the ping: frame sent=%v header % x payload % x", pong.Sent, pong.Header, unmasked(pong))
	}
	if n := expect[*lab.Note](tc); !strings.Contains(n.Text, "pong after") {
		t.Errorf("note after the pong: %q", n.Text)
	}

	// A close started by the server, answered by the client.
	tc.command(&lab.Close{Code: 4001, Reason: "bye"})
	if f := tc.expectFrame(true, []byte{0x88, 0x05}); !bytes.Equal(f.Payload, []byte("\x0f\xa1bye")) {
		t.Errorf("close payload % x", f.Payload)
	}
	select {
	case err := <-readErr:
		if ce := (*ws.CloseError)(nil); !errors.As(err, &ce) || ce.Code != 4001 {
			t.Errorf("the client's read ended with %v, want close 4001", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("the client did not see the close")
	}
	if f := expect[*lab.Frame](tc); f.Sent || !bytes.HasPrefix(unmasked(f), []byte{0x0f, 0xa1}) {
		t.Errorf("the client's answer: sent=%v header % x payload % x", f.Sent, f.Header, unmasked(f))
	}
	if n := expect[*lab.Note](tc); !strings.Contains(n.Text, "the server sent a close frame and the browser answered with close 4001") {
		t.Errorf("note at the end: %q", n.Text)
	}

	// The session lives on: a second connection starts counting again.
	c2, hs2 := tc.openLab(url)
	if hs2.Key == hs.Key {
		t.Error("the second connection reported the first one's handshake")
	}
	c2.WriteMessage(testContext(t), ws.Binary, []byte{1, 2})
	if f := expect[*lab.Frame](tc); f.Seq != 1 || f.Header[0] != 0x82 {
		t.Errorf("first frame of the second connection: seq %d header % x", f.Seq, f.Header)
	}
}

func readMessage(t *testing.T, c *ws.Conn, wantType ws.MessageType, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	typ, p, err := c.ReadMessage(ctx, nil)
	if err != nil || typ != wantType || string(p) != want {
		t.Fatalf("ReadMessage = %v %q %v, want %v %q", typ, p, err, wantType, want)
	}
}

// TestLabViolations asks for each broken frame: the trace shows its exact
// bytes, the client fails the connection, and a note says how it ended.
func TestLabViolations(t *testing.T) {
	url := labServer(t)
	tc := openTrace(t, url)
	for _, rule := range lab.Rules {
		t.Run(rule.String(), func(t *testing.T) {
			c, _ := tc.openLab(url)
			tc.command(&lab.Violate{Rule: rule})
			want, _ := violation(rule)
			f := expect[*lab.Frame](tc)
			if got := append(bytes.Clone(f.Header), f.Payload...); !f.Sent || !bytes.Equal(got, want) {
				t.Fatalf("reported sent=%v % x, want sent % x", f.Sent, got, want)
			}
			// The client fails the connection on every rule, with 1007 for
			// text that is not UTF-8 and 1002 for the others, as a browser
			// does.
			wantCode := ws.StatusProtocolError
			if rule == lab.RuleUTF8 {
				wantCode = ws.StatusInvalidPayloadData
			}
			_, p, err := c.ReadMessage(testContext(t), nil)
			if err == nil {
				t.Fatalf("the client took the frame: %q", p)
			}
			if werr := (*wire.Error)(nil); !errors.As(err, &werr) || werr.Code != wantCode {
				t.Fatalf("the client's read failed with %v, want a *wire.Error with code %d", err, wantCode)
			}
			c.CloseNow()
			for {
				if n, ok := tc.next().(*lab.Note); ok {
					if !strings.HasPrefix(n.Text, "The lab connection ended: ") {
						t.Errorf("note: %q", n.Text)
					}
					break
				}
			}
		})
	}
}

// TestViolationsBreakTheRules checks each frame against package wire's own
// rules: the reader a server uses must refuse it too.
func TestViolationsBreakTheRules(t *testing.T) {
	for _, rule := range lab.Rules {
		frame, ok := violation(rule)
		if !ok {
			t.Fatalf("no frame for rule %d", rule)
		}
		h, n, err := wire.ParseHeader(frame)
		if err != nil {
			t.Fatalf("%v: % x does not parse: %v", rule, frame, err)
		}
		payload := frame[n:]
		broken := h.Check(0, false) != nil // as a client checks a server's frame
		switch rule {
		case lab.RuleUTF8:
			var v wire.UTF8Validator
			broken = h.Opcode == wire.OpText && !(v.Write(payload) && v.Complete())
		case lab.RuleContinuation: // sent with no message begun
			broken = h.Opcode == wire.OpContinuation
		}
		if !broken {
			t.Errorf("%v: % x breaks no rule", rule, frame)
		}
	}
	if _, ok := violation(0); ok {
		t.Error("rule 0 has a frame")
	}
}

func TestLabCommandErrors(t *testing.T) {
	url := labServer(t)
	tc := openTrace(t, url)

	tc.command(&lab.Ping{})
	if n := expect[*lab.Note](tc); !strings.Contains(n.Text, "connect first") {
		t.Errorf("a command with no lab connection: %q", n.Text)
	}
	tc.openLab(url)
	for _, tt := range []struct {
		cmd  lab.Message
		want string
	}{
		{&lab.Fragment{N: 0, Text: "abc"}, "1 to 64 fragments"},
		{&lab.Fragment{N: 65, Text: strings.Repeat("x", 100)}, "1 to 64 fragments"},
		{&lab.Fragment{N: 4, Text: "abc"}, "too few for 4 fragments"},
		{&lab.Fragment{N: 2, Text: strings.Repeat("x", maxFragmentText+1)}, "longer than"},
		{&lab.Close{Code: 1005}, "may not be sent"},
		{&lab.Close{Code: 1000, Reason: strings.Repeat("r", 124)}, "at most 123 bytes"},
		{&lab.Violate{Rule: 99}, "no rule 99"},
		{&lab.Note{Text: "from the page"}, "takes no message of kind 4"},
	} {
		tc.command(tt.cmd)
		if n := expect[*lab.Note](tc); !strings.Contains(n.Text, tt.want) {
			t.Errorf("%#v: note %q, want it to say %q", tt.cmd, n.Text, tt.want)
		}
	}
	// Bytes that are no command at all.
	tc.conn.WriteMessage(testContext(t), ws.Binary, []byte{9, 9})
	if n := expect[*lab.Note](tc); !strings.Contains(n.Text, "could not read a command") {
		t.Errorf("garbage: note %q", n.Text)
	}
}

// TestLabRefusals checks the lab connection's answers to bad requests.
func TestLabRefusals(t *testing.T) {
	url := labServer(t)
	httpURL := "http" + strings.TrimPrefix(url, "ws")

	resp, err := http.Get(httpURL + "/lab?session=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("plain GET: status %d, want 426", resp.StatusCode)
	}

	c, err := ws.Dial(testContext(t), url+"/lab?session=nosuch", nil)
	if err == nil {
		c.CloseNow()
		t.Fatal("a lab connection for no session was accepted")
	}
	// The reason is the first line of the response's body.
	var herr *ws.HandshakeError
	if !errors.As(err, &herr) || herr.Status != http.StatusBadRequest || !strings.Contains(herr.Reason, `no lab session "nosuch"`) {
		t.Errorf("unknown session: %v", err)
	}
}

// TestLabCap checks that a connection's frames are reported up to the cap
// and counted beyond it.
func TestLabCap(t *testing.T) {
	url := labServer(t)
	tc := openTrace(t, url)
	c, _ := tc.openLab(url)
	const messages = maxFrames/2 + 100 // each comes back: 200 frames over the cap
	ctx := testContext(t)
	for i := range messages {
		if err := c.WriteMessage(ctx, ws.Binary, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		readMessage(t, c, ws.Binary, string([]byte{byte(i)}))
	}
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Errorf("closing handshake: %v", err)
	}
	frames := 0
	var notes []string
	for len(notes) < 2 {
		switch m := tc.next().(type) {
		case *lab.Frame:
			frames++
		case *lab.Note:
			notes = append(notes, m.Text)
		}
	}
	if frames != maxFrames {
		t.Errorf("%d frames reported, want %d", frames, maxFrames)
	}
	// 200 echo frames, the client's close and the server's answer.
	if want := "202 frames were not reported"; !strings.HasPrefix(notes[1], want) {
		t.Errorf("notes %q, want the second to say %q", notes, want)
	}
}

// TestLabConnAfterPageLeft covers a lab connection that completes its
// handshake just after its session's page went away: it is closed with
// 1001 instead of echoing for nobody.
func TestLabConnAfterPageLeft(t *testing.T) {
	s := NewServer(nil, nil, 0)
	mux := http.NewServeMux()
	mux.HandleFunc("/trace", s.ServeTrace)
	mux.HandleFunc("/lab", s.ServeConn)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	tc := openTrace(t, url)
	s.mu.Lock()
	sess := s.sessions[tc.id]
	s.mu.Unlock()
	sess.end() // as the trace channel's end does, before the session leaves the map

	c := dial(t, url+"/lab?session="+tc.id)
	_, _, err := c.ReadMessage(testContext(t), nil)
	if ce := (*ws.CloseError)(nil); !errors.As(err, &ce) || ce.Code != ws.StatusGoingAway || !strings.Contains(ce.Reason, "went away") {
		t.Errorf("the lab connection read %v, want close 1001 saying the page went away", err)
	}
}
