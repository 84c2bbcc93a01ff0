// Package message is the application protocol of Duplex's chat: the
// messages the server and the browser client exchange over a WebSocket,
// their compact binary encoding, and the validation rules both sides apply
// to nicknames, room names and texts.
//
// Every message is one binary WebSocket message made of a two-byte envelope
// and the payload of its kind:
//
//	byte 0   Version (1)
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
// and the kinds are
//
//	1  Join            Room, Nick string; Resume bool; After uint
//	2  Leave           Room string
//	3  Send            Room, Text string
//	4  Typing          Room, Nick string; Active bool
//	5  Joined          Room, Nick string; LastSeq uint
//	6  Chat            Room string; Seq uint; Time int; Nick, Text string
//	7  History         Room string; Reset bool; Messages list of
//	                   {Seq uint; Time int; Nick, Text string}
//	8  Presence        Room string; Nicks list of string
//	9  PresenceChange  Room, Nick string; Joined bool
//	10 Error           Code uint (at most 65535); Room, Text string
//
// Each message has exactly one encoding: Decode rejects varints that are
// not minimally encoded, booleans other than 0 and 1, strings that are not
// UTF-8 and bytes after the last field, so anything Decode accepts, Append
// encodes back to the same bytes.
//
// Decode checks the structure only. The limits on what a field may hold —
// ValidNick, ValidRoom, ValidText — are the receiver's to apply, so that the
// server can answer a message that breaks one with an Error carrying the
// precise code instead of dropping it as malformed.
//
// The package imports nothing beyond encoding/binary, errors, strconv and
// unicode/utf8, so that it adds little to the browser's WebAssembly module.
package message
