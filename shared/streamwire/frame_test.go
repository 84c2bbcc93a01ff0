package streamwire

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []byte
		limit int
		want  Frame
		n     int
		err   error
	}{
		{"text", []byte{1, 1, 2, 'h', 'i'}, 10, Frame{KindText, 1, []byte("hi")}, 5, nil},
		{"binary, then more", []byte{2, 7, 1, 0xff, 9, 0, 0}, 10, Frame{KindBinary, 7, []byte{0xff}}, 4, nil},
		{"empty message", []byte{1, 3, 0}, 0, Frame{KindText, 3, []byte{}}, 3, nil},
		{"two-byte seq", []byte{2, 0x80, 0x01, 0}, 10, Frame{KindBinary, 128, []byte{}}, 4, nil},
		{"close", []byte{8, 2, 2, 0x03, 0xe8}, 10, Frame{KindClose, 2, []byte{0x03, 0xe8}}, 5, nil},
		{"ping", []byte{9, 0, 0}, 0, Frame{KindPing, 0, []byte{}}, 3, nil},
		{"ack of nothing", []byte{10, 0, 0}, 0, Frame{KindAck, 0, []byte{}}, 3, nil},
		{"ack", []byte{10, 0xff, 0x01, 0}, 0, Frame{KindAck, 255, []byte{}}, 4, nil},
		{"abort", []byte{11, 0, 0}, 0, Frame{KindAbort, 0, []byte{}}, 3, nil},
		{"hello", []byte{16, 0, 1, 'x'}, 10, Frame{KindHello, 0, []byte("x")}, 4, nil},

		{"nothing", nil, 10, Frame{}, 0, ErrShort},
		{"kind alone", []byte{1}, 10, Frame{}, 0, ErrShort},
		{"seq cut", []byte{1, 0x80}, 10, Frame{}, 0, ErrShort},
		{"length missing", []byte{1, 1}, 10, Frame{}, 0, ErrShort},
		{"payload cut", []byte{1, 1, 3, 'a', 'b'}, 10, Frame{}, 0, ErrShort},

		{"kind 0", []byte{0, 1, 0}, 10, Frame{}, 0, ErrKind},
		{"kind 3", []byte{3, 1, 0}, 10, Frame{}, 0, ErrKind},
		{"text numbered 0", []byte{1, 0, 0}, 10, Frame{}, 0, ErrSeq},
		{"close numbered 0", []byte{8, 0, 0}, 10, Frame{}, 0, ErrSeq},
		{"ping with seq", []byte{9, 1, 0}, 10, Frame{}, 0, ErrSeq},
		{"hello with seq", []byte{16, 1, 0}, 10, Frame{}, 0, ErrSeq},
		{"ping with payload", []byte{9, 0, 1, 'x'}, 10, Frame{}, 0, ErrPayload},
		{"ack with payload", []byte{10, 4, 1, 'x'}, 10, Frame{}, 0, ErrPayload},
		{"non-minimal seq", []byte{1, 0x81, 0x00, 0}, 10, Frame{}, 0, ErrVarint},
		{"seq beyond 64 bits", []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0}, 10, Frame{}, 0, ErrVarint},
		{"too large, refused before the payload arrives", []byte{2, 5, 11}, 10, Frame{Kind: KindBinary, Seq: 5}, 0, ErrTooLarge},
		{"negative limit", []byte{2, 5, 1}, -1, Frame{Kind: KindBinary, Seq: 5}, 0, ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, n, err := Parse(tc.in, tc.limit)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Parse(% x) error = %v, want %v", tc.in, err, tc.err)
			}
			if f.Kind != tc.want.Kind || f.Seq != tc.want.Seq || !bytes.Equal(f.Payload, tc.want.Payload) || n != tc.n {
				t.Errorf("Parse(% x) = %+v, %d; want %+v, %d", tc.in, f, n, tc.want, tc.n)
			}
			if err == nil && cap(f.Payload) != len(f.Payload) {
				t.Errorf("the payload's capacity runs past the frame: %d > %d", cap(f.Payload), len(f.Payload))
			}
		})
	}
}

func TestTooLargeError(t *testing.T) {
	_, _, err := Parse([]byte{1, 9, 0x80, 0x08}, 1000)
	var tl *TooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("Parse of a 1024-byte frame with a limit of 1000 = %v, want a *TooLargeError", err)
	}
	if tl.Seq != 9 || tl.Size != 1024 || tl.Kind != KindText {
		t.Errorf("the error says %+v", tl)
	}
	if want := "streamwire: text frame of 1024 bytes exceeds the limit of 1000"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestAppendFrame(t *testing.T) {
	for _, f := range []Frame{
		{KindText, 1, []byte("hello")},
		{KindBinary, math.MaxUint64, bytes.Repeat([]byte{7}, 300)},
		{KindClose, 1 << 35, []byte{0x03, 0xe8, 'b', 'y', 'e'}},
		{KindPing, 0, nil},
		{KindAck, 1<<63 + 5, nil},
	} {
		b := AppendFrame([]byte("prefix"), f)
		if !bytes.HasPrefix(b, []byte("prefix")) {
			t.Fatalf("AppendFrame lost what dst held")
		}
		b = b[len("prefix"):]
		if len(b) != FrameSize(f.Seq, len(f.Payload)) {
			t.Errorf("%v: encoded in %d bytes, FrameSize says %d", f.Kind, len(b), FrameSize(f.Seq, len(f.Payload)))
		}
		got, n, err := Parse(b, 1<<20)
		if err != nil || n != len(b) || got.Kind != f.Kind || got.Seq != f.Seq || !bytes.Equal(got.Payload, f.Payload) {
			t.Errorf("Parse(AppendFrame(%v %d)) = %+v, %d, %v", f.Kind, f.Seq, got, n, err)
		}
	}
	if n := FrameSize(1, 16); n != 19 {
		t.Errorf("a 16-byte message is framed in %d bytes, want 19: 3 of framing", n)
	}
}

func TestUvarint(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 16383, 16384, 1<<32 - 1, 1 << 56, math.MaxUint64} {
		b := appendUvarint(nil, v)
		if len(b) != uvarintLen(v) {
			t.Errorf("%d: %d bytes, uvarintLen says %d", v, len(b), uvarintLen(v))
		}
		got, n, err := uvarint(b)
		if got != v || n != len(b) || err != nil {
			t.Errorf("uvarint(% x) = %d, %d, %v; want %d", b, got, n, err, v)
		}
		if _, _, err := uvarint(b[:len(b)-1]); err != ErrShort {
			t.Errorf("uvarint of %d cut short = %v, want ErrShort", v, err)
		}
	}
}

func TestHello(t *testing.T) {
	h := Hello{
		Session:     "inst.0123456789abcdefghijkl",
		Subprotocol: "duplex-chat.v1",
		ReadLimit:   16 << 20,
		MaxPost:     1 << 20,
		Window:      1 << 20,
		Heartbeat:   15 * time.Second,
		Timeout:     30 * time.Second,
	}
	b, err := h.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	var got Hello
	if err := got.Parse(append(b, "a later field"...)); err != nil || got != h {
		t.Errorf("Parse(Append(h)) = %+v, %v; want %+v", got, err, h)
	}
	for i := range b {
		if err := got.Parse(b[:i]); err == nil {
			t.Errorf("a hello cut to %d of %d bytes decodes", i, len(b))
		}
	}
	long := h
	long.Session = string(make([]byte, MaxSession+1))
	if _, err := long.Append(nil); err == nil {
		t.Error("a session id of 65 bytes encodes")
	}
}
