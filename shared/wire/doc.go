// Package wire implements the framing layer of the WebSocket protocol
// (RFC 6455): frame headers, masking, close payloads, incremental UTF-8
// validation and the handshake's header computations.
//
// It has no dependency on net/http or syscall/js, so the same code runs in
// the native server and in the browser's WebAssembly module.
package wire
