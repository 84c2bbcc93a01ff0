package httpstream

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"duplex/shared/streamwire"
)

// ping is the frame an idle stream carries every Heartbeat.
var ping = streamwire.AppendFrame(nil, streamwire.Frame{Kind: streamwire.KindPing})

// down serves a down request: the stream again, after the frame the
// client names.
func (s *Server) down(w http.ResponseWriter, r *http.Request, c *Conn) {
	after, err := strconv.ParseUint(r.URL.Query().Get(streamwire.QueryAfter), 10, 64)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "the "+streamwire.QueryAfter+" parameter must be the number of the last frame received")
		return
	}
	s.stream(w, r, c, after, nil)
}

// stream carries the session's outbox down in w's body, from the frame
// after after, beginning with first if it is not nil (the Hello of a new
// session), flushing after each batch.
//
// Where it can, it takes the connection over from net/http (raw.go) and
// carries the stream from a goroutine of its own, and the handler returns:
// net/http then lets go of the request and its buffers, as it does for a
// WebSocket, and an idle session costs a few KiB instead of some 40. Where
// it cannot — HTTP/2, a forwarded request — the handler carries it.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, c *Conn, after uint64, first []byte) {
	st, err := c.attach(after)
	if err != nil {
		status := http.StatusConflict
		if errors.Is(err, errEnded) {
			status = http.StatusGone
		}
		s.refuse(w, r, status, err.Error())
		return
	}
	s.cfg.Stats.streamed()
	h := w.Header()
	h.Set("Content-Type", streamwire.ContentType)
	h.Set("Cache-Control", "no-store, no-transform") // no proxy may buffer, cache or compress it
	h.Set("X-Accel-Buffering", "no")                 // nginx: pass it on as it comes
	if raw, err := hijack(w, r); err == nil {
		go func() {
			defer c.detach(st)
			defer raw.end()
			s.carry(raw, nil, c, st, after, first)
		}()
		return
	}
	defer c.detach(st)
	w.WriteHeader(http.StatusOK)
	s.carry(&responseDown{w: w, rc: http.NewResponseController(w)}, r.Context().Done(), c, st, after, first)
}

// A downstream is where a stream's frames go: the response that
// net/http carries, or a connection taken over from it.
type downstream interface {
	// write writes frames and flushes them to the client.
	write(frames [][]byte) error
}

// carry writes the session's frames after cursor to down, beginning with
// first, until another stream replaces this one, gone is closed (the
// client went), the stream has lasted StreamAge, a write fails, or the
// session has ended and the stream has carried its last frames. An idle
// stream carries a Ping every Heartbeat.
func (s *Server) carry(down downstream, gone <-chan struct{}, c *Conn, st *stream, cursor uint64, first []byte) {
	heartbeat := time.NewTimer(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	age := time.NewTimer(s.cfg.StreamAge)
	defer age.Stop()
	var batch [][]byte
	if first != nil {
		batch = append(batch, first)
	}
	for {
		batch, cursor = c.framesAfter(batch, cursor)
		if len(batch) > 0 {
			if down.write(batch) != nil {
				return
			}
			clear(batch)
			batch = batch[:0]
			heartbeat.Reset(s.cfg.Heartbeat)
		}
		if c.streamDone(cursor) {
			return
		}
		select {
		case <-st.wake:
		case <-heartbeat.C:
			batch = append(batch, ping)
		case <-age.C:
			return
		case <-st.gone:
			return
		case <-gone:
			return
		}
	}
}

// responseDown carries a stream in a response that net/http writes.
type responseDown struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (d *responseDown) write(frames [][]byte) error {
	d.rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // unsupported only where a write cannot stall, such as a forwarder's
	for _, f := range frames {
		if _, err := d.w.Write(f); err != nil {
			return err
		}
	}
	return d.rc.Flush()
}

// errEnded is why a stream cannot attach to a session that has ended and
// has nothing left to carry.
var errEnded = errors.New("the session has ended")

// attach makes st the session's stream, after frame after, which the
// client acknowledges by asking for what follows it; the stream attached
// before, if any, ends.
func (c *Conn) attach(after uint64) (*stream, error) {
	c.mu.Lock()
	if c.err != nil && (!c.lastWord || after >= c.downSeq) {
		err := c.err
		c.mu.Unlock()
		return nil, errors.Join(errEnded, errors.New(describeEnd(err)))
	}
	if after > c.downSeq {
		c.mu.Unlock()
		return nil, errors.New("the client asks for the frames after " + strconv.FormatUint(after, 10) +
			", but the last sent is " + strconv.FormatUint(c.downSeq, 10))
	}
	if len(c.outbox) > 0 && after+1 < c.outbox[0].seq || len(c.outbox) == 0 && after < c.downSeq {
		c.mu.Unlock()
		return nil, errors.New("the client asks for the frames after " + strconv.FormatUint(after, 10) +
			", which it acknowledged before: they are gone")
	}
	st := &stream{wake: make(chan struct{}, 1), gone: make(chan struct{})}
	old := c.stream
	c.stream, c.lastSeen = st, time.Now()
	c.mu.Unlock()
	if old != nil {
		close(old.gone)
	}
	if err := c.ack(after); err != nil {
		return nil, err
	}
	return st, nil
}

// detach notes that st has ended: the session's Timeout runs from now
// unless another stream has taken its place.
func (c *Conn) detach(st *stream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stream == st {
		c.stream, c.lastSeen = nil, time.Now()
	}
}

// streamDone reports whether a stream that has carried the frames up to
// cursor has nothing more to do: the session has ended, and either its
// last word, a Close frame, is carried, or it had none, and what was
// queued no longer matters.
func (c *Conn) streamDone(cursor uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err != nil && (!c.lastWord || cursor >= c.downSeq)
}
