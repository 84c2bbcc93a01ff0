package conn

import (
	"context"
	"encoding"

	"duplex/shared/wire"
)

// WriteValue sends v's binary encoding as one binary message; the message
// types in duplex/shared implement encoding.BinaryAppender.
func WriteValue(ctx context.Context, c Conn, v encoding.BinaryAppender) error {
	b, err := v.AppendBinary(nil)
	if err != nil {
		return err
	}
	return c.WriteMessage(ctx, wire.Binary, b)
}

// ReadValue reads the next message and decodes it into v.
func ReadValue(ctx context.Context, c Conn, v encoding.BinaryUnmarshaler) error {
	_, b, err := c.ReadMessage(ctx, nil)
	if err != nil {
		return err
	}
	return v.UnmarshalBinary(b)
}
