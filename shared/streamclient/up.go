package streamclient

import (
	"context"
	"errors"
	"strconv"
	"time"

	"duplex/shared/streamwire"
	"duplex/shared/wire"
)

// This file is the way up: WriteMessage queues numbered frames, and the up
// goroutine POSTs them, one POST at a time, with an acknowledgment of what
// came down.

// WriteMessage queues p as one message of type typ, which must be
// wire.Text or wire.Binary, to be POSTed with whatever else is queued. If
// more than Options.HighWater bytes already wait for the server to accept
// them, it first waits for them to drain; if ctx ends during that wait, it
// closes the connection, as CloseNow does, and returns ctx's error. Once
// the connection is closing or closed it returns wire.ErrClosed. Writes
// are safe from any goroutine.
func (c *Conn) WriteMessage(ctx context.Context, typ wire.MessageType, p []byte) error {
	if !typ.Valid() {
		return errors.New("http stream: cannot send a message of type " + typ.String() + ": only Text and Binary")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for {
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			return wire.ErrClosed
		}
		if c.pendingSize+c.inflight <= c.opts.HighWater {
			c.sent++
			c.enqueue(streamwire.Frame{Kind: streamwire.KindOf(typ), Seq: c.sent, Payload: p})
			c.mu.Unlock()
			signal(c.upReady)
			return nil
		}
		c.mu.Unlock()
		select {
		case <-c.drained:
		case <-c.done:
		case <-ctx.Done():
			c.CloseNow()
			return ctx.Err()
		}
	}
}

// enqueue adds f, encoded, to what waits to be POSTed. c.mu is held.
func (c *Conn) enqueue(f streamwire.Frame) {
	b := streamwire.AppendFrame(make([]byte, 0, streamwire.FrameSize(f.Seq, len(f.Payload))), f)
	c.pending = append(c.pending, b)
	c.pendingSize += len(b)
}

// queueClose queues a Close frame with payload, unless the connection is
// closing already, and returns its number.
func (c *Conn) queueClose(payload []byte) (uint64, bool) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return 0, false
	}
	c.closing = true
	c.sent++
	c.closeSeq = c.sent
	c.enqueue(streamwire.Frame{Kind: streamwire.KindClose, Seq: c.sent, Payload: payload})
	c.mu.Unlock()
	signal(c.upReady)
	return c.closeSeq, true
}

// runUp POSTs what is queued until the connection ends: the frames
// written, after an acknowledgment of the frames received if there are
// any new ones, or an acknowledgment alone once it is due.
func (c *Conn) runUp() {
	url := withQuery(c.url, streamwire.QueryOp, streamwire.OpUp)
	ackTimer := time.NewTimer(time.Hour)
	ackTimer.Stop()
	ackRunning, ackDue := false, false
	for {
		c.mu.Lock()
		ended := c.err != nil
		frames := len(c.pending) > 0
		ackable := c.recv > c.acked
		urgent := ackable && uint64(c.unacked) >= c.hello.Window/2
		c.mu.Unlock()
		if ended {
			ackTimer.Stop()
			return
		}
		if frames || ackable && (ackDue || urgent) {
			ackDue = false
			// A body of its own each time: the Doer may hold it after Do
			// returns, as net/http's Transport may.
			body, last := c.takeBatch(nil)
			if err := c.post(url, body, last); err != nil {
				ackTimer.Stop()
				c.mu.Lock()
				if c.peerClose != nil {
					err = c.peerClose // the server closed: its Close says why, whatever became of the answer
				}
				c.mu.Unlock()
				if err != nil {
					c.finish(err)
				}
				return
			}
			continue
		}
		if ackable && !ackRunning {
			ackTimer.Reset(c.opts.AckDelay)
			ackRunning = true
		}
		select {
		case <-c.upReady:
		case <-ackTimer.C:
			ackRunning, ackDue = false, true
		case <-c.done:
		}
	}
}

// takeBatch moves queued frames, up to the server's MaxPost bytes but at
// least one, into the POST in flight, and returns its body, appended to
// dst, with the number of its last frame. The body begins with an
// acknowledgment if frames came down since the last.
func (c *Conn) takeBatch(dst []byte) ([]byte, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recv > c.acked {
		dst = streamwire.AppendFrame(dst, streamwire.Frame{Kind: streamwire.KindAck, Seq: c.recv})
		c.acked, c.unacked = c.recv, 0
	}
	limit := int(min(c.hello.MaxPost, 1<<30))
	n, size := 0, len(dst)
	for n < len(c.pending) && (n == 0 || size+len(c.pending[n]) <= limit) {
		size += len(c.pending[n])
		n++
	}
	for _, f := range c.pending[:n] {
		dst = append(dst, f...)
		c.pendingSize -= len(f)
		c.inflight += len(f)
	}
	clear(c.pending[:n])
	c.pending = c.pending[n:]
	if len(c.pending) == 0 {
		c.pending = nil // let the array go
	}
	return dst, c.sent - uint64(len(c.pending))
}

// post sends body until the server accepts it, and records that it did.
// A POST that fails on the way, or that a busy server or proxy refuses,
// is sent again, the same bytes, until the session's Timeout has passed:
// the server drops the frames it has already taken. Any other refusal
// ends the connection with the error that post returns.
func (c *Conn) post(url string, body []byte, last uint64) error {
	giveUp := time.Now().Add(c.hello.Timeout)
	delay := minRetry
	for {
		c.count(func(w *Wire) { w.Posts++; w.PostBytes += int64(len(body)) })
		resp, err := c.do.Do(c.life, c.request("POST", url, body))
		if err == nil && resp.Status/100 == 2 {
			resp.Body.Close()
			c.mu.Lock()
			c.inflight = 0
			c.accepted = max(c.accepted, last)
			c.mu.Unlock()
			signal(c.drained)
			return nil
		}
		if err == nil {
			refused := refusal(resp)
			if !retryable(refused.Status) {
				return closeErrorFor(refused)
			}
			err = refused
		}
		if c.life.Err() != nil {
			return c.Err()
		}
		if time.Now().After(giveUp) {
			return &wire.CloseError{Code: wire.StatusAbnormalClosure,
				Reason: "the server did not accept a POST for " + strconv.FormatInt(c.hello.Timeout.Milliseconds()/1000, 10) + " s: " + err.Error()}
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-c.done:
			t.Stop()
			return c.Err()
		}
		delay = min(2*delay, maxRetry)
	}
}
