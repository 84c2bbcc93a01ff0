package wsbench

import (
	"bytes"
	"testing"
	"time"

	"duplex/shared/wire"
)

// TestClientNoAllocs checks the premise of the comparisons: the Client,
// with the floor server, makes round trips without allocating.
func TestClientNoAllocs(t *testing.T) {
	addr, path := StartFloorEcho(t)
	c := Dial(t, addr, path)
	c.Conn.SetDeadline(time.Now().Add(30 * time.Second))
	for _, size := range Sizes {
		msg := Message(size.N)
		c.SetMessage(wire.OpBinary, msg)
		if err := c.RoundTrip(); err != nil {
			t.Fatalf("%s: %v", size.Name, err)
		}
		if !bytes.Equal(c.Received(), msg) {
			t.Fatalf("%s: the echo differs", size.Name)
		}
		var err error
		allocs := testing.AllocsPerRun(200, func() {
			if e := c.RoundTrip(); e != nil {
				err = e
			}
		})
		if err != nil {
			t.Fatalf("%s: %v", size.Name, err)
		}
		if allocs != 0 {
			t.Errorf("%s: a round trip allocates %v times, want 0", size.Name, allocs)
		}
	}
}

// TestEchoServers checks that the reference servers echo every size, text
// and binary, in one message.
func TestEchoServers(t *testing.T) {
	for _, s := range []EchoServer{Floor, DuplexMin} {
		t.Run(s.Name, func(t *testing.T) {
			addr, path := s.Start(t)
			c := Dial(t, addr, path)
			c.Conn.SetDeadline(time.Now().Add(30 * time.Second))
			for _, op := range []wire.Opcode{wire.OpText, wire.OpBinary} {
				for _, size := range Sizes {
					msg := bytes.Repeat([]byte("x"), size.N) // valid UTF-8 too
					c.SetMessage(op, msg)
					if err := c.RoundTrip(); err != nil {
						t.Fatalf("%v %s: %v", op, size.Name, err)
					}
					if !bytes.Equal(c.Received(), msg) {
						t.Fatalf("%v %s: the echo differs", op, size.Name)
					}
				}
			}
		})
	}
}
