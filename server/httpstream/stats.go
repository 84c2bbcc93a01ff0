package httpstream

import (
	"slices"
	"sync"
	"sync/atomic"

	"duplex/server/ws"
)

// Stats counts what the sessions of an endpoint do, for metrics: give one
// to a Config and read it at any time. A nil *Stats counts nothing. The
// zero value is ready to use.
type Stats struct {
	Open        atomic.Int64  // sessions open now
	Opened      atomic.Uint64 // sessions opened
	Streams     atomic.Uint64 // streams served: each session's first, and each reopened
	Posts       atomic.Uint64 // POSTs read
	MessagesIn  atomic.Uint64 // messages read by the endpoint
	MessagesOut atomic.Uint64 // messages written by the endpoint
	BytesIn     atomic.Uint64 // their payload bytes
	BytesOut    atomic.Uint64
	ClosesSent  atomic.Uint64 // Close frames queued by the server
	ClosesRecv  atomic.Uint64 // Close frames taken from clients

	mu      sync.Mutex
	refusal map[int]uint64 // requests refused, by status
}

// Refused returns how many requests were refused, by HTTP status, in
// order of status.
func (s *Stats) Refused() []ws.Count[int] {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ws.Count[int]
	for status, n := range s.refusal {
		out = append(out, ws.Count[int]{Key: status, Count: n})
	}
	slices.SortFunc(out, func(a, b ws.Count[int]) int { return a.Key - b.Key })
	return out
}

func (s *Stats) refused(status int) {
	if s != nil {
		s.mu.Lock()
		if s.refusal == nil {
			s.refusal = map[int]uint64{}
		}
		s.refusal[status]++
		s.mu.Unlock()
	}
}

func (s *Stats) opened() {
	if s != nil {
		s.Open.Add(1)
		s.Opened.Add(1)
	}
}

func (s *Stats) closed() {
	if s != nil {
		s.Open.Add(-1)
	}
}

func (s *Stats) streamed() {
	if s != nil {
		s.Streams.Add(1)
	}
}

func (s *Stats) posted() {
	if s != nil {
		s.Posts.Add(1)
	}
}

func (s *Stats) messageIn(n int) {
	if s != nil {
		s.MessagesIn.Add(1)
		s.BytesIn.Add(uint64(n))
	}
}

func (s *Stats) messageOut(n int) {
	if s != nil {
		s.MessagesOut.Add(1)
		s.BytesOut.Add(uint64(n))
	}
}

func (s *Stats) sentClose() {
	if s != nil {
		s.ClosesSent.Add(1)
	}
}

func (s *Stats) receivedClose() {
	if s != nil {
		s.ClosesRecv.Add(1)
	}
}
