// Package handshake holds the computations of the WebSocket opening
// handshake (RFC 6455 §4) that do not need net/http: the
// Sec-WebSocket-Accept answer to a Sec-WebSocket-Key, and the parsing of
// the comma-separated header lists it uses (Connection, Upgrade,
// Sec-WebSocket-Protocol, Sec-WebSocket-Extensions). For history, it also
// computes the handshake of the protocol RFC 6455 replaced, draft-76
// (Draft76; draft76.go explains why it was replaced).
//
// It is separate from package wire so that the browser module, which never
// performs a handshake itself, does not link SHA-1.
package handshake
