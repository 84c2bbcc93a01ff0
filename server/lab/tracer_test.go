package lab

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"

	"duplex/shared/lab"
	"duplex/shared/wire"
)

// A cut is a frame as a frameScanner reports it.
type cut struct {
	header, payload []byte
}

func (c cut) String() string { return fmt.Sprintf("header % x, payload %q", c.header, c.payload) }

// scanAll feeds stream to a frameScanner in pieces of at most chunk bytes
// and returns the frames it reports.
func scanAll(stream []byte, chunk int) []cut {
	var got []cut
	s := frameScanner{frame: func(h, p []byte) {
		got = append(got, cut{bytes.Clone(h), bytes.Clone(p)})
	}}
	for len(stream) > 0 {
		n := min(chunk, len(stream))
		s.write(stream[:n])
		stream = stream[n:]
	}
	return got
}

func frameBytes(h wire.Header, payload []byte) []byte {
	h.Length = int64(len(payload))
	return append(wire.AppendHeader(nil, h), payload...)
}

func TestFrameScanner(t *testing.T) {
	masked := []byte("hello")
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	wire.Mask(key, 0, masked)
	big := bytes.Repeat([]byte("0123456789"), 7000) // 70,000 bytes: 64-bit length, over MaxPayload
	tests := []struct {
		name   string
		stream []byte
		want   []cut
	}{
		{"nothing", nil, nil},
		{"masked text", frameBytes(wire.Header{Fin: true, Opcode: wire.OpText, Masked: true, Mask: key}, masked),
			[]cut{{[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}, masked}}},
		{"empty close", frameBytes(wire.Header{Fin: true, Opcode: wire.OpClose}, nil),
			[]cut{{[]byte{0x88, 0x00}, nil}}},
		{"three fragments and a ping between",
			bytes.Join([][]byte{
				frameBytes(wire.Header{Opcode: wire.OpText}, []byte("fra")),
				frameBytes(wire.Header{Fin: true, Opcode: wire.OpPing}, []byte("p")),
				frameBytes(wire.Header{Opcode: wire.OpContinuation}, []byte("gme")),
				frameBytes(wire.Header{Fin: true, Opcode: wire.OpContinuation}, []byte("nt")),
			}, nil),
			[]cut{
				{[]byte{0x01, 0x03}, []byte("fra")},
				{[]byte{0x89, 0x01}, []byte("p")},
				{[]byte{0x00, 0x03}, []byte("gme")},
				{[]byte{0x80, 0x02}, []byte("nt")},
			}},
		{"16-bit length", frameBytes(wire.Header{Fin: true, Opcode: wire.OpBinary}, big[:300]),
			[]cut{{[]byte{0x82, 126, 0x01, 0x2c}, big[:300]}}},
		{"64-bit length, payload kept up to MaxPayload, then the next frame",
			append(frameBytes(wire.Header{Fin: true, Opcode: wire.OpBinary}, big), 0x8a, 0x00),
			[]cut{
				{binary.BigEndian.AppendUint64([]byte{0x82, 127}, uint64(len(big))), big[:lab.MaxPayload]},
				{[]byte{0x8a, 0x00}, nil},
			}},
		{"header cut short: not reported", []byte{0x82, 126, 0x01}, nil},
		{"payload cut short: not reported", []byte{0x81, 0x05, 'h', 'e'}, nil},
		{"length with its top bit set: reported, then nothing more",
			append([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, 0x81, 0x00),
			[]cut{{[]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, nil}}},
	}
	for _, tt := range tests {
		// Every way of cutting the stream into reads must give the same frames.
		for _, chunk := range []int{1, 2, 3, 7, 4096, 1 << 20} {
			t.Run(fmt.Sprintf("%s/reads of %d", tt.name, chunk), func(t *testing.T) {
				got := scanAll(tt.stream, chunk)
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("got  %v\nwant %v", got, tt.want)
				}
			})
		}
	}
}

// FuzzFrameScanner checks that the scanner never panics, that how the
// stream is cut into reads changes nothing, and that each frame it reports
// is one wire.ParseHeader decodes the same way, with the start of its
// payload.
func FuzzFrameScanner(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, uint8(3))
	f.Add(append([]byte{0x82, 126, 0x00, 0x7e}, make([]byte, 126)...), uint8(100))
	f.Add([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, uint8(1))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		whole := scanAll(stream, len(stream)+1)
		pieces := scanAll(stream, int(chunk)+1)
		if !sameCuts(whole, pieces) {
			t.Fatalf("whole: %v\nin reads of %d: %v", whole, int(chunk)+1, pieces)
		}
		rest := stream
		for i, c := range whole {
			h, n, err := wire.ParseHeader(rest)
			if n != len(c.header) && err == nil || !bytes.HasPrefix(rest, c.header) {
				t.Fatalf("frame %d: header % x is not what the stream holds: % x", i, c.header, rest[:min(len(rest), 14)])
			}
			if err != nil {
				if i != len(whole)-1 {
					t.Fatalf("frame %d: an unparsable header (%v) is not the last reported", i, err)
				}
				return
			}
			rest = rest[n:]
			if want := rest[:min(int64(len(rest)), h.Length, lab.MaxPayload)]; !bytes.Equal(c.payload, want) {
				t.Fatalf("frame %d: payload %q, want %q", i, c.payload, want)
			}
			rest = rest[h.Length:]
		}
	})
}

func sameCuts(a, b []cut) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].header, b[i].header) || !bytes.Equal(a[i].payload, b[i].payload) {
			return false
		}
	}
	return true
}

// TestTracer checks the tracer on a pipe: the response is reported once it
// is whole, then frames both ways in order, with bytes passing through
// unchanged.
func TestTracer(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	var events []string
	tr := newTracer(server, func(response []byte) {
		events = append(events, "response "+strings.TrimSpace(string(response)))
	}, func(sent bool, header, payload []byte) {
		events = append(events, fmt.Sprintf("frame sent=%v % x %q", sent, header, payload))
	})

	go func() {
		buf := make([]byte, 64)
		for {
			if _, err := client.Read(buf); err != nil {
				return
			}
		}
	}()
	write := func(p string) {
		t.Helper()
		if n, err := tr.Write([]byte(p)); err != nil || n != len(p) {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	write("HTTP/1.1 101 Switching Protocols\r\n")
	write("Upgrade: websocket\r\n\r")
	write("\n")
	tr.received([]byte{0x81, 0x01, 'a'}) // behind the request, in net/http's buffer
	write("\x82\x02hi\x89")
	write("\x00")

	go client.Write([]byte{0x8a, 0x80, 1, 2, 3, 4})
	buf := make([]byte, 16)
	n, err := tr.Read(buf)
	if err != nil || !bytes.Equal(buf[:n], []byte{0x8a, 0x80, 1, 2, 3, 4}) {
		t.Fatalf("Read = % x, %v", buf[:n], err)
	}
	want := []string{
		"response HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket",
		`frame sent=false 81 01 "a"`,
		`frame sent=true 82 02 "hi"`,
		`frame sent=true 89 00 ""`,
		`frame sent=false 8a 80 01 02 03 04 ""`,
	}
	if strings.Join(events, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(events, "\n"), strings.Join(want, "\n"))
	}
}
