package streamwire_test

import (
	"fmt"

	"duplex/shared/streamwire"
)

// A POST body that acknowledges the first three frames received and sends
// two messages, decoded as the server decodes it.
func Example() {
	var body []byte
	body = streamwire.AppendFrame(body, streamwire.Frame{Kind: streamwire.KindAck, Seq: 3})
	body = streamwire.AppendFrame(body, streamwire.Frame{Kind: streamwire.KindText, Seq: 1, Payload: []byte("hello")})
	body = streamwire.AppendFrame(body, streamwire.Frame{Kind: streamwire.KindBinary, Seq: 2, Payload: []byte{0xca, 0xfe}})
	fmt.Printf("% x\n", body)

	for len(body) > 0 {
		f, n, err := streamwire.Parse(body, 1<<20)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(f.Kind, f.Seq, len(f.Payload))
		body = body[n:]
	}
	// Output:
	// 0a 03 00 01 01 05 68 65 6c 6c 6f 02 02 02 ca fe
	// ack 3 0
	// text 1 5
	// binary 2 2
}

// The Hello that begins a session's first stream, as the server writes it
// and the client reads it.
func ExampleHello() {
	h := streamwire.Hello{Session: "a1b2c3d4.secret", Subprotocol: "echo", ReadLimit: 1 << 20, MaxPost: 1 << 20, Window: 1 << 20}
	payload, err := h.Append(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	frame := streamwire.AppendFrame(nil, streamwire.Frame{Kind: streamwire.KindHello, Payload: payload})

	f, _, _ := streamwire.Parse(frame, 1<<10)
	var got streamwire.Hello
	fmt.Println(f.Kind, got.Parse(f.Payload), got.Session, got.Subprotocol)
	// Output: hello <nil> a1b2c3d4.secret echo
}
