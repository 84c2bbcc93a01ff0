package httpstream

import (
	"net"
	"sync"
	"time"

	"duplex/shared/conn"
	"duplex/shared/wire"
)

// The server's side of a session is a conn.Conn, as a WebSocket is, and
// serves wherever a *ws.Conn does.
var (
	_ conn.Conn = (*Conn)(nil)
	_ Peer      = (*Conn)(nil)
)

// A Conn is one session of the HTTP stream transport, as the server's
// endpoint sees it: the same methods, with the same meanings, as a
// *ws.Conn's. Messages from the client arrive in POSTs and wait in an
// inbox for ReadMessage; messages written go into an outbox, numbered,
// which the session's stream carries down and which keeps each one until
// the client acknowledges it.
//
// Who owns what: mu guards every field below it. The Server owns the
// session's place in its table; the stream handler that is attached
// (stream) owns what it has written of the outbox; upMu is held by the
// POST being taken, which alone advances upSeq.
type Conn struct {
	srv         *Server
	id          string
	origin      string // the Origin of the request that opened the session, "" if none
	subprotocol string
	remote      addr
	readLimit   int64
	created     time.Time

	readReady chan struct{} // 1-buffered: a message arrived, or the end came
	done      chan struct{} // closed once err is set
	upMu      sync.Mutex    // held while a POST's frames are taken

	mu sync.Mutex
	// Up: frames from the client.
	inbox      []message
	inboxBytes int
	upSeq      uint64        // the last numbered frame taken from the client
	roomWait   chan struct{} // closed when the inbox shrinks, if a POST waits for room
	// Down: frames to the client.
	outbox    []outFrame       // numbered frames the client has not acknowledged, in order
	outBytes  int              // their bytes
	downSeq   uint64           // the number of the last frame queued
	ackWait   chan struct{}    // closed when the outbox shrinks, if a writer waits for room
	stream    *stream          // the stream attached, or nil
	lastSeen  time.Time        // the last request, or the end of the last stream
	closing   bool             // no more writes: a Close frame is queued, or the session has ended
	lastWord  bool             // a Close frame is queued: streams carry it even after the end
	closeSent *wire.CloseError // this side's Close frame, once queued
	closeRecv *wire.CloseError // the client's, once taken
	answered  chan struct{}    // closed when the client's Close is taken, if this side sent one
	err       error            // why the session ended; nil until then
	ended     time.Time        // when err was set
}

type message struct {
	typ  wire.MessageType
	data []byte
}

// An outFrame is a frame of the outbox, encoded.
type outFrame struct {
	seq  uint64
	data []byte
}

// A stream is the response that carries the outbox down at the moment.
type stream struct {
	wake chan struct{} // 1-buffered: frames were queued, or the session ended
	gone chan struct{} // closed when another stream replaces this one
}

// addr is a remote address as net/http reports it.
type addr string

func (a addr) Network() string { return "tcp" }
func (a addr) String() string  { return string(a) }

// ID returns the session's id. It is a secret: whoever holds it can send
// and receive as the client.
func (c *Conn) ID() string { return c.id }

// Subprotocol returns the subprotocol chosen when the session opened, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Extensions returns "": the transport has no extensions.
func (c *Conn) Extensions() string { return "" }

// RemoteAddr returns the address of the client that opened the session;
// later requests may come from others, through proxies or instances.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// Done returns a channel that is closed when the session has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns nil while the session is open, and then why it ended, as a
// *ws.Conn's Err does: a *wire.CloseError after a closing handshake (its
// code is the first Close frame's) or after the session was lost (1006:
// the client stopped coming, or aborted); wire.ErrClosed after CloseNow.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// finish ends the session with err, the first time it is called, and
// reports whether it did. The stream attached, if any, delivers what the
// outbox still holds — such as the answer to the client's Close — and
// ends. After CloseNow (err is wire.ErrClosed) the messages not yet read
// are dropped.
func (c *Conn) finish(err error) bool {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return false
	}
	c.err, c.closing, c.ended = err, true, time.Now()
	if err == wire.ErrClosed {
		c.inbox, c.inboxBytes = nil, 0
	}
	wakeAll(&c.roomWait)
	wakeAll(&c.ackWait)
	st := c.stream
	c.mu.Unlock()
	close(c.done)
	signal(c.readReady)
	if st != nil {
		signal(st.wake)
	}
	c.srv.ended(c, err)
	return true
}

// signal wakes whoever waits on ch, without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// wakeAll closes *ch, if a waiter made it, and forgets it.
func wakeAll(ch *chan struct{}) {
	if *ch != nil {
		close(*ch)
		*ch = nil
	}
}

// waitOn returns *ch, made if no one waits on it yet.
func waitOn(ch *chan struct{}) chan struct{} {
	if *ch == nil {
		*ch = make(chan struct{})
	}
	return *ch
}
