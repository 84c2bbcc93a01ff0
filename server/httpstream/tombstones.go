package httpstream

// maxTombstones bounds how many ended sessions a Server remembers, to
// answer a late request for one with 410 Gone and the reason it ended,
// rather than 404.
const maxTombstones = 4096

// tombstones remembers why recently ended sessions ended: the last max of
// them, the oldest forgotten first. The Server's mu guards it.
type tombstones struct {
	reasons map[string]string // by session id
	order   []string          // a ring of the ids, oldest at next once full
	next    int
}

func newTombstones(max int) tombstones {
	return tombstones{reasons: map[string]string{}, order: make([]string, 0, max)}
}

func (t *tombstones) add(id, reason string) {
	if len(t.order) < cap(t.order) {
		t.order = append(t.order, id)
	} else {
		delete(t.reasons, t.order[t.next])
		t.order[t.next] = id
		t.next = (t.next + 1) % len(t.order)
	}
	t.reasons[id] = reason
}

func (t *tombstones) get(id string) (string, bool) {
	reason, ok := t.reasons[id]
	return reason, ok
}
