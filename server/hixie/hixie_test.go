package hixie

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The handshake of the draft's example (draft-hixie-thewebsocketprotocol-76
// §1.3), as a browser would send it: key3 follows the headers.
const exampleRequest = "GET /demo HTTP/1.1\r\n" +
	"Host: example.com\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n" +
	"Upgrade: WebSocket\r\n" +
	"Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n" +
	"Origin: http://example.com\r\n" +
	"\r\n" +
	"^n:ds[4U"

const exampleResponse = "HTTP/1.1 101 WebSocket Protocol Handshake\r\n" +
	"Upgrade: WebSocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Origin: http://example.com\r\n" +
	"Sec-WebSocket-Location: ws://example.com/demo\r\n" +
	"\r\n" +
	"8jKS'y:G*Co,Wxa-"

func serve(t *testing.T, h *Handler) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/demo", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// dial opens a raw connection that fails the test rather than hang.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// openExample sends the example request and checks the exact response.
func openExample(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c := dial(t, addr)
	if _, err := io.WriteString(c, exampleRequest); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	got := make([]byte, len(exampleResponse))
	if _, err := io.ReadFull(br, got); err != nil {
		t.Fatalf("reading the response: %v (got %q)", err, got)
	}
	if string(got) != exampleResponse {
		t.Fatalf("response:\n%q\nwant\n%q", got, exampleResponse)
	}
	return c, br
}

func TestHandshakeAndEcho(t *testing.T) {
	c, br := openExample(t, serve(t, &Handler{}))
	if br.Buffered() != 0 {
		t.Fatalf("%d bytes after the response", br.Buffered())
	}
	// Two frames in one write, the second not ASCII.
	if _, err := c.Write([]byte("\x00Hello\xff\x00h\u00e9llo, \u4e16\u754c\xff")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\x00Hello\xff", "\x00h\u00e9llo, \u4e16\u754c\xff"} {
		got := make([]byte, len(want))
		if _, err := io.ReadFull(br, got); err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("echo %q, want %q", got, want)
		}
	}
	// An empty frame, then the closing handshake.
	if _, err := c.Write([]byte("\x00\xff\xff\x00")); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if string(rest) != "\x00\xff\xff\x00" {
		t.Errorf("after the closing frame got %q, want the empty echo, 0xFF 0x00 and EOF", rest)
	}
}

func TestKey3AsBody(t *testing.T) {
	addr := serve(t, &Handler{})
	c := dial(t, addr)
	req := strings.Replace(exampleRequest, "\r\n\r\n", "\r\nContent-Length: 8\r\n\r\n", 1)
	io.WriteString(c, req)
	got := make([]byte, len(exampleResponse))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != exampleResponse {
		t.Errorf("response %q, %v; want %q", got, err, exampleResponse)
	}
}

func TestLargeFrame(t *testing.T) {
	c, br := openExample(t, serve(t, &Handler{MaxFrame: 10000}))
	big := bytes.Repeat([]byte("é"), 5000) // exactly the limit, over several reads
	go c.Write(append(append([]byte{0}, big...), 0xff))
	got := make([]byte, len(big)+2)
	if _, err := io.ReadFull(br, got); err != nil || !bytes.Equal(got[1:len(got)-1], big) {
		t.Fatalf("echo of %d bytes: %v", len(big), err)
	}
	// One byte more closes the connection without an answer.
	go c.Write(append(append([]byte{0}, big...), 'x', 0xff))
	if n, err := io.Copy(io.Discard, br); err != nil || n != 0 {
		t.Errorf("after an oversized frame: read %d bytes, %v; want EOF", n, err)
	}
}

func TestBadFrames(t *testing.T) {
	addr := serve(t, &Handler{})
	for _, frame := range []string{
		"\x00\xc3\x28\xff", // not UTF-8
		"\x80\x01x",        // length-prefixed
		"\xff\x01",         // 0xFF not followed by 0x00
		"\x01abc\xff",      // unknown type
	} {
		c, br := openExample(t, addr)
		io.WriteString(c, frame)
		if n, err := io.Copy(io.Discard, br); err != nil || n != 0 {
			t.Errorf("after %q: read %d bytes, %v; want EOF", frame, n, err)
		}
	}
}

func TestStopping(t *testing.T) {
	stopping := make(chan struct{})
	_, br := openExample(t, serve(t, &Handler{Stopping: stopping}))
	close(stopping)
	if n, err := io.Copy(io.Discard, br); err != nil || n != 0 {
		t.Errorf("after stopping: read %d bytes, %v; want EOF", n, err)
	}
}

func TestBadRequests(t *testing.T) {
	addr := serve(t, &Handler{})
	for _, tc := range []struct {
		name     string
		old, new string // replaced in exampleRequest
	}{
		{"POST", "GET ", "POST "},
		{"no Upgrade", "Upgrade: WebSocket\r\n", ""},
		{"wrong Upgrade", "Upgrade: WebSocket", "Upgrade: h2c"},
		{"no Connection", "Connection: Upgrade", "Connection: keep-alive"},
		{"no Origin", "Origin: http://example.com\r\n", ""},
		{"no Key1", "Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n", ""},
		{"no Key2", "Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n", ""},
		{"Key1 without spaces", "4 @1  46546xW%0l 1 5", "4@146546xW%0l15"},
		{"Key2 not a multiple", "12998 5 Y3 1  .P00", "12998 5 Y3 1  .P01"},
		{"Key1 over 32 bits", "4 @1  46546xW%0l 1 5", "4294967296 "},
		{"body not 8 bytes", "\r\n\r\n", "\r\nContent-Length: 3\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := strings.Replace(exampleRequest, tc.old, tc.new, 1)
			if req == exampleRequest {
				t.Fatalf("%q is not in the request", tc.old)
			}
			c := dial(t, addr)
			io.WriteString(c, req)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadRequest || bytes.Count(body, []byte("\n")) != 1 || !bytes.HasSuffix(body, []byte("\n")) {
				t.Errorf("%s %q; want 400 and one line", resp.Status, body)
			}
		})
	}
}
