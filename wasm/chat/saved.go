//go:build js && wasm

package chat

import (
	"encoding/json"
	"syscall/js"

	"duplex/shared/chatclient"
)

// The page keeps, in the tab's sessionStorage, the nickname, the rooms it
// is in and the messages waiting in each room's outbox, so that a reload
// joins those rooms again and passes on what the server may not have had
// (chatclient's Requeue: the IDs stay, so the server stores each once).
// sessionStorage is the tab's own: another tab, with its own outbox, does
// not share it.

// savedKey is the sessionStorage key.
const savedKey = "duplex-chat"

// saved is what the page keeps. Its owner is the page, under its mu.
type saved struct {
	Nick  string      `json:"nick"`
	Rooms []savedRoom `json:"rooms"` // in the order they were joined
}

type savedRoom struct {
	Name    string     `json:"name"`
	Pending []savedMsg `json:"pending"` // the outbox, less what the server has stored
}

type savedMsg struct {
	ID   uint64 `json:"id,string"` // a string, as JavaScript cannot hold 64 bits in a number
	Text string `json:"text"`
}

// loadSaved reads what a previous load of the page kept, if anything.
func loadSaved() saved {
	var s saved
	storage(func(st js.Value) {
		if v := st.Call("getItem", savedKey); v.Type() == js.TypeString {
			json.Unmarshal([]byte(v.String()), &s)
		}
	})
	return s
}

// store writes s for the next load of the page.
func (s *saved) store() {
	data, err := json.Marshal(s)
	if err != nil {
		return
	}
	storage(func(st js.Value) { st.Call("setItem", savedKey, string(data)) })
}

// joined records that the page is in room as nick.
func (s *saved) joined(nick, room string) {
	s.Nick = nick
	if s.find(room) < 0 {
		s.Rooms = append(s.Rooms, savedRoom{Name: room})
	}
	s.store()
}

// outbox records what waits in room's outbox.
func (s *saved) outbox(room string, pending []chatclient.Pending) {
	i := s.find(room)
	if i < 0 {
		return
	}
	s.Rooms[i].Pending = s.Rooms[i].Pending[:0]
	for _, m := range pending {
		if !m.Stored {
			s.Rooms[i].Pending = append(s.Rooms[i].Pending, savedMsg{ID: m.ID, Text: m.Text})
		}
	}
	s.store()
}

// left forgets room, and what waited in its outbox.
func (s *saved) left(room string) {
	if i := s.find(room); i >= 0 {
		s.Rooms = append(s.Rooms[:i], s.Rooms[i+1:]...)
		s.store()
	}
}

func (s *saved) find(room string) int {
	for i, r := range s.Rooms {
		if r.Name == room {
			return i
		}
	}
	return -1
}

// pending returns room's saved outbox, for chatclient's Requeue.
func (r savedRoom) pending() []chatclient.Pending {
	out := make([]chatclient.Pending, len(r.Pending))
	for i, m := range r.Pending {
		out[i] = chatclient.Pending{ID: m.ID, Text: m.Text}
	}
	return out
}

// storage calls f with the tab's sessionStorage, unless the browser
// refuses it (storage turned off, say): the page then keeps nothing.
func storage(f func(js.Value)) {
	defer func() { recover() }() // a js.Error: nothing kept
	st := js.Global().Get("sessionStorage")
	if st.Type() == js.TypeObject {
		f(st)
	}
}
