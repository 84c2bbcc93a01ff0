package httpstream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"duplex/shared/streamwire"
	"duplex/shared/wire"
)

// up serves an up request: the client's frames, taken in order. It
// answers 204 once every frame is taken, or refuses the request with a
// one-line reason: 413 for a body or a message over the limits, 409 for a
// frame that skips a number, 400 for a malformed frame, 410 if the session
// ends meanwhile. A refusal for a message over the limit or a malformed
// frame ends the session too, as the WebSocket would end with 1009, 1002
// or 1007; a 409 leaves it as it was. Frames taken before a refusal stay
// taken: a client that sends them again sees them dropped.
func (s *Server) up(w http.ResponseWriter, r *http.Request, c *Conn) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxPost))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			reason := "a POST body may hold at most " + strconv.FormatInt(s.cfg.MaxPost, 10) + " bytes"
			c.fail(wire.StatusMessageTooBig, reason)
			s.refuse(w, r, http.StatusRequestEntityTooLarge, reason)
		}
		return // otherwise the client went away mid-body: nobody hears an answer
	}
	s.cfg.Stats.posted()
	c.touch()
	c.upMu.Lock()
	defer c.upMu.Unlock()
	for len(body) > 0 {
		f, n, err := streamwire.Parse(body, int(min(c.readLimit, 1<<30)))
		if err != nil {
			var tooLarge *streamwire.TooLargeError
			if errors.As(err, &tooLarge) {
				reason := "message " + strconv.FormatUint(tooLarge.Seq, 10) + " of " + strconv.FormatUint(tooLarge.Size, 10) +
					" bytes exceeds the limit of " + strconv.FormatInt(c.readLimit, 10)
				c.fail(wire.StatusMessageTooBig, reason)
				s.refuse(w, r, http.StatusRequestEntityTooLarge, reason)
				return
			}
			if err == streamwire.ErrShort {
				err = errors.New("the body ends inside a frame")
			}
			c.fail(wire.StatusProtocolError, "malformed frame: "+err.Error())
			s.refuse(w, r, http.StatusBadRequest, "malformed frame: "+err.Error())
			return
		}
		body = body[n:]
		if status, reason := c.take(r.Context(), f); status != 0 {
			s.refuse(w, r, status, reason)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// take takes one frame from the client, and returns 0, or the status and
// reason with which the request is refused.
func (c *Conn) take(ctx context.Context, f streamwire.Frame) (int, string) {
	switch f.Kind {
	case streamwire.KindAck:
		if err := c.ack(f.Seq); err != nil {
			reason := "an ack of frame " + strconv.FormatUint(f.Seq, 10) + " " + err.Error()
			c.fail(wire.StatusProtocolError, reason)
			return http.StatusBadRequest, reason
		}
		return 0, ""
	case streamwire.KindAbort:
		c.finish(&wire.CloseError{Code: wire.StatusAbnormalClosure, Reason: "the client aborted the session"})
		return 0, ""
	case streamwire.KindText, streamwire.KindBinary, streamwire.KindClose:
	default:
		reason := "a client may not send a " + f.Kind.String() + " frame"
		c.fail(wire.StatusProtocolError, reason)
		return http.StatusBadRequest, reason
	}

	c.mu.Lock()
	next, err := c.upSeq+1, c.err
	c.mu.Unlock()
	switch {
	case f.Seq < next:
		return 0, "" // taken before: the client sent it again
	case err != nil && f.Kind == streamwire.KindClose:
		return 0, "" // the answer to the Close that ended the session
	case err != nil:
		return http.StatusGone, "the session has ended: " + describeEnd(err)
	case f.Seq > next:
		return http.StatusConflict, "out of order: frame " + strconv.FormatUint(next, 10) + " comes next, not " + strconv.FormatUint(f.Seq, 10)
	}

	if f.Kind == streamwire.KindClose {
		if err := c.closeReceived(f.Payload); err != nil {
			c.fail(wire.StatusProtocolError, "close frame: "+err.Error())
			return http.StatusBadRequest, "close frame: " + err.Error()
		}
		c.mu.Lock()
		c.upSeq = f.Seq
		c.mu.Unlock()
		return 0, ""
	}
	if f.Kind == streamwire.KindText && !utf8.Valid(f.Payload) {
		c.fail(wire.StatusInvalidPayloadData, "text message "+strconv.FormatUint(f.Seq, 10)+" is not valid UTF-8")
		return http.StatusBadRequest, "text message " + strconv.FormatUint(f.Seq, 10) + " is not valid UTF-8"
	}
	if err := c.deliver(ctx, f.Kind.MessageType(), f.Payload); err != nil {
		if ctx.Err() != nil {
			return http.StatusServiceUnavailable, "the request ended before the endpoint read its messages"
		}
		return http.StatusGone, "the session has ended: " + describeEnd(err)
	}
	c.mu.Lock()
	c.upSeq = f.Seq
	c.mu.Unlock()
	return 0, ""
}

// touch notes a request: the session's Timeout runs from now.
func (c *Conn) touch() {
	c.mu.Lock()
	c.lastSeen = time.Now()
	c.mu.Unlock()
}

// fail ends the session because the client broke the protocol or a
// limit: the client hears a Close frame with code, if its stream is
// there, and the endpoint reads a *wire.Error, as from a WebSocket that
// failed.
func (c *Conn) fail(code wire.StatusCode, reason string) {
	c.mu.Lock()
	if !c.closing {
		if len(reason) > wire.MaxCloseReason {
			reason = reason[:wire.MaxCloseReason]
			for !utf8.ValidString(reason) {
				reason = reason[:len(reason)-1]
			}
		}
		payload, _ := wire.AppendClose(nil, code, reason)
		c.lastWord = true
		c.downSeq++
		c.queue(streamwire.Frame{Kind: streamwire.KindClose, Seq: c.downSeq, Payload: payload})
	}
	c.mu.Unlock()
	c.finish(&wire.Error{Code: code, Msg: reason})
}
