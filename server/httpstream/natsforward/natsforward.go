// Package natsforward passes the requests of duplex/server/httpstream
// between server instances over NATS, so that a load balancer may send a
// session's requests to any instance: no sticky sessions. It is a package
// of its own so that servers without NATS do not link the NATS client.
//
// Each instance subscribes to <Subject>.<instance>. A request that reaches
// an instance that does not own its session is published there, with a
// reply inbox; the owner serves it with the endpoint's own handler, and
// publishes the answer to the inbox — a POST's in one message, a stream's
// as it streams, a message per flush — which the first instance relays to
// the client:
//
//	request   headers Duplex-Method, -URL, -Host, -Remote, and the request's
//	          Duplex-Session, Origin and Content-Type; data: the body
//	answer    headers Duplex-Seq (0, 1, 2…: a gap ends the relay), and on
//	          the first, Duplex-Status, the response's headers, and
//	          Duplex-Cancel, where the first instance publishes when its
//	          client has gone; Duplex-End on the last; data: the body so far
//
// NATS core delivers at most once: if an answer's message is lost, the
// relay sees the gap in Duplex-Seq and ends the response, and the client
// opens the stream again after the last frame it received, as after any
// drop. If the owner is gone, NATS answers at once that nobody listens,
// and the request gets 410 Gone.
package natsforward

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"duplex/server/httpstream"
	"duplex/shared/streamwire"
)

// The defaults of Options.
const (
	DefaultSubject = "duplex.httpstream"
	DefaultTimeout = 30 * time.Second
)

// The headers of the messages, request and answer.
const (
	hdrMethod  = "Duplex-Method"
	hdrURL     = "Duplex-URL"
	hdrHost    = "Duplex-Host"
	hdrRemote  = "Duplex-Remote"
	hdrSeq     = "Duplex-Seq"
	hdrStatus  = "Duplex-Status"
	hdrCancel  = "Duplex-Cancel"
	hdrEnd     = "Duplex-End"
	headerRoom = 4 << 10 // what a message's headers may take of NATS's max payload
)

// passed lists the request headers the owner gets; answered, the response
// headers the client gets.
var (
	passed   = []string{streamwire.HeaderSession, "Origin", "Content-Type"}
	answered = []string{"Content-Type", "Cache-Control", "X-Accel-Buffering", "Allow"}
)

// Options configure a Forwarder. The zero value is usable.
type Options struct {
	// Subject is the prefix of the subjects the instances listen on: one
	// per endpoint, if several endpoints forward. "" means DefaultSubject.
	Subject string

	// Instance names this instance; "" means a random name. It must be
	// unique among the instances, and valid for httpstream.ValidInstance.
	Instance string

	// Timeout bounds the wait for the owner's first answer, and then for
	// each message of a stream: a stream carries a Ping at least every
	// Heartbeat. 0 means DefaultTimeout.
	Timeout time.Duration

	// Log, if not nil, hears of relays that fail, at debug level.
	Log *slog.Logger
}

// A Forwarder passes requests for sessions of other instances to their
// owners, and serves those that other instances pass to this one. It is
// an httpstream.Forwarder.
type Forwarder struct {
	nc       *nats.Conn
	subject  string
	instance string
	timeout  time.Duration
	log      *slog.Logger

	owned bool // Dial connected nc: Close closes it

	mu  sync.Mutex
	sub *nats.Subscription // while Serve serves
}

var _ httpstream.Forwarder = (*Forwarder)(nil)

// New returns a forwarder over nc; it passes requests on at once, and
// serves those of others once Serve is called.
func New(nc *nats.Conn, opts Options) (*Forwarder, error) {
	f := &Forwarder{nc: nc, subject: opts.Subject, instance: opts.Instance, timeout: opts.Timeout, log: opts.Log}
	if f.subject == "" {
		f.subject = DefaultSubject
	}
	if f.instance == "" {
		b := make([]byte, 6)
		rand.Read(b)
		f.instance = base64.RawURLEncoding.EncodeToString(b)
	}
	if !httpstream.ValidInstance(f.instance) {
		return nil, errors.New("natsforward: " + strconv.Quote(f.instance) + " cannot name an instance")
	}
	if f.timeout <= 0 {
		f.timeout = DefaultTimeout
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	return f, nil
}

// Dial connects to the NATS server at url and returns a forwarder over a
// connection of its own, which Close closes.
func Dial(url string, opts Options) (*Forwarder, error) {
	nc, err := nats.Connect(url, nats.Name("duplex httpstream forwarder"))
	if err != nil {
		return nil, errors.New("natsforward: connecting to " + url + ": " + err.Error())
	}
	f, err := New(nc, opts)
	if err != nil {
		nc.Close()
		return nil, err
	}
	f.owned = true
	return f, nil
}

// Instance returns this instance's name.
func (f *Forwarder) Instance() string { return f.instance }

// MaxBody returns the largest request body that can be passed on: NATS's
// max payload, less room for the headers. httpstream.NewServer keeps its
// POSTs within it.
func (f *Forwarder) MaxBody() int64 { return max(f.nc.MaxPayload()-headerRoom, 0) }

// Serve serves, with h, the requests other instances pass to this one,
// until Close: h is the endpoint's *httpstream.Server, or a handler that
// passes the stream's requests to it, which finds the sessions of this
// instance.
func (f *Forwarder) Serve(h http.Handler) error {
	sub, err := f.nc.Subscribe(f.subject+"."+f.instance, func(m *nats.Msg) { go f.serve(h, m) })
	if err != nil {
		return errors.New("natsforward: subscribing to " + f.subject + "." + f.instance + ": " + err.Error())
	}
	if err := f.nc.Flush(); err != nil { // the server knows of the subscription before Serve returns
		sub.Unsubscribe()
		return errors.New("natsforward: subscribing to " + f.subject + "." + f.instance + ": " + err.Error())
	}
	f.mu.Lock()
	f.sub = sub
	f.mu.Unlock()
	return nil
}

// Close stops serving other instances' requests; relays in progress end
// as their streams do. A forwarder from Dial closes its connection too.
func (f *Forwarder) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sub != nil {
		f.sub.Unsubscribe()
		f.sub = nil
		// The server has taken the unsubscription once a flush returns:
		// from then on, a request for this instance is answered at once
		// that nobody listens, rather than delivered here and dropped.
		f.nc.FlushTimeout(time.Second)
	}
	if f.owned {
		f.nc.Close()
	}
}

// Forward passes r to instance and relays its answer to w.
func (f *Forwarder) Forward(w http.ResponseWriter, r *http.Request, instance string) {
	refuse := func(status int, reason string) { http.Error(w, reason, status) }
	var body []byte
	if r.Body != nil {
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, f.MaxBody())); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				refuse(http.StatusRequestEntityTooLarge, "a POST body for another instance may hold at most "+strconv.FormatInt(f.MaxBody(), 10)+" bytes")
			}
			return
		}
		body = buf.Bytes()
	}
	inbox := f.nc.NewRespInbox()
	sub, err := f.nc.SubscribeSync(inbox)
	if err != nil {
		refuse(http.StatusServiceUnavailable, "cannot reach the session's instance: "+err.Error())
		return
	}
	defer sub.Unsubscribe()
	msg := nats.NewMsg(f.subject + "." + instance)
	msg.Reply = inbox
	msg.Data = body
	msg.Header.Set(hdrMethod, r.Method)
	msg.Header.Set(hdrURL, r.URL.RequestURI())
	msg.Header.Set(hdrHost, r.Host)
	msg.Header.Set(hdrRemote, r.RemoteAddr)
	for _, k := range passed {
		if v := r.Header.Get(k); v != "" {
			msg.Header.Set(k, v)
		}
	}
	if err := f.nc.PublishMsg(msg); err != nil {
		refuse(http.StatusServiceUnavailable, "cannot reach the session's instance: "+err.Error())
		return
	}
	f.relay(w, r, sub)
}

// relay writes the owner's answer, as it comes on sub, to w.
func (f *Forwarder) relay(w http.ResponseWriter, r *http.Request, sub *nats.Subscription) {
	rc := http.NewResponseController(w)
	cancel := ""
	defer func() {
		if cancel != "" {
			f.nc.Publish(cancel, nil) // the owner stops serving, if it has not already
		}
	}()
	for seq := 0; ; seq++ {
		ctx, stop := context.WithTimeout(r.Context(), f.timeout)
		m, err := sub.NextMsgWithContext(ctx)
		stop()
		switch {
		case errors.Is(err, nats.ErrNoResponders) && seq == 0:
			http.Error(w, "the session's instance is gone", http.StatusGone)
			return
		case err != nil && seq == 0 && r.Context().Err() == nil:
			http.Error(w, "the session's instance did not answer: "+err.Error(), http.StatusGatewayTimeout)
			return
		case err != nil:
			return // the client went, or the stream stalled: the client reopens it
		case m.Header.Get(hdrSeq) != strconv.Itoa(seq):
			f.log.Debug("natsforward: a message of the answer was lost; the stream ends", "want", seq, "got", m.Header.Get(hdrSeq))
			return
		}
		if seq == 0 {
			status, err := strconv.Atoi(m.Header.Get(hdrStatus))
			if err != nil || status < 100 {
				http.Error(w, "the session's instance answered with no status", http.StatusBadGateway)
				return
			}
			cancel = m.Header.Get(hdrCancel)
			for _, k := range answered {
				if v := m.Header.Get(k); v != "" {
					w.Header().Set(k, v)
				}
			}
			w.WriteHeader(status)
		}
		if len(m.Data) > 0 {
			if _, err := w.Write(m.Data); err != nil {
				return
			}
		}
		if m.Header.Get(hdrEnd) != "" {
			cancel = ""
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// serve serves m, a request another instance passed on, with h, and
// publishes the answer to m's reply inbox.
func (f *Forwarder) serve(h http.Handler, m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelSubject := f.nc.NewRespInbox()
	stop, err := f.nc.Subscribe(cancelSubject, func(*nats.Msg) { cancel() })
	if err != nil {
		return
	}
	defer stop.Unsubscribe()

	r, err := http.NewRequestWithContext(ctx, m.Header.Get(hdrMethod), m.Header.Get(hdrURL), bytes.NewReader(m.Data))
	if err != nil {
		return
	}
	r.RequestURI = m.Header.Get(hdrURL)
	r.Host = m.Header.Get(hdrHost)
	r.RemoteAddr = m.Header.Get(hdrRemote)
	for _, k := range passed {
		if v := m.Header.Get(k); v != "" {
			r.Header.Set(k, v)
		}
	}
	r.Header.Set(httpstream.HeaderForwarded, "1")
	w := &relayWriter{nc: f.nc, reply: m.Reply, cancel: cancelSubject, header: http.Header{},
		max: int(f.MaxBody()), stop: cancel}
	h.ServeHTTP(w, r)
	w.end()
}

// A relayWriter is the http.ResponseWriter of a forwarded request: what
// the handler writes is published to the requesting instance, a message
// per flush.
type relayWriter struct {
	nc     *nats.Conn
	reply  string
	cancel string // where the requesting instance says its client has gone
	header http.Header
	max    int    // the most data one message carries
	stop   func() // ends the request's context: publishing failed

	status int // 0 until WriteHeader
	seq    int // of the next message
	buf    []byte
	failed bool
}

func (w *relayWriter) Header() http.Header { return w.header }

func (w *relayWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *relayWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.failed {
		return 0, errRelay
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= w.max {
		if err := w.FlushError(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

var errRelay = errors.New("natsforward: the answer cannot be published")

// FlushError publishes what was written since the last flush; net/http's
// ResponseController calls it.
func (w *relayWriter) FlushError() error { return w.publish(false) }

// end publishes the last message of the answer.
func (w *relayWriter) end() { w.publish(true) }

func (w *relayWriter) publish(last bool) error {
	if w.failed {
		return errRelay
	}
	w.WriteHeader(http.StatusOK)
	msg := nats.NewMsg(w.reply)
	msg.Header.Set(hdrSeq, strconv.Itoa(w.seq))
	if w.seq == 0 {
		msg.Header.Set(hdrStatus, strconv.Itoa(w.status))
		msg.Header.Set(hdrCancel, w.cancel)
		for _, k := range answered {
			if v := w.header.Get(k); v != "" {
				msg.Header.Set(k, v)
			}
		}
	}
	if last {
		msg.Header.Set(hdrEnd, "1")
	}
	msg.Data = w.buf
	if err := w.nc.PublishMsg(msg); err != nil {
		w.failed = true
		w.stop()
		return errRelay
	}
	w.seq++
	w.buf = nil // the message holds the bytes until they are sent
	return nil
}
