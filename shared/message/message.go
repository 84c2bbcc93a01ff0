package message

import (
	"errors"
	"strconv"
)

// Version is the protocol version this package speaks by default: the
// first byte of every message Append writes. MinVersion is the oldest
// version it still reads and writes, for peers that speak only that one
// (see AppendVersion).
const (
	Version    = 2
	MinVersion = 1
)

// Subprotocol is the WebSocket subprotocol name for this version of the
// protocol, and SubprotocolV1 the name of version 1. The client offers the
// version it speaks and the server selects it, so that peers speaking
// different versions fail at the handshake rather than at their first
// message; a server that still speaks version 1 offers both.
const (
	Subprotocol   = "duplex-chat.v2"
	SubprotocolV1 = "duplex-chat.v1"
)

// SubprotocolVersion returns the protocol version that the subprotocol
// name stands for, or 0 if it is not one of the chat's.
func SubprotocolVersion(name string) byte {
	switch name {
	case Subprotocol:
		return Version
	case SubprotocolV1:
		return 1
	}
	return 0
}

// headerSize is the size of the envelope: the version and kind bytes.
const headerSize = 2

// A Kind says which message follows the envelope. It is the second byte of
// every message.
type Kind byte

// The kinds of message. Join, Leave, Send and Typing go from the client to
// the server; Typing and the others go from the server to the client. Ack
// exists from version 2 on.
const (
	KindJoin           Kind = 1
	KindLeave          Kind = 2
	KindSend           Kind = 3
	KindTyping         Kind = 4
	KindJoined         Kind = 5
	KindChat           Kind = 6
	KindHistory        Kind = 7
	KindPresence       Kind = 8
	KindPresenceChange Kind = 9
	KindError          Kind = 10
	KindAck            Kind = 11 // since version 2
)

// String returns the name of the Go type for the kind, or "kind N" for a
// kind this package does not know.
func (k Kind) String() string {
	switch k {
	case KindJoin:
		return "Join"
	case KindLeave:
		return "Leave"
	case KindSend:
		return "Send"
	case KindTyping:
		return "Typing"
	case KindJoined:
		return "Joined"
	case KindChat:
		return "Chat"
	case KindHistory:
		return "History"
	case KindPresence:
		return "Presence"
	case KindPresenceChange:
		return "PresenceChange"
	case KindError:
		return "Error"
	case KindAck:
		return "Ack"
	}
	return "kind " + strconv.Itoa(int(k))
}

// newMessage returns a new, zero message of kind k, or nil if k is unknown.
func newMessage(k Kind) Message {
	switch k {
	case KindJoin:
		return new(Join)
	case KindLeave:
		return new(Leave)
	case KindSend:
		return new(Send)
	case KindTyping:
		return new(Typing)
	case KindJoined:
		return new(Joined)
	case KindChat:
		return new(Chat)
	case KindHistory:
		return new(History)
	case KindPresence:
		return new(Presence)
	case KindPresenceChange:
		return new(PresenceChange)
	case KindError:
		return new(Error)
	case KindAck:
		return new(Ack)
	}
	return nil
}

// A Message is one of the protocol's messages: *Join, *Leave, *Send,
// *Typing, *Joined, *Chat, *History, *Presence, *PresenceChange, *Error or
// *Ack. Only this package defines messages.
type Message interface {
	// Kind returns the kind written into the envelope.
	Kind() Kind

	// appendPayload appends the fields that version v has.
	appendPayload(dst []byte, v byte) []byte
	// decodePayload takes and returns the reader by value: a pointer
	// passed through an interface would move it to the heap.
	decodePayload(r reader) reader
}

// Errors that Decode wraps; test for them with errors.Is.
var (
	// ErrVersion means the message was encoded for another protocol
	// version.
	ErrVersion = errors.New("message: unsupported protocol version")
	// ErrUnknownKind means the message's kind is not one this package
	// knows, perhaps because the peer is newer. A client may skip such
	// messages.
	ErrUnknownKind = errors.New("message: unknown kind")
	// ErrMalformed means the message is truncated, or breaks the encoding
	// rules: a length or count larger than the rest of the input, a
	// non-minimal varint, a boolean other than 0 or 1, a string that is
	// not UTF-8, or bytes after the last field.
	ErrMalformed = errors.New("message: malformed")
)

// Append appends the encoding of m in the current Version — the envelope
// and m's fields — to dst and returns the extended slice. m must not be
// nil. Strings are written as they are: one that is not valid UTF-8 makes
// a message that Decode rejects. A History's items are written without
// their Room (see History).
func Append(dst []byte, m Message) []byte {
	return AppendVersion(dst, Version, m)
}

// AppendVersion is Append for a peer that speaks version v, MinVersion to
// Version: the fields that v does not have are left out, whatever they
// hold. It panics if v is out of that range, or if m's kind does not exist
// in v (an Ack in version 1): which messages go to which peer is the
// caller's to decide.
func AppendVersion(dst []byte, v byte, m Message) []byte {
	if v < MinVersion || v > Version || m.Kind() == KindAck && v < 2 {
		panic("message: AppendVersion of a message that the version does not have")
	}
	dst = append(dst, v, byte(m.Kind()))
	return m.appendPayload(dst, v)
}

// Decode decodes the message in b, which must hold exactly one message of
// any version from MinVersion to Version, and returns it as a pointer to
// its type, such as *Chat; b[0] is its version. The fields that its
// version lacks are left zero. The error wraps ErrVersion, ErrUnknownKind
// or ErrMalformed, and says where and why decoding failed.
//
// Decode does not retain b. The strings of the message it returns share a
// single copy of b; a count or a length is checked against the bytes that
// remain before anything is allocated for it.
func Decode(b []byte) (Message, error) {
	switch {
	case len(b) == 0:
		return nil, &decodeError{"message: empty input", ErrMalformed}
	case b[0] < MinVersion || b[0] > Version:
		return nil, &decodeError{"message: protocol version " + strconv.Itoa(int(b[0])) +
			" received, this side speaks versions " + strconv.Itoa(MinVersion) + " to " + strconv.Itoa(Version), ErrVersion}
	case len(b) < headerSize:
		return nil, &decodeError{"message: input ends after the version byte", ErrMalformed}
	}
	m := newMessage(Kind(b[1]))
	if m == nil || m.Kind() == KindAck && b[0] < 2 {
		return nil, &decodeError{"message: unknown kind " + strconv.Itoa(int(b[1])) + " in version " + strconv.Itoa(int(b[0])), ErrUnknownKind}
	}
	r := reader{b: b, s: string(b), off: headerSize, kind: m.Kind(), version: b[0]}
	r = m.decodePayload(r)
	if r.err == nil && r.off != len(b) {
		r.fail(r.off, "", nbytes(len(b)-r.off)+" after the end of the message")
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

// An Envelope holds a message for APIs that take an
// encoding.BinaryAppender or an encoding.BinaryUnmarshaler, such as
// duplex/shared/conn's WriteValue and ReadValue, on either side's
// connection c:
//
//	err := conn.WriteValue(ctx, c, message.Envelope{Message: &message.Send{Room: "go", Text: "hi"}})
//
//	var env message.Envelope
//	err := conn.ReadValue(ctx, c, &env)
//	switch m := env.Message.(type) {
//	case *message.Chat:
//		…
//	}
type Envelope struct {
	Message Message
}

var errNoMessage = errors.New("message: Envelope holds no message")

// AppendBinary implements encoding.BinaryAppender: it appends Append's
// encoding of e.Message, in the current Version, to dst. Its only error is for an Envelope that
// holds no message.
func (e Envelope) AppendBinary(dst []byte) ([]byte, error) {
	if e.Message == nil {
		return dst, errNoMessage
	}
	return Append(dst, e.Message), nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler: it decodes b, as
// Decode does, into e.Message. On error, e is unchanged.
func (e *Envelope) UnmarshalBinary(b []byte) error {
	m, err := Decode(b)
	if err != nil {
		return err
	}
	e.Message = m
	return nil
}
