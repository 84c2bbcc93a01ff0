package streamclient

import (
	"errors"
	"io"
	"strconv"
	"sync"
	"time"

	"duplex/shared/streamwire"
	"duplex/shared/wire"
)

// This file is the down goroutine: it reads the stream, takes its frames
// in order, and opens the stream again whenever it ends.

// streamBuf is the least free space the stream is read into.
const streamBuf = 16 << 10

// Reopening a stream waits between tries from minRetry, doubling, up to
// maxRetry; runDown gives up once the session's Timeout has passed.
const (
	minRetry = 50 * time.Millisecond
	maxRetry = 2 * time.Second
)

// errGap ends a stream that skipped a frame: it is opened again from the
// last frame taken, and the server sends what was skipped.
var errGap = errors.New("http stream: a frame is missing")

// A fatalError ends the connection, not just the stream.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }

// runDown reads the stream body, whose first bytes are already in buf,
// then each stream that follows, until the connection ends.
func (c *Conn) runDown(body io.ReadCloser, buf []byte) {
	for {
		err := c.readStream(body, buf)
		body.Close()
		buf = nil
		if fatal, ok := err.(*fatalError); ok {
			c.finish(fatal.err)
			return
		}
		select {
		case <-c.done:
			return
		default:
		}
		body, err = c.reopen()
		if err != nil {
			c.finish(err)
			return
		}
	}
}

// readStream takes the frames of one stream until it ends, and returns
// why it ended. A stream that carries nothing, not even a Ping, for two
// heartbeats and a second is taken for dead and closed.
func (c *Conn) readStream(body io.ReadCloser, buf []byte) error {
	silence := 2*c.hello.Heartbeat + time.Second
	var closeOnce sync.Once
	watchdog := time.AfterFunc(silence, func() { closeOnce.Do(func() { body.Close() }) })
	defer watchdog.Stop()

	data := make([]byte, 0, max(streamBuf, 2*len(buf)))
	data = append(data, buf...)
	start := 0 // data[start:] is not parsed yet
	for {
		for start < len(data) {
			f, n, err := streamwire.Parse(data[start:], maxDownFrame)
			if err == streamwire.ErrShort {
				break
			}
			if err != nil {
				return protocolError("the stream carried a malformed frame: " + err.Error())
			}
			if err := c.take(f); err != nil {
				return err
			}
			start += n
		}
		// Keep the unparsed bytes at the front, with room after them; let a
		// buffer that a large message grew go once it is read.
		if start > 0 {
			if start == len(data) && cap(data) > 4*streamBuf {
				data = make([]byte, 0, streamBuf)
			} else {
				data = data[:copy(data, data[start:])]
			}
			start = 0
		}
		if cap(data)-len(data) < streamBuf {
			bigger := make([]byte, len(data), 2*cap(data)+streamBuf)
			copy(bigger, data)
			data = bigger
		}
		n, err := body.Read(data[len(data):cap(data)])
		if n > 0 {
			watchdog.Reset(silence)
			data = data[:len(data)+n]
			c.count(func(w *Wire) { w.StreamBytes += int64(n) })
		}
		if err != nil && n == 0 {
			return err
		}
	}
}

// protocolError ends the connection as a WebSocket ends when its peer
// breaks the protocol.
func protocolError(reason string) error {
	return &fatalError{&wire.CloseError{Code: wire.StatusProtocolError, Reason: reason}}
}

// take handles one frame of the stream. Numbered frames are taken in
// order: one taken already is dropped, one that skips a number ends the
// stream.
func (c *Conn) take(f streamwire.Frame) error {
	switch f.Kind {
	case streamwire.KindPing:
		return nil
	case streamwire.KindText, streamwire.KindBinary, streamwire.KindClose:
	default:
		return protocolError("the stream carried a " + f.Kind.String() + " frame")
	}
	c.mu.Lock()
	switch {
	case f.Seq <= c.recv:
		c.mu.Unlock()
		return nil // sent again after a reopen
	case f.Seq != c.recv+1:
		c.mu.Unlock()
		return errGap
	}
	c.recv = f.Seq
	c.unacked += streamwire.FrameSize(f.Seq, len(f.Payload))
	if f.Kind.IsMessage() {
		c.queue = append(c.queue, message{typ: f.Kind.MessageType(), data: append([]byte(nil), f.Payload...)})
		c.mu.Unlock()
		signal(c.readReady)
		signal(c.upReady) // an acknowledgment is due, now or after AckDelay
		return nil
	}
	c.mu.Unlock()
	return c.closed(f.Payload)
}

// closed handles the server's Close frame: the answer to this side's
// Close, which completes the handshake, or the server's own, which this
// side answers, as a WebSocket does, before it ends.
func (c *Conn) closed(payload []byte) error {
	code, reason, err := wire.ParseClose(payload)
	if err != nil {
		return protocolError("the server's close frame: " + err.Error())
	}
	ce := &wire.CloseError{Code: code, Reason: reason, WasClean: true}
	c.mu.Lock()
	c.peerClose = ce
	ours := c.closeSeq != 0
	c.mu.Unlock()
	if ours {
		return &fatalError{ce}
	}
	answer, aerr := wire.AppendClose(nil, code, reason)
	if aerr != nil { // 1005: the server gave no code; answer with none
		answer = nil
	}
	seq, ok := c.queueClose(answer)
	if ok {
		c.awaitAccepted(seq, closeTimeout)
	}
	return &fatalError{ce}
}

// awaitAccepted waits until the server has accepted frame seq, the
// connection has ended, or timeout has passed.
func (c *Conn) awaitAccepted(seq uint64, timeout time.Duration) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		c.mu.Lock()
		accepted := c.accepted >= seq
		c.mu.Unlock()
		if accepted {
			return
		}
		select {
		case <-c.drained:
		case <-c.done:
			return
		case <-t.C:
			return
		}
	}
}

// reopen opens the stream again after the last frame taken, trying until
// the session's Timeout has passed. A refusal that means the session is
// gone, or that the request was wrong, ends the connection.
func (c *Conn) reopen() (io.ReadCloser, error) {
	giveUp := time.Now().Add(c.hello.Timeout)
	delay := time.Duration(0) // the first try is at once: the server ends streams routinely
	var last error
	for {
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-c.done:
				t.Stop()
				return nil, c.Err()
			}
		}
		c.mu.Lock()
		after := c.recv
		c.mu.Unlock()
		url := withQuery(c.url, streamwire.QueryOp, streamwire.OpDown, streamwire.QueryAfter, strconv.FormatUint(after, 10))
		resp, err := c.do.Do(c.life, c.request("GET", url, nil))
		switch {
		case err != nil:
			last = err
		case resp.Status == 200:
			c.mu.Lock()
			c.acked = max(c.acked, after)
			c.unacked = 0
			c.counts.Streams++
			c.mu.Unlock()
			return resp.Body, nil
		default:
			refused := refusal(resp)
			if !retryable(refused.Status) {
				return nil, closeErrorFor(refused)
			}
			last = refused
		}
		if c.life.Err() != nil {
			return nil, c.Err()
		}
		if time.Now().After(giveUp) {
			return nil, &wire.CloseError{Code: wire.StatusAbnormalClosure,
				Reason: "the stream could not be reopened for " + strconv.FormatInt(c.hello.Timeout.Milliseconds()/1000, 10) + " s: " + last.Error()}
		}
		delay = min(max(2*delay, minRetry), maxRetry)
	}
}

// retryable reports whether a request refused with status may succeed if
// tried again: the server, or a proxy in front of it, is busy or between
// instances.
func retryable(status int) bool {
	return status == 429 || status == 502 || status == 503 || status == 504
}

// closeErrorFor returns how a connection whose request was refused ends:
// with the close code a WebSocket would have ended with, and the server's
// reason.
func closeErrorFor(e *StatusError) *wire.CloseError {
	code := wire.StatusAbnormalClosure // 404, 410: the session is gone, as a dropped connection is
	switch e.Status {
	case 400, 409:
		code = wire.StatusProtocolError
	case 403:
		code = wire.StatusPolicyViolation
	case 413:
		code = wire.StatusMessageTooBig
	}
	return &wire.CloseError{Code: code, Reason: strconv.Itoa(e.Status) + ": " + e.Reason}
}
