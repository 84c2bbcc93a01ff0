package dev

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A server is the site's server, running as a process of its own.
type server struct {
	cmd    *exec.Cmd
	addr   string        // host:port it listens on
	exited chan struct{} // closed once it has exited
	err    error         // why it exited, once exited is closed
	output *tail         // the last of what it wrote
	copied sync.WaitGroup
}

// startServer runs the program bin with args, listening on addr, and
// waits until it answers /healthz. What the server writes goes to out.
func startServer(ctx context.Context, bin, addr string, args, env []string, out io.Writer) (*server, error) {
	s := &server{addr: addr, exited: make(chan struct{}), output: &tail{max: 4 << 10}}
	s.cmd = exec.Command(bin, append([]string{"-addr", addr}, args...)...)
	s.cmd.Env = append(os.Environ(), env...)
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the server: %w", err)
	}
	for _, r := range []io.Reader{stdout, stderr} {
		s.copied.Go(func() { s.copy(r, out) })
	}
	go func() {
		s.copied.Wait() // Wait closes the pipes: read them to the end first
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitHealthy(ctx); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// copy passes the server's output on, line by line, keeping the last of
// it, and leaves out the line with the address it serves at: users open
// the proxy's.
func (s *server) copy(r io.Reader, out io.Writer) {
	lines := bufio.NewScanner(r)
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		line := lines.Text()
		s.output.write(line)
		if strings.Contains(line, "Duplex is serving") {
			continue
		}
		fmt.Fprintln(out, line)
	}
}

// waitHealthy waits until the server answers /healthz with 200.
func (s *server) waitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.exited:
			return s.exitError()
		case <-ctx.Done():
			return fmt.Errorf("the server did not answer /healthz: %w", ctx.Err())
		case <-tick.C:
		}
		res, err := client.Get("http://" + s.addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
}

// stop shuts the server down gracefully, as Ctrl-C would, and kills it if
// it has not exited after 15 seconds.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// exitError says why the server exited, once exited is closed.
func (s *server) exitError() error {
	return fmt.Errorf("the server exited (%v); the last it wrote:\n%s", s.err, s.output.String())
}

// A tail keeps the last max bytes of lines written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tail) write(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.WriteString(line)
	t.buf.WriteByte('\n')
	if over := t.buf.Len() - t.max; over > 0 {
		rest := t.buf.Bytes()[over:]
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			rest = rest[i+1:]
		}
		t.buf = *bytes.NewBuffer(append([]byte(nil), rest...))
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
