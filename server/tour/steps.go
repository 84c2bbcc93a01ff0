// Package tour is the guided tour: a numbered path of short steps through
// how a WebSocket works — the upgrade, the frame's bits, masking,
// fragments, ping and pong, closing, compression, a chat that loses
// nothing, the handshake it replaced, what to do where WebSocket is
// blocked — each saying what to do in a live demo, what to notice, and
// which lines of the code do it. It is a demo like the others: its steps
// link into the lab, the playground, the echo page and the chat, so it
// needs them.
package tour

import "duplex/server/web"

// A step is one stop of the tour. Text in backquotes is shown as code.
type step struct {
	Slug   string // its URL: /tour/<slug>
	Title  string
	Do     string // what to do
	Notice string // what to notice
	Try    link   // where to do it
	Source []web.SourceLink
}

// A link is a labelled URL.
type link struct {
	Label, Href string
}

// steps is the tour, in order. Every link and source anchor is checked by
// the package's tests.
var steps = []step{
	{
		Slug:   "upgrade",
		Title:  "The upgrade handshake",
		Do:     "Open the protocol lab and press `Connect`; in the Handshake panel, follow the key down to the answer.",
		Notice: "The request is an ordinary HTTP `GET` that asks to switch protocols with `Upgrade: websocket` and `Connection: Upgrade`, carries a random `Sec-WebSocket-Key` and names version `13` — shown as the server received it. The server appends the fixed GUID `258EAFA5-E914-47DA-95CA-C5AB0DC85B11` to the key, hashes it with SHA-1 and sends it back in base64 as `Sec-WebSocket-Accept` in a `101 Switching Protocols`. The proof is not security: it shows that the server understood the request as WebSocket, so a confused HTTP server or cache cannot be mistaken for one. From the `101` on, the connection carries frames.",
		Try:    link{"Open the lab", "/lab"},
		Source: []web.SourceLink{{Label: "the server's checks", File: "server/ws/upgrade.go#Upgrader.Check"}, {Label: "the computation", File: "shared/handshake/accept.go#AcceptKey"}, {Label: "the 101 response", File: "server/ws/upgrade.go#Upgrader.Upgrade"}, {Label: "the browser's side", File: "wasm/websocket/websocket.go#New"}},
	},
	{
		Slug:   "frame",
		Title:  "A frame, bit by bit",
		Do:     "Connected, send `hello` from the lab and click the frame it became in the Frames list.",
		Notice: "Two bytes of header come first: `FIN` (the message ends here), three reserved bits, a 4-bit opcode (`0x1` text), the `MASK` bit and a 7-bit length — 126 and 127 announce a 16- or 64-bit length after them. Five bytes of text take a 2-byte header, a 4-byte key and the payload: 11 bytes.",
		Try:    link{"Open the lab", "/lab"},
		Source: []web.SourceLink{{Label: "parsing a header", File: "shared/wire/header.go#ParseHeader"}, {Label: "writing one", File: "shared/wire/header.go#AppendHeader"}},
	},
	{
		Slug:   "masking",
		Title:  "Masking, and why it exists",
		Do:     "In the frame's detail, compare the masked bytes on the wire with the plain text; then change the payload in the Compose panel.",
		Notice: "Every frame from a browser is XORed with a fresh random 4-byte key, and the server rejects an unmasked one with `1002`. This is not encryption — the key travels with the frame — but it stops a page from choosing the bytes a transparent proxy sees, which once allowed cache poisoning (RFC 6455 §10.3). Server frames are never masked.",
		Try:    link{"Open the lab", "/lab"},
		Source: []web.SourceLink{{Label: "masking, 8 bytes at a time", File: "shared/wire/mask.go#Mask"}, {Label: "the server's check", File: "shared/wire/header.go#Header.Check"}},
	},
	{
		Slug:   "fragments",
		Title:  "Fragmentation",
		Do:     "In the lab, have the server send a message in `3` fragments.",
		Notice: "Three frames arrive: the first with opcode text and `FIN` 0, two continuations (`0x0`), the last with `FIN` 1. The browser hands the page one message. Fragments let a sender stream a message whose length it does not know yet; control frames may come between them.",
		Try:    link{"Open the lab", "/lab"},
		Source: []web.SourceLink{{Label: "a streaming writer", File: "server/ws/write.go#MessageWriter.Write"}, {Label: "reassembly", File: "server/ws/read.go#messageReader.advance"}},
	},
	{
		Slug:   "ping",
		Title:  "Ping and pong",
		Do:     "In the lab, press `Ping`.",
		Notice: "The server sends a ping; the browser answers with a pong carrying the same payload, by itself — a page cannot send or see either. Servers ping idle connections (here every 30 s) to learn that the peer is still there, and to keep proxies from closing a quiet connection.",
		Try:    link{"Open the lab", "/lab"},
		Source: []web.SourceLink{{Label: "Ping", File: "server/ws/conn.go#Conn.Ping"}, {Label: "keepalive", File: "server/ws/conn.go#Conn.startKeepAlive"}},
	},
	{
		Slug:   "events",
		Title:  "The browser's view: events and readyState",
		Do:     "In the playground, connect, send a message, then close with code `4000`.",
		Notice: "`readyState` goes 0 connecting, 1 open, 2 closing, 3 closed; the page sees `open`, `message` and `close` events, never a frame. The close event reports the code and reason of the close frame that came back, and `wasClean`: whether both sides sent one.",
		Try:    link{"Open the playground", "/playground"},
		Source: []web.SourceLink{{Label: "the Go API over the browser's WebSocket", File: "wasm/websocket/websocket.go#Conn"}, {Label: "the playground", File: "wasm/playground/playground.go"}},
	},
	{
		Slug:   "close",
		Title:  "Closing, and close codes",
		Do:     "In the lab, close with code `4001` and reason `bye`; then, connected again, choose a rule in `Break it` and press it.",
		Notice: "A clean close is a handshake: one side sends a close frame with a code, the other answers with its own, and the server closes TCP first. When the server breaks a rule, the browser sends `1002` with a reason — but the page's close event says `1006`, not clean: a page never learns the code its browser sent.",
		Try:    link{"Open the lab", "/lab"},
		Source: []web.SourceLink{{Label: "close codes", File: "shared/wire/close.go#StatusCode"}, {Label: "the closing handshake", File: "server/ws/conn.go#Conn.Close"}, {Label: "the broken frames", File: "server/lab/commands.go#violation"}},
	},
	{
		Slug:   "echo",
		Title:  "Messages of any size",
		Do:     "On the echo page, send a binary message of a few megabytes.",
		Notice: "The message comes back whole, with its round-trip time. The server reads it frame by frame into one buffer and refuses, with `1009`, a message larger than its limit as soon as a header announces it — before reading the payload.",
		Try:    link{"Open the echo page", "/echo"},
		Source: []web.SourceLink{{Label: "reading a message", File: "server/ws/read.go#Conn.ReadMessage"}, {Label: "the echo endpoint", File: "server/echo/echo.go#Handler.serve"}},
	},
	{
		Slug:   "compression",
		Title:  "Compression: permessage-deflate",
		Do:     "Open the lab with compression allowed, press `Connect`, send a long repetitive text — `hello ` a hundred times — and click the frame it became.",
		Notice: "Every browser offers `permessage-deflate` (RFC 7692) in `Sec-WebSocket-Extensions`; this server agrees, with parameters, in its `101`. A compressed message has `RSV1` set on its first frame and carries DEFLATE data without the final `00 00 ff ff`; the lab shows the bytes on the wire against the message. Short messages cross uncompressed, since they would grow; a connection holds no compressor between messages, and inflating stops at the read limit, so a small bomb cannot expand into gigabytes.",
		Try:    link{"Open the lab, compression allowed", "/lab?compress=1"},
		Source: []web.SourceLink{{Label: "the offer parsed", File: "shared/handshake/deflate.go#ParseDeflateOffer"}, {Label: "compressing", File: "server/ws/compress.go#Conn.writeCompressed"}, {Label: "inflating, bounded", File: "server/ws/inflate.go#messageReader.readInflated"}},
	},
	{
		Slug:   "chat",
		Title:  "A chat that loses nothing",
		Do:     "Open the chat in two tabs and join the same room. In one, go offline (DevTools → Network → Offline) and send a message; send from the other tab too; then go back online.",
		Notice: "What you send shows as pending until the server acknowledges it, and is sent again after the reconnection — or after a reload of the page — with the id your page chose, so the server stores it once. Each message has a sequence number in its room: a client that comes back asks for what came after the last one it saw, and gets each missed message once, in order. This client is Go compiled to WebAssembly, and the same package runs natively in `go test` against the real server: both sides implement one `Conn` interface.",
		Try:    link{"Open the chat", "/chat"},
		Source: []web.SourceLink{{Label: "the outbox", File: "shared/chatclient/outbox.go#Client.Send"}, {Label: "resuming", File: "shared/chatclient/client.go#roomState.join"}, {Label: "the one Conn API", File: "shared/conn/conn.go#Conn"}, {Label: "the server's room", File: "server/chat/room.go#room.deliver"}},
	},
	{
		Slug:   "draft76",
		Title:  "The handshake it replaced: draft-76",
		Do:     "Open the lab's History panel and follow the draft's example.",
		Notice: "Before RFC 6455, servers proved themselves with an MD5 puzzle: two keys whose digits are divided by their count of spaces, plus 8 bytes sent after the headers. Frames were text between `0x00` and `0xFF`, without masking or close codes. Its flaws — no binary, no masking, a body after a GET — are why the protocol was redone.",
		Try:    link{"Open the History panel", "/lab#lab-history"},
		Source: []web.SourceLink{{Label: "the computation", File: "shared/handshake/draft76.go#Draft76"}},
	},
	{
		Slug:   "blocked",
		Title:  "When WebSocket is blocked",
		Do:     "In the playground, choose the transport `stream`, connect, send and close; then try `auto` on a network that strips `Upgrade`.",
		Notice: "The same messages cross as HTTP: one long response streams them down, and each batch goes up in a `POST` with a session id and sequence numbers, so a dropped stream resumes without loss. A page tries WebSocket first and falls back when it is refused, times out, or dies right after the `101`, and remembers the choice for a while. The price shows on the echo page: some 800 bytes of request head per message sent, and several times the round-trip time.",
		Try:    link{"Open the playground", "/playground?transport=stream"},
		Source: []web.SourceLink{{Label: "choosing the transport", File: "wasm/websocket/connect.go#Connect"}, {Label: "the server's sessions", File: "server/httpstream/server.go#Server.ServeHTTP"}},
	},
}
