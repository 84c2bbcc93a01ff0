package wire

// An Opcode says how to interpret a frame's payload (RFC 6455 §5.2).
type Opcode byte

// The opcodes defined by RFC 6455. Values 0x3–0x7 and 0xB–0xF are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control opcode (close, ping, pong or a
// reserved control opcode): its frames carry at most 125 bytes and are
// never fragmented.
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// IsReserved reports whether op is not defined by RFC 6455.
func (op Opcode) IsReserved() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the opcode's name as the RFC spells it, or its hex value
// if it is reserved.
func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	const hex = "0123456789abcdef"
	return "reserved 0x" + hex[op&0xf:op&0xf+1]
}
