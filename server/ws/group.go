package ws

import (
	"context"
	"sync"

	"duplex/shared/wire"
)

// A Group tracks live connections so that they can be closed together, as
// when the server shuts down. Connections join through Upgrader.Group and
// leave when they close. The zero value is ready to use.
type Group struct {
	mu      sync.Mutex
	conns   map[*Conn]struct{}
	closing bool // Close was called: no more connections join
	wg      sync.WaitGroup
}

// add makes c a member, unless the group is closing.
func (g *Group) add(c *Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	if g.conns == nil {
		g.conns = make(map[*Conn]struct{})
	}
	g.conns[c] = struct{}{}
	g.wg.Add(1)
	c.onClose = g.remove
	return true
}

func (g *Group) isClosing() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closing
}

func (g *Group) remove(c *Conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
	g.wg.Done()
}

// Len returns the number of live connections.
func (g *Group) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}

// Close starts the closing handshake on every connection, with code and
// reason, and waits until all have closed or ctx ends; then it closes the
// remaining ones at once. Upgraders refuse new connections for the group
// from then on, with 503 Service Unavailable.
func (g *Group) Close(ctx context.Context, code wire.StatusCode, reason string) error {
	g.mu.Lock()
	g.closing = true
	conns := make([]*Conn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	for _, c := range conns {
		go c.Close(code, reason)
	}

	done := make(chan struct{})
	go func() {
		g.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		for c := range g.conns {
			go c.CloseNow()
		}
		g.mu.Unlock()
		<-done
		return ctx.Err()
	}
}
