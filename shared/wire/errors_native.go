//go:build !js

package wire

import "net"

// Unwrap makes ErrClosed match net.ErrClosed.
func (closedError) Unwrap() error { return net.ErrClosed }
