package wire

import "strconv"

// A MessageType is the kind of a data message: Text or Binary. Only these
// two may be written as messages; control frames (close, ping, pong) are
// the connection's business.
type MessageType uint8

// The two kinds of data message, numbered as their opcodes.
const (
	Text   MessageType = MessageType(OpText)
	Binary MessageType = MessageType(OpBinary)
)

// Valid reports whether t is Text or Binary.
func (t MessageType) Valid() bool { return t == Text || t == Binary }

// String returns "text", "binary", or "MessageType(n)" for anything else.
func (t MessageType) String() string {
	switch t {
	case Text:
		return "text"
	case Binary:
		return "binary"
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}

// Opcode returns the opcode of the message's first frame.
func (t MessageType) Opcode() Opcode { return Opcode(t) }
