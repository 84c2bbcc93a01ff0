package streamwire

import (
	"errors"
	"strconv"

	"duplex/shared/wire"
)

// A Kind is what a frame carries.
type Kind byte

// The kinds of frame. Text, Binary and Close are numbered (see
// Kind.Numbered); the others are not. They are named for what they carry,
// as wire.OpText and its kin are.
const (
	KindText   Kind = 1  // a text message, valid UTF-8
	KindBinary Kind = 2  // a binary message
	KindClose  Kind = 8  // the closing handshake: a WebSocket close payload
	KindPing   Kind = 9  // down only: the stream is alive; no payload
	KindAck    Kind = 10 // up only: Seq is the last numbered frame received
	KindAbort  Kind = 11 // up only: the client drops the session, as closing TCP does
	KindHello  Kind = 16 // down only: the first frame of a new session, a Hello
)

// Numbered reports whether frames of kind k carry a sequence number, from
// 1, that orders them in their direction.
func (k Kind) Numbered() bool { return k == KindText || k == KindBinary || k == KindClose }

// IsMessage reports whether k is a data message: Text or Binary.
func (k Kind) IsMessage() bool { return k == KindText || k == KindBinary }

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindText:
		return "text"
	case KindBinary:
		return "binary"
	case KindClose:
		return "close"
	case KindPing:
		return "ping"
	case KindAck:
		return "ack"
	case KindAbort:
		return "abort"
	case KindHello:
		return "hello"
	}
	return "kind " + strconv.Itoa(int(k))
}

// KindOf returns the frame kind of a message type.
func KindOf(typ wire.MessageType) Kind {
	if typ == wire.Binary {
		return KindBinary
	}
	return KindText
}

// MessageType returns the message type of a Text or Binary frame.
func (k Kind) MessageType() wire.MessageType {
	if k == KindBinary {
		return wire.Binary
	}
	return wire.Text
}

// A Frame is one frame. Its Payload may share memory with what it was
// parsed from.
type Frame struct {
	Kind    Kind
	Seq     uint64
	Payload []byte
}

// MaxHeader is the most bytes a frame's header takes: its kind, and two
// uvarints of up to 10 bytes.
const MaxHeader = 1 + 2*maxUvarint

// Errors of Parse. ErrShort is not a fault: more bytes are needed.
var (
	ErrShort    = errors.New("streamwire: incomplete frame")
	ErrTooLarge = errors.New("streamwire: frame payload exceeds the limit")
	ErrKind     = errors.New("streamwire: unknown frame kind")
	ErrSeq      = errors.New("streamwire: sequence number not valid for the frame's kind")
	ErrPayload  = errors.New("streamwire: payload not allowed for the frame's kind")
	ErrVarint   = errors.New("streamwire: malformed uvarint")
)

// AppendFrame appends f's encoding to dst.
func AppendFrame(dst []byte, f Frame) []byte {
	dst = append(dst, byte(f.Kind))
	dst = appendUvarint(dst, f.Seq)
	dst = appendUvarint(dst, uint64(len(f.Payload)))
	return append(dst, f.Payload...)
}

// FrameSize returns the length of a frame of kind, seq and a payload of n
// bytes, as AppendFrame encodes it.
func FrameSize(seq uint64, n int) int {
	return 1 + uvarintLen(seq) + uvarintLen(uint64(n)) + n
}

// Parse decodes the frame at the start of b and returns it with its
// encoded length. Its Payload is a slice of b. A payload longer than limit
// bytes is refused with ErrTooLarge, as soon as the header announces it;
// the frame's Kind and Seq are returned with it, so that the caller can
// say which message was too large. If b holds only part of a frame, Parse
// returns ErrShort, and the caller tries again with more bytes.
//
// Parse checks what the format fixes: a known kind, a Seq of at least 1
// on numbered frames and of 0 on Ping, Abort and Hello, and no payload on
// Ping, Ack and Abort. What a Close or Hello payload holds is for
// wire.ParseClose and Hello.Parse.
func Parse(b []byte, limit int) (Frame, int, error) {
	if len(b) == 0 {
		return Frame{}, 0, ErrShort
	}
	kind := Kind(b[0])
	seq, n1, err := uvarint(b[1:])
	if err != nil {
		return Frame{}, 0, err
	}
	size, n2, err := uvarint(b[1+n1:])
	if err != nil {
		return Frame{}, 0, err
	}
	switch kind {
	case KindText, KindBinary, KindClose:
		if seq == 0 {
			return Frame{}, 0, ErrSeq
		}
	case KindPing, KindAbort, KindHello:
		if seq != 0 {
			return Frame{}, 0, ErrSeq
		}
	case KindAck:
	default:
		return Frame{}, 0, ErrKind
	}
	if size > 0 && (kind == KindPing || kind == KindAck || kind == KindAbort) {
		return Frame{}, 0, ErrPayload
	}
	if size > uint64(max(limit, 0)) {
		return Frame{Kind: kind, Seq: seq}, 0, &TooLargeError{Kind: kind, Seq: seq, Size: size, Limit: limit}
	}
	head := 1 + n1 + n2
	if uint64(len(b)-head) < size {
		return Frame{}, 0, ErrShort
	}
	end := head + int(size)
	return Frame{Kind: kind, Seq: seq, Payload: b[head:end:end]}, end, nil
}

// A TooLargeError is a frame whose payload exceeds the limit given to
// Parse. It matches ErrTooLarge.
type TooLargeError struct {
	Kind  Kind
	Seq   uint64
	Size  uint64 // the payload's announced length
	Limit int
}

func (e *TooLargeError) Error() string {
	return "streamwire: " + e.Kind.String() + " frame of " + strconv.FormatUint(e.Size, 10) +
		" bytes exceeds the limit of " + strconv.Itoa(e.Limit)
}

// Is makes a *TooLargeError match ErrTooLarge.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }
