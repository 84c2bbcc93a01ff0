package ws

import (
	"errors"
	"fmt"
	"strings"

	"github.com/klauspost/compress/flate"

	"duplex/shared/handshake"
	"duplex/shared/wire"
)

// This file holds permessage-deflate (RFC 7692): its options, the
// negotiation on both sides of the handshake, and what a connection keeps
// of it. Compressing is in compress.go, inflating in inflate.go.
//
// Memory, by design. A connection holds no flate writer or reader of its
// own: compressors and decompressors come from pools for one message and go
// back when it ends, so only connections in the middle of a message hold
// one. What a connection keeps between messages is plain bytes:
//
//   - what it sent: with context takeover, the last 2 KiB (or the
//     negotiated window, if smaller) of the messages it sent compressed,
//     which the next message is compressed against, as a dictionary. The
//     peer's window holds at least that much, so referring to it is
//     always valid; taken lazily, on the first compressed message.
//   - what it received: a server asks every client for
//     client_no_context_takeover, which RFC 7692 lets it do, so it keeps
//     nothing. A client whose server keeps context holds the server's
//     whole window of what it inflated (32 KiB unless server_max_window_bits
//     says less), since the server may refer to any of it.

// DefaultCompressionThreshold is the size, in bytes, below which a message
// is sent uncompressed unless CompressionOptions say otherwise. Under 128
// bytes the flate writer only Huffman-codes, which does not shrink a chat
// message of JSON; from 128 bytes, against the history that context
// takeover keeps, such a message shrinks to a third of its size
// (BenchmarkThreshold). Without context takeover it shrinks much less,
// to 93% at 128 bytes and 62% at 256: a threshold of 256 may suit better.
const DefaultCompressionThreshold = 128

// maxHistory is the most a connection keeps of what it sent, as the
// dictionary of its next compressed message. The flate writer reads a
// dictionary as it reads the message, so a larger one costs time on every
// message, and memory on every connection, for little: on chat messages
// of 100 to 250 bytes of JSON, 2 KiB brings a message from 90% of its size
// to 46%, and 8 KiB to 44% in twice the time; on 64 KiB of JSON, 2 KiB or
// 8 KiB make less than half a percent of difference (BenchmarkDictionary).
const maxHistory = 2 << 10

// CompressionOptions turn on permessage-deflate (RFC 7692) in an Upgrader
// or DialOptions. Its zero value is ready to use: level 1 (the fastest),
// messages of DefaultCompressionThreshold bytes and more compressed,
// context takeover.
type CompressionOptions struct {
	// Level is the flate compression level, from 1 (flate.BestSpeed) to
	// 9 (flate.BestCompression); 0 means 1. A peer that limits this side's
	// window below 32 KiB (server_max_window_bits, client_max_window_bits)
	// gets a compressor made for small windows, at a level of its own.
	Level int

	// Threshold is the size, in bytes, below which a message goes out
	// uncompressed; 0 means DefaultCompressionThreshold, and a negative
	// value compresses messages of every size. A message that compression
	// would not shrink goes out as it is, whatever its size.
	Threshold int

	// NoContextTakeover compresses every message on its own, instead of
	// against the end of what this side sent: a connection then keeps
	// nothing between messages, at some cost in ratio, mostly on small
	// messages that repeat each other. A server answers with
	// server_no_context_takeover; a client offers it, and
	// client_no_context_takeover, so that neither side keeps anything.
	NoContextTakeover bool
}

// validate reports options that cannot be used.
func (o *CompressionOptions) validate() error {
	if o.Level < 0 || o.Level > flate.BestCompression {
		return fmt.Errorf("the compression level %d is not between 0 and 9", o.Level)
	}
	return nil
}

// A deflateState is what a connection on which permessage-deflate was
// agreed knows and keeps of it. The parameters are fixed by the handshake;
// sent belongs to the goroutine holding the connection's msgSem (the
// message writer), received to the one holding readMu (the reader).
type deflateState struct {
	level     int
	threshold int // compress messages of at least this many bytes, and not empty

	outBits     int  // base-2 logarithm of the window of what this side sends
	outTakeover bool // this side compresses against what it sent before
	inTakeover  bool // the peer does: what it refers to must be kept

	sent     history // with outTakeover, the end of what this side sent compressed
	received history // with inTakeover, the peer's window of what was inflated
}

// newDeflateState sets up a connection's compression from the options and
// the agreed parameters, seen from the side that sends with outBits.
func newDeflateState(o *CompressionOptions, outBits int, outTakeover bool, inBits int, inTakeover bool) *deflateState {
	d := &deflateState{
		level:       max(o.Level, flate.BestSpeed),
		threshold:   o.Threshold,
		outBits:     outBits,
		outTakeover: outTakeover,
		inTakeover:  inTakeover,
	}
	switch {
	case d.threshold == 0:
		d.threshold = DefaultCompressionThreshold
	case d.threshold < 0:
		d.threshold = 1
	}
	if outTakeover {
		d.sent.max = min(maxHistory, 1<<outBits)
	}
	if inTakeover {
		d.received.max = 1 << inBits
	}
	return d
}

// compresses reports whether a message of n bytes is worth compressing.
func (d *deflateState) compresses(n int) bool { return n >= d.threshold && n > 0 }

// acceptDeflate is the server's side of the negotiation (RFC 7692 §5,
// §7.1): among the offers in the request's Sec-WebSocket-Extensions
// values, in the client's order of preference, it accepts the first
// permessage-deflate offer that is valid, and returns the connection's
// state and the response's header value. It declines malformed offers,
// and every offer if the header itself is malformed; with nothing
// accepted, it returns nil and "". Every valid offer can be honoured: a
// window limit on what the server sends is kept to, and the server, which
// inflates with a full window, needs none on what the client sends.
func acceptDeflate(o *CompressionOptions, values []string) (*deflateState, string) {
	exts, err := handshake.ParseExtensions(values)
	if err != nil {
		return nil, ""
	}
	for _, ext := range exts {
		if ext.Name != handshake.PermessageDeflate {
			continue
		}
		offer, err := handshake.ParseDeflateOffer(ext.Params)
		if err != nil {
			continue // declined (§5); a later offer may do
		}
		resp := handshake.DeflateParams{
			ServerNoContextTakeover: offer.ServerNoContextTakeover || o.NoContextTakeover,
			ServerMaxWindowBits:     offer.ServerMaxWindowBits,
			// Allowed whether offered or not (§7.1.1.2): the server then
			// keeps nothing of what the client sends.
			ClientNoContextTakeover: true,
		}
		outBits := cmp0(offer.ServerMaxWindowBits, 15)
		return newDeflateState(o, outBits, !resp.ServerNoContextTakeover, 15, false), resp.String()
	}
	return nil, ""
}

// deflateOffer is the client's offer: one permessage-deflate offer that
// lets the server limit the client's window, and, with NoContextTakeover,
// asks that neither side keep context.
func deflateOffer(o *CompressionOptions) string {
	return handshake.DeflateParams{
		ServerNoContextTakeover: o.NoContextTakeover,
		ClientNoContextTakeover: o.NoContextTakeover,
		ClientMaxWindowBits:     handshake.WindowBitsNoValue,
	}.String()
}

// agreeDeflate is the client's side: it checks the server's
// Sec-WebSocket-Extensions values against the offer deflateOffer made
// (RFC 7692 §5, §7.1) and returns the connection's state, or nil if the
// server declined the offer. A response the client must fail the
// connection on is an error that says why.
func agreeDeflate(o *CompressionOptions, values []string) (*deflateState, error) {
	exts, err := handshake.ParseExtensions(values)
	if err != nil {
		return nil, fmt.Errorf("the server's Sec-WebSocket-Extensions is malformed: %w", err)
	}
	switch {
	case len(exts) == 0:
		return nil, nil
	case len(exts) > 1:
		return nil, fmt.Errorf("the server accepted %d extensions, but one permessage-deflate offer was made: %q", len(exts), strings.Join(values, ", "))
	case exts[0].Name != handshake.PermessageDeflate:
		return nil, fmt.Errorf("the server accepted extension %q, which was not offered", exts[0].Name)
	}
	resp, err := handshake.ParseDeflateResponse(exts[0].Params)
	if err != nil {
		return nil, fmt.Errorf("the server's permessage-deflate response is invalid: %w", err)
	}
	if o.NoContextTakeover && !resp.ServerNoContextTakeover {
		return nil, errors.New("the server accepted permessage-deflate without server_no_context_takeover, which was asked for")
	}
	// client_max_window_bits was offered, so the server may set it;
	// server_no_context_takeover and server_max_window_bits it may add.
	outBits := cmp0(resp.ClientMaxWindowBits, 15)
	inBits := cmp0(resp.ServerMaxWindowBits, 15)
	takeover := !resp.ClientNoContextTakeover && !o.NoContextTakeover
	return newDeflateState(o, outBits, takeover, inBits, !resp.ServerNoContextTakeover), nil
}

// cmp0 returns v, or def if v is 0.
func cmp0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// errCorruptDeflate fails a connection whose peer sent a compressed
// message that does not inflate: its payload, with the tail RFC 7692
// §7.2.2 appends, is not valid DEFLATE data. 1007 is the code for data
// that does not match its message's type, as for text that is not UTF-8.
var errCorruptDeflate = &wire.Error{Code: StatusInvalidPayloadData, Msg: "compressed message is not valid DEFLATE data"}

// A history holds the end of a stream of bytes, at least its last max
// bytes: a window's worth of plaintext, for use as a dictionary. It takes
// its memory on the first write. Its bytes stay in order, oldest first, so
// that a dictionary needs no reordering: a write that does not fit moves
// what the history keeps to the front. A large history, such as a
// client's copy of its server's 32 KiB window, has a quarter more room,
// so that small writes do not each move the whole window.
type history struct {
	buf []byte
	max int
}

// write appends p to the history, dropping what falls out of the window.
func (h *history) write(p []byte) {
	if h.buf == nil {
		room := h.max
		if h.max > maxHistory {
			room += h.max / 4
		}
		h.buf = make([]byte, 0, room)
	}
	switch {
	case len(p) >= h.max:
		h.buf = append(h.buf[:0], p[len(p)-h.max:]...)
	case len(h.buf)+len(p) > cap(h.buf):
		keep := h.max - len(p)
		n := copy(h.buf, h.buf[len(h.buf)-keep:])
		h.buf = append(h.buf[:n], p...)
	default:
		h.buf = append(h.buf, p...)
	}
}

// bytes returns the last max bytes written, or all if fewer, oldest
// first, valid until the next write.
func (h *history) bytes() []byte { return h.buf[max(0, len(h.buf)-h.max):] }
