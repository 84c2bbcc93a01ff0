package httpstream

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"duplex/server/ws"
	"duplex/shared/streamwire"
	"duplex/shared/wire"
)

// The defaults of Config.
const (
	DefaultWindow      = 1 << 20
	DefaultInboxLimit  = 1 << 20
	DefaultMaxSessions = 100_000
	DefaultHeartbeat   = 15 * time.Second
	DefaultStreamAge   = 55 * time.Second
	DefaultTimeout     = 30 * time.Second
	DefaultMaxLifetime = 24 * time.Hour
)

// writeTimeout bounds each write of a stream: a client that reads nothing
// for this long is dropped, as a stalled TCP connection is.
const writeTimeout = 10 * time.Second

// Config configures a Server. The zero value is usable.
type Config struct {
	// Upgrader is the endpoint's WebSocket Upgrader, whose policy the
	// stream shares: a session opens only if Upgrader.Check would accept
	// the WebSocket handshake of the same page — the same Origin rule and
	// AllowedOrigins — and gets the subprotocol the WebSocket would get;
	// messages are limited to its ReadLimit. nil means a zero Upgrader.
	Upgrader *ws.Upgrader

	// Window is how many bytes the server keeps for a client until it
	// acknowledges them; WriteMessage waits while more are unacknowledged.
	// 0 means DefaultWindow.
	Window int

	// InboxLimit is how many bytes of received messages may wait for
	// ReadMessage; a POST waits while more do. 0 means DefaultInboxLimit.
	InboxLimit int

	// MaxPost is the largest POST body accepted; 0 means the Upgrader's
	// read limit plus room for framing, and at least 64 KiB.
	MaxPost int64

	// MaxSessions bounds the sessions open at once; an open beyond it gets
	// 503. 0 means DefaultMaxSessions.
	MaxSessions int

	// Heartbeat is how often a stream that carries nothing carries a
	// Ping, so that proxies do not time it out and the client knows it
	// lives. 0 means DefaultHeartbeat.
	Heartbeat time.Duration

	// StreamAge is how long one stream lasts before the server ends it and
	// the client opens the next: proxies that limit a response's life do
	// not cut it at a worse moment, and a client that vanished without a
	// word is noticed within StreamAge + Timeout. 0 means DefaultStreamAge.
	StreamAge time.Duration

	// Timeout is how long a session lives with no stream open and no
	// request: then it ends as a dropped WebSocket does, with 1006. 0 means
	// DefaultTimeout.
	Timeout time.Duration

	// MaxLifetime is how long a session may last: then the server closes it
	// with 1001 and the client opens a new one. 0 means
	// DefaultMaxLifetime.
	MaxLifetime time.Duration

	// Stopping, if not nil, is closed when the server begins to shut down:
	// from then on opens get 503, and every session is closed with 1001,
	// so that its stream ends and net/http's Shutdown can finish.
	Stopping <-chan struct{}

	// Forwarder, if not nil, passes a request for a session of another
	// instance to that instance, so that requests need not stick to the
	// instance that opened the session (see Forwarder).
	Forwarder Forwarder

	// Stats, if not nil, counts what the sessions do.
	Stats *Stats

	// Log, if not nil, hears of refused requests, at debug level.
	Log *slog.Logger
}

// A Server serves the HTTP stream transport at one endpoint: it opens
// sessions, gives each to the endpoint's serve function as a *Conn, and
// carries their frames. Create it with NewServer, or with Endpoint, which
// serves WebSocket at the same path.
type Server struct {
	cfg       Config
	readLimit int64
	instance  string
	serve     func(*Conn)

	// mu guards the session table, the tombstones and the sweeper's state;
	// it is taken before a Conn's mu, never after.
	mu       sync.Mutex
	sessions map[string]*Conn
	tombs    tombstones
	sweeping bool // the sweeper runs: there are sessions
	stopped  bool // Stopping has been seen
}

// NewServer returns a server configured by cfg that calls serve, on a
// goroutine of its own, with each session it opens; serve owns the
// session, as an endpoint owns a WebSocket it upgraded.
func NewServer(cfg Config, serve func(*Conn)) *Server {
	if cfg.Upgrader == nil {
		cfg.Upgrader = &ws.Upgrader{}
	}
	s := &Server{serve: serve, sessions: map[string]*Conn{}, tombs: newTombstones(maxTombstones)}
	s.readLimit = cfg.Upgrader.ReadLimit
	if s.readLimit <= 0 {
		s.readLimit = ws.DefaultReadLimit
	}
	setDefault(&cfg.Window, DefaultWindow)
	setDefault(&cfg.InboxLimit, DefaultInboxLimit)
	setDefault(&cfg.MaxSessions, DefaultMaxSessions)
	setDefault(&cfg.Heartbeat, DefaultHeartbeat)
	setDefault(&cfg.StreamAge, DefaultStreamAge)
	setDefault(&cfg.Timeout, DefaultTimeout)
	setDefault(&cfg.MaxLifetime, DefaultMaxLifetime)
	setDefault(&cfg.MaxPost, max(s.readLimit+1<<10, 64<<10))
	if cfg.Forwarder != nil {
		s.instance = cfg.Forwarder.Instance()
		if limit, ok := cfg.Forwarder.(interface{ MaxBody() int64 }); ok && limit.MaxBody() > 0 {
			cfg.MaxPost = min(cfg.MaxPost, limit.MaxBody())
		}
	} else {
		s.instance = newInstance()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s.cfg = cfg
	return s
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// IsStream reports whether r is a request of the HTTP stream transport,
// rather than a WebSocket handshake.
func IsStream(r *http.Request) bool {
	return strings.Contains(r.URL.RawQuery, streamwire.QueryOp+"=") && r.URL.Query().Get(streamwire.QueryOp) != ""
}

// ServeHTTP serves one request of the transport. A refused request gets a
// 4xx or 5xx status and a one-line reason (see the package documentation).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	op := r.URL.Query().Get(streamwire.QueryOp)
	method := methodOf(op)
	switch {
	case method == "":
		s.refuse(w, r, http.StatusBadRequest, "unknown stream request "+strconv.Quote(op)+": want open, down or up")
		return
	case r.Method != method:
		w.Header().Set("Allow", method)
		s.refuse(w, r, http.StatusMethodNotAllowed, "a stream "+op+" request must use "+method+", not "+r.Method)
		return
	case op == streamwire.OpOpen:
		s.open(w, r)
		return
	}

	id := r.Header.Get(streamwire.HeaderSession)
	instance, ok := parseID(id)
	if !ok {
		s.refuse(w, r, http.StatusBadRequest, "the "+streamwire.HeaderSession+" header must hold a session id")
		return
	}
	c := s.session(id)
	if c == nil {
		if reason, gone := s.tomb(id); gone {
			s.refuse(w, r, http.StatusGone, reason)
			return
		}
		if instance != s.instance && s.cfg.Forwarder != nil && r.Header.Get(HeaderForwarded) == "" {
			s.cfg.Forwarder.Forward(w, r, instance)
			return
		}
		s.refuse(w, r, http.StatusNotFound, "unknown session: it never existed here, or ended long ago")
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != c.origin {
		s.refuse(w, r, http.StatusForbidden, "origin "+origin+" did not open this session")
		return
	}
	if op == streamwire.OpDown {
		s.down(w, r, c)
	} else {
		s.up(w, r, c)
	}
}

// methodOf returns the method of a stream request, or "" for an unknown
// one.
func methodOf(op string) string {
	switch op {
	case streamwire.OpOpen, streamwire.OpUp:
		return http.MethodPost
	case streamwire.OpDown:
		return http.MethodGet
	}
	return ""
}

// refuse answers r with status and a one-line reason.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	s.cfg.Stats.refused(status)
	s.cfg.Log.Debug("http stream: request refused", "remote", r.RemoteAddr, "status", status, "reason", reason)
	http.Error(w, reason, status)
}

// open opens a session and serves its first stream.
func (s *Server) open(w http.ResponseWriter, r *http.Request) {
	subprotocol, err := s.check(r)
	if err != nil {
		for k, v := range err.Header {
			if k != "Upgrade" && k != "Sec-Websocket-Version" { // they speak of WebSocket
				w.Header()[k] = v
			}
		}
		s.refuse(w, r, err.Status, err.Reason)
		return
	}
	c, status, reason := s.add(r, subprotocol)
	if c == nil {
		s.refuse(w, r, status, reason)
		return
	}
	hello := streamwire.Hello{
		Session:     c.id,
		Subprotocol: subprotocol,
		ReadLimit:   uint64(s.readLimit),
		MaxPost:     uint64(s.cfg.MaxPost),
		Window:      uint64(s.cfg.Window),
		Heartbeat:   s.cfg.Heartbeat,
		Timeout:     s.cfg.Timeout,
	}
	payload, _ := hello.Append(nil) // the id and the subprotocol are short: checked when made
	first := streamwire.AppendFrame(nil, streamwire.Frame{Kind: streamwire.KindHello, Payload: payload})
	go s.serve(c)
	s.stream(w, r, c, 0, first)
}

// check runs the Upgrader's Check on the WebSocket handshake that the
// page behind r would have sent — its Origin, its Host, its subprotocols
// — and returns the subprotocol the WebSocket would have had, or the
// refusal it would have got.
func (s *Server) check(r *http.Request) (string, *ws.HandshakeError) {
	h := http.Header{}
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Version", "13")
	h.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==") // RFC 6455's sample: the handshake is not answered
	if origins := r.Header.Values("Origin"); len(origins) > 0 {
		h["Origin"] = origins
	}
	if offered := r.URL.Query()[streamwire.QueryProtocol]; len(offered) > 0 {
		h.Set("Sec-WebSocket-Protocol", strings.Join(offered, ", "))
	}
	probe := &http.Request{Method: http.MethodGet, URL: r.URL, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h, Host: r.Host}
	subprotocol, err := s.cfg.Upgrader.Check(probe)
	if err != nil {
		herr, ok := err.(*ws.HandshakeError)
		if !ok {
			herr = &ws.HandshakeError{Status: http.StatusBadRequest, Reason: err.Error()}
		}
		return "", herr
	}
	return subprotocol, nil
}

// add makes a session for the open request r, unless the server is
// stopping or full, and returns it; or nil with the status and reason of
// the refusal.
func (s *Server) add(r *http.Request, subprotocol string) (*Conn, int, string) {
	now := time.Now()
	c := &Conn{
		srv:         s,
		id:          newID(s.instance),
		origin:      r.Header.Get("Origin"),
		subprotocol: subprotocol,
		remote:      addr(r.RemoteAddr),
		readLimit:   s.readLimit,
		created:     now,
		lastSeen:    now,
		readReady:   make(chan struct{}, 1),
		done:        make(chan struct{}),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped || isClosed(s.cfg.Stopping):
		return nil, http.StatusServiceUnavailable, "the server is shutting down"
	case len(s.sessions) >= s.cfg.MaxSessions:
		return nil, http.StatusServiceUnavailable, "the server holds " + strconv.Itoa(len(s.sessions)) + " sessions, its most: try again later"
	}
	s.sessions[c.id] = c
	s.cfg.Stats.opened()
	if !s.sweeping {
		s.sweeping = true
		go s.sweep()
	}
	return c, 0, ""
}

// isClosed reports whether ch is closed; a nil ch never is.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// session returns the session with id, or nil.
func (s *Server) session(id string) *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// tomb returns why the session with id ended, if it ended recently.
func (s *Server) tomb(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tombs.get(id)
}

// ended counts a session that has just ended. The sweeper takes it out of
// the table once it has lingered for closeTimeout, so that its stream may
// still carry its last frames.
func (s *Server) ended(*Conn, error) { s.cfg.Stats.closed() }

// Drain waits until every session has ended and its stream has carried
// its last frames — the Close frames that Stopping made the server send —
// or until the closing handshake's timeout and a second have passed. Call
// it at shutdown, after closing Stopping and before the process exits
// (web.Env.OnClose): net/http's Shutdown does not wait for streams, which
// it no longer holds.
func (s *Server) Drain() {
	deadline := time.Now().Add(closeTimeout + time.Second)
	for time.Now().Before(deadline) {
		busy := false
		s.mu.Lock()
		for _, c := range s.sessions {
			c.mu.Lock()
			busy = busy || c.err == nil || c.stream != nil
			c.mu.Unlock()
		}
		s.mu.Unlock()
		if !busy {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Len returns the number of sessions in the table: open, or ended within
// the last few seconds.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// sweepEvery returns how often the sweeper looks at the sessions.
func (s *Server) sweepEvery() time.Duration {
	return min(max(s.cfg.Timeout/4, 10*time.Millisecond), time.Second)
}

// sweep runs while there are sessions: it drops those that have had no
// stream and no request for Timeout, closes those older than MaxLifetime,
// and, once Stopping is closed, all; it takes ended ones out of the table
// once they have lingered.
func (s *Server) sweep() {
	tick := time.NewTicker(s.sweepEvery())
	defer tick.Stop()
	var drop, retire []*Conn
	for {
		select {
		case <-tick.C:
		case <-s.cfg.Stopping:
		}
		now := time.Now()
		stopping := isClosed(s.cfg.Stopping)
		drop, retire = drop[:0], retire[:0]
		s.mu.Lock()
		s.stopped = stopping
		for id, c := range s.sessions {
			c.mu.Lock()
			switch {
			case c.err != nil && now.Sub(c.ended) >= closeTimeout:
				delete(s.sessions, id)
				s.tombs.add(id, "the session has ended: "+describeEnd(c.err))
			case c.err != nil, c.closing:
			case c.stream == nil && now.Sub(c.lastSeen) >= s.cfg.Timeout:
				drop = append(drop, c)
			case stopping || now.Sub(c.created) >= s.cfg.MaxLifetime:
				retire = append(retire, c)
			}
			c.mu.Unlock()
		}
		empty := len(s.sessions) == 0
		if empty {
			s.sweeping = false
		}
		s.mu.Unlock()

		for _, c := range drop {
			c.finish(&wire.CloseError{Code: wire.StatusAbnormalClosure,
				Reason: "the client was gone for " + s.cfg.Timeout.String()})
		}
		for _, c := range retire {
			reason := "the session has lasted " + s.cfg.MaxLifetime.String()
			if stopping {
				reason = "the server is shutting down"
			}
			go c.Close(wire.StatusGoingAway, reason)
		}
		clear(drop)
		clear(retire)
		if empty {
			return
		}
		if stopping {
			<-tick.C // Stopping stays closed: pace the sweeps by the ticker alone
		}
	}
}

// describeEnd says how a session ended, for the reason of a 410.
func describeEnd(err error) string {
	switch e := err.(type) {
	case *wire.CloseError:
		s := "closed with " + strconv.Itoa(int(e.Code))
		if e.Code == wire.StatusAbnormalClosure {
			s = "lost"
		}
		if e.Reason != "" {
			s += ": " + e.Reason
		}
		return s
	case *wire.Error:
		return "failed with " + strconv.Itoa(int(e.Code)) + ": " + e.Msg
	}
	if err == wire.ErrClosed {
		return "closed by the server"
	}
	return err.Error()
}
