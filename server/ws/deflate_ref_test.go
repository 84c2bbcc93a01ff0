package ws

import (
	"errors"
	"fmt"
)

// This file is a reference inflater for the tests, written from RFC 1951
// for clarity rather than speed: unlike the flate package's, it checks
// that every back-reference stays within a given window, which is how the
// tests verify that what a connection compresses keeps to the window size
// it agreed on (server_max_window_bits, client_max_window_bits) and, with
// context takeover, refers only to what the peer's window holds.

// refInflate inflates a permessage-deflate payload (RFC 7692 §7.2.2: the
// tail 00 00 ff ff is appended here), with history as what came before it
// in the stream, and fails on any distance beyond window bytes or beyond
// what history and the output hold.
func refInflate(payload, history []byte, window int) ([]byte, error) {
	in := &refBits{b: append(append([]byte(nil), payload...), 0x00, 0x00, 0xff, 0xff)}
	out := append([]byte(nil), history...)
	start := len(history)
	for {
		if in.pos == len(in.b) && in.nb == 0 {
			return out[start:], nil // the stream stops after the appended block
		}
		final, err := in.bits(1)
		if err != nil {
			return nil, err
		}
		typ, err := in.bits(2)
		if err != nil {
			return nil, err
		}
		switch typ {
		case 0:
			out, err = in.stored(out)
		case 1:
			out, err = in.codes(out, &refFixedLit, &refFixedDist, start, window)
		case 2:
			var lit, dist refHuffman
			if err = in.dynamic(&lit, &dist); err == nil {
				out, err = in.codes(out, &lit, &dist, start, window)
			}
		default:
			err = errors.New("reserved block type 3")
		}
		if err != nil {
			return nil, err
		}
		if final == 1 {
			return out[start:], nil
		}
	}
}

// refBits reads a deflate stream bit by bit, least significant first.
type refBits struct {
	b   []byte
	pos int    // next byte
	buf uint32 // bits read ahead
	nb  uint   // how many
}

var errRefShort = errors.New("the deflate stream ends early")

func (r *refBits) bits(n uint) (int, error) {
	for r.nb < n {
		if r.pos == len(r.b) {
			return 0, errRefShort
		}
		r.buf |= uint32(r.b[r.pos]) << r.nb
		r.pos++
		r.nb += 8
	}
	v := int(r.buf & (1<<n - 1))
	r.buf >>= n
	r.nb -= n
	return v, nil
}

// stored copies a stored block, after skipping to a byte boundary.
func (r *refBits) stored(out []byte) ([]byte, error) {
	r.buf, r.nb = 0, 0
	if len(r.b)-r.pos < 4 {
		return nil, errRefShort
	}
	n := int(r.b[r.pos]) | int(r.b[r.pos+1])<<8
	if n^0xffff != int(r.b[r.pos+2])|int(r.b[r.pos+3])<<8 {
		return nil, errors.New("a stored block's length does not match its complement")
	}
	r.pos += 4
	if len(r.b)-r.pos < n {
		return nil, errRefShort
	}
	out = append(out, r.b[r.pos:r.pos+n]...)
	r.pos += n
	return out, nil
}

// refHuffman is a canonical Huffman code: how many codes there are of
// each length, and the symbols in code order.
type refHuffman struct {
	count  [16]int
	symbol []int
}

func (h *refHuffman) build(lengths []int) error {
	*h = refHuffman{}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	left := 1
	for l := 1; l < 16; l++ {
		left = left<<1 - h.count[l]
		if left < 0 {
			return errors.New("an over-subscribed Huffman code")
		}
	}
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	h.symbol = make([]int, len(lengths))
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = sym
			offs[l]++
		}
	}
	return nil
}

// decode reads one symbol: codes are read most significant bit first,
// and the codes of each length follow those of the shorter ones.
func (r *refBits) decode(h *refHuffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := r.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		if n := h.count[l]; code-first < n {
			return h.symbol[index+code-first], nil
		}
		index += h.count[l]
		first = (first + h.count[l]) << 1
		code <<= 1
	}
	return 0, errors.New("a code that the Huffman table does not hold")
}

var (
	refLenBase   = [...]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	refLenExtra  = [...]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	refDistBase  = [...]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	refDistExtra = [...]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	refClenOrder = [...]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

	refFixedLit, refFixedDist refHuffman
)

func init() {
	var lit [288]int
	for i := range lit {
		switch {
		case i < 144:
			lit[i] = 8
		case i < 256:
			lit[i] = 9
		case i < 280:
			lit[i] = 7
		default:
			lit[i] = 8
		}
	}
	refFixedLit.build(lit[:])
	var dist [30]int
	for i := range dist {
		dist[i] = 5
	}
	refFixedDist.build(dist[:])
}

// dynamic reads the code tables of a dynamic Huffman block.
func (r *refBits) dynamic(lit, dist *refHuffman) error {
	nlen, err := r.bits(5)
	if err != nil {
		return err
	}
	ndist, err := r.bits(5)
	if err != nil {
		return err
	}
	ncode, err := r.bits(4)
	if err != nil {
		return err
	}
	nlen, ndist, ncode = nlen+257, ndist+1, ncode+4
	var clen [19]int
	for i := range ncode {
		if clen[refClenOrder[i]], err = r.bits(3); err != nil {
			return err
		}
	}
	var lencode refHuffman
	if err := lencode.build(clen[:]); err != nil {
		return err
	}
	lengths := make([]int, 0, nlen+ndist)
	for len(lengths) < nlen+ndist {
		sym, err := r.decode(&lencode)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths = append(lengths, sym)
			continue
		}
		prev, repeat := 0, 0
		switch sym {
		case 16:
			if len(lengths) == 0 {
				return errors.New("a repeat with nothing to repeat")
			}
			prev = lengths[len(lengths)-1]
			repeat, err = r.bits(2)
			repeat += 3
		case 17:
			repeat, err = r.bits(3)
			repeat += 3
		default:
			repeat, err = r.bits(7)
			repeat += 11
		}
		if err != nil {
			return err
		}
		if len(lengths)+repeat > nlen+ndist {
			return errors.New("code lengths repeat past their end")
		}
		for range repeat {
			lengths = append(lengths, prev)
		}
	}
	if lengths[256] == 0 {
		return errors.New("no end-of-block code")
	}
	if err := lit.build(lengths[:nlen]); err != nil {
		return err
	}
	return dist.build(lengths[nlen:])
}

// codes inflates a compressed block's symbols into out, checking each
// distance against the window and against what out holds.
func (r *refBits) codes(out []byte, lit, dist *refHuffman, start, window int) ([]byte, error) {
	for {
		sym, err := r.decode(lit)
		switch {
		case err != nil:
			return nil, err
		case sym < 256:
			out = append(out, byte(sym))
			continue
		case sym == 256:
			return out, nil
		case sym > 285:
			return nil, fmt.Errorf("length symbol %d", sym)
		}
		sym -= 257
		extra, err := r.bits(refLenExtra[sym])
		if err != nil {
			return nil, err
		}
		length := refLenBase[sym] + extra
		dsym, err := r.decode(dist)
		if err != nil {
			return nil, err
		}
		if dsym > 29 {
			return nil, fmt.Errorf("distance symbol %d", dsym)
		}
		if extra, err = r.bits(refDistExtra[dsym]); err != nil {
			return nil, err
		}
		d := refDistBase[dsym] + extra
		switch {
		case d > window:
			return nil, fmt.Errorf("distance %d beyond the window of %d bytes, at output byte %d", d, window, len(out)-start)
		case d > len(out):
			return nil, fmt.Errorf("distance %d before the start of the stream, at output byte %d", d, len(out)-start)
		}
		for range length {
			out = append(out, out[len(out)-d])
		}
	}
}
