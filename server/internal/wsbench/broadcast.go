package wsbench

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"duplex/server/ws"
	"duplex/shared/wire"
)

// BroadcastConns is the number of clients a broadcast reaches.
const BroadcastConns = 1000

// A Registry collects a server's connections as they are upgraded.
type Registry[T any] struct {
	mu    sync.Mutex
	conns []T
}

// Add records c.
func (r *Registry[T]) Add(c T) {
	r.mu.Lock()
	r.conns = append(r.conns, c)
	r.mu.Unlock()
}

func (r *Registry[T]) all() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns
}

// WaitFor returns the first n connections of reg once there are n; it
// fails tb if they do not come within 30 seconds.
func WaitFor[T any](tb testing.TB, reg *Registry[T], n int) []T {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if conns := reg.all(); len(conns) >= n {
			return conns[:n]
		}
		if time.Now().After(deadline) {
			tb.Fatalf("only %d of %d connections reached the server", len(reg.all()), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A BroadcastServer starts a server whose connections only read, at "/",
// and returns its address and a function that waits for n connections and
// returns a function writing a text message to all of them.
type BroadcastServer struct {
	Name  string
	Start func(tb testing.TB) (addr string, connect func(n int) func(p []byte) error)
}

// DuplexBroadcast writes with WriteMessage to each connection in turn.
var DuplexBroadcast = BroadcastServer{"duplex", startDuplexBroadcast}

func startDuplexBroadcast(tb testing.TB) (string, func(int) func([]byte) error) {
	reg := &Registry[*ws.Conn]{}
	addr := Serve(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := duplexUpgrader.Upgrade(w, r)
		if err != nil {
			return
		}
		reg.Add(c)
		DuplexEcho(c)
	}))
	return addr, func(n int) func([]byte) error {
		conns := WaitFor(tb, reg, n)
		ctx := context.Background()
		return func(p []byte) error {
			for _, c := range conns {
				if err := c.WriteMessage(ctx, ws.Text, p); err != nil {
					return err
				}
			}
			return nil
		}
	}
}

// Broadcast runs the body of BenchmarkBroadcast: on each server in turn,
// writing one 64-byte text message to each of BroadcastConns connections,
// until every client has read it. Each client reads in its own goroutine.
// Besides ns/op it reports ns/conn, and write-ns/conn: the time spent in
// the server's loop of writes.
func Broadcast(b *testing.B, servers []BroadcastServer) {
	for _, s := range servers {
		b.Run(s.Name, func(b *testing.B) {
			broadcast(b, s)
		})
	}
}

func broadcast(b *testing.B, s BroadcastServer) {
	addr, connect := s.Start(b)
	msg := bytes.Repeat([]byte("broadcast"), 8)[:64]
	clients := make([]*Client, BroadcastConns)
	for i := range clients {
		clients[i] = Dial(b, addr, "/")
		clients[i].Expect(wire.OpText, len(msg))
	}
	send := connect(BroadcastConns)

	var (
		remaining atomic.Int64
		stopping  atomic.Bool
		done      = make(chan struct{}, 1)
		failed    = make(chan error, 1)
		readers   sync.WaitGroup
	)
	for _, c := range clients {
		readers.Go(func() {
			for {
				if err := c.Receive(); err != nil {
					if !stopping.Load() {
						select {
						case failed <- err:
						default:
						}
					}
					return
				}
				if remaining.Add(-1) == 0 {
					done <- struct{}{}
				}
			}
		})
	}
	defer func() {
		stopping.Store(true)
		for _, c := range clients {
			c.Conn.Close()
		}
		readers.Wait()
	}()

	// One broadcast outside the measurement, checking the content.
	remaining.Store(BroadcastConns)
	if err := send(msg); err != nil {
		b.Fatal(err)
	}
	select {
	case <-done:
	case err := <-failed:
		b.Fatal(err)
	}
	for _, c := range clients {
		if !bytes.Equal(c.Received(), msg) {
			b.Fatal("a client received a different message")
		}
	}

	b.ReportAllocs()
	var writing time.Duration // spent in the server's write loop
	for b.Loop() {
		remaining.Store(BroadcastConns)
		start := time.Now()
		if err := send(msg); err != nil {
			b.Fatal(err)
		}
		writing += time.Since(start)
		select {
		case <-done:
		case err := <-failed:
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*BroadcastConns), "ns/conn")
	b.ReportMetric(float64(writing.Nanoseconds())/float64(b.N*BroadcastConns), "write-ns/conn")
}
