package chat

import (
	"context"
	"errors"
	"time"

	"duplex/shared/message"
)

// A Broker keeps each room's log of messages and carries what happens in a
// room to every server instance that has members there. Memory serves one
// process and forgets everything when it stops; NATS spans instances and
// keeps the logs in JetStream, on a NATS server of its own or embedded in
// the process (the default: see Backend).
type Broker interface {
	// Publish gives c the room's next sequence number, stores it in the
	// room's log, and delivers it to the room's subscribers, on every
	// instance, in sequence order.
	//
	// msgID, if not empty, names the message for de-duplication: if a
	// message with the same msgID was published to the room within the
	// broker's de-duplication window, Publish stores and delivers nothing
	// but gives c that message's sequence number, and reports it a
	// duplicate. A sender that does not know whether its message was
	// stored publishes it again under the same msgID.
	Publish(ctx context.Context, c *message.Chat, msgID string) (duplicate bool, err error)

	// Since returns up to limit of the room's messages with sequence
	// numbers above after, oldest first. ok is false if the log no longer
	// holds the message after after: the caller is too far behind.
	Since(ctx context.Context, room string, after uint64, limit int) (msgs []message.Chat, ok bool, err error)

	// Latest returns the room's latest n messages, oldest first, and the
	// sequence number of the latest, 0 if there are none.
	Latest(ctx context.Context, room string, n int) (msgs []message.Chat, last uint64, err error)

	// Announce delivers an event that is not logged, such as presence or
	// typing, to the room's subscribers on every instance.
	Announce(ctx context.Context, room string, m message.Message) error

	// Subscribe calls deliver with each message published and each event
	// announced in the room, one at a time, until stop is called. It may
	// create the room, and fails with ErrTooManyRooms if the broker holds
	// as many as it may.
	Subscribe(room string, deliver func(message.Message)) (stop func(), err error)

	// Claim takes nick in the room for h, unless another owner holds it:
	// ok is false then. A nickname that h.Owner holds already, through
	// another session — a client that came back before its old connection
	// was found dead — is taken over: the old session no longer holds it.
	Claim(ctx context.Context, room, nick string, h Holder) (ok bool, err error)

	// Release gives up nick in the room if session still holds it, and
	// reports whether it did: false if it was taken over, or released
	// already.
	Release(ctx context.Context, room, nick, session string) (released bool, err error)

	// Members returns the nicknames claimed in the room, on every
	// instance, in no particular order.
	Members(ctx context.Context, room string) ([]string, error)
}

// A Holder is who claims a nickname. Owner is the same for every
// connection of one client in a room, since it comes from the client's
// resume token (see token.go); Session is one connection's membership.
type Holder struct {
	Owner   string
	Session string
}

// ErrTooManyRooms is the error of a Broker, or a Hub, that holds as many
// rooms as it may.
var ErrTooManyRooms = errors.New("chat: too many rooms")

// The defaults of the brokers' bounds, which Memory and NATSOptions take
// when they are left zero.
const (
	defaultKeep     = 1000               // messages kept per room
	defaultMaxBytes = 1 << 20            // bytes of messages kept per room
	defaultMaxAge   = 7 * 24 * time.Hour // how long a message is kept
	defaultDedup    = 2 * time.Minute    // the de-duplication window
)
