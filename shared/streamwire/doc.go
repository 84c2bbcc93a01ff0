// Package streamwire is the wire format of Duplex's HTTP stream transport:
// the fallback that carries the messages of a WebSocket connection over
// plain HTTP requests, for networks whose proxies strip the Upgrade header
// or kill upgraded connections. The server's side is duplex/server/httpstream,
// the client's duplex/shared/streamclient; both use this package.
//
// # Requests
//
// The transport lives at the WebSocket endpoint's own path, told apart by
// the query parameter "stream" (QueryOp):
//
//	POST path?stream=open&protocol=a&protocol=b   opens a session; the response is its first stream
//	GET  path?stream=down&after=N                 resumes the stream after frame N
//	POST path?stream=up                           sends frames up; 204 No Content once accepted
//
// The session id travels in the Duplex-Session header (HeaderSession),
// not in the URL, so that access logs do not keep it.
//
// # Frames
//
// Both directions carry the same frames, one after the other, in a
// response body that streams down or in a POST body that goes up:
//
//	kind    1 byte         Text, Binary, Close, Ping, Ack, Abort or Hello
//	seq     uvarint        the frame's number, from 1, for Text, Binary and Close;
//	                       the last number received, for Ack; 0 otherwise
//	length  uvarint        of the payload
//	payload length bytes   a message; a close payload as in RFC 6455 (code, reason);
//	                       a Hello; nothing for Ping, Ack and Abort
//
// Each direction numbers its Text, Binary and Close frames 1, 2, 3…: the
// receiver takes frame n+1 after frame n, drops a frame it has already
// taken (a retried POST, a resumed stream), and refuses a gap. A small
// message costs 3 bytes of framing: kind, seq and length, each a byte.
//
// Uvarints are those of encoding/binary (7 bits a byte, low bits first),
// minimal: a number has one encoding, so that a frame decodes and encodes
// back to the same bytes.
package streamwire
