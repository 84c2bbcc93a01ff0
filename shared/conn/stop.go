package conn

import (
	"context"
	"sync"
	"time"
)

// A stopContext is a context.Context that ends when it is stopped: the
// Reconnecting's, which Close stops, and each dial's, which also stops at
// its deadline. It stands in for context.WithCancel and WithTimeout, whose
// tree of cancelations would add some 24 KB to a browser's module for
// these two uses.
type stopContext struct {
	deadline time.Time // zero for none
	done     chan struct{}

	mu  sync.Mutex
	err error // set, once, when done is closed
}

func newStopContext(deadline time.Time) *stopContext {
	return &stopContext{deadline: deadline, done: make(chan struct{})}
}

// stop ends c with err, unless it has ended already.
func (c *stopContext) stop(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
		close(c.done)
	}
}

func (c *stopContext) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }
func (c *stopContext) Done() <-chan struct{}       { return c.done }
func (c *stopContext) Value(any) any               { return nil }

func (c *stopContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Both sides of the contract.
var _ context.Context = (*stopContext)(nil)
