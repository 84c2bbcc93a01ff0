package ws

import (
	"context"
	"sync"

	"duplex/shared/wire"
)

// This file holds PreparedMessage: a message to send to many connections,
// compressed once for all of them rather than once for each.

// A PreparedMessage is a message to send to many connections, as a chat
// room fans a message out to its members. WritePreparedMessage sends it
// as WriteMessage would, except that where the message is compressed, it
// is compressed once for each compression setting (level and window size)
// among the connections, and the result shared, instead of once for each
// connection.
//
// The shared compression does not refer to what a connection sent before:
// on a connection with context takeover, it is larger than WriteMessage's
// would be, and costs once what WriteMessage costs each time. The message
// still joins the connection's history, so later messages may refer to it.
//
// A PreparedMessage is safe for concurrent use. The caller must not modify
// the data it was made from.
type PreparedMessage struct {
	typ  MessageType
	data []byte

	mu         sync.Mutex
	compressed []preparedPayload // guarded by mu; one per setting met so far
}

// A preparedPayload is the message compressed with one setting.
type preparedPayload struct {
	level, bits int
	payload     []byte // nil if compression does not shrink the message
}

// NewPreparedMessage returns a message of type typ carrying data, to send
// with WritePreparedMessage. It fails for a type other than Text or Binary.
func NewPreparedMessage(typ MessageType, data []byte) (*PreparedMessage, error) {
	if !typ.Valid() {
		return nil, errNotData(typ)
	}
	return &PreparedMessage{typ: typ, data: data}, nil
}

// payload returns the message compressed for level and a window of 2^bits
// bytes, without a dictionary, compressing it on first use; nil if that
// does not shrink it.
func (pm *PreparedMessage) payload(level, bits int) []byte {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	for _, p := range pm.compressed {
		if p.level == level && p.bits == bits {
			return p.payload
		}
	}
	d := deflateState{level: level, outBits: bits}
	payload := d.deflate(nil, pm.data, nil)
	payload = payload[:len(payload)-len(deflateTail)]
	if len(payload) >= len(pm.data) {
		payload = nil
	}
	pm.compressed = append(pm.compressed, preparedPayload{level, bits, payload})
	return payload
}

// WritePreparedMessage sends pm as one message in a single frame, as
// WriteMessage would send its data, compressed if compression was agreed
// and the message is at least the threshold; see PreparedMessage for how
// its compression is shared. It waits for any message being written by
// another goroutine to finish first. ctx bounds the wait and the write; if
// it ends during the write, the connection is closed.
func (c *Conn) WritePreparedMessage(ctx context.Context, pm *PreparedMessage) error {
	if err := c.lockMessage(ctx); err != nil {
		return err
	}
	defer c.unlockMessage()
	c.writeWatch.begin(c, ctx)
	var rsv byte
	p := pm.data
	if d := c.deflate; d != nil && d.compresses(len(p)) {
		if z := pm.payload(d.level, d.outBits); z != nil {
			d.compressed(p)
			rsv, p = wire.Rsv1, z
		}
	}
	if err := c.writeDone(ctx, c.writeFrame(true, rsv, pm.typ.Opcode(), p)); err != nil {
		return err
	}
	c.stats.messageOut(len(pm.data))
	return nil
}
