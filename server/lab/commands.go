package lab

import (
	"context"
	"strconv"
	"time"

	"duplex/shared/lab"
	"duplex/shared/wire"
)

// This file carries out the page's commands on a lab connection: each makes
// the server send frames, whose effect the page then sees in the trace.

// fragment sends text as one text message in n frames, using server/ws's
// streaming writer: a Flush ends each frame but the last. The parts are cut
// by bytes, so a frame may end inside a character; only the whole message
// must be valid UTF-8.
func (lc *labConn) fragment(ctx context.Context, n uint64, text string) {
	switch {
	case n < 1 || n > maxFragments:
		lc.sess.note("A message can be sent in 1 to " + strconv.Itoa(maxFragments) + " fragments here, not " + strconv.FormatUint(n, 10) + ".")
		return
	case uint64(len(text)) < n:
		lc.sess.note("The text has " + strconv.Itoa(len(text)) + " bytes: too few for " + strconv.FormatUint(n, 10) + " fragments of at least one byte.")
		return
	case len(text) > maxFragmentText:
		lc.sess.note("The text is longer than the lab's " + strconv.Itoa(maxFragmentText) + " bytes.")
		return
	}
	lc.writeMu.Lock()
	defer lc.writeMu.Unlock()
	w, err := lc.conn.NextWriter(ctx, wire.Text)
	if err != nil {
		lc.sess.note("The fragmented message was not sent: " + err.Error())
		return
	}
	for i := range n {
		part := text[uint64(len(text))*i/n : uint64(len(text))*(i+1)/n]
		if _, err = w.Write([]byte(part)); err == nil && i < n-1 {
			err = w.Flush()
		}
		if err != nil {
			break
		}
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		lc.sess.note("The fragmented message was cut short: " + err.Error())
	}
}

// ping sends a ping and notes how long the browser took to answer it.
func (lc *labConn) ping(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	start := time.Now()
	if err := lc.conn.Ping(ctx); err != nil {
		lc.sess.note("The ping got no pong: " + err.Error())
		return
	}
	us := time.Since(start).Microseconds()
	lc.sess.note("The browser answered the ping with a pong after " + strconv.FormatFloat(float64(us)/1000, 'f', 2, 64) + " ms, without any code on the page.")
}

// close starts the closing handshake with code and reason, if a close frame
// may carry them.
func (lc *labConn) close(code wire.StatusCode, reason string) {
	if !code.ValidOnWire() {
		lc.sess.note("Close code " + strconv.Itoa(int(code)) + " may not be sent in a close frame (RFC 6455 §7.4).")
		return
	}
	if len(reason) > wire.MaxCloseReason {
		lc.sess.note("A close reason holds at most " + strconv.Itoa(wire.MaxCloseReason) + " bytes; this one has " + strconv.Itoa(len(reason)) + ".")
		return
	}
	lc.mu.Lock()
	lc.closing = true
	lc.mu.Unlock()
	go lc.conn.Close(code, reason) // waits for the browser's answer, which the echo loop reads
}

// violate sends a frame that breaks rule. It goes straight to the tracer,
// since server/ws would refuse to write it; the browser must then fail the
// connection (RFC 6455 §7.1.7).
func (lc *labConn) violate(rule lab.Rule) {
	frame, ok := violation(rule)
	if !ok {
		lc.sess.note("The lab knows no rule " + strconv.Itoa(int(rule)) + ".")
		return
	}
	lc.writeMu.Lock()
	defer lc.writeMu.Unlock()
	if _, err := lc.t.Write(frame); err != nil {
		lc.sess.note("The frame was not sent: " + err.Error())
	}
}

// violation returns a frame that breaks rule.
func violation(rule lab.Rule) ([]byte, bool) {
	h := wire.Header{Fin: true, Opcode: wire.OpText}
	var payload []byte
	switch rule {
	case lab.RuleMasked:
		// The masking key of RFC 6455's example in §5.7.
		h.Masked, h.Mask, payload = true, [4]byte{0x37, 0xfa, 0x21, 0x3d}, []byte("Hello")
		wire.Mask(h.Mask, 0, payload)
	case lab.RuleRsv:
		h.Rsv, payload = wire.Rsv1, []byte("rsv1")
	case lab.RuleOpcode:
		h.Opcode, payload = 0x3, []byte("?")
	case lab.RuleControlSize:
		h.Opcode, payload = wire.OpPing, make([]byte, wire.MaxControlPayload+1)
		for i := range payload {
			payload[i] = 'x'
		}
	case lab.RuleUTF8:
		payload = []byte("caf\xe9") // é in Latin-1, not UTF-8
	case lab.RuleContinuation:
		h.Opcode, payload = wire.OpContinuation, []byte("orphan")
	default:
		return nil, false
	}
	h.Length = int64(len(payload))
	return append(wire.AppendHeader(nil, h), payload...), true
}
