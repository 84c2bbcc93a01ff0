//go:build js && wasm

package websocket

// These tests run in a browser page (see browser_test.go, which builds and
// runs them), against the page's own server, so relative URLs reach its
// endpoints:
//
//	/ws/echo                 sends every message back
//	/ws/echo-proto           the same, speaking the subprotocol "duplex.v1"
//	/ws/close-after-first    sends the first message back, then closes with 4001 "server bye"
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
	"runtime"
	"strconv"
	"strings"
	"syscall/js"
	"testing"
	"time"

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

// closeQuietly closes c unless it is closed already.
func closeQuietly(c *Conn) {
	if c.CloseError() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.Close(ctx, 1000, "test over")
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
				if err := c.Write(ctx, typ, want); err != nil {
					t.Fatalf("Write: %v", err)
				}
				gotTyp, got, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("Read: %v", err)
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
		if err := c.Write(ctx, typ, msg); err != nil {
			t.Fatalf("Write #%d: %v", i, err)
		}
	}
	for i := range n {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("Read #%d: %v", i, err)
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
	if err := c.Write(ctx, Text, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.Read(ctx); err != nil || string(msg) != "hi" {
		t.Fatalf("Read = %q, %v; want \"hi\"", msg, err)
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
		if got := c.Protocol(); got != tc.want {
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
			t.Errorf("%s offering %q: Dial succeeded with Protocol() = %q, want a failed connection", tc.path, tc.offered, c.Protocol())
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
	if err := c.Write(ctx, Text, []byte("too early")); err != ErrNotOpen {
		t.Errorf("Write while connecting = %v, want ErrNotOpen", err)
	}
	select {
	case <-opened:
	case <-ctx.Done():
		t.Fatal("the connection never opened")
	}
	if got := c.ReadyState(); got != Open {
		t.Fatalf("ReadyState() after the open event = %d, want Open (%d)", got, Open)
	}

	// A Close whose context has ended starts the closing handshake and
	// returns at once; no event can have been handled since.
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Close(ended, 1000, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("Close with an ended context = %v, want context.Canceled", err)
	}
	if got := c.ReadyState(); got != Closing {
		t.Errorf("ReadyState() after Close began = %d, want Closing (%d)", got, Closing)
	}
	select {
	case <-c.Closed():
	case <-ctx.Done():
		t.Fatal("the close event never came")
	}
	if got := c.ReadyState(); got != Closed {
		t.Errorf("ReadyState() after the close event = %d, want Closed (%d)", got, Closed)
	}
	if ce := c.CloseError(); ce == nil || ce.Code != 1000 || !ce.WasClean {
		t.Errorf("CloseError() = %s, want a clean 1000", describe(ce))
	}
}

// closedByUs is how a Close(ctx, 4000, "bye") ends, as the browser reports
// it: the code and reason of the server's answering close frame, in which
// server/ws echoes both (RFC 6455 §5.5.1 and §7.1.6: the close reason is the
// one received).
var closedByUs = CloseError{Code: 4000, Reason: "bye", WasClean: true}

func TestClose(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)
	if ce := c.CloseError(); ce != nil {
		t.Fatalf("CloseError() while open = %v, want nil", ce)
	}
	if err := c.Close(ctx, 4000, "bye"); err != nil {
		t.Fatalf("Close(4000, \"bye\") = %v, want nil", err)
	}
	// The close event reports the close frame the browser received: the
	// server's answer, which server/ws sends with our code and no reason.
	want := closedByUs
	if ce := c.CloseError(); ce == nil || *ce != want {
		t.Fatalf("CloseError() = %s, want %s", describe(ce), describe(&want))
	}
	// After the close: Read reports it, Write refuses, Close is harmless.
	if _, _, err := c.Read(ctx); *asCloseError(t, err) != want {
		t.Errorf("Read after Close = %v, want %s", err, describe(&want))
	}
	if err := c.Write(ctx, Text, []byte("late")); err != ErrNotOpen {
		t.Errorf("Write after Close = %v, want ErrNotOpen", err)
	}
	if err := c.Close(ctx, 4000, "again"); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func TestCloseArguments(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)
	// The browser allows only 1000 and 3000–4999, and reasons of up to
	// 123 bytes; it throws otherwise, and the connection stays open.
	if err := c.Close(ctx, 1001, ""); err == nil {
		t.Errorf("Close(1001) succeeded, want the browser's InvalidAccessError")
	}
	if err := c.Close(ctx, 4000, strings.Repeat("x", 124)); err == nil {
		t.Errorf("Close with a 124-byte reason succeeded, want the browser's SyntaxError")
	}
	if got := c.ReadyState(); got != Open {
		t.Fatalf("ReadyState() after refused Closes = %d, want Open", got)
	}
	if err := c.Write(ctx, wire.OpPing, nil); err == nil {
		t.Errorf("Write of a ping succeeded, want an error")
	}
	if err := c.Close(ctx, 1000, ""); err != nil {
		t.Errorf("Close(1000) = %v", err)
	}
}

func TestServerClose(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/close-after-first", nil)
	if err := c.Write(ctx, Text, []byte("first")); err != nil {
		t.Fatal(err)
	}
	// The echo comes first: messages that arrived before the close are
	// still read.
	if _, msg, err := c.Read(ctx); err != nil || string(msg) != "first" {
		t.Fatalf("first Read = %q, %v; want \"first\"", msg, err)
	}
	want := CloseError{Code: 4001, Reason: "server bye", WasClean: true}
	for i := range 2 { // and the close is reported again
		_, _, err := c.Read(ctx)
		if ce := asCloseError(t, err); *ce != want {
			t.Errorf("Read #%d after the server closed = %s, want %s", i+2, describe(ce), describe(&want))
		}
	}
	if ce := c.CloseError(); ce == nil || *ce != want {
		t.Errorf("CloseError() = %s, want %s", describe(ce), describe(&want))
	}
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

func TestReadTimeout(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, msg, err := c.Read(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read with nothing to read = %q, %v; want context.DeadlineExceeded", msg, err)
	}
	// The connection is unharmed.
	if err := c.Write(ctx, Text, []byte("still here")); err != nil {
		t.Fatalf("Write after a timed-out Read: %v", err)
	}
	if _, msg, err := c.Read(ctx); err != nil || string(msg) != "still here" {
		t.Fatalf("Read after a timed-out Read = %q, %v", msg, err)
	}
}

func TestConcurrentReadsSeeClose(t *testing.T) {
	ctx := testContext(t)
	c := mustDial(t, "/ws/echo", nil)
	const readers = 3
	errs := make(chan error, readers)
	for range readers {
		go func() {
			_, _, err := c.Read(ctx)
			errs <- err
		}()
	}
	if err := c.Close(ctx, 1000, ""); err != nil {
		t.Fatal(err)
	}
	for i := range readers {
		select {
		case err := <-errs:
			asCloseError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d waiting Reads did not return after the close", readers-i, readers)
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
		if err := c.Write(ctx, Binary, msg); err != nil {
			t.Fatalf("Write #%d: %v", i, err)
		}
		// Write waits until at most highWater is buffered, then adds one
		// message: more than that means it did not wait.
		b := c.BufferedAmount()
		if b > highWater+size {
			t.Fatalf("BufferedAmount() after Write #%d = %d, above HighWater+%d = %d", i, b, size, highWater+size)
		}
		maxSeen = max(maxSeen, b)
	}
	t.Logf("%d writes of %d KiB in %v; most buffered: %d KiB", count, size>>10, time.Since(start).Round(time.Millisecond), maxSeen>>10)
	if maxSeen <= highWater {
		t.Errorf("BufferedAmount() never exceeded HighWater (max %d): the test did not exercise the wait", maxSeen)
	}
	if err := c.Write(ctx, Text, []byte("count")); err != nil {
		t.Fatal(err)
	}
	_, got, err := c.Read(ctx)
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
		if err := c.Write(ctx, m.typ, []byte(m.data)); err != nil {
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
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, msg, err := c.Read(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read with OnMessage set = %q, %v; want nothing (context.DeadlineExceeded)", msg, err)
	}

	if err := c.Close(ctx, 4000, "bye"); err != nil {
		t.Fatal(err)
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
		if err := c.Close(ctx, 1000, ""); err != nil {
			t.Fatalf("cycle %d: Close: %v", i, err)
		}
		if n := len(c.funcs); n != 0 {
			t.Fatalf("cycle %d: %d js.Funcs left after Close", i, n)
		}
	}

	// Closed by the server.
	c := mustDial(t, "/ws/close-after-first", nil)
	c.Write(ctx, Text, []byte("x"))
	for {
		if _, _, err := c.Read(ctx); err != nil {
			asCloseError(t, err)
			break
		}
	}
	if n := len(c.funcs); n != 0 {
		t.Errorf("%d js.Funcs left after the server closed", n)
	}

	// Never opened.
	c, err := New("/ws/no-such-endpoint", nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Closed():
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
	if err := c.WriteValue(ctx, want); err != nil {
		t.Fatal(err)
	}
	var got point
	if err := c.ReadValue(ctx, &got); err != nil || got != want {
		t.Errorf("ReadValue = %+v, %v; want %+v", got, err, want)
	}

	if err := c.WriteValue(ctx, unencodable{}); !errors.Is(err, errUnencodable) {
		t.Errorf("WriteValue of a failing encoder = %v, want its error", err)
	}
	// A message that is no point: ReadValue reports the decoder's error.
	if err := c.Write(ctx, Binary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := c.ReadValue(ctx, &got); err == nil || !strings.Contains(err.Error(), "got 3") {
		t.Errorf("ReadValue of 3 bytes = %v, want the decoder's error", err)
	}
	// The failed encoding sent nothing, so nothing else is waiting.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, msg, err := c.Read(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("unexpected message %q, %v", msg, err)
	}
}

func TestCloseErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  CloseError
		want []string
	}{
		{CloseError{Code: 4001, Reason: "server bye", WasClean: true}, []string{"4001", `"server bye"`}},
		{CloseError{Code: 1006}, []string{"1006", "not clean"}},
	} {
		s := tc.err.Error()
		for _, w := range tc.want {
			if !strings.Contains(s, w) {
				t.Errorf("%s.Error() = %q, want it to contain %q", describe(&tc.err), s, w)
			}
		}
		if tc.err.WasClean && strings.Contains(s, "not clean") {
			t.Errorf("%s.Error() = %q says not clean", describe(&tc.err), s)
		}
	}
}

// The tests of Reconnecting.

// A stateLog records what a Reconnecting reports through its hooks.
type stateLog struct {
	t      *testing.T
	states chan State
	opens  chan *Conn // the connections OnOpen was called with
}

// reconnect starts a Reconnecting to url, records its states and
// connections, and closes it when the test ends.
func reconnect(t *testing.T, url string, opts ReconnectOptions) (*Reconnecting, *stateLog) {
	t.Helper()
	log := &stateLog{t: t, states: make(chan State, 1024), opens: make(chan *Conn, 256)}
	opts.OnOpen = func(c *Conn) error {
		log.opens <- c
		return nil
	}
	opts.OnState = func(s State) { log.states <- s }
	r, err := Reconnect(url, &opts)
	if err != nil {
		t.Fatalf("Reconnect(%q): %v", url, err)
	}
	t.Cleanup(func() {
		r.Close()
		select {
		case <-r.Done():
		case <-time.After(10 * time.Second):
			t.Error("the Reconnecting did not end within 10s of Close")
		}
	})
	return r, log
}

// next returns the next state reported, or fails the test if none comes.
func (l *stateLog) next() State {
	l.t.Helper()
	select {
	case s := <-l.states:
		return s
	case <-time.After(10 * time.Second):
		l.t.Fatal("no state reported within 10s")
		return State{}
	}
}

// expect fails the test unless the next state has the phase and the
// attempt; it returns the state.
func (l *stateLog) expect(phase Phase, attempt int) State {
	l.t.Helper()
	s := l.next()
	if s.Phase != phase || s.Attempt != attempt {
		l.t.Fatalf("state %s, want %v, attempt %d", describeState(s), phase, attempt)
	}
	return s
}

// quiet fails the test if a state is reported within d.
func (l *stateLog) quiet(d time.Duration, why string) {
	l.t.Helper()
	select {
	case s := <-l.states:
		l.t.Fatalf("%s, yet it reported %s", why, describeState(s))
	case <-time.After(d):
	}
}

func describeState(s State) string {
	d := s.Phase.String() + ", attempt " + strconv.Itoa(s.Attempt)
	if s.Phase == PhaseReconnecting {
		d += ", delay " + s.Delay.String()
	}
	if s.Offline {
		d += ", offline"
	}
	if s.Err != nil {
		d += ", after " + s.Err.Error()
	}
	return d
}

// ceilingJitter makes every wait predictable: the longest allowed.
func ceilingJitter(ceiling time.Duration) time.Duration { return ceiling }

// waitDone waits for r to end after Close.
func waitDone(t *testing.T, r *Reconnecting, within time.Duration) {
	t.Helper()
	select {
	case <-r.Done():
	case <-time.After(within):
		t.Fatalf("the Reconnecting did not end within %v of Close", within)
	}
}

func TestReconnectAfterDrop(t *testing.T) {
	ctx := testContext(t)
	const delay = 200 * time.Millisecond // long enough to write while it waits
	r, log := reconnect(t, "/ws/drop-after?n=3", ReconnectOptions{MinDelay: delay, Jitter: ceilingJitter})
	log.expect(PhaseConnecting, 0)
	log.expect(PhaseOpen, 0)
	first := <-log.opens // OnOpen ran before the state was reported
	if r.Conn() != first {
		t.Fatal("Conn() is not the connection OnOpen was given")
	}
	for i := range 3 {
		msg := "before the drop " + strconv.Itoa(i)
		if err := r.Write(ctx, Text, []byte(msg)); err != nil {
			t.Fatalf("Write #%d: %v", i, err)
		}
		if _, got, err := r.Read(ctx); err != nil || string(got) != msg {
			t.Fatalf("Read #%d = %q, %v; want %q", i, got, err, msg)
		}
	}

	// The server drops the connection after its third echo. A Read that
	// waits meanwhile gets the next message, from the next connection.
	read := make(chan string, 1)
	go func() {
		_, got, err := r.Read(ctx)
		if err != nil {
			read <- "error: " + err.Error()
			return
		}
		read <- string(got)
	}()
	s := log.expect(PhaseReconnecting, 1)
	if ce := asCloseError(t, s.Err); ce.Code != wire.StatusAbnormalClosure || ce.WasClean {
		t.Errorf("the drop was reported as %s, want 1006, not clean", describe(ce))
	}
	if s.Delay != delay {
		t.Errorf("first redial after %v, want %v", s.Delay, delay)
	}
	if err := r.Write(ctx, Text, []byte("lost")); !errors.Is(err, ErrDisconnected) {
		t.Errorf("Write while reconnecting = %v, want ErrDisconnected", err)
	}
	if c := r.Conn(); c != nil {
		t.Error("Conn() is not nil while reconnecting")
	}

	log.expect(PhaseConnecting, 1)
	log.expect(PhaseOpen, 1)
	second := <-log.opens
	if second == first || r.Conn() != second {
		t.Fatal("the connection after the drop is not a new one, or not the current one")
	}
	if err := first.CloseError(); err == nil {
		t.Error("the first connection is not closed")
	}
	if err := r.Write(ctx, Text, []byte("after the drop")); err != nil {
		t.Fatalf("Write after reconnecting: %v", err)
	}
	select {
	case got := <-read:
		if got != "after the drop" {
			t.Errorf("the Read that waited across the reconnect got %q", got)
		}
	case <-ctx.Done():
		t.Fatal("the Read that waited across the reconnect did not return")
	}
	if n := len(log.opens); n != 0 {
		t.Errorf("OnOpen called %d more times than there were connections", n)
	}
}

func TestReconnectBackoff(t *testing.T) {
	t.Run("doubles", func(t *testing.T) {
		// A 404: every dial fails.
		_, log := reconnect(t, "/ws/no-such-endpoint", ReconnectOptions{
			MinDelay: 10 * time.Millisecond, MaxDelay: 80 * time.Millisecond, Jitter: ceilingJitter,
		})
		log.expect(PhaseConnecting, 0)
		for i, want := range []time.Duration{10, 20, 40, 80, 80, 80} {
			want *= time.Millisecond
			s := log.expect(PhaseReconnecting, i+1)
			if s.Delay != want {
				t.Errorf("wait before redial %d = %v, want %v", i+1, s.Delay, want)
			}
			if ce := asCloseError(t, s.Err); ce.Code != wire.StatusAbnormalClosure {
				t.Errorf("failed dial reported as %s", describe(ce))
			}
			log.expect(PhaseConnecting, i+1)
		}
		if n := len(log.opens); n != 0 {
			t.Errorf("OnOpen called %d times, but no dial succeeded", n)
		}
	})

	t.Run("full jitter", func(t *testing.T) {
		_, log := reconnect(t, "/ws/no-such-endpoint", ReconnectOptions{
			MinDelay: 4 * time.Millisecond, MaxDelay: 32 * time.Millisecond,
		})
		log.expect(PhaseConnecting, 0)
		below := 0
		for i, ceiling := range []time.Duration{4, 8, 16, 32, 32, 32, 32, 32} {
			ceiling *= time.Millisecond
			s := log.expect(PhaseReconnecting, i+1)
			if s.Delay < 0 || s.Delay > ceiling {
				t.Errorf("wait before redial %d = %v, outside [0, %v]", i+1, s.Delay, ceiling)
			}
			if s.Delay < ceiling {
				below++
			}
			log.expect(PhaseConnecting, i+1)
		}
		if below == 0 {
			t.Error("every wait was its ceiling: no jitter")
		}
	})

	// Connections that open, then drop: unless they lasted long enough to
	// count as stable, each drop makes the next wait longer. (The margins
	// are wide: the page may see the open event late.)
	for _, tc := range []struct {
		name     string
		url      string
		stable   time.Duration
		attempts []int
		delays   []time.Duration
	}{
		{"grows across short-lived connections", "/ws/drop-after?ms=30", time.Hour, []int{1, 2, 3, 4}, []time.Duration{5, 10, 20, 40}},
		{"resets after a stable connection", "/ws/drop-after?ms=150", 20 * time.Millisecond, []int{1, 1, 1, 1}, []time.Duration{5, 5, 5, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, log := reconnect(t, tc.url, ReconnectOptions{
				MinDelay: 5 * time.Millisecond, MaxDelay: time.Second, StableAfter: tc.stable, Jitter: ceilingJitter,
			})
			log.expect(PhaseConnecting, 0)
			log.expect(PhaseOpen, 0)
			for i, attempt := range tc.attempts {
				s := log.expect(PhaseReconnecting, attempt)
				if want := tc.delays[i] * time.Millisecond; s.Delay != want {
					t.Errorf("wait before redial %d = %v, want %v", i+1, s.Delay, want)
				}
				log.expect(PhaseConnecting, attempt)
				log.expect(PhaseOpen, attempt)
			}
			// OnOpen was called once per connection, each time with a new one.
			seen := map[*Conn]bool{}
			for len(log.opens) > 0 {
				seen[<-log.opens] = true
			}
			if want := len(tc.attempts) + 1; len(seen) != want {
				t.Errorf("OnOpen saw %d connections, want %d", len(seen), want)
			}
		})
	}
}

func TestReconnectOnOpenError(t *testing.T) {
	ctx := testContext(t)
	fail := true
	var opens []*Conn
	r, err := Reconnect("/ws/echo", &ReconnectOptions{
		MinDelay: 5 * time.Millisecond,
		Jitter:   ceilingJitter,
		OnOpen: func(c *Conn) error {
			opens = append(opens, c)
			if fail {
				fail = false
				return errors.New("not this one")
			}
			return c.Write(ctx, Text, []byte("first"))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		r.Close()
		waitDone(t, r, 10*time.Second)
	}()
	if err := r.Write(ctx, Text, []byte("second")); !errors.Is(err, ErrDisconnected) {
		t.Errorf("Write before the first connection opened = %v, want ErrDisconnected", err)
	}
	// What OnOpen wrote went first; the connection it refused was closed.
	if _, got, err := r.Read(ctx); err != nil || string(got) != "first" {
		t.Fatalf("Read = %q, %v; want what OnOpen wrote", got, err)
	}
	if len(opens) != 2 {
		t.Fatalf("OnOpen called %d times, want 2", len(opens))
	}
	select {
	case <-opens[0].Closed():
	case <-ctx.Done():
		t.Fatal("the connection OnOpen refused was not closed")
	}
	if s := r.State(); s.Phase != PhaseOpen || s.Attempt != 1 {
		t.Errorf("state %s, want open after redial 1", describeState(s))
	}
}

func TestReconnectClose(t *testing.T) {
	t.Run("while open", func(t *testing.T) {
		ctx := testContext(t)
		r, log := reconnect(t, "/ws/echo", ReconnectOptions{MinDelay: 5 * time.Millisecond})
		log.expect(PhaseConnecting, 0)
		log.expect(PhaseOpen, 0)
		c := <-log.opens
		r.Close()
		waitDone(t, r, 5*time.Second)
		log.expect(PhaseClosed, 0)
		if ce := c.CloseError(); ce == nil || ce.Code != wire.StatusNormalClosure || !ce.WasClean {
			t.Errorf("the connection ended with %s, want a clean 1000", describe(ce))
		}
		if n := len(c.funcs); n != 0 {
			t.Errorf("%d js.Funcs left on the closed connection", n)
		}
		log.quiet(300*time.Millisecond, "Close stops it for good")
		if _, _, err := r.Read(ctx); !errors.Is(err, ErrClosed) {
			t.Errorf("Read after Close = %v, want ErrClosed", err)
		}
		if err := r.Write(ctx, Text, []byte("x")); !errors.Is(err, ErrClosed) {
			t.Errorf("Write after Close = %v, want ErrClosed", err)
		}
		r.Close() // again: nothing happens
		if s := r.State(); s.Phase != PhaseClosed {
			t.Errorf("State() = %s after Close", describeState(s))
		}
	})

	t.Run("while waiting to redial", func(t *testing.T) {
		r, log := reconnect(t, "/ws/no-such-endpoint", ReconnectOptions{MinDelay: time.Minute, Jitter: ceilingJitter})
		log.expect(PhaseConnecting, 0)
		log.expect(PhaseReconnecting, 1)
		r.Close()
		waitDone(t, r, time.Second)
		log.expect(PhaseClosed, 0)
		log.quiet(100*time.Millisecond, "Close stops it for good")
	})

	t.Run("while dialing", func(t *testing.T) {
		r, log := reconnect(t, "/ws/stall", ReconnectOptions{})
		log.expect(PhaseConnecting, 0)
		r.Close()
		waitDone(t, r, 6*time.Second)
		log.expect(PhaseClosed, 0)
	})

	t.Run("a message not yet read", func(t *testing.T) {
		ctx := testContext(t)
		r, log := reconnect(t, "/ws/echo", ReconnectOptions{})
		log.expect(PhaseConnecting, 0)
		log.expect(PhaseOpen, 0)
		c := <-log.opens
		if err := r.Write(ctx, Text, []byte("still here")); err != nil {
			t.Fatal(err)
		}
		// Wait for the echo to arrive before closing.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			c.mu.Lock()
			c.takeInbox() // what arrived, into the Go side of the queue
			n := len(c.queue)
			c.mu.Unlock()
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the echo did not arrive")
			}
		}
		r.Close()
		waitDone(t, r, 5*time.Second)
		if _, got, err := r.Read(ctx); err != nil || string(got) != "still here" {
			t.Errorf("Read after Close = %q, %v; want the message received before", got, err)
		}
		if _, _, err := r.Read(ctx); !errors.Is(err, ErrClosed) {
			t.Errorf("second Read after Close = %v, want ErrClosed", err)
		}
	})
}

// setOffline makes navigator.onLine false, or gives the browser its own
// value back and fires the online event, as the browser does when the
// network returns.
func setOffline(offline bool) {
	global := js.Global()
	nav := global.Get("navigator")
	if offline {
		global.Get("Object").Call("defineProperty", nav, "onLine", map[string]any{"configurable": true, "value": false})
		return
	}
	global.Get("Reflect").Call("deleteProperty", nav, "onLine")
	global.Call("dispatchEvent", global.Get("Event").New("online"))
}

func TestReconnectOffline(t *testing.T) {
	ctx := testContext(t)
	const delay = 10 * time.Millisecond
	r, log := reconnect(t, "/ws/drop-after?n=1", ReconnectOptions{MinDelay: delay, Jitter: ceilingJitter})
	t.Cleanup(func() { setOffline(false) })
	log.expect(PhaseConnecting, 0)
	log.expect(PhaseOpen, 0)

	// The network goes, and the server drops the connection.
	setOffline(true)
	if err := r.Write(ctx, Text, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if s := log.expect(PhaseReconnecting, 1); !s.Offline {
		t.Fatalf("state %s while the browser is offline, want offline", describeState(s))
	}
	log.quiet(300*time.Millisecond, "while offline it waits for the network")

	// The network comes back: it waits its delay, and redials.
	setOffline(false)
	if s := log.expect(PhaseReconnecting, 1); s.Offline || s.Delay != delay {
		t.Errorf("state %s once online, want a wait of %v", describeState(s), delay)
	}
	log.expect(PhaseConnecting, 1)
	log.expect(PhaseOpen, 1)

	// Close ends a wait for the network too. (The connection was short:
	// this is redial 2.)
	setOffline(true)
	if err := r.Write(ctx, Text, []byte("y")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if s := log.expect(PhaseReconnecting, 2); !s.Offline {
		t.Fatalf("state %s, want offline", describeState(s))
	}
	r.Close()
	waitDone(t, r, time.Second)
	log.expect(PhaseClosed, 0)
}

// TestReconnectNoLeak checks that reconnecting, however many times, leaves
// no goroutine, no js.Func and no connection behind.
func TestReconnectNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	r, log := reconnect(t, "/ws/drop-after?ms=5", ReconnectOptions{
		MinDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, Jitter: ceilingJitter,
	})
	for opens := 0; opens < 10; {
		if log.next().Phase == PhaseOpen {
			opens++
		}
	}
	r.mu.Lock()
	kept := len(r.unread)
	r.mu.Unlock()
	if kept > 2 {
		t.Errorf("%d connections kept for Read, which nobody calls; want at most 2", kept)
	}
	r.Close()
	waitDone(t, r, 5*time.Second)
	conns := 0
	for len(log.opens) > 0 {
		c := <-log.opens
		conns++
		if n := len(c.funcs); n != 0 {
			t.Errorf("connection %d keeps %d js.Funcs", conns, n)
		}
	}
	if conns < 10 {
		t.Errorf("OnOpen saw %d connections, want at least 10", conns)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before Reconnect", n, before)
	}
}
