package conn

import "time"

// A Phase is where a Reconnecting stands.
type Phase uint8

// The phases. A Reconnecting goes from PhaseConnecting to PhaseOpen, and,
// each time the connection drops or a dial fails, through PhaseReconnecting
// back to PhaseConnecting; Close ends it in PhaseClosed.
const (
	PhaseConnecting   Phase = iota // dialing
	PhaseOpen                      // a connection is open
	PhaseReconnecting              // waiting to redial
	PhaseClosed                    // closed for good by Close
)

// String returns the phase's name: "connecting", "open", "reconnecting"
// or "closed".
func (p Phase) String() string {
	switch p {
	case PhaseConnecting:
		return "connecting"
	case PhaseOpen:
		return "open"
	case PhaseReconnecting:
		return "reconnecting"
	case PhaseClosed:
		return "closed"
	}
	return "phase?"
}

// A State is what ReconnectOptions.OnState reports.
type State struct {
	Phase Phase

	// Attempt is the number of the redial that the state is about,
	// counting from 1 since the last stable connection (see
	// ReconnectOptions.StableAfter); it is 0 for the very first dial and
	// the connection it opens.
	Attempt int

	// Delay, in PhaseReconnecting, is how long it waits before redial
	// Attempt.
	Delay time.Duration

	// Offline, in PhaseReconnecting, means that the Network says it is
	// down: rather than dial in vain, the Reconnecting waits for it to
	// come back, and then for a Delay, which a second state reports.
	Offline bool

	// Err, in PhaseReconnecting, is why the last connection ended — its
	// Err, such as a *wire.CloseError — or why the last dial failed.
	Err error
}
