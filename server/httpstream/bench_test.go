package httpstream

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"duplex/server/ws"
	"duplex/shared/streamwire"
	"duplex/shared/wire"
)

// The environment of BenchmarkIdleSessionMemory's client process: "addr,count".
const idleSessionsEnv = "DUPLEX_STREAMBENCH_OPEN"

// BenchmarkIdleSessionMemory measures the server-side memory of 10,000
// idle sessions (DUPLEX_MEMBENCH_CONNS), each with its stream open — an
// HTTP/1.1 response that net/http's handler keeps — and an endpoint
// goroutine blocked in ReadMessage, as the echo endpoint's is. The clients
// are raw TCP connections in a child process, the test binary run again,
// as in duplex/server/internal/wsbench's IdleConnMemory, whose figures
// for WebSocket it is to be read against. Run it with -benchtime=1x.
func BenchmarkIdleSessionMemory(b *testing.B) {
	if testing.Short() {
		b.Skip("skipping in -short mode: opens 10,000 sessions")
	}
	count := 10_000
	if s := os.Getenv("DUPLEX_MEMBENCH_CONNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("DUPLEX_MEMBENCH_CONNS=%q: want a positive number", s)
		}
		count = n
	}
	exe, err := os.Executable()
	if err != nil {
		b.Skipf("cannot re-execute the test binary: %v", err)
	}
	var active atomic.Int64
	h := NewEndpoint(&ws.Upgrader{}, Config{}, func(p Peer) {
		active.Add(1)
		defer active.Add(-1)
		echo(p)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	settle := func() { runtime.GC(); runtime.GC() }
	settle()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()

	cmd := exec.Command(exe, "-test.run=^TestIdleSessionsChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), idleSessionsEnv+"="+srv.Listener.Addr().String()+","+strconv.Itoa(count))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close() // the child closes its connections and exits
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && lines.Text() != "ready" {
		b.Log("client: ", lines.Text())
	}
	deadline := time.Now().Add(time.Minute)
	for active.Load() != int64(count) {
		if time.Now().After(deadline) {
			b.Fatalf("%d sessions active, want %d", active.Load(), count)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second) // let every session settle
	settle()
	runtime.ReadMemStats(&after)
	goroutines = runtime.NumGoroutine() - goroutines

	heap := float64(int64(after.HeapInuse) - int64(before.HeapInuse))
	stack := float64(int64(after.StackInuse) - int64(before.StackInuse))
	per := func(x float64) float64 { return x / float64(count) / 1024 }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(per(heap+stack), "KiB/session")
	b.ReportMetric(per(heap), "heap-KiB/session")
	b.ReportMetric(per(stack), "stack-KiB/session")
	b.ReportMetric(float64(goroutines)/float64(count), "goroutines/session")
}

// TestIdleSessionsChild is the client process of
// BenchmarkIdleSessionMemory: it opens the sessions, prints "ready" and
// waits for its stdin to close. Without the environment set, it skips.
func TestIdleSessionsChild(t *testing.T) {
	spec := os.Getenv(idleSessionsEnv)
	if spec == "" {
		t.Skip("helper process for BenchmarkIdleSessionMemory")
	}
	addr, n, _ := strings.Cut(spec, ",")
	count, err := strconv.Atoi(n)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]net.Conn, count)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= count || failed.Load() != nil {
					return
				}
				c, err := openRaw(addr)
				if err != nil {
					err = fmt.Errorf("session %d: %w", i, err)
					failed.Store(&err)
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		t.Fatal(*err)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

// openRaw opens a session over a TCP connection of its own, reads the
// response's head and the Hello, and leaves the stream open.
func openRaw(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, "POST /?stream=open HTTP/1.1\r\nHost: "+addr+"\r\nContent-Length: 0\r\n\r\n"); err != nil {
		c.Close()
		return nil, err
	}
	r := bufio.NewReaderSize(c, 512)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	if resp.StatusCode != 200 {
		c.Close()
		return nil, errors.New("open refused: " + resp.Status)
	}
	buf := make([]byte, 256)
	n, err := resp.Body.Read(buf)
	if _, _, perr := streamwire.Parse(buf[:n], 256); err != nil && n == 0 || perr != nil {
		c.Close()
		return nil, fmt.Errorf("reading the hello: %v %v", err, perr)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// BenchmarkRoundTrip measures a message echoed through the transport, natively:
// a POST up and a frame down, over loopback.
func BenchmarkRoundTrip(b *testing.B) {
	ts := startServer(b, Config{}, nil)
	c := ts.dial(b, nil)
	ctx := context.Background()
	msg := []byte("ping 0123456789a")
	for b.Loop() {
		if err := c.WriteMessage(ctx, wire.Text, msg); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.ReadMessage(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
}
