package chat

import (
	"context"
	"errors"
	"log/slog"
	"slices"
)

// BackendOptions say where a chat backend keeps its rooms: on the NATS
// server at NATS, shared with the other instances connected to it; else in
// a NATS server embedded in the process, storing under the directory
// Data; else, with both empty, in the process's memory, lost when it
// stops.
type BackendOptions struct {
	NATS string
	Data string

	Hub  Config      // the hub's configuration, but its Broker
	Room NATSOptions // the NATS broker's, with NATS or Data
}

// A Backend is a hub on its broker: what serves the chat's WebSocket
// connections, and what must be closed after them.
type Backend struct {
	Hub   *Hub
	Where string // where the rooms are, for people: "in memory", …

	closers []func() // run by Close, last first
}

// OpenBackend starts a backend as opts say.
func OpenBackend(ctx context.Context, opts BackendOptions) (*Backend, error) {
	b := &Backend{}
	if opts.Hub.Log == nil {
		opts.Hub.Log = slog.New(slog.DiscardHandler)
	}
	log := opts.Hub.Log
	if opts.Room.Log == nil {
		opts.Room.Log = log
	}
	switch {
	case opts.NATS != "" && opts.Data != "":
		return nil, errors.New("chat: rooms on a NATS server, or in a data directory: not both")
	case opts.NATS != "":
		broker, err := DialNATS(ctx, opts.NATS, opts.Room)
		if err != nil {
			return nil, err
		}
		b.closers = append(b.closers, broker.Close)
		b.Where = "on NATS JetStream at " + broker.Conn().ConnectedUrlRedacted()
		opts.Hub.Broker = broker
	case opts.Data != "":
		e, err := openEmbedded(opts.Data, log)
		if err != nil {
			return nil, err
		}
		b.closers = append(b.closers, e.release)
		nc, err := e.connect()
		if err != nil {
			b.Close()
			return nil, err
		}
		b.closers = append(b.closers, nc.Close)
		broker, err := NewNATS(ctx, nc, opts.Room)
		if err != nil {
			b.Close()
			return nil, err
		}
		b.closers = append(b.closers, broker.Close)
		b.Where = "in " + opts.Data + ", by an embedded NATS JetStream"
		opts.Hub.Broker = broker
	default:
		opts.Hub.Broker = &Memory{}
		b.Where = "in memory, until the process stops"
	}
	b.Hub = NewHub(opts.Hub)
	return b, nil
}

// Close closes the broker, and the embedded NATS server, if any. The
// hub's connections are to be closed first.
func (b *Backend) Close() {
	for _, f := range slices.Backward(b.closers) {
		f()
	}
	b.closers = nil
}
