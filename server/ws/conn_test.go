package ws

import (
	"bytes"
	"testing"

	"duplex/shared/wire"
)

func TestEchoBasics(t *testing.T) {
	addr := echoServer(t, nil)
	c := dialRaw(t, addr)
	c.text("Hello")
	c.expectMessage(wire.OpText, []byte("Hello"))
	c.binary([]byte{0, 1, 2, 255})
	c.expectMessage(wire.OpBinary, []byte{0, 1, 2, 255})
	big := bytes.Repeat([]byte("x"), 70000)
	c.binary(big)
	c.expectMessage(wire.OpBinary, big)
	c.write(frame{fin: true, op: wire.OpPing, payload: []byte("ping!")})
	c.expectFrame(wire.OpPong, []byte("ping!"))
	c.closeHandshake([]byte{0x03, 0xe8}, wire.StatusNormalClosure)
}

func TestProtocolErrors(t *testing.T) {
	addr := echoServer(t, nil)
	c := dialRaw(t, addr)
	c.writeRaw(encodeFrame(frame{fin: true, op: wire.OpText, payload: []byte("x")}, false))
	c.expectClose(wire.StatusProtocolError)
}
