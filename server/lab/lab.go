// Package lab serves Duplex's protocol lab: a WebSocket whose every byte
// the server records and reports to the page that opened it.
//
// The page opens two connections (the protocol is in shared/lab). On the
// trace channel, the server tells the page what it observes on the lab
// connection and takes commands that make it send frames there: a message
// in N fragments, a ping, a close, a frame that breaks the protocol. The lab
// connection is an echo, traced byte for byte by a tracer between server/ws
// and the socket (tracer.go); its upgrade request comes raw from a listener
// that records request heads (heads.go).
package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"duplex/server/ws"
	"duplex/shared/handshake"
	"duplex/shared/lab"
	"duplex/shared/wire"
)

// Limits of what a session keeps and sends.
const (
	// maxFrames is how many frames of one lab connection are reported;
	// later ones are counted only.
	maxFrames = 1000
	// maxQueued is how many bytes of reports may wait for a slow page;
	// further reports are dropped and counted.
	maxQueued = 4 << 20
	// maxFragments and maxFragmentText bound a Fragment command.
	maxFragments    = 64
	maxFragmentText = 16 << 10
	// pingTimeout is how long a Ping command waits for the pong.
	pingTimeout = 5 * time.Second
)

// A Server serves the lab's two endpoints and keeps their sessions.
type Server struct {
	log       *slog.Logger
	traceSide ws.Upgrader
	labSide   ws.Upgrader // lab connections, without compression
	// lab connections that may use permessage-deflate (?compress=1)
	labSideDeflate ws.Upgrader

	mu       sync.Mutex
	sessions map[string]*session
}

// NewServer returns a Server whose connections join group (which may be
// nil) and are pinged every keepAlive when idle (0 for never).
func NewServer(log *slog.Logger, group *ws.Group, keepAlive time.Duration) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{
		log: log,
		traceSide: ws.Upgrader{
			Subprotocols: []string{lab.Subprotocol},
			ReadLimit:    maxFragmentText + 64, // the largest command is a Fragment
			KeepAlive:    keepAlive,
			Group:        group,
		},
		labSide: ws.Upgrader{
			KeepAlive: keepAlive, // its pings show up in the trace, as they would on any connection
			Group:     group,
		},
		labSideDeflate: ws.Upgrader{
			KeepAlive:   keepAlive,
			Group:       group,
			Compression: &ws.CompressionOptions{},
		},
		sessions: make(map[string]*session),
	}
}

// ServeTrace serves the trace channel: it opens a session, sends its ID,
// reports what happens on the session's lab connections and carries out
// the page's commands until the page goes away.
func (s *Server) ServeTrace(w http.ResponseWriter, r *http.Request) {
	c, err := s.traceSide.Upgrade(w, r)
	if err != nil {
		s.log.Debug("lab: trace channel refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	go s.serveTrace(c)
}

func (s *Server) serveTrace(c *ws.Conn) {
	defer c.CloseNow()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sess := &session{id: newID(), trace: c, wake: make(chan struct{}, 1)}
	s.mu.Lock()
	s.sessions[sess.id] = sess
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, sess.id)
		s.mu.Unlock()
		sess.end()
	}()
	go sess.sendReports(ctx)

	sess.report(&lab.Session{ID: sess.id})
	buf := make([]byte, 0, 1<<10)
	for {
		_, b, err := c.ReadMessage(ctx, buf[:0])
		if err != nil {
			s.log.Debug("lab: trace channel ended", "session", sess.id, "err", err)
			return
		}
		m, err := lab.Decode(b)
		if err != nil {
			sess.note("The server could not read a command: " + err.Error())
			continue
		}
		sess.command(ctx, m)
	}
}

// ServeConn serves a lab connection: an echo whose bytes are reported to
// the session named by the query parameter session.
func (s *Server) ServeConn(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("session")
	s.mu.Lock()
	sess := s.sessions[id]
	s.mu.Unlock()
	if sess == nil {
		if _, herr := s.labSide.Check(r); herr == nil { // otherwise Upgrade gives the handshake's own answer
			http.Error(w, "no lab session "+strconv.Quote(id)+": the lab page opens one on its trace channel first", http.StatusBadRequest)
			return
		}
	}
	// The page chooses whether the lab connection may use
	// permessage-deflate (?compress=1): off, a frame with RSV1 set breaks
	// the protocol, as one of the lab's violations shows.
	upgrader := &s.labSide
	if r.URL.Query().Get("compress") == "1" {
		upgrader = &s.labSideDeflate
	}
	lc := &labConn{sess: sess}
	c, err := upgrader.Upgrade(tracingWriter{w, func(nc net.Conn, buffered []byte) net.Conn {
		return lc.trace(nc, buffered, r)
	}}, r)
	if err != nil {
		s.log.Debug("lab: lab connection refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	lc.conn = c
	// Take the session's place first, so that a command sent as soon as
	// the page sees the handshake finds this connection; then report the
	// handshake, then frames.
	sess.setLab(lc, "a new lab connection replaced this one")
	sess.report(lc.handshake)
	lc.t.received(lc.buffered)
	lc.buffered = nil
	go lc.serve()
}

// newID returns a session ID that cannot be guessed.
func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// tracingWriter hands server/ws a traced connection when it takes over the
// request's connection.
type tracingWriter struct {
	http.ResponseWriter
	wrap func(nc net.Conn, buffered []byte) net.Conn
}

func (w tracingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	var buffered []byte
	if n := brw.Reader.Buffered(); n > 0 {
		buffered, _ = brw.Reader.Peek(n)
	}
	return w.wrap(nc, buffered), brw, nil
}

// A session is one lab page: its trace channel and its current lab
// connection.
type session struct {
	id    string
	trace *ws.Conn

	mu      sync.Mutex
	queue   [][]byte // encoded reports waiting for sendReports
	queued  int      // bytes in queue
	dropped int      // reports dropped since the last sent
	lab     *labConn
	ended   bool // the trace channel has closed: no lab connection may join
	wake    chan struct{}
}

// report queues m for the page. It never blocks: a report that does not
// fit is dropped, and the page is told how many were.
func (s *session) report(m lab.Message) {
	b := lab.Append(nil, m)
	s.mu.Lock()
	if s.queued+len(b) > maxQueued {
		s.dropped++
	} else {
		s.queue = append(s.queue, b)
		s.queued += len(b)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *session) note(text string) { s.report(&lab.Note{Text: text}) }

// sendReports writes queued reports to the trace channel, as many at a
// time as have piled up, until ctx ends or the channel fails.
func (s *session) sendReports(ctx context.Context) {
	for {
		select {
		case <-s.wake:
		case <-ctx.Done():
			return
		}
		s.mu.Lock()
		batch := s.queue
		s.queue, s.queued = nil, 0
		if s.dropped > 0 {
			batch = append(batch, lab.Append(nil, &lab.Note{Text: strconv.Itoa(s.dropped) +
				" reports were dropped: they came faster than the page took them"}))
			s.dropped = 0
		}
		s.mu.Unlock()
		if err := s.trace.WriteMessages(ctx, ws.Binary, batch); err != nil {
			return
		}
	}
}

// setLab makes lc the session's lab connection, closing the one before
// with reason; lc may be nil.
func (s *session) setLab(lc *labConn, reason string) {
	s.mu.Lock()
	if s.ended && lc != nil { // the page went away while lc was connecting
		s.mu.Unlock()
		lc.replaced.Store(true)
		go lc.conn.Close(wire.StatusGoingAway, "the lab page went away")
		return
	}
	old := s.lab
	s.lab = lc
	s.mu.Unlock()
	if old != nil {
		old.replaced.Store(true)
		go old.conn.Close(wire.StatusGoingAway, reason)
	}
}

// end closes the session's lab connection, and any that would join later:
// the trace channel has closed, so nobody would see their reports.
func (s *session) end() {
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	s.setLab(nil, "the lab page went away")
}

// release forgets lc, which has ended, and reports whether it was the
// session's lab connection.
func (s *session) release(lc *labConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lab != lc {
		return false
	}
	s.lab = nil
	return true
}

func (s *session) current() *labConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lab
}

// command carries out a command from the page on the lab connection.
func (s *session) command(ctx context.Context, m lab.Message) {
	lc := s.current()
	if lc == nil {
		s.note("There is no lab connection to send on: connect first.")
		return
	}
	switch m := m.(type) {
	case *lab.Fragment:
		lc.fragment(ctx, m.N, m.Text)
	case *lab.Ping:
		go lc.ping(ctx)
	case *lab.Close:
		lc.close(wire.StatusCode(m.Code), m.Reason)
	case *lab.Violate:
		lc.violate(m.Rule)
	default:
		s.note("The server takes no message of kind " + strconv.Itoa(int(m.Kind())) + " from the page.")
	}
}

// A labConn is a traced echo connection.
type labConn struct {
	sess      *session
	conn      *ws.Conn
	t         *tracer
	handshake *lab.Handshake
	buffered  []byte // frames that came in behind the request, traced once the handshake is reported

	replaced atomic.Bool // a newer lab connection took this one's place

	// writeMu is held by every write the lab makes: the echo's and the
	// commands'. A frame that breaks the protocol is written straight to
	// the tracer, bypassing server/ws, so it must not land inside another.
	writeMu sync.Mutex

	mu         sync.Mutex // guards what follows, updated by both directions
	start      time.Time
	seq        uint64
	unreported int
	closing    bool // the server started the closing handshake

	// The data message last seen each way on the wire: whether its first
	// frame had RSV1 set (permessage-deflate compressed it), and its
	// frames' payload bytes so far. Indexed by sent (1: server to browser).
	compressed [2]bool
	wireBytes  [2]int64
}

// trace wraps the hijacked connection nc in a tracer, and prepares the
// handshake's report, which the tracer completes with the 101 response.
func (lc *labConn) trace(nc net.Conn, buffered []byte, r *http.Request) net.Conn {
	h := &lab.Handshake{Key: r.Header.Get("Sec-WebSocket-Key")}
	if hc, ok := nc.(*headConn); ok {
		h.Request = hc.takeHead()
	}
	if !strings.HasPrefix(string(h.Request), r.Method+" "+r.RequestURI+" ") {
		h.Request, h.Rebuilt = rebuildHead(r), true
	}
	h.KeyGUID = h.Key + handshake.KeyGUID
	sum := sha1.Sum([]byte(h.KeyGUID))
	h.SHA1 = sum[:]
	h.Accept = base64.StdEncoding.EncodeToString(sum[:])

	lc.start = time.Now()
	lc.handshake = h
	lc.buffered = bytes.Clone(buffered)
	lc.t = newTracer(nc, func(response []byte) { h.Response = response }, lc.frame)
	return lc.t
}

// rebuildHead writes r's request line and headers as net/http parsed them.
func rebuildHead(r *http.Request) []byte {
	var b strings.Builder
	b.WriteString(r.Method + " " + r.RequestURI + " " + r.Proto + "\r\nHost: " + r.Host + "\r\n")
	r.Header.Write(&b)
	b.WriteString("\r\n")
	return []byte(b.String())
}

// frame reports a frame the tracer cut from the wire, unless a newer lab
// connection has replaced this one: the page shows one at a time.
func (lc *labConn) frame(sent bool, header, payload []byte) {
	if lc.replaced.Load() {
		return
	}
	lc.mu.Lock()
	if h, _, err := wire.ParseHeader(header); err == nil && !h.Opcode.IsControl() {
		dir := 0
		if sent {
			dir = 1
		}
		if h.Opcode != wire.OpContinuation {
			lc.compressed[dir], lc.wireBytes[dir] = h.Rsv&wire.Rsv1 != 0, 0
		}
		lc.wireBytes[dir] += h.Length
	}
	lc.seq++
	seq, micros := lc.seq, time.Since(lc.start).Microseconds()
	if seq > maxFrames {
		lc.unreported++
	}
	lc.mu.Unlock()
	if seq <= maxFrames {
		lc.sess.report(&lab.Frame{Seq: seq, Sent: sent, Micros: uint64(micros), Header: header, Payload: payload})
	}
}

// serve echoes messages until the connection ends, then tells the page how.
func (lc *labConn) serve() {
	defer lc.conn.CloseNow()
	ctx := context.Background()
	var buf []byte
	var err error
	for {
		var typ ws.MessageType
		if typ, buf, err = lc.conn.ReadMessage(ctx, buf[:0]); err != nil {
			break
		}
		lc.noteCompression(false, len(buf))
		lc.writeMu.Lock()
		err = lc.conn.WriteMessage(ctx, typ, buf)
		lc.writeMu.Unlock()
		if err != nil {
			break
		}
		lc.noteCompression(true, len(buf))
	}
	if !lc.sess.release(lc) {
		return // replaced: the page has moved on to the next one
	}
	lc.mu.Lock()
	unreported, closing := lc.unreported, lc.closing
	lc.mu.Unlock()
	lc.sess.note("The lab connection ended: " + describeEnd(err, closing) + ".")
	if unreported > 0 {
		lc.sess.note(strconv.Itoa(unreported) + " frames were not reported: the lab reports the first " + strconv.Itoa(maxFrames) + " of a connection.")
	}
}

// noteCompression tells the page, when permessage-deflate compressed the
// message just read (or, if sent, just written), how many bytes crossed
// the wire for its n bytes: the frames show the compressed bytes, the
// messages the inflated ones. The tracer has seen every frame of the
// message by the time the read or the write returns.
func (lc *labConn) noteCompression(sent bool, n int) {
	dir, who := 0, "The browser"
	if sent {
		dir, who = 1, "The server"
	}
	lc.mu.Lock()
	compressed, onWire := lc.compressed[dir], lc.wireBytes[dir]
	lc.mu.Unlock()
	if !compressed || lc.replaced.Load() {
		return
	}
	ratio := "—"
	if n > 0 {
		ratio = strconv.FormatFloat(100*float64(onWire)/float64(n), 'f', 1, 64) + "%"
	}
	lc.sess.note(who + " compressed a " + strconv.Itoa(n) + "-byte message into " + strconv.FormatInt(onWire, 10) +
		" bytes on the wire (" + ratio + "), RSV1 set on its first frame; the other side inflated it.")
}

// describeEnd says in words how a connection whose read failed with err
// ended; closing says whether the server had started to close it.
func describeEnd(err error, closing bool) string {
	var ce *ws.CloseError
	var we *wire.Error
	switch {
	case closing && errors.As(err, &ce):
		return "the server sent a close frame and the browser answered with close " + strconv.Itoa(int(ce.Code)) + quoted(ce.Reason)
	case closing:
		return "the server sent a close frame (" + err.Error() + ")"
	case errors.As(err, &ce) && ce.Code == wire.StatusNoStatusReceived:
		return "the browser sent a close frame with no code, and the server answered it"
	case errors.As(err, &ce) && ce.Code == wire.StatusAbnormalClosure:
		return "the browser dropped the TCP connection without a close frame (1006)"
	case errors.As(err, &ce):
		return "the browser sent close " + strconv.Itoa(int(ce.Code)) + " (" + ce.Code.String() + ")" + quoted(ce.Reason) + ", and the server answered it"
	case errors.As(err, &we):
		return "the browser broke the protocol, so the server closed with " + strconv.Itoa(int(we.Code)) + " (" + we.Msg + ")"
	}
	return err.Error()
}

func quoted(reason string) string {
	if reason == "" {
		return ""
	}
	return " " + strconv.Quote(reason)
}
