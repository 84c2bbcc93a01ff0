package wire

import (
	"encoding/binary"
	"errors"
	"io"
)

// MaxHeaderSize is the size of the largest frame header: 2 base bytes, an
// 8-byte extended length and a 4-byte masking key.
const MaxHeaderSize = 14

// MaxControlPayload is the largest payload a control frame may carry.
const MaxControlPayload = 125

// Reserved bits of a frame header's first byte, as stored in Header.Rsv.
const (
	Rsv1 byte = 0x40
	Rsv2 byte = 0x20
	Rsv3 byte = 0x10
)

// A Header is the part of a frame that precedes its payload
// (RFC 6455 §5.2):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-------+-+-------------+-------------------------------+
//	|F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//	|I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//	|N|V|V|V|       |S|             |   (if payload len==126/127)   |
//	| |1|2|3|       |K|             |                               |
//	+-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//	|     Extended payload length continued, if payload len == 127  |
//	+ - - - - - - - - - - - - - - - +-------------------------------+
//	|                               |Masking-key, if MASK set to 1  |
//	+-------------------------------+-------------------------------+
//	| Masking-key (continued)       |          Payload Data         |
//	+-------------------------------- - - - - - - - - - - - - - - - +
type Header struct {
	Fin    bool    // last frame of a message
	Rsv    byte    // reserved bits: any of Rsv1, Rsv2, Rsv3
	Opcode Opcode  // how to interpret the payload
	Masked bool    // whether Mask applies; client-to-server frames must be masked
	Mask   [4]byte // masking key
	Length int64   // payload length in bytes
}

// Errors returned by ParseHeader.
var (
	// ErrShortHeader means the buffer ends before the header does; read
	// more bytes and parse again.
	ErrShortHeader = errors.New("wire: frame header is incomplete")
	// ErrLengthOverflow means a 64-bit payload length has its most
	// significant bit set, which RFC 6455 forbids.
	ErrLengthOverflow = &Error{Code: StatusProtocolError, Msg: "64-bit payload length has its top bit set"}
)

// HeaderSize returns the size of the header that starts with the bytes b0
// and b1: 2 to 14 bytes, depending on the length encoding and the mask bit.
func HeaderSize(b0, b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// ParseHeader decodes the frame header at the start of b and returns it with
// its size in bytes. It returns ErrShortHeader if b holds only part of a
// header, and ErrLengthOverflow for a 64-bit length with its top bit set.
// A length that is not minimally encoded is accepted. ParseHeader checks
// only the encoding; Header.Check applies the protocol's rules.
func ParseHeader(b []byte) (Header, int, error) {
	if len(b) < 2 {
		return Header{}, 0, ErrShortHeader
	}
	n := HeaderSize(b[0], b[1])
	if len(b) < n {
		return Header{}, 0, ErrShortHeader
	}
	h := Header{
		Fin:    b[0]&0x80 != 0,
		Rsv:    b[0] & (Rsv1 | Rsv2 | Rsv3),
		Opcode: Opcode(b[0] & 0x0f),
		Masked: b[1]&0x80 != 0,
	}
	i := 2
	switch l := b[1] & 0x7f; l {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		i = 4
	case 127:
		l64 := binary.BigEndian.Uint64(b[2:10])
		if l64>>63 != 0 {
			return Header{}, 0, ErrLengthOverflow
		}
		h.Length = int64(l64)
		i = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		copy(h.Mask[:], b[i:i+4])
	}
	return h, n, nil
}

// ReadHeader reads one frame header from r. It reads no further than the
// header's last byte.
func ReadHeader(r io.Reader) (Header, error) {
	var b [MaxHeaderSize]byte
	if _, err := io.ReadFull(r, b[:2]); err != nil {
		return Header{}, err
	}
	n := HeaderSize(b[0], b[1])
	if _, err := io.ReadFull(r, b[2:n]); err != nil {
		return Header{}, noEOF(err)
	}
	h, _, err := ParseHeader(b[:n])
	return h, err
}

// Size returns the number of bytes AppendHeader writes for h.
func (h Header) Size() int {
	n := 2
	switch {
	case h.Length > 0xffff:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// AppendHeader appends the encoding of h to dst, using the shortest length
// encoding, and returns the extended slice. h.Length must not be negative.
func AppendHeader(dst []byte, h Header) []byte {
	b0 := h.Rsv&(Rsv1|Rsv2|Rsv3) | byte(h.Opcode&0x0f)
	if h.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	switch {
	case h.Length > 0xffff:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(h.Length))
	case h.Length > 125:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.Length))
	default:
		dst = append(dst, b0, b1|byte(h.Length))
	}
	if h.Masked {
		dst = append(dst, h.Mask[:]...)
	}
	return dst
}

// Frame-level protocol violations reported by Header.Check. Each closes the
// connection with status 1002.
var (
	ErrReservedOpcode     = &Error{Code: StatusProtocolError, Msg: "reserved opcode"}
	ErrReservedBits       = &Error{Code: StatusProtocolError, Msg: "reserved bits set without a negotiated extension"}
	ErrUnmasked           = &Error{Code: StatusProtocolError, Msg: "client frame is not masked"}
	ErrMasked             = &Error{Code: StatusProtocolError, Msg: "server frame is masked"}
	ErrControlTooLong     = &Error{Code: StatusProtocolError, Msg: "control frame payload is longer than 125 bytes"}
	ErrControlFragmented  = &Error{Code: StatusProtocolError, Msg: "control frame is fragmented"}
	ErrUnexpectedContinue = &Error{Code: StatusProtocolError, Msg: "continuation frame without a message to continue"}
	ErrUnfinishedMessage  = &Error{Code: StatusProtocolError, Msg: "new data frame before the previous message finished"}

	// ErrRsvContinuation and ErrRsvControl report a reserved bit that a
	// negotiated extension allows, set on a frame where it has no meaning:
	// permessage-deflate marks a compressed message on its first frame
	// only (RFC 7692 §6).
	ErrRsvContinuation = &Error{Code: StatusProtocolError, Msg: "reserved bit set on a continuation frame"}
	ErrRsvControl      = &Error{Code: StatusProtocolError, Msg: "reserved bit set on a control frame"}
)

// Check applies RFC 6455's rules for a single frame header: the opcode is
// defined, no reserved bit is set beyond those in allowedRsv (bits that a
// negotiated extension gives meaning to, such as permessage-deflate's
// Rsv1), the mask bit is as the receiving side requires (fromClient:
// masked), and a control frame is final and at most 125 bytes long. The
// bits in allowedRsv may be set only on the first frame of a data message,
// as permessage-deflate requires (RFC 7692 §6): on a continuation frame
// they are ErrRsvContinuation, on a control frame ErrRsvControl.
func (h Header) Check(allowedRsv byte, fromClient bool) error {
	switch {
	case h.Opcode.IsReserved():
		return ErrReservedOpcode
	case h.Rsv&^allowedRsv != 0:
		return ErrReservedBits
	case h.Rsv != 0 && h.Opcode == OpContinuation:
		return ErrRsvContinuation
	case h.Rsv != 0 && h.Opcode.IsControl():
		return ErrRsvControl
	case fromClient && !h.Masked:
		return ErrUnmasked
	case !fromClient && h.Masked:
		return ErrMasked
	case h.Opcode.IsControl() && h.Length > MaxControlPayload:
		return ErrControlTooLong
	case h.Opcode.IsControl() && !h.Fin:
		return ErrControlFragmented
	}
	return nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
