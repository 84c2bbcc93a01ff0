package lab

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// headServer serves, on a listener from RecordHeads, a handler that takes
// over the connection and writes back the head it recorded, or "<none>",
// for /head; other paths get a plain response.
func headServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/head" {
			io.WriteString(w, "plain")
			return
		}
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer nc.Close()
		hc, ok := nc.(*headConn)
		if !ok {
			t.Errorf("the hijacked connection is a %T, not a *headConn", nc)
			return
		}
		if _, ok := any(hc).(syscall.Conn); !ok {
			t.Error("a headConn hides syscall.Conn, which server/ws reads through")
		}
		head := hc.takeHead()
		if head == nil {
			head = []byte("<none>")
		}
		brw.WriteString("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
		brw.Write(head)
		brw.Flush()
	}))
	srv.Listener = RecordHeads(srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// roundTrip writes the pieces of a request one by one on conn and returns
// the body of the response to the last request.
func roundTrip(t *testing.T, conn net.Conn, br *bufio.Reader, pieces ...string) string {
	t.Helper()
	for _, p := range pieces {
		if _, err := io.WriteString(conn, p); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // so that the server reads them apart
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func TestRecordHeads(t *testing.T) {
	addr := headServer(t)
	head := "GET /head?x=1 HTTP/1.1\r\nhost: example\r\nX-Zebra: first\r\nx-apple:  second \r\nUpgrade: websocket\r\n\r\n"
	tests := []struct {
		name   string
		pieces []string // written one after the other
		want   string
	}{
		{"in one write", []string{head}, head},
		{"byte runs across reads, the end split between CR and LF",
			[]string{head[:5], head[5:40], head[40 : len(head)-1], head[len(head)-1:]}, head},
		{"a body behind the head is not part of it",
			[]string{strings.Replace(head, "\r\n\r\n", "\r\nContent-Length: 4\r\n\r\nbody", 1)},
			strings.Replace(head, "\r\n\r\n", "\r\nContent-Length: 4\r\n\r\n", 1)},
		{"a head over the limit is not recorded",
			[]string{strings.Replace(head, "\r\n\r\n", "\r\nX-Big: "+strings.Repeat("b", maxHead)+"\r\n\r\n", 1)}, "<none>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Through record directly, the pieces are reads for certain.
			hc := &headConn{}
			hc.active.Store(true)
			for _, p := range tt.pieces {
				hc.record([]byte(p))
			}
			got := string(hc.takeHead())
			if got == "" {
				got = "<none>"
			}
			if got != tt.want {
				t.Errorf("record: %q\nwant     %q", got, tt.want)
			}

			// Through a real server.
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if got := roundTrip(t, conn, bufio.NewReader(conn), tt.pieces...); got != tt.want {
				t.Errorf("recorded %q\nwant     %q", got, tt.want)
			}
		})
	}

	// On a connection kept alive, the head is forgotten once the first
	// response starts: a later request finds none.
	t.Run("second request on a connection", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		if got := roundTrip(t, conn, br, "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n"); got != "plain" {
			t.Fatalf("first response %q", got)
		}
		if got := roundTrip(t, conn, br, head); got != "<none>" {
			t.Errorf("the second request found %q, want no head", got)
		}
	})
}
