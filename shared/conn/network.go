package conn

import "context"

// A DialFunc opens a connection. Reconnect calls it for each connection,
// with a context that ends after ReconnectOptions.DialTimeout or on Close;
// once ctx ends, it should give up and return ctx's error.
type DialFunc func(ctx context.Context) (Conn, error)

// A Network tells a Reconnecting whether dialing has a chance. A browser
// knows when it is offline, and says when it is back; a native program
// usually does not, and leaves ReconnectOptions.Network nil, which means
// always online.
type Network interface {
	// Online reports whether the network may be up: false only when the
	// platform knows that it is not.
	Online() bool

	// WaitOnline returns nil once the network may be up again, at once if
	// it may be up now, or ctx's error if ctx ends first.
	WaitOnline(ctx context.Context) error
}

// alwaysOnline is the Network of a platform that cannot tell.
type alwaysOnline struct{}

func (alwaysOnline) Online() bool                     { return true }
func (alwaysOnline) WaitOnline(context.Context) error { return nil }
