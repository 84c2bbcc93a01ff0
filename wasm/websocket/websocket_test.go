//go:build js && wasm

package websocket

// These tests run in a browser page (see browser_test.go, which builds and
// runs them), against the page's own server, so relative URLs reach its
// endpoints:
//
//	/ws/echo                 sends every message back
//	/ws/echo-proto           the same, speaking the subprotocol "duplex.v1"
//	/ws/close-after-first    sends the first message back, then closes with 4001 "server bye"
//	/ws/burst-then-close     at the first message, sends 64 in one write, then closes with 1000
//	/ws/slow                 takes 5 ms over each message; answers the text "count"
//	                         with the number of binary bytes read so far
//	/ws/stall                never answers the handshake
//	/ws/drop-after?n=N&ms=M  sends N messages back, waits M ms, then drops the
//	                         connection: closes it without a close frame, so the
//	                         browser reports 1006, as when the network fails
//
// Any other path under /ws/ is a 404. Every test closes what it opens: a
// callback that fires after the program has exited is an uncaught exception
// in the page, which fails the run.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"duplex/shared/conn"
	"duplex/shared/wire"
)

// testContext bounds one test's waits, so a hang fails the test rather
// than the whole run.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mustDial connects to url and closes the connection when the test ends.
func mustDial(t *testing.T, url string, opts *Options) *Conn {
	t.Helper()
	c, err := Dial(testContext(t), url, opts)
	if err != nil {
		t.Fatalf("Dial(%q): %v", url, err)
	}
	t.Cleanup(func() { closeQuietly(c) })
	return c
}

// closeQuietly closes c unless it is closed already, and waits for its
// close event: one that came after the program's end would fail the run.
func closeQuietly(c *Conn) {
	if c.Err() == nil {
		c.Close(1000, "test over")
	}
	c.awaitRelease()
}

// pageHost is the host:port the page was served from.
func pageHost() string { return js.Global().Get("location").Get("host").String() }

// payload returns n bytes of test data: printable ASCII for text, every byte
// value for binary.
func payload(typ MessageType, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		if typ == Text {
			p[i] = 'a' + byte(i%26)
		} else {
			p[i] = byte(i*7 + i>>8)
		}
	}
	return p
}

// describe shows a CloseError's fields (%+v would show its Error text).
func describe(ce *CloseError) string {
	if ce == nil {
		return "<nil>"
	}
	return "{Code:" + strconv.Itoa(int(ce.Code)) + " Reason:" + strconv.Quote(ce.Reason) + " WasClean:" + strconv.FormatBool(ce.WasClean) + "}"
}

func asCloseError(t *testing.T, err error) *CloseError {
	t.Helper()
	var ce *CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("got error %v (%T), want a *CloseError", err, err)
	}
	return ce
}

func TestEcho(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)
	for _, typ := range []MessageType{Text, Binary} {
		for _, n := range []int{0, 1, 64 << 10, 1 << 20} {
			t.Run(typ.String()+"/"+strconv.Itoa(n), func(t *testing.T) {
				want := payload(typ, n)
				if err := c.WriteMessage(ctx, typ, want); err != nil {
					t.Fatalf("WriteMessage: %v", err)
				}
				gotTyp, got, err := c.ReadMessage(ctx, nil)
				if err != nil {
					t.Fatalf("ReadMessage: %v", err)
				}
				if gotTyp != typ {
					t.Errorf("type = %v, want %v", gotTyp, typ)
				}
				if !bytes.Equal(got, want) {
					i := 0
					for i < min(len(got), len(want)) && got[i] == want[i] {
						i++
					}
					t.Errorf("echo of %d bytes came back as %d bytes, first difference at %d", len(want), len(got), i)
				}
			})
		}
	}
}

func TestMessageOrder(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)
	const n = 100
	for i := range n {
		typ, msg := Text, []byte("message "+strconv.Itoa(i))
		if i%2 == 1 {
			typ, msg = Binary, binary.BigEndian.AppendUint32(nil, uint32(i))
		}
		if err := c.WriteMessage(ctx, typ, msg); err != nil {
			t.Fatalf("WriteMessage #%d: %v", i, err)
		}
	}
	for i := range n {
		typ, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			t.Fatalf("ReadMessage #%d: %v", i, err)
		}
		wantTyp, want := Text, []byte("message "+strconv.Itoa(i))
		if i%2 == 1 {
			wantTyp, want = Binary, binary.BigEndian.AppendUint32(nil, uint32(i))
		}
		if typ != wantTyp || !bytes.Equal(msg, want) {
			t.Fatalf("message #%d = %v %q, want %v %q", i, typ, msg, wantTyp, want)
		}
	}
}

func TestResolveURL(t *testing.T) {
	host := pageHost() // the page is http://host/
	for _, tc := range []struct{ in, want string }{
		{"/ws/echo", "ws://" + host + "/ws/echo"},
		{"ws/echo", "ws://" + host + "/ws/echo"},
		{"/ws/echo?x=1#frag", "ws://" + host + "/ws/echo?x=1#frag"},
		{"http://" + host + "/a", "ws://" + host + "/a"},
		{"https://example.com/a", "wss://example.com/a"},
		{"ws://example.com:8080/a", "ws://example.com:8080/a"},
		{"wss://example.com/a", "wss://example.com/a"},
	} {
		got, err := resolve(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("resolve(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if got, err := resolve("http://[::1"); err == nil {
		t.Errorf("resolve of a malformed URL = %q, want an error", got)
	}
	if _, err := New("ftp://example.com/", nil); err == nil {
		t.Errorf("New with an ftp: URL succeeded, want the browser's SyntaxError")
	}
}

func TestRelativeURL(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)
	if got, want := c.URL(), "ws://"+pageHost()+"/ws/echo"; got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}
	if err := c.WriteMessage(ctx, Text, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.ReadMessage(ctx, nil); err != nil || string(msg) != "hi" {
		t.Fatalf("ReadMessage = %q, %v; want \"hi\"", msg, err)
	}
}

func TestSubprotocol(t *testing.T) {
	for _, tc := range []struct {
		path    string
		offered []string
		want    string
	}{
		{"/ws/echo-proto", []string{"x.unknown", "duplex.v1"}, "duplex.v1"},
		{"/ws/echo-proto", []string{"duplex.v1"}, "duplex.v1"},
		{"/ws/echo-proto", nil, ""},
		{"/ws/echo", nil, ""},
	} {
		c := mustDial(t, tc.path, &Options{Subprotocols: tc.offered})
		if got := c.Subprotocol(); got != tc.want {
			t.Errorf("%s offering %q: Protocol() = %q, want %q", tc.path, tc.offered, got, tc.want)
		}
		if got := c.Extensions(); got != "" {
			t.Errorf("Extensions() = %q, want none: the server accepts no extension", got)
		}
		closeQuietly(c)
	}

	// When the client offers subprotocols and the server picks none, the
	// WHATWG WebSocket standard has the browser fail the connection, so
	// Protocol() is never "" after such an offer: Dial fails instead.
	for _, tc := range []struct {
		path    string
		offered []string
	}{
		{"/ws/echo-proto", []string{"x.unknown", "y.unknown"}},
		{"/ws/echo", []string{"duplex.v1"}}, // a server that speaks none
	} {
		c, err := Dial(testContext(t), tc.path, &Options{Subprotocols: tc.offered})
		if err == nil {
			t.Errorf("%s offering %q: Dial succeeded with Protocol() = %q, want a failed connection", tc.path, tc.offered, c.Subprotocol())
			closeQuietly(c)
			continue
		}
		if ce := asCloseError(t, err); ce.Code != wire.StatusAbnormalClosure || ce.WasClean {
			t.Errorf("%s offering %q: Dial = %s, want code 1006, not clean", tc.path, tc.offered, describe(ce))
		}
	}

	if _, err := New("/ws/echo-proto", &Options{Subprotocols: []string{"not a token"}}); err == nil {
		t.Errorf("New with the subprotocol %q succeeded, want the browser's SyntaxError", "not a token")
	}
}

func TestReadyState(t *testing.T) {
	ctx := testContext(t)
	opened := make(chan struct{}, 1)
	c, err := New("/ws/echo", &Options{OnOpen: func() { opened <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeQuietly(c) })
	if got := c.ReadyState(); got != Connecting {
		t.Fatalf("ReadyState() right after New = %d, want Connecting (%d)", got, Connecting)
	}
	if err := c.WriteMessage(ctx, Text, []byte("too early")); err != errConnecting {
		t.Errorf("WriteMessage while connecting = %v, want errConnecting", err)
	}
	select {
	case <-opened:
	case <-ctx.Done():
		t.Fatal("the connection never opened")
	}
	if got := c.ReadyState(); got != Open {
		t.Fatalf("ReadyState() after the open event = %d, want Open (%d)", got, Open)
	}

	// StartClose starts the closing handshake and returns at once; no
	// event can have been handled since.
	if err := c.StartClose(1000, ""); err != nil {
		t.Errorf("StartClose = %v", err)
	}
	if err := c.StartClose(1000, ""); err != ErrClosed {
		t.Errorf("second StartClose = %v, want ErrClosed", err)
	}
	if err := c.Err(); err != nil {
		t.Errorf("Err() before the close event = %v, want nil", err)
	}
	if got := c.ReadyState(); got != Closing {
		t.Errorf("ReadyState() after Close began = %d, want Closing (%d)", got, Closing)
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("the close event never came")
	}
	if got := c.ReadyState(); got != Closed {
		t.Errorf("ReadyState() after the close event = %d, want Closed (%d)", got, Closed)
	}
	if ce := asCloseError(t, c.Err()); ce.Code != 1000 || !ce.WasClean {
		t.Errorf("Err() = %s, want a clean 1000", describe(ce))
	}
}

// closedByUs is how a Close(4000, "bye") ends, as the browser reports
// it: the code and reason of the server's answering close frame, in which
// server/ws echoes both (RFC 6455 §5.5.1 and §7.1.6: the close reason is the
// one received).
var closedByUs = CloseError{Code: 4000, Reason: "bye", WasClean: true}

func TestClose(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)
	if err := c.Err(); err != nil {
		t.Fatalf("Err() while open = %v, want nil", err)
	}
	select {
	case <-c.Done():
		t.Fatal("Done is closed while the connection is open")
	default:
	}
	if err := c.Close(4000, "bye"); err != nil {
		t.Fatalf("Close(4000, \"bye\") = %v, want nil", err)
	}
	// The close event reports the close frame the browser received: the
	// server's answer, which server/ws sends with our code and no reason.
	want := closedByUs
	if ce := asCloseError(t, c.Err()); *ce != want {
		t.Fatalf("Err() = %s, want %s", describe(ce), describe(&want))
	}
	// After the close: ReadMessage reports it; WriteMessage, a second
	// Close and CloseNow refuse.
	if _, _, err := c.ReadMessage(ctx, nil); *asCloseError(t, err) != want {
		t.Errorf("ReadMessage after Close = %v, want %s", err, describe(&want))
	}
	if err := c.WriteMessage(ctx, Text, []byte("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteMessage after Close = %v, want ErrClosed", err)
	}
	if err := c.Close(4000, "again"); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if err := c.CloseNow(); !errors.Is(err, ErrClosed) {
		t.Errorf("CloseNow after Close = %v, want ErrClosed", err)
	}
}

func TestCloseArguments(t *testing.T) {
	c := mustDial(t, "/ws/echo", nil)
	// The browser allows only 1000 and 3000–4999, and reasons of up to
	// 123 bytes; it throws otherwise, and the connection stays open.
	if err := c.Close(1001, ""); err == nil {
		t.Errorf("Close(1001) succeeded, want the browser's InvalidAccessError")
	}
	if err := c.Close(4000, strings.Repeat("x", 124)); err == nil {
		t.Errorf("Close with a 124-byte reason succeeded, want the browser's SyntaxError")
	}
	if got := c.ReadyState(); got != Open {
		t.Fatalf("ReadyState() after refused Closes = %d, want Open", got)
	}
	if err := c.StartClose(2999, ""); err == nil {
		t.Errorf("StartClose(2999) succeeded, want the browser's InvalidAccessError")
	}
	if err := c.Close(1000, ""); err != nil {
		t.Errorf("Close(1000) = %v", err)
	}
}

func TestServerClose(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/close-after-first", nil)
	if err := c.WriteMessage(ctx, Text, []byte("first")); err != nil {
		t.Fatal(err)
	}
	// The echo comes first: messages that arrived before the close are
	// still read.
	if _, msg, err := c.ReadMessage(ctx, nil); err != nil || string(msg) != "first" {
		t.Fatalf("first ReadMessage = %q, %v; want \"first\"", msg, err)
	}
	want := CloseError{Code: 4001, Reason: "server bye", WasClean: true}
	for i := range 2 { // and the close is reported again
		_, _, err := c.ReadMessage(ctx, nil)
		if ce := asCloseError(t, err); *ce != want {
			t.Errorf("ReadMessage #%d after the server closed = %s, want %s", i+2, describe(ce), describe(&want))
		}
	}
	if ce := asCloseError(t, c.Err()); *ce != want {
		t.Errorf("Err() = %s, want %s", describe(ce), describe(&want))
	}
	select {
	case <-c.Done():
	default:
		t.Error("Done is not closed after the server closed")
	}
	if err := c.WriteMessage(ctx, Text, []byte("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteMessage after the server closed = %v, want ErrClosed", err)
	}
}

// TestNoWakeAfterClose reads bursts that the close event follows at
// once: a wake posted for the burst must not call into Go after the close
// event released its callbacks (browser_test.go fails on "call to released
// function" in the console).
func TestNoWakeAfterClose(t *testing.T) {
	ctx := testContext(t)
	for round := range 20 {
		c := mustDial(t, "/ws/burst-then-close", nil)
		if err := c.WriteMessage(ctx, Text, []byte("go")); err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			_, _, err := c.ReadMessage(ctx, nil)
			if err != nil {
				if ce := asCloseError(t, err); ce.Code != StatusNormalClosure || n != 64 {
					t.Fatalf("round %d: %d messages, then %s; want 64, then 1000", round, n, describe(ce))
				}
				break
			}
			n++
		}
	}
	time.Sleep(50 * time.Millisecond) // for a wake posted behind the last close event
}

func TestDialRefused(t *testing.T) {
	var errorEvents int
	c, err := Dial(testContext(t), "/ws/no-such-endpoint", &Options{OnError: func() { errorEvents++ }})
	if err == nil {
		closeQuietly(c)
		t.Fatal("Dial to a 404 succeeded")
	}
	if c != nil {
		t.Errorf("Dial returned a connection with its error")
	}
	ce := asCloseError(t, err)
	if ce.Code != wire.StatusAbnormalClosure || ce.WasClean {
		t.Errorf("Dial to a 404 = %s, want code 1006, not clean", describe(ce))
	}
	if errorEvents != 1 {
		t.Errorf("OnError was called %d times, want 1", errorEvents)
	}
}

func TestDialCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, err := Dial(ctx, "/ws/echo", nil)
	if !errors.Is(err, context.Canceled) || c != nil {
		t.Errorf("Dial with a canceled context = %v, %v; want nil, context.Canceled", c, err)
	}
}

func TestDialTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	c, err := Dial(ctx, "/ws/stall", nil)
	if !errors.Is(err, context.DeadlineExceeded) || c != nil {
		t.Errorf("Dial to a server that never answers = %v, %v; want nil, context.DeadlineExceeded", c, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Dial gave up after %v, want about 200ms", d)
	}
}

func TestReadContext(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)

	// A context that has ended before the call: nothing is read, and the
	// connection stays open, as on the server.
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := c.ReadMessage(ended, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadMessage with an ended context = %v, want context.Canceled", err)
	}
	if err := c.Err(); err != nil {
		t.Fatalf("Err() after a ReadMessage with an ended context = %v, want nil: still open", err)
	}

	// A context that ends while ReadMessage waits closes the connection,
	// as CloseNow does.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, msg, err := c.ReadMessage(short, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadMessage with nothing to read = %q, %v; want context.DeadlineExceeded", msg, err)
	}
	if err := c.Err(); err != ErrClosed {
		t.Errorf("Err() after the read's context ended = %v, want ErrClosed", err)
	}
	select {
	case <-c.Done():
	default:
		t.Error("Done is not closed after the read's context ended")
	}
	if err := c.WriteMessage(ctx, Text, []byte("late")); err != ErrClosed {
		t.Errorf("WriteMessage after the read's context ended = %v, want ErrClosed", err)
	}
	if _, _, err := c.ReadMessage(ctx, nil); err != ErrClosed {
		t.Errorf("ReadMessage after the read's context ended = %v, want ErrClosed", err)
	}
	awaitReleased(t, c)
}

// awaitReleased waits for c's close event, which releases its js.Funcs,
// and checks that none is left.
func awaitReleased(t *testing.T, c *Conn) {
	t.Helper()
	select {
	case <-c.released:
	case <-time.After(5 * time.Second):
		t.Fatal("no close event within 5s")
	}
	if n := len(c.funcs); n != 0 {
		t.Errorf("%d js.Funcs left after the close event", n)
	}
	if got := c.ReadyState(); got != Closed {
		t.Errorf("ReadyState() after the close event = %d, want Closed (%d)", got, Closed)
	}
}

func TestCloseNow(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)
	// An echo that has arrived and is not read when CloseNow comes.
	if err := c.WriteMessage(ctx, Text, []byte("unread")); err != nil {
		t.Fatal(err)
	}
	waitQueued(t, c, 1)
	if err := c.CloseNow(); err != nil {
		t.Fatalf("CloseNow = %v", err)
	}
	// It ends the connection at once, before any event is handled.
	select {
	case <-c.Done():
	default:
		t.Error("Done is not closed when CloseNow returns")
	}
	if got := c.ReadyState(); got != Closing {
		t.Errorf("ReadyState() right after CloseNow = %d, want Closing (%d)", got, Closing)
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"Err()", c.Err()},
		{"ReadMessage", func() error { _, _, err := c.ReadMessage(ctx, nil); return err }()},
		{"WriteMessage", c.WriteMessage(ctx, Text, []byte("late"))},
		{"second CloseNow", c.CloseNow()},
		{"Close", c.Close(1000, "")},
		{"StartClose", c.StartClose(1000, "")},
		{"NextWriter", func() error { _, err := c.NextWriter(ctx, Text); return err }()},
	} {
		if !errors.Is(tc.err, ErrClosed) {
			t.Errorf("%s after CloseNow = %v, want ErrClosed", tc.name, tc.err)
		}
	}
	awaitReleased(t, c)
	if err := c.Err(); err != ErrClosed {
		t.Errorf("Err() after the close event = %v, want still ErrClosed", err)
	}
}

// waitQueued waits until n messages have arrived on c, unread.
func waitQueued(t *testing.T, c *Conn, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		c.mu.Lock()
		c.takeInbox() // what arrived, into the Go side of the queue
		queued := len(c.queue)
		c.mu.Unlock()
		if queued >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages arrived within 5s", queued, n)
		}
	}
}

func TestReadMessageBuffer(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)
	buf := make([]byte, 3, 64)
	for i, msg := range []string{"one", "two, longer", "", "three"} {
		if err := c.WriteMessage(ctx, Text, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.ReadMessage(ctx, buf)
		if err != nil || string(got) != msg {
			t.Fatalf("ReadMessage #%d = %q, %v; want %q", i, got, err, msg)
		}
		if cap(got) != cap(buf) || (len(got) > 0 && &got[0] != &buf[:1][0]) {
			t.Errorf("ReadMessage #%d did not reuse buf, which had room", i)
		}
		buf = got
	}
	// A buf too small grows, as append does.
	big := payload(Binary, 1000)
	if err := c.WriteMessage(ctx, Binary, big); err != nil {
		t.Fatal(err)
	}
	small := make([]byte, 0, 8)
	if _, got, err := c.ReadMessage(ctx, small); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("ReadMessage into a small buf = %d bytes, %v; want the %d sent", len(got), err, len(big))
	}
	// With a nil buf the payload is a slice of the burst, which an append
	// must not spill into the next message.
	for _, msg := range []string{"first", "second"} {
		if err := c.WriteMessage(ctx, Text, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	waitQueued(t, c, 2)
	_, first, err := c.ReadMessage(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(first, "XXXXXX"...)
	if _, second, err := c.ReadMessage(ctx, nil); err != nil || string(second) != "second" {
		t.Errorf("second message = %q, %v; want \"second\"", second, err)
	}
}

func TestNextReaderWriter(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)
	w, err := c.NextWriter(ctx, Binary)
	if err != nil {
		t.Fatal(err)
	}
	parts := []string{"one ", "two ", "", "three"}
	for _, p := range parts {
		if n, err := w.Write([]byte(p)); err != nil || n != len(p) {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := w.Write([]byte("late")); err != ErrClosed {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if err := w.Close(); err != ErrClosed {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	// The parts went as one message.
	typ, r, err := c.NextReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if want := strings.Join(parts, ""); typ != Binary || err != nil || string(got) != want {
		t.Errorf("NextReader read %v %q, %v; want binary %q", typ, got, err, want)
	}

	// An empty message.
	w, err = c.NextWriter(ctx, Text)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	typ, r, err = c.NextReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.Read(make([]byte, 8)); typ != Text || n != 0 || err != io.EOF {
		t.Errorf("reading the empty message = %v, %d, %v; want text, 0, io.EOF", typ, n, err)
	}
}

func TestWriteMessageTypes(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)
	for _, op := range []wire.Opcode{wire.OpContinuation, wire.OpClose, wire.OpPing, wire.OpPong, 3} {
		typ := MessageType(op)
		err := c.WriteMessage(ctx, typ, []byte("x"))
		if err == nil || errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), typ.String()) {
			t.Errorf("WriteMessage of type %v = %v, want an error that names the type", typ, err)
		}
		if _, err := c.NextWriter(ctx, typ); err == nil {
			t.Errorf("NextWriter of type %v succeeded", typ)
		}
	}
	// The connection is unharmed.
	if err := c.WriteMessage(ctx, Text, []byte("still open")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.ReadMessage(ctx, nil); err != nil || string(msg) != "still open" {
		t.Errorf("ReadMessage = %q, %v", msg, err)
	}
}

// TestConnInterface uses the connection through conn.Conn, as code shared
// with the server does.
func TestConnInterface(t *testing.T) {
	ctx := testContext(t)
	var c conn.Conn = mustDial(t, "/ws/echo-proto", &Options{Subprotocols: []string{"duplex.v1"}})
	if got := c.Subprotocol(); got != "duplex.v1" {
		t.Errorf("Subprotocol() = %q", got)
	}
	if err := c.WriteMessage(ctx, wire.Text, []byte("through the interface")); err != nil {
		t.Fatal(err)
	}
	if typ, msg, err := c.ReadMessage(ctx, nil); err != nil || typ != wire.Text || string(msg) != "through the interface" {
		t.Errorf("ReadMessage = %v %q, %v", typ, msg, err)
	}
	if err := c.Close(wire.StatusNormalClosure, ""); err != nil {
		t.Errorf("Close = %v", err)
	}
	if ce, ok := c.Err().(*wire.CloseError); !ok || ce.Code != wire.StatusNormalClosure {
		t.Errorf("Err() = %v, want a 1000 *wire.CloseError", c.Err())
	}
}

func TestConcurrentReadsSeeClose(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)
	const readers = 3
	errs := make(chan error, readers)
	for range readers {
		go func() {
			_, _, err := c.ReadMessage(ctx, nil)
			errs <- err
		}()
	}
	if err := c.Close(1000, ""); err != nil {
		t.Fatal(err)
	}
	for i := range readers {
		select {
		case err := <-errs:
			asCloseError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d waiting ReadMessage calls did not return after the close", readers-i, readers)
		}
	}
}

func TestBackpressure(t *testing.T) {
	ctx := testContext(t)
	const (
		highWater = 256 << 10
		size      = 64 << 10
		count     = 200
	)
	c := mustDial(t, "/ws/slow", &Options{HighWater: highWater})
	msg := payload(Binary, size)
	maxSeen := 0
	start := time.Now()
	for i := range count {
		if err := c.WriteMessage(ctx, Binary, msg); err != nil {
			t.Fatalf("WriteMessage #%d: %v", i, err)
		}
		// WriteMessage waits until at most highWater is buffered, then adds one
		// message: more than that means it did not wait.
		b := c.BufferedAmount()
		if b > highWater+size {
			t.Fatalf("BufferedAmount() after WriteMessage #%d = %d, above HighWater+%d = %d", i, b, size, highWater+size)
		}
		maxSeen = max(maxSeen, b)
	}
	t.Logf("%d writes of %d KiB in %v; most buffered: %d KiB", count, size>>10, time.Since(start).Round(time.Millisecond), maxSeen>>10)
	if maxSeen <= highWater {
		t.Errorf("BufferedAmount() never exceeded HighWater (max %d): the test did not exercise the wait", maxSeen)
	}
	if err := c.WriteMessage(ctx, Text, []byte("count")); err != nil {
		t.Fatal(err)
	}
	_, got, err := c.ReadMessage(ctx, nil)
	if want := strconv.Itoa(count * size); err != nil || string(got) != want {
		t.Errorf("server read %q bytes (%v), want %s", got, err, want)
	}
}

func TestHooks(t *testing.T) {
	ctx := testContext(t)
	type received struct {
		typ  MessageType
		data string
	}
	// Hooks must not block: they only hand events to buffered channels.
	opens := make(chan struct{}, 4)
	messages := make(chan received, 16)
	closes := make(chan *CloseError, 4)
	c := mustDial(t, "/ws/echo", &Options{
		OnOpen:    func() { opens <- struct{}{} },
		OnMessage: func(typ MessageType, data []byte) { messages <- received{typ, string(data)} },
		OnClose:   func(ce *CloseError) { closes <- ce },
	})
	if len(opens) != 1 {
		t.Errorf("OnOpen called %d times by the time Dial returned, want 1", len(opens))
	}

	sent := []received{{Text, "one"}, {Binary, "\x00\x01\x02"}, {Text, "three"}}
	for _, m := range sent {
		if err := c.WriteMessage(ctx, m.typ, []byte(m.data)); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range sent {
		select {
		case got := <-messages:
			if got != want {
				t.Errorf("OnMessage #%d got %v %q, want %v %q", i, got.typ, got.data, want.typ, want.data)
			}
		case <-ctx.Done():
			t.Fatalf("OnMessage received %d of %d messages", i, len(sent))
		}
	}

	if err := c.Close(4000, "bye"); err != nil {
		t.Fatal(err)
	}
	// The messages went to OnMessage, none to ReadMessage, which reports
	// the end at once.
	if _, msg, err := c.ReadMessage(ctx, nil); *asCloseError(t, err) != closedByUs {
		t.Errorf("ReadMessage with OnMessage set = %q, %v; want the close, %s", msg, err, describe(&closedByUs))
	}
	select {
	case ce := <-closes:
		if *ce != closedByUs {
			t.Errorf("OnClose got %s, want %s", describe(ce), describe(&closedByUs))
		}
	case <-ctx.Done():
		t.Fatal("OnClose was not called")
	}
	if len(opens) != 1 || len(closes) != 0 {
		t.Errorf("after the close: %d more OnOpen calls and %d more OnClose calls, want 1 and 0", len(opens), len(closes))
	}
}

// TestNoFuncLeak checks that a connection releases its js.Funcs — each one
// pins a Go closure and a JavaScript wrapper — however it ends.
func TestNoFuncLeak(t *testing.T) {
	ctx := testContext(t)
	for i := range 20 {
		c := mustDial(t, "/ws/echo", nil)
		if n := len(c.funcs); n != 4 {
			t.Fatalf("cycle %d: %d js.Funcs while open, want 4 (open, message, error, close)", i, n)
		}
		if err := c.Close(1000, ""); err != nil {
			t.Fatalf("cycle %d: Close: %v", i, err)
		}
		if n := len(c.funcs); n != 0 {
			t.Fatalf("cycle %d: %d js.Funcs left after Close", i, n)
		}
	}

	// Closed by the server.
	c := mustDial(t, "/ws/close-after-first", nil)
	c.WriteMessage(ctx, Text, []byte("x"))
	for {
		if _, _, err := c.ReadMessage(ctx, nil); err != nil {
			asCloseError(t, err)
			break
		}
	}
	if n := len(c.funcs); n != 0 {
		t.Errorf("%d js.Funcs left after the server closed", n)
	}

	// Closed at once, and by a read whose context ended.
	c = mustDial(t, "/ws/echo", nil)
	c.CloseNow()
	awaitReleased(t, c)
	c = mustDial(t, "/ws/echo", nil)
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	c.ReadMessage(short, nil)
	awaitReleased(t, c)

	// Given up while connecting.
	stalled, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := Dial(stalled, "/ws/stall", nil); err == nil {
		t.Fatal("Dial to /ws/stall succeeded")
	}

	// Never opened.
	c, err := New("/ws/no-such-endpoint", nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("no close event for a refused connection")
	}
	if n := len(c.funcs); n != 0 {
		t.Errorf("%d js.Funcs left after a refused connection", n)
	}
}

// point is a value with a binary encoding: two big-endian int32s.
type point struct{ X, Y int32 }

func (p point) AppendBinary(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint32(b, uint32(p.X))
	return binary.BigEndian.AppendUint32(b, uint32(p.Y)), nil
}

func (p *point) UnmarshalBinary(b []byte) error {
	if len(b) != 8 {
		return errors.New("point: want 8 bytes, got " + strconv.Itoa(len(b)))
	}
	p.X = int32(binary.BigEndian.Uint32(b))
	p.Y = int32(binary.BigEndian.Uint32(b[4:]))
	return nil
}

// unencodable fails to encode.
type unencodable struct{}

var errUnencodable = errors.New("unencodable")

func (unencodable) AppendBinary([]byte) ([]byte, error) { return nil, errUnencodable }

func TestValues(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)
	want := point{X: -3, Y: 70000}
	if err := conn.WriteValue(ctx, c, want); err != nil {
		t.Fatal(err)
	}
	var got point
	if err := conn.ReadValue(ctx, c, &got); err != nil || got != want {
		t.Errorf("ReadValue = %+v, %v; want %+v", got, err, want)
	}

	if err := conn.WriteValue(ctx, c, unencodable{}); !errors.Is(err, errUnencodable) {
		t.Errorf("WriteValue of a failing encoder = %v, want its error", err)
	}
	// A message that is no point: ReadValue reports the decoder's error.
	if err := c.WriteMessage(ctx, Binary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := conn.ReadValue(ctx, c, &got); err == nil || !strings.Contains(err.Error(), "got 3") {
		t.Errorf("ReadValue of 3 bytes = %v, want the decoder's error", err)
	}
	// The failed encoding sent nothing, so nothing else is waiting. (The
	// read whose context ends closes the connection.)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, msg, err := c.ReadMessage(short, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("unexpected message %q, %v", msg, err)
	}
}

// TestSharedNames checks that the names this package shares with the
// server are duplex/shared/wire's.
func TestSharedNames(t *testing.T) {
	if ErrClosed != wire.ErrClosed {
		t.Error("ErrClosed is not wire.ErrClosed")
	}
	for _, tc := range []struct {
		err  error
		want StatusCode
	}{
		{&CloseError{Code: 4001, Reason: "server bye", WasClean: true}, 4001},
		{&wire.CloseError{Code: StatusAbnormalClosure}, 1006},
		{errors.New("other"), 0},
		{nil, 0},
	} {
		if got := CloseStatus(tc.err); got != tc.want {
			t.Errorf("CloseStatus(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	if s := (&CloseError{Code: 4001, Reason: "server bye", WasClean: true}).Error(); !strings.Contains(s, "4001") || !strings.Contains(s, `"server bye"`) {
		t.Errorf("a CloseError reads %q", s)
	}
}
