// Package lab is the protocol between the protocol lab's server and its page.
//
// The lab page opens two WebSockets. The first, the trace channel, speaks
// this protocol: the server sends it what it observes on the second, the
// lab connection, a plain echo whose every byte the server records: the
// upgrade request as received, the steps of the accept computation, the 101
// response as sent, and each frame in both directions with its header and
// payload exactly as they crossed the wire. The page sends commands on the
// trace channel that make the server write frames on the lab connection. The
// trace channel is not traced itself, so its reports never show up among the
// frames they report.
//
// Every message is one binary WebSocket message:
//
//	byte 0   Version (1)
//	byte 1   Kind
//	byte 2…  the kind's fields, in the order of the struct's fields
//
// Fields are encoded as
//
//	bytes, string  uvarint length, then that many bytes (strings are UTF-8)
//	uint           uvarint, minimally encoded
//	bool           one byte, 0 or 1
//
// The page decodes a Frame's header with package wire, the same code the
// server reads frames with.
package lab

// Version is the protocol version, the first byte of every message.
const Version = 1

// Subprotocol is the trace channel's WebSocket subprotocol.
const Subprotocol = "duplex-lab.v1"

// MaxPayload is the largest part of a frame's payload that a Frame report
// carries; the header always gives the full length.
const MaxPayload = 4096

// A Kind says which message follows the version byte.
type Kind byte

// The kinds of message: the server sends Session, Handshake, Frame and
// Note; the page sends Fragment, Ping, Close and Violate.
const (
	KindSession   Kind = 1
	KindHandshake Kind = 2
	KindFrame     Kind = 3
	KindNote      Kind = 4
	KindFragment  Kind = 10
	KindPing      Kind = 11
	KindClose     Kind = 12
	KindViolate   Kind = 13
)

// A Message is one of this package's message types.
type Message interface {
	Kind() Kind
	appendFields(dst []byte) []byte
	readFields(r *reader)
}

// Session is the server's first message on the trace channel: the ID with
// which the page opens its lab connection, as the query parameter session.
type Session struct {
	ID string
}

// Handshake is the lab connection's opening handshake as the server saw it.
type Handshake struct {
	// Request is the request line and headers, up to and including the
	// empty line, as received. If Rebuilt is set the raw bytes were not
	// available (the connection had served an earlier request) and Request
	// was rebuilt from the parsed request: header order and case are lost.
	Request []byte
	Rebuilt bool

	// The accept computation (RFC 6455 §4.2.2): the client's key, the key
	// with the fixed GUID appended, its SHA-1 digest, and the digest's
	// base64 encoding, which is the Sec-WebSocket-Accept value.
	Key     string
	KeyGUID string
	SHA1    []byte
	Accept  string

	// Response is the 101 response as sent, up to and including the empty
	// line.
	Response []byte
}

// Frame is one frame on the lab connection, as it crossed the wire.
type Frame struct {
	Seq     uint64 // 1 for the first frame, in either direction
	Sent    bool   // sent by the server; otherwise received from the browser
	Micros  uint64 // when, in microseconds since the handshake
	Header  []byte // the header's bytes: 2 to 14
	Payload []byte // the payload as on the wire (masked if the header says so), at most MaxPayload bytes
}

// Note is something the server tells the page in words, such as why the
// lab connection ended or that frames went unreported.
type Note struct {
	Text string
}

// Fragment asks the server to send Text as one text message in N frames.
type Fragment struct {
	N    uint64
	Text string
}

// Ping asks the server to send a ping; the browser answers with a pong by
// itself, and the server notes how long that took.
type Ping struct{}

// Close asks the server to start the closing handshake with Code and
// Reason.
type Close struct {
	Code   uint16
	Reason string
}

// Violate asks the server to send a frame that breaks Rule, so that the
// browser fails the connection.
type Violate struct {
	Rule Rule
}

// A Rule is a rule of RFC 6455 that the server can break on request.
type Rule byte

// The rules the lab can break.
const (
	RuleMasked       Rule = 1 // a server must not mask its frames (§5.1)
	RuleRsv          Rule = 2 // reserved bits stay 0 unless an extension gives them a meaning (§5.2)
	RuleOpcode       Rule = 3 // opcodes 0x3–0x7 and 0xB–0xF are reserved (§5.2)
	RuleControlSize  Rule = 4 // a control frame carries at most 125 bytes (§5.5)
	RuleUTF8         Rule = 5 // a text message is valid UTF-8 (§8.1)
	RuleContinuation Rule = 6 // a continuation frame continues a message (§5.4)
)

// Rules lists the rules in the order a page offers them.
var Rules = []Rule{RuleMasked, RuleRsv, RuleOpcode, RuleControlSize, RuleUTF8, RuleContinuation}

// String describes the frame that breaks the rule.
func (r Rule) String() string {
	switch r {
	case RuleMasked:
		return "a masked frame from the server"
	case RuleRsv:
		return "RSV1 set, with no extension agreed"
	case RuleOpcode:
		return "reserved opcode 0x3"
	case RuleControlSize:
		return "a ping with 126 bytes of payload"
	case RuleUTF8:
		return "a text frame that is not UTF-8"
	case RuleContinuation:
		return "a continuation frame with no message to continue"
	}
	return "unknown rule"
}

func (Session) Kind() Kind   { return KindSession }
func (Handshake) Kind() Kind { return KindHandshake }
func (Frame) Kind() Kind     { return KindFrame }
func (Note) Kind() Kind      { return KindNote }
func (Fragment) Kind() Kind  { return KindFragment }
func (Ping) Kind() Kind      { return KindPing }
func (Close) Kind() Kind     { return KindClose }
func (Violate) Kind() Kind   { return KindViolate }

// newMessage returns a new zero message of kind k, or nil for an unknown
// kind.
func newMessage(k Kind) Message {
	switch k {
	case KindSession:
		return &Session{}
	case KindHandshake:
		return &Handshake{}
	case KindFrame:
		return &Frame{}
	case KindNote:
		return &Note{}
	case KindFragment:
		return &Fragment{}
	case KindPing:
		return &Ping{}
	case KindClose:
		return &Close{}
	case KindViolate:
		return &Violate{}
	}
	return nil
}
