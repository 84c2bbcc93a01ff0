// Package hixie serves the obsolete draft-76 ("hixie-76") WebSocket
// protocol, the one browsers spoke in 2010 before RFC 6455, so that the
// protocol lab can show it working and why it was replaced (see
// duplex/shared/handshake's draft76.go). It is off unless the server runs
// with -hixie76, and nothing else in Duplex depends on it.
//
// The handshake: the client sends a GET with Upgrade: WebSocket,
// Connection: Upgrade, Host, Origin, Sec-WebSocket-Key1 and
// Sec-WebSocket-Key2, then 8 bytes (key3) that no Content-Length
// announces. The server answers 101 with Sec-WebSocket-Origin and
// Sec-WebSocket-Location headers and, after them, the 16-byte MD5
// response of handshake.Draft76.
//
// The frames: a text frame is 0x00, UTF-8 text and 0xFF; the closing
// frame is 0xFF 0x00. Nothing is masked, and there are no close codes,
// pings or (in practice) binary frames. The Handler echoes each text frame
// back and answers a closing frame with one before closing the connection.
// Anything else (a frame type other than those two, text that is not
// UTF-8 or longer than the limit) closes the TCP connection at once, which
// is all a draft-76 peer can do about it. Subprotocols
// (Sec-WebSocket-Protocol) are not supported.
package hixie

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"
	"unicode/utf8"

	"duplex/shared/handshake"
)

// Defaults for the Handler's limits.
const (
	DefaultMaxFrame    = 64 << 10 // bytes of text in one frame
	DefaultIdleTimeout = 2 * time.Minute
	handshakeTimeout   = 10 * time.Second // to receive key3 and send the response
)

// Frame bytes of draft-76.
const (
	frameText  = 0x00 // starts a text frame
	frameEnd   = 0xFF // ends a text frame; starts the closing frame
	closeFrame = "\xff\x00"
)

// Handler completes draft-76 handshakes and echoes text frames.
type Handler struct {
	// MaxFrame bounds the text in one frame, in bytes; a longer frame
	// closes the connection. 0 means DefaultMaxFrame.
	MaxFrame int
	// IdleTimeout closes a connection that sends nothing for that long.
	// 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Stopping, when closed, closes every connection: the HTTP server's
	// shutdown does not track hijacked ones. nil for never.
	Stopping <-chan struct{}
	// Log receives a debug record per connection; nil for none.
	Log *slog.Logger
}

// ServeHTTP answers a draft-76 opening handshake, or a bad request with 400
// and a one-line reason.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key1, key2 := r.Header.Get("Sec-WebSocket-Key1"), r.Header.Get("Sec-WebSocket-Key2")
	origin := r.Header.Get("Origin")
	if reason := checkRequest(r, key1, key2, origin); reason != "" {
		http.Error(w, "draft-76 handshake: "+reason, http.StatusBadRequest)
		return
	}
	// Reject bad keys before taking the connection: key3 does not change
	// whether they are valid.
	if _, err := handshake.Draft76(key1, key2, [8]byte{}); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var key3 [8]byte
	if r.ContentLength == int64(len(key3)) {
		// Not what browsers sent, but a client may announce key3.
		if _, err := io.ReadFull(r.Body, key3[:]); err != nil {
			http.Error(w, "draft-76 handshake: cannot read key3", http.StatusBadRequest)
			return
		}
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "draft-76 handshake: the connection cannot be taken over", http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	log := h.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("remote", conn.RemoteAddr().String(), "protocol", "draft-76")

	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	if r.ContentLength == 0 {
		// key3 follows the headers; the HTTP server, seeing no
		// Content-Length, left it in the reader.
		if _, err := io.ReadFull(brw.Reader, key3[:]); err != nil {
			log.Debug("no key3", "err", err)
			return
		}
	}
	steps, err := handshake.Draft76(key1, key2, key3)
	if err != nil { // checked above; cannot happen
		return
	}
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	fmt.Fprintf(brw.Writer, "HTTP/1.1 101 WebSocket Protocol Handshake\r\n"+
		"Upgrade: WebSocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Origin: %s\r\n"+
		"Sec-WebSocket-Location: %s://%s%s\r\n"+
		"\r\n", origin, scheme, r.Host, r.URL.RequestURI())
	brw.Writer.Write(steps.Response[:])
	if err := brw.Writer.Flush(); err != nil {
		log.Debug("cannot answer the handshake", "err", err)
		return
	}
	conn.SetDeadline(time.Time{})
	log.Debug("draft-76 connection open", "path", r.URL.Path)

	if h.Stopping != nil {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-h.Stopping:
				conn.Close()
			case <-done:
			}
		}()
	}
	err = h.echo(conn, brw)
	log.Debug("draft-76 connection closed", "err", err)
}

// checkRequest returns why r is not a draft-76 opening handshake, or "".
func checkRequest(r *http.Request, key1, key2, origin string) string {
	switch {
	case r.Method != http.MethodGet:
		return "the method must be GET"
	case !handshake.HasToken(r.Header["Upgrade"], "websocket"):
		return "Upgrade: WebSocket is missing"
	case !handshake.HasToken(r.Header["Connection"], "upgrade"):
		return "Connection: Upgrade is missing"
	case r.Host == "":
		return "Host is missing"
	case origin == "":
		return "Origin is missing"
	case key1 == "" || key2 == "":
		return "Sec-WebSocket-Key1 and Sec-WebSocket-Key2 are required"
	case r.ContentLength != 0 && r.ContentLength != 8:
		return "the body must be the 8 bytes of key3"
	}
	return ""
}

// errProtocol reports a frame the Handler does not accept.
var errProtocol = errors.New("hixie: unexpected frame")

// echo echoes text frames from brw back on conn until the peer closes,
// fails or sends something else. It returns nil after a closing handshake.
func (h *Handler) echo(conn net.Conn, brw *bufio.ReadWriter) error {
	maxFrame, idle := h.MaxFrame, h.IdleTimeout
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	var text []byte
	for {
		conn.SetReadDeadline(time.Now().Add(idle))
		b, err := brw.ReadByte()
		if err != nil {
			return err
		}
		switch b {
		case frameText:
			if text, err = readText(brw.Reader, text[:0], maxFrame); err != nil {
				return err
			}
			brw.WriteByte(frameText)
			brw.Write(text)
			brw.WriteByte(frameEnd)
		case frameEnd:
			if b, err = brw.ReadByte(); err != nil {
				return err
			}
			if b != 0x00 {
				return fmt.Errorf("%w: 0xFF %#02x (length-prefixed frames are not supported)", errProtocol, b)
			}
			brw.WriteString(closeFrame)
			return brw.Flush()
		default:
			return fmt.Errorf("%w: type %#02x", errProtocol, b)
		}
		if err := brw.Flush(); err != nil {
			return err
		}
	}
}

// readText appends to buf the text of a frame whose 0x00 has been read, up
// to its closing 0xFF, which it consumes. It fails if the text is longer
// than limit bytes or is not UTF-8.
func readText(br *bufio.Reader, buf []byte, limit int) ([]byte, error) {
	for {
		chunk, err := br.ReadSlice(frameEnd)
		n := len(chunk)
		if err == nil {
			n-- // the 0xFF
		}
		if len(buf)+n > limit {
			return buf, fmt.Errorf("%w: text frame over %d bytes", errProtocol, limit)
		}
		buf = append(buf, chunk[:n]...)
		switch {
		case err == nil:
			if !utf8.Valid(buf) {
				return buf, fmt.Errorf("%w: text frame is not UTF-8", errProtocol)
			}
			return buf, nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return buf, err
		}
	}
}
