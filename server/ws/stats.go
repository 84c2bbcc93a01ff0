package ws

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Stats counts what the connections of an endpoint do: give one to an
// Upgrader (or to DialOptions) and read it at any time, for metrics. The
// counters are updated with atomic adds, so sharing one Stats among many
// connections costs a few nanoseconds per message. The zero value is ready
// to use.
type Stats struct {
	Open        atomic.Int64  // connections open now
	MessagesIn  atomic.Uint64 // data messages read
	MessagesOut atomic.Uint64 // data messages written
	BytesIn     atomic.Uint64 // payload bytes of the messages read
	BytesOut    atomic.Uint64 // payload bytes of the messages written

	mu        sync.Mutex
	upgrades  map[int]uint64        // handshakes answered, by HTTP status
	closeSent map[StatusCode]uint64 // close frames written, by code
	closeRecv map[StatusCode]uint64 // close frames read, by code
}

// A Count is one counter of a labelled family: the label's value and the
// count.
type Count[K ~int | ~uint16] struct {
	Key   K
	Count uint64
}

// Upgrades returns how many handshakes the Upgrader answered, by HTTP
// status (101 for those accepted), in order of status.
func (s *Stats) Upgrades() []Count[int] { return snapshot(s, &s.upgrades) }

// ClosesSent returns how many close frames the connections wrote, by code
// (see closeKey).
func (s *Stats) ClosesSent() []Count[StatusCode] { return snapshot(s, &s.closeSent) }

// ClosesReceived returns how many close frames the connections read, by
// code (see closeKey); one without a code counts as 1005, one whose code
// is not valid as 0.
func (s *Stats) ClosesReceived() []Count[StatusCode] { return snapshot(s, &s.closeRecv) }

// closeKey is the code under which a close frame is counted: its own for
// the registered codes, the first of its range for 3000–3999 and
// 4000–4999, and 0 for one that is not valid, so that a peer cannot grow
// the table (nor a metrics system's series) without bound.
func closeKey(code StatusCode) StatusCode {
	switch {
	case code == StatusNoStatusReceived:
		return code
	case !code.ValidOnWire():
		return 0
	case code >= 4000:
		return 4000
	case code >= 3000:
		return 3000
	}
	return code
}

func snapshot[K ~int | ~uint16](s *Stats, m *map[K]uint64) []Count[K] {
	s.mu.Lock()
	counts := make([]Count[K], 0, len(*m))
	for k, n := range *m {
		counts = append(counts, Count[K]{k, n})
	}
	s.mu.Unlock()
	slices.SortFunc(counts, func(a, b Count[K]) int { return int(a.Key) - int(b.Key) })
	return counts
}

// bump counts one k in m, which s.mu guards; s is not nil.
func bump[K comparable](s *Stats, m *map[K]uint64, k K) {
	s.mu.Lock()
	if *m == nil {
		*m = make(map[K]uint64)
	}
	(*m)[k]++
	s.mu.Unlock()
}

// The hooks below are what the connection calls; each does nothing on a
// nil Stats.

func (s *Stats) upgraded(status int) {
	if s != nil {
		bump(s, &s.upgrades, status)
	}
}

func (s *Stats) opened() {
	if s != nil {
		s.Open.Add(1)
	}
}

func (s *Stats) closed() {
	if s != nil {
		s.Open.Add(-1)
	}
}

func (s *Stats) messageIn() {
	if s != nil {
		s.MessagesIn.Add(1)
	}
}

func (s *Stats) bytesIn(n int) {
	if s != nil {
		s.BytesIn.Add(uint64(n))
	}
}

// messageOut counts a message written, and n of its bytes.
func (s *Stats) messageOut(n int) {
	if s != nil {
		s.MessagesOut.Add(1)
		s.BytesOut.Add(uint64(n))
	}
}

func (s *Stats) bytesOut(n int) {
	if s != nil {
		s.BytesOut.Add(uint64(n))
	}
}

func (s *Stats) sentClose(code StatusCode) {
	if s != nil {
		bump(s, &s.closeSent, closeKey(code))
	}
}

func (s *Stats) receivedClose(code StatusCode) {
	if s != nil {
		bump(s, &s.closeRecv, closeKey(code))
	}
}
