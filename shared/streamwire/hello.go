package streamwire

import (
	"errors"
	"time"
)

// A Hello is the payload of the first frame of a new session: what the
// server tells the client about it, as a WebSocket's 101 response does.
type Hello struct {
	Session     string // the session's id, for the Duplex-Session header of every later request
	Subprotocol string // the subprotocol the server chose among those offered, or ""

	ReadLimit uint64        // the largest message the server accepts, in bytes
	MaxPost   uint64        // the largest POST body the server accepts, in bytes
	Window    uint64        // downstream bytes the server keeps until they are acknowledged; ack before
	Heartbeat time.Duration // an idle stream carries a Ping this often
	Timeout   time.Duration // a session with no stream open and no request for this long is dropped
}

// Limits on the strings of a Hello.
const (
	MaxSession     = 64
	MaxSubprotocol = 255
)

var errHello = errors.New("streamwire: malformed hello")

// Append appends h's encoding to dst: its two strings, each as a uvarint
// length and its bytes, then its five numbers as uvarints, the durations
// in milliseconds. (Not named AppendBinary: as encoding.BinaryAppender, it
// would be linked into every browser module that holds a Hello.)
func (h *Hello) Append(dst []byte) ([]byte, error) {
	if len(h.Session) > MaxSession || len(h.Subprotocol) > MaxSubprotocol {
		return dst, errors.New("streamwire: hello string too long")
	}
	for _, s := range []string{h.Session, h.Subprotocol} {
		dst = appendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	for _, v := range []uint64{h.ReadLimit, h.MaxPost, h.Window, uint64(h.Heartbeat.Milliseconds()), uint64(h.Timeout.Milliseconds())} {
		dst = appendUvarint(dst, v)
	}
	return dst, nil
}

// Parse decodes a Hello. Bytes after the last field are ignored, so that a
// later server may add fields.
func (h *Hello) Parse(b []byte) error {
	var strs [2]string
	limits := [2]int{MaxSession, MaxSubprotocol}
	for i := range strs {
		n, size, err := uvarint(b)
		if err != nil || n > uint64(limits[i]) || n > uint64(len(b)-size) {
			return errHello
		}
		strs[i] = string(b[size : size+int(n)])
		b = b[size+int(n):]
	}
	var nums [5]uint64
	for i := range nums {
		v, size, err := uvarint(b)
		if err != nil {
			return errHello
		}
		nums[i] = v
		b = b[size:]
	}
	const maxMillis = uint64(1<<63-1) / uint64(time.Millisecond)
	if nums[3] > maxMillis || nums[4] > maxMillis {
		return errHello
	}
	*h = Hello{
		Session:     strs[0],
		Subprotocol: strs[1],
		ReadLimit:   nums[0],
		MaxPost:     nums[1],
		Window:      nums[2],
		Heartbeat:   time.Duration(nums[3]) * time.Millisecond,
		Timeout:     time.Duration(nums[4]) * time.Millisecond,
	}
	return nil
}
