package wsbench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"duplex/server/ws"
	"duplex/shared/wire"
)

// The environment variables of IdleConnMemory.
const (
	// IdleDialEnv, when set to "addr,path,count", turns a test binary into
	// the client side of IdleConnMemory: IdleConnMemoryChild opens count
	// connections to addr, prints "ready" and waits for its stdin to close.
	// With ",deflate" after count, each connection offers
	// permessage-deflate and, before it goes idle, has a message of
	// JSON-like text echoed, so that whatever compression state the
	// server keeps between messages is there; a server may decline.
	// The clients live in their own process so that each process stays
	// under the limit on open files, and the server's memory is measured
	// alone.
	IdleDialEnv = "DUPLEX_MEMBENCH_DIAL"

	// IdleConnsEnv overrides the number of connections, 10,000 by default.
	IdleConnsEnv = "DUPLEX_MEMBENCH_CONNS"

	// IdleProfileEnv, if set to a directory, makes IdleConnMemory write a
	// heap profile there for each server, idle-<name>.pprof, while its
	// connections are open, to see what they hold:
	// go tool pprof -sample_index=inuse_space.
	IdleProfileEnv = "DUPLEX_MEMBENCH_HEAPPROFILE"
)

// ChildTest is the name of the test that a package calling IdleConnMemory
// must define, as
//
//	func TestIdleConnMemoryChild(t *testing.T) { wsbench.IdleConnMemoryChild(t) }
//
// IdleConnMemory runs the test binary again with -test.run set to it.
const ChildTest = "TestIdleConnMemoryChild"

// An IdleServer starts a server that counts its live WebSocket connections
// in active, and returns the address and path to dial.
type IdleServer struct {
	Name  string
	Start func(tb testing.TB, active *atomic.Int64) (addr, path string)

	// Deflate makes the clients offer permessage-deflate and have a
	// message echoed before going idle (see IdleDialEnv).
	Deflate bool
}

// The duplex servers of IdleConnMemory, without the production router.
var (
	// DuplexIdleMin runs DuplexEcho in the handler's goroutine.
	DuplexIdleMin = IdleServer{Name: "duplex-min", Start: func(tb testing.TB, active *atomic.Int64) (string, string) {
		return startDuplexIdle(tb, active, false)
	}}

	// DuplexIdleGo runs DuplexEcho in a goroutine of its own, so that the
	// handler returns and net/http lets go of the request's memory.
	DuplexIdleGo = IdleServer{Name: "duplex-go", Start: func(tb testing.TB, active *atomic.Int64) (string, string) {
		return startDuplexIdle(tb, active, true)
	}}

	// DuplexIdleMessage is DuplexIdleGo after a message was echoed, the
	// baseline of DuplexIdleDeflate: the clients offer compression, and
	// the server declines.
	DuplexIdleMessage = IdleServer{Name: "duplex-go-message", Deflate: true, Start: func(tb testing.TB, active *atomic.Int64) (string, string) {
		return startDuplexIdle(tb, active, true)
	}}

	// DuplexIdleDeflate is DuplexIdleGo with compression agreed, with
	// context takeover, after a message was echoed.
	DuplexIdleDeflate = IdleServer{Name: "duplex-deflate", Deflate: true, Start: func(tb testing.TB, active *atomic.Int64) (string, string) {
		return startDuplexIdleWith(tb, active, &ws.Upgrader{Compression: &ws.CompressionOptions{}}, true)
	}}

	// DuplexIdleDeflateNoTakeover is DuplexIdleDeflate without context
	// takeover.
	DuplexIdleDeflateNoTakeover = IdleServer{Name: "duplex-deflate-no-takeover", Deflate: true, Start: func(tb testing.TB, active *atomic.Int64) (string, string) {
		return startDuplexIdleWith(tb, active, &ws.Upgrader{Compression: &ws.CompressionOptions{NoContextTakeover: true}}, true)
	}}
)

func startDuplexIdle(tb testing.TB, active *atomic.Int64, spawn bool) (string, string) {
	return startDuplexIdleWith(tb, active, duplexUpgrader, spawn)
}

func startDuplexIdleWith(tb testing.TB, active *atomic.Int64, u *ws.Upgrader, spawn bool) (string, string) {
	return Serve(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		active.Add(1)
		if spawn {
			go func() {
				defer active.Add(-1)
				idleEcho(c)
			}()
			return
		}
		defer active.Add(-1)
		idleEcho(c)
	})), "/"
}

// IdleConnMemory runs the body of BenchmarkIdleConnMemory: the server-side
// memory of idle WebSocket connections, on each server in turn. It reports
// the growth of the heap and of goroutine stacks in use once 10,000
// connections (IdleConnsEnv) are open and idle, per connection. The
// clients run in a child process, the test binary run again for
// ChildTest. Run it with -benchtime=1x; -short skips it.
func IdleConnMemory(b *testing.B, servers []IdleServer) {
	if testing.Short() {
		b.Skip("skipping in -short mode: opens 10,000 connections")
	}
	count := 10_000
	if s := os.Getenv(IdleConnsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("%s=%q: want a positive number", IdleConnsEnv, s)
		}
		count = n
	}
	exe, err := os.Executable()
	if err != nil {
		b.Skipf("cannot re-execute the test binary: %v", err)
	}
	for _, s := range servers {
		b.Run(s.Name, func(b *testing.B) {
			measureIdle(b, exe, s, count)
		})
	}
}

func settleMemory() {
	runtime.GC()
	runtime.GC()
}

// waitCount waits until active holds want.
func waitCount(tb testing.TB, active *atomic.Int64, want int64, what string) {
	deadline := time.Now().Add(time.Minute)
	for active.Load() != want {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: %d connections active, want %d", what, active.Load(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func measureIdle(b *testing.B, exe string, s IdleServer, count int) {
	var active atomic.Int64
	addr, path := s.Start(b, &active)

	settleMemory()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()

	cmd := exec.Command(exe, "-test.run=^"+ChildTest+"$", "-test.count=1")
	spec := addr + "," + path + "," + strconv.Itoa(count)
	if s.Deflate {
		spec += ",deflate"
	}
	cmd.Env = append(os.Environ(), IdleDialEnv+"="+spec)
	out := &readyWatcher{ready: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	finished := false
	finish := func() error { // closing stdin lets the child close its connections and exit
		if finished {
			return nil
		}
		finished = true
		stdin.Close()
		select {
		case err := <-exited:
			return err
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			return errors.New("the client process did not exit")
		}
	}
	defer finish()

	select {
	case <-out.ready:
	case err := <-exited:
		finished = true
		b.Fatalf("the client process ended (%v) before it was ready; does the package define %s?\n%s", err, ChildTest, out.String())
	case <-time.After(3 * time.Minute):
		b.Fatalf("the client process did not get ready:\n%s", out.String())
	}
	waitCount(b, &active, int64(count), "before measuring")
	time.Sleep(time.Second) // let every connection settle into its idle read

	settleMemory()
	runtime.ReadMemStats(&after)
	goroutines = runtime.NumGoroutine() - goroutines
	if n := active.Load(); n != int64(count) {
		b.Fatalf("%d connections active after the measurement, want %d", n, count)
	}

	if dir := os.Getenv(IdleProfileEnv); dir != "" {
		if err := writeHeapProfile(filepath.Join(dir, "idle-"+s.Name+".pprof")); err != nil {
			b.Fatal(err)
		}
	}

	heap := float64(int64(after.HeapInuse) - int64(before.HeapInuse))
	stack := float64(int64(after.StackInuse) - int64(before.StackInuse))
	perConn := func(x float64) float64 { return x / float64(count) / 1024 }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(perConn(heap+stack), "KiB/conn")
	b.ReportMetric(perConn(heap), "heap-KiB/conn")
	b.ReportMetric(perConn(stack), "stack-KiB/conn")
	b.ReportMetric(float64(goroutines)/float64(count), "goroutines/conn")

	if err := finish(); err != nil {
		b.Fatalf("client process: %v\n%s", err, out.String())
	}
	waitCount(b, &active, 0, "after the clients left")
}

func writeHeapProfile(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	err = pprof.Lookup("heap").WriteTo(f, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the heap profile: %w", err)
	}
	return nil
}

// readyWatcher collects the output of the client process and closes
// ready once it has printed a line saying "ready".
type readyWatcher struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	seen  bool
}

func (w *readyWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if b := w.buf.Bytes(); !w.seen && (bytes.HasPrefix(b, []byte("ready\n")) || bytes.Contains(b, []byte("\nready\n"))) {
		w.seen = true
		close(w.ready)
	}
	return len(p), nil
}

func (w *readyWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// IdleConnMemoryChild is the body of the client process of
// IdleConnMemory (see ChildTest). Without IdleDialEnv set, it skips t.
func IdleConnMemoryChild(t *testing.T) {
	spec := os.Getenv(IdleDialEnv)
	if spec == "" {
		t.Skip("helper process for BenchmarkIdleConnMemory; runs only with " + IdleDialEnv + " set")
	}
	parts := strings.Split(spec, ",")
	deflate := len(parts) == 4 && parts[3] == "deflate"
	if len(parts) != 3 && !deflate {
		t.Fatalf("%s=%q: want addr,path,count[,deflate]", IdleDialEnv, spec)
	}
	addr, path := parts[0], parts[1]
	count, err := strconv.Atoi(parts[2])
	if err != nil {
		t.Fatalf("%s=%q: %v", IdleDialEnv, spec, err)
	}

	conns := make([]net.Conn, count)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	var (
		next    atomic.Int64
		errOnce sync.Once
		dialErr error
		wg      sync.WaitGroup
	)
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				c, err := idleDial(addr, path, deflate)
				if err != nil {
					errOnce.Do(func() { dialErr = fmt.Errorf("connection %d: %w", i, err) })
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	if dialErr != nil {
		t.Fatal(dialErr)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
}

// idleDial opens a connection and performs the opening handshake, reading
// the response into a small array rather than through net/http; with
// deflate, it offers permessage-deflate and has a message echoed.
func idleDial(addr, path string, deflate bool) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	req := HandshakeRequest(addr, path)
	if deflate {
		req = req[:len(req)-2] + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
	}
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	var buf [1024]byte
	n := 0
	for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
		if n == len(buf) {
			c.Close()
			return nil, errors.New("handshake response too long")
		}
		m, err := c.Read(buf[n:])
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("reading the handshake response: %w", err)
		}
		n += m
	}
	if !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 101 ")) {
		c.Close()
		line, _, _ := bytes.Cut(buf[:n], []byte("\r\n"))
		return nil, fmt.Errorf("handshake refused: %s", line)
	}
	if deflate { // whether the server agreed or not
		if err := idleExchange(c, buf[bytes.Index(buf[:n], []byte("\r\n\r\n"))+4:n]); err != nil {
			c.Close()
			return nil, err
		}
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// idleMessage is what a connection of IdleConnMemory with deflate has
// echoed before it goes idle: an uncompressed frame, which the server may
// answer compressed.
var idleMessage = sync.OnceValue(func() []byte {
	p := JSONText(1 << 10)
	h := wire.Header{Fin: true, Opcode: wire.OpText, Masked: true, Mask: maskKey, Length: int64(len(p))}
	b := wire.AppendHeader(nil, h)
	start := len(b)
	b = append(b, p...)
	wire.Mask(maskKey, 0, b[start:])
	return b
})

// idleExchange sends idleMessage on c and reads the frames of the echo,
// skipping their payload; rest is what c sent after its response head.
func idleExchange(c net.Conn, rest []byte) error {
	if _, err := c.Write(idleMessage()); err != nil {
		return err
	}
	r := io.MultiReader(bytes.NewReader(rest), c)
	for {
		h, err := wire.ReadHeader(r)
		if err != nil {
			return fmt.Errorf("reading the echo: %w", err)
		}
		if _, err := io.CopyN(io.Discard, r, h.Length); err != nil {
			return fmt.Errorf("reading the echo: %w", err)
		}
		if h.Fin && !h.Opcode.IsControl() {
			return nil
		}
	}
}

// idleEcho is the echo of the idle measurements. Unlike DuplexEcho it
// keeps no buffer between messages, as gws's handler keeps none (its
// messages go back to its pool): what an idle connection holds is then
// the library's, not the application's.
func idleEcho(c *ws.Conn) { echo(c, false) }
