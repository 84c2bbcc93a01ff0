package streamwire

// The names the requests of the transport use, on both sides.
const (
	// QueryOp is the query parameter that marks a request of the
	// transport, with one of OpOpen, OpDown and OpUp.
	QueryOp = "stream"

	OpOpen = "open" // POST: open a session; the response is its first stream
	OpDown = "down" // GET: the stream again, after the frame of QueryAfter
	OpUp   = "up"   // POST: frames from the client

	// QueryProtocol is repeated on an open request, once per subprotocol
	// offered, in order of preference, as Sec-WebSocket-Protocol lists
	// them.
	QueryProtocol = "protocol"

	// QueryAfter, on a down request, is the number of the last numbered
	// frame the client has received: the stream resumes after it, and the
	// server forgets the frames up to it.
	QueryAfter = "after"

	// HeaderSession carries the session's id on every request but the
	// open.
	HeaderSession = "Duplex-Session"

	// ContentType is the type of the bodies both ways.
	ContentType = "application/octet-stream"
)
