package chat

import (
	"sync/atomic"
	"time"
)

// Stats counts what a Hub does, for metrics. Give one to Config.Stats and
// read it at any time; the zero value is ready to use.
type Stats struct {
	Published   atomic.Uint64 // chat messages the hub's clients published
	Duplicates  atomic.Uint64 // of those, messages sent again that the broker had stored already
	Deliveries  atomic.Uint64 // messages queued for a client to send
	RateLimited atomic.Uint64 // messages dropped because their client sent too fast
	TooSlow     atomic.Uint64 // clients disconnected because they read too slowly

	// ObservePublish, if set, is told how long each Broker.Publish took.
	ObservePublish func(time.Duration)
}

// The hooks below do nothing on a nil Stats.

func (s *Stats) published(took time.Duration, duplicate bool) {
	if s != nil {
		s.Published.Add(1)
		if duplicate {
			s.Duplicates.Add(1)
		}
		if s.ObservePublish != nil {
			s.ObservePublish(took)
		}
	}
}

func (s *Stats) delivered(n int) {
	if s != nil && n > 0 {
		s.Deliveries.Add(uint64(n))
	}
}

func (s *Stats) rateLimited() {
	if s != nil {
		s.RateLimited.Add(1)
	}
}

func (s *Stats) tooSlow() {
	if s != nil {
		s.TooSlow.Add(1)
	}
}

// Census returns how many rooms the hub has open on this instance, and
// how many members they have in all.
func (h *Hub) Census() (rooms, members int) {
	h.mu.Lock()
	all := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		all = append(all, r)
	}
	h.mu.Unlock()
	for _, r := range all {
		r.mu.Lock()
		members += len(r.members)
		r.mu.Unlock()
	}
	return len(all), members
}
