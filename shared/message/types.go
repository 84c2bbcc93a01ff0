package message

import (
	"encoding/binary"
	"strconv"
)

// Join asks the server to put the client in Room under the nickname Nick.
// Without Resume the client is new to the room; with Resume it has seen
// every message up to sequence number After and wants those it missed.
// The server answers with Joined, then Presence and History.
//
// Token, since version 2, is the one a previous Joined gave the client in
// this room, or empty the first time: a client that comes back with it
// gets its nickname back even if the server still counts its old
// connection in the room, and the messages it sends again are stored once
// (see Send).
type Join struct {
	Room   string
	Nick   string
	Resume bool
	After  uint64
	Token  string
}

// Leave takes the client out of Room.
type Leave struct {
	Room string
}

// Send asks the server to deliver Text to everyone in Room, the sender
// included, as a Chat.
//
// ID, since version 2, is a number the client chose for the message, not
// 0, and used for no other message it sends in the room under the same
// Token. The server answers with an Ack once the message is stored, or an
// Error with the same ID; a client that does not know whether a message
// was stored — the connection dropped first — sends it again with the
// same ID, and the server stores it once. Version 1 clients send no ID,
// and get no Ack.
type Send struct {
	Room string
	Text string
	ID   uint64
}

// Typing says whether Nick is typing in Room. The client sends it with an
// empty Nick; the server fills in the sender's nickname when it relays it
// to the others in the room.
type Typing struct {
	Room   string
	Nick   string
	Active bool
}

// Joined is the server's answer to Join. Nick is the nickname the client
// was given, which differs from the one it asked for if that was taken (see
// AltNick), and LastSeq is the sequence number of the room's latest
// message, 0 if it has none.
//
// Token, since version 2, is the client's resume token in the room: the
// one its Join carried, or a new one. It is a secret, which the client
// keeps and sends with its next Join of the room (see Join).
type Joined struct {
	Room    string
	Nick    string
	LastSeq uint64
	Token   string
}

// Chat is a message delivered in Room. Seq is its sequence number, which
// the server assigns and which increases strictly within a room, starting
// at 1. Time is when the server received it, in Unix milliseconds. ID,
// since version 2, is the one its sender gave it (see Send), 0 for none:
// a client recognises its own messages by it.
type Chat struct {
	Room string
	Seq  uint64
	Time int64
	Nick string
	Text string
	ID   uint64
}

// History is a batch of Room's past messages, oldest first. With Reset,
// the client was new or too far behind for the server to fill the gap: it
// must drop the messages it holds for the room and start again from this
// batch. Without it, the batch continues from the client's Join.After.
//
// On the wire the items carry no room, which would repeat History's: Append
// ignores each item's Room and Decode sets it to History's.
type History struct {
	Room     string
	Reset    bool
	Messages []Chat
}

// Presence lists the nicknames of everyone in Room. The server sends it to
// a client that joins.
type Presence struct {
	Room  string
	Nicks []string
}

// PresenceChange says that Nick joined Room (Joined is true) or left it.
type PresenceChange struct {
	Room   string
	Nick   string
	Joined bool
}

// Error is the server's report of a request it refused or failed: Code for
// programs, Text for people. Room is the room the request was about, if
// any, and ID, since version 2, the ID of the Send it refused, if it was
// one.
//
// An *Error is also a Go error. The validators return one, which the
// server can send as it is, and a client can return one it received.
type Error struct {
	Code ErrorCode
	Room string
	Text string
	ID   uint64
}

// Ack, since version 2, tells the sender of the Send with ID in Room that
// the message is stored, as the room's message Seq. The Chat that delivers
// it may come before or after the Ack.
type Ack struct {
	Room string
	ID   uint64
	Seq  uint64
}

// Error returns the code's description, the room and the text.
func (e *Error) Error() string {
	s := e.Code.String()
	if e.Room != "" {
		s += " in room " + e.Room
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// An ErrorCode says why the server refused a request.
type ErrorCode uint16

// The error codes. There is no code for a nickname that is taken: the
// server gives the client another one instead (see AltNick and Joined).
// A client should treat a code it does not know like CodeInternal.
//
// A Send refused with CodeRateLimited, CodeInternal or CodeNotInRoom was
// not stored, and may be sent again later; one refused with another code
// would be refused again.
const (
	// CodeBadMessage: the message could not be decoded, or breaks a rule
	// other than those below, such as an empty text.
	CodeBadMessage ErrorCode = 1
	// CodeBadRoom: the room name fails ValidRoom.
	CodeBadRoom ErrorCode = 2
	// CodeBadNick: the nickname fails ValidNick.
	CodeBadNick ErrorCode = 3
	// CodeTooLong: the text is longer than MaxText bytes.
	CodeTooLong ErrorCode = 4
	// CodeNotInRoom: the client sent to, or left, a room it has not joined.
	CodeNotInRoom ErrorCode = 5
	// CodeRateLimited: the client sends too fast; the message was dropped.
	CodeRateLimited ErrorCode = 6
	// CodeInternal: the server failed, or cannot store messages at the
	// moment.
	CodeInternal ErrorCode = 7
	// CodeTooManyRooms: the client is in as many rooms as the server
	// allows one connection, or the server has as many rooms as it
	// allows; the Join was refused.
	CodeTooManyRooms ErrorCode = 8
)

// String describes the code, or returns "error code N" for a code this
// package does not know.
func (c ErrorCode) String() string {
	switch c {
	case CodeBadMessage:
		return "bad message"
	case CodeBadRoom:
		return "invalid room name"
	case CodeBadNick:
		return "invalid nickname"
	case CodeTooLong:
		return "text too long"
	case CodeNotInRoom:
		return "not in room"
	case CodeRateLimited:
		return "rate limited"
	case CodeInternal:
		return "internal error"
	case CodeTooManyRooms:
		return "too many rooms"
	}
	return "error code " + strconv.Itoa(int(c))
}

// Kind returns KindJoin.
func (*Join) Kind() Kind { return KindJoin }

// Kind returns KindLeave.
func (*Leave) Kind() Kind { return KindLeave }

// Kind returns KindSend.
func (*Send) Kind() Kind { return KindSend }

// Kind returns KindTyping.
func (*Typing) Kind() Kind { return KindTyping }

// Kind returns KindJoined.
func (*Joined) Kind() Kind { return KindJoined }

// Kind returns KindChat.
func (*Chat) Kind() Kind { return KindChat }

// Kind returns KindHistory.
func (*History) Kind() Kind { return KindHistory }

// Kind returns KindPresence.
func (*Presence) Kind() Kind { return KindPresence }

// Kind returns KindPresenceChange.
func (*PresenceChange) Kind() Kind { return KindPresenceChange }

// Kind returns KindError.
func (*Error) Kind() Kind { return KindError }

// Kind returns KindAck.
func (*Ack) Kind() Kind { return KindAck }

// The payload codecs. Each decoder reads its fields in the order its
// encoder writes them; doc.go lists them. The fields a version added come
// last, so that an older version's encoding is a newer one's cut short.

func (m *Join) appendPayload(dst []byte, v byte) []byte {
	dst = appendString(dst, m.Room)
	dst = appendString(dst, m.Nick)
	dst = appendBool(dst, m.Resume)
	dst = binary.AppendUvarint(dst, m.After)
	if v >= 2 {
		dst = appendString(dst, m.Token)
	}
	return dst
}

func (m *Join) decodePayload(r reader) reader {
	m.Room = r.string("Room")
	m.Nick = r.string("Nick")
	m.Resume = r.bool("Resume")
	m.After = r.uvarint("After")
	if r.version >= 2 {
		m.Token = r.string("Token")
	}
	return r
}

func (m *Leave) appendPayload(dst []byte, _ byte) []byte {
	return appendString(dst, m.Room)
}

func (m *Leave) decodePayload(r reader) reader {
	m.Room = r.string("Room")
	return r
}

func (m *Send) appendPayload(dst []byte, v byte) []byte {
	dst = appendString(dst, m.Room)
	dst = appendString(dst, m.Text)
	if v >= 2 {
		dst = binary.AppendUvarint(dst, m.ID)
	}
	return dst
}

func (m *Send) decodePayload(r reader) reader {
	m.Room = r.string("Room")
	m.Text = r.string("Text")
	if r.version >= 2 {
		m.ID = r.uvarint("ID")
	}
	return r
}

func (m *Typing) appendPayload(dst []byte, _ byte) []byte {
	dst = appendString(dst, m.Room)
	dst = appendString(dst, m.Nick)
	return appendBool(dst, m.Active)
}

func (m *Typing) decodePayload(r reader) reader {
	m.Room = r.string("Room")
	m.Nick = r.string("Nick")
	m.Active = r.bool("Active")
	return r
}

func (m *Joined) appendPayload(dst []byte, v byte) []byte {
	dst = appendString(dst, m.Room)
	dst = appendString(dst, m.Nick)
	dst = binary.AppendUvarint(dst, m.LastSeq)
	if v >= 2 {
		dst = appendString(dst, m.Token)
	}
	return dst
}

func (m *Joined) decodePayload(r reader) reader {
	m.Room = r.string("Room")
	m.Nick = r.string("Nick")
	m.LastSeq = r.uvarint("LastSeq")
	if r.version >= 2 {
		m.Token = r.string("Token")
	}
	return r
}

func (m *Chat) appendPayload(dst []byte, v byte) []byte {
	dst = appendString(dst, m.Room)
	return m.appendItem(dst, v)
}

func (m *Chat) decodePayload(r reader) reader {
	m.Room = r.string("Room")
	m.decodeItem(&r)
	return r
}

// minItemSize returns the size of the smallest encoding of a History item
// in version v: a one-byte varint for each of Seq and Time, two empty
// strings, and from version 2 on, a one-byte ID.
func minItemSize(v byte) int {
	if v >= 2 {
		return 5
	}
	return 4
}

// appendItem appends the fields of m that a History item holds: all but
// Room.
func (m *Chat) appendItem(dst []byte, v byte) []byte {
	dst = binary.AppendUvarint(dst, m.Seq)
	dst = binary.AppendVarint(dst, m.Time)
	dst = appendString(dst, m.Nick)
	dst = appendString(dst, m.Text)
	if v >= 2 {
		dst = binary.AppendUvarint(dst, m.ID)
	}
	return dst
}

func (m *Chat) decodeItem(r *reader) {
	m.Seq = r.uvarint("Seq")
	m.Time = r.varint("Time")
	m.Nick = r.string("Nick")
	m.Text = r.string("Text")
	if r.version >= 2 {
		m.ID = r.uvarint("ID")
	}
}

func (m *History) appendPayload(dst []byte, v byte) []byte {
	dst = appendString(dst, m.Room)
	dst = appendBool(dst, m.Reset)
	dst = binary.AppendUvarint(dst, uint64(len(m.Messages)))
	for i := range m.Messages {
		dst = m.Messages[i].appendItem(dst, v)
	}
	return dst
}

func (m *History) decodePayload(r reader) reader {
	m.Room = r.string("Room")
	m.Reset = r.bool("Reset")
	n := r.count("Messages", minItemSize(r.version))
	if n == 0 {
		return r
	}
	m.Messages = make([]Chat, n)
	r.list = "Messages"
	for i := range m.Messages {
		r.item = i
		m.Messages[i].Room = m.Room
		m.Messages[i].decodeItem(&r)
	}
	r.list = ""
	return r
}

func (m *Presence) appendPayload(dst []byte, _ byte) []byte {
	dst = appendString(dst, m.Room)
	dst = binary.AppendUvarint(dst, uint64(len(m.Nicks)))
	for _, nick := range m.Nicks {
		dst = appendString(dst, nick)
	}
	return dst
}

func (m *Presence) decodePayload(r reader) reader {
	m.Room = r.string("Room")
	n := r.count("Nicks", 1)
	if n == 0 {
		return r
	}
	m.Nicks = make([]string, n)
	r.list = "Nicks"
	for i := range m.Nicks {
		r.item = i
		m.Nicks[i] = r.string("")
	}
	r.list = ""
	return r
}

func (m *PresenceChange) appendPayload(dst []byte, _ byte) []byte {
	dst = appendString(dst, m.Room)
	dst = appendString(dst, m.Nick)
	return appendBool(dst, m.Joined)
}

func (m *PresenceChange) decodePayload(r reader) reader {
	m.Room = r.string("Room")
	m.Nick = r.string("Nick")
	m.Joined = r.bool("Joined")
	return r
}

func (m *Error) appendPayload(dst []byte, v byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(m.Code))
	dst = appendString(dst, m.Room)
	dst = appendString(dst, m.Text)
	if v >= 2 {
		dst = binary.AppendUvarint(dst, m.ID)
	}
	return dst
}

func (m *Error) decodePayload(r reader) reader {
	m.Code = ErrorCode(r.uint16("Code"))
	m.Room = r.string("Room")
	m.Text = r.string("Text")
	if r.version >= 2 {
		m.ID = r.uvarint("ID")
	}
	return r
}

func (m *Ack) appendPayload(dst []byte, _ byte) []byte {
	dst = appendString(dst, m.Room)
	dst = binary.AppendUvarint(dst, m.ID)
	return binary.AppendUvarint(dst, m.Seq)
}

func (m *Ack) decodePayload(r reader) reader {
	m.Room = r.string("Room")
	m.ID = r.uvarint("ID")
	m.Seq = r.uvarint("Seq")
	return r
}
