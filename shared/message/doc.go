// Package message is the application protocol of Duplex's chat: the
// messages the server and the browser client exchange over a WebSocket,
// their compact binary encoding, and the validation rules both sides apply
// to nicknames, room names and texts.
//
// Every message is one binary WebSocket message made of a two-byte envelope
// and the payload of its kind:
//
//	byte 0   Version (1 or 2)
//	byte 1   Kind
//	byte 2…  the kind's fields, in the order listed below
//
// Fields are encoded as
//
//	string   uvarint byte length, then that many bytes of UTF-8
//	uint     uvarint (binary.AppendUvarint), minimally encoded
//	int      zigzag varint (binary.AppendVarint), minimally encoded
//	bool     one byte, 0 or 1
//	list     uvarint item count, then the items
//
// and the kinds are, with the fields that version 2 added marked "v2",
// each after those of version 1:
//
//	1  Join            Room, Nick string; Resume bool; After uint; v2: Token string
//	2  Leave           Room string
//	3  Send            Room, Text string; v2: ID uint
//	4  Typing          Room, Nick string; Active bool
//	5  Joined          Room, Nick string; LastSeq uint; v2: Token string
//	6  Chat            Room string; Seq uint; Time int; Nick, Text string; v2: ID uint
//	7  History         Room string; Reset bool; Messages list of
//	                   {Seq uint; Time int; Nick, Text string; v2: ID uint}
//	8  Presence        Room string; Nicks list of string
//	9  PresenceChange  Room, Nick string; Joined bool
//	10 Error           Code uint (at most 65535); Room, Text string; v2: ID uint
//	11 Ack             v2 only: Room string; ID, Seq uint
//
// Version 2 makes sending reliable: a client numbers each message it sends
// (Send.ID), keeps it until the server acknowledges it (Ack), sends it
// again after a reconnection, and the server stores it once; a resume
// token (Joined.Token, Join.Token) gives a returning client its nickname
// back. Each version has its own subprotocol name (Subprotocol,
// SubprotocolV1), so that a server can serve both; Decode reads both, and
// AppendVersion writes either.
//
// Each message has exactly one encoding in each version: Decode rejects
// varints that are not minimally encoded, booleans other than 0 and 1,
// strings that are not UTF-8 and bytes after the last field, so anything
// Decode accepts, AppendVersion encodes back to the same bytes in the
// version it came in.
//
// Decode checks the structure only. The limits on what a field may hold —
// ValidNick, ValidRoom, ValidText — are the receiver's to apply, so that the
// server can answer a message that breaks one with an Error carrying the
// precise code instead of dropping it as malformed.
//
// The package imports nothing beyond encoding/binary, errors, strconv and
// unicode/utf8, so that it adds little to the browser's WebAssembly module.
package message
