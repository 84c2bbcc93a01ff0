package chatclient

import (
	"duplex/shared/conn"
	"duplex/shared/message"
)

// A UI shows what a Client reports. The browser's chat page implements it
// with the DOM; a test records what it is told.
//
// The Client calls its methods one at a time, in order, with the Client's
// lock held, from whichever goroutine has news: the one that reads the
// server's messages, the one that dials, or the caller of a Client method
// (Join reports the room it adds, Leave the room it removes). So a UI
// method must return quickly, and must not call the Client's methods.
type UI interface {
	// Status reports where the connection stands, and, once it is back
	// after a drop, how the rooms caught up.
	Status(Status)

	// RoomChanged reports a room that Join added, or what changed in one:
	// whether the user is in it, under which nickname, who else is, and
	// who is typing.
	RoomChanged(Room)

	// RoomRemoved reports that the client is no longer in the room:
	// because the user left it (err is nil), or because the server
	// refused the join (err is its *message.Error, which Error reported
	// just before). Its outbox goes with it.
	RoomRemoved(room string, err error)

	// Message reports a chat message to show at the end of its room's:
	// each one once, in the order of their sequence numbers. mine is true
	// for the user's own.
	Message(m message.Chat, mine bool)

	// Outbox reports, each time it changes, what the user sent in the room
	// that has yet to come back as a Message, in the order sent: what to
	// show as pending. A message leaves it in the same call of the
	// Client's in which its Message is reported, just before.
	Outbox(room string, pending []Pending)

	// Refused reports a message that the server refused, and would refuse
	// again: it has left the outbox, and text is given back, for the user
	// to edit. Error reported err just before.
	Refused(room, text string, err error)

	// HistoryReset reports that the server is sending the room's history
	// afresh: the messages shown for it so far must go.
	HistoryReset(room string)

	// NickTaken reports that the server let the user into the room as
	// given, because asked was taken.
	NickTaken(room, asked, given string)

	// Error reports an error to show: a *message.Error from the server,
	// or why a message from the server could not be decoded.
	Error(err error)
}

// A Pending is a message in a room's outbox (see Client.Send).
type Pending struct {
	ID   uint64
	Text string

	// Stored says that the server has stored it: it shows once the
	// messages before it have.
	Stored bool

	// Err, if not nil, is why the server refused it last, for the time
	// being, such as a *message.Error for the rate limit: it will be sent
	// again.
	Err error
}

// A Status is where a Client's connection stands.
type Status struct {
	// State is the Reconnecting's, as its OnState reported it last.
	conn.State

	// Opens counts the connections opened so far: 0 until the first, 1
	// while the first lasts, and more once the client has reconnected.
	Opens int

	// Rooms counts the rooms the client is in, or joining.
	Rooms int

	// CatchingUp, after a reconnect, says that a room has yet to receive
	// the history it missed.
	CatchingUp bool

	// Missed counts the messages received since the last reconnect that
	// were sent while the client was away.
	Missed int

	// Reloaded says that, since the last reconnect, the server had lost
	// track of a room the client was in, and sent its history afresh
	// (HistoryReset) rather than the messages missed.
	Reloaded bool
}

// A Room is what the client knows of a room, as RoomChanged reports it.
type Room struct {
	Name string

	// Nick is the user's nickname in the room: the one asked for until the
	// server answers, then the one it gave.
	Nick string

	// Joined says that the server has let the user in, on the current
	// connection: until then, and while the connection is down, Send
	// fails.
	Joined bool

	// Present lists who is in the room, sorted.
	Present []string

	// Typing lists who else is typing there, in the order they started.
	Typing []string
}
