//go:build js && wasm

package chat

import (
	"strconv"
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

// saved is what the page keeps. Its owner is the page, under its mu. It is
// stored as JSON, which the browser writes and parses: encoding/json would
// add more than a megabyte to the page's wasm module.
type saved struct {
	Nick  string
	Rooms []savedRoom // in the order they were joined
}

type savedRoom struct {
	Name    string
	Pending []chatclient.Pending // the outbox, less what the server has stored
}

// loadSaved reads what a previous load of the page kept, if anything.
func loadSaved() saved {
	var s saved
	storage(func(st js.Value) {
		text := st.Call("getItem", savedKey)
		if text.Type() != js.TypeString {
			return
		}
		v := js.Global().Get("JSON").Call("parse", text) // throws if it is not JSON: nothing kept
		s.Nick = str(v.Get("nick"))
		rooms := v.Get("rooms")
		for i := range length(rooms) {
			r := rooms.Index(i)
			room := savedRoom{Name: str(r.Get("name"))}
			pending := r.Get("pending")
			for j := range length(pending) {
				m := pending.Index(j)
				id, err := strconv.ParseUint(str(m.Get("id")), 10, 64) // a string: JavaScript's numbers hold 53 bits
				if err == nil {
					room.Pending = append(room.Pending, chatclient.Pending{ID: id, Text: str(m.Get("text"))})
				}
			}
			s.Rooms = append(s.Rooms, room)
		}
	})
	return s
}

// store writes s for the next load of the page.
func (s *saved) store() {
	rooms := make([]any, len(s.Rooms))
	for i, r := range s.Rooms {
		pending := make([]any, len(r.Pending))
		for j, m := range r.Pending {
			pending[j] = map[string]any{"id": strconv.FormatUint(m.ID, 10), "text": m.Text}
		}
		rooms[i] = map[string]any{"name": r.Name, "pending": pending}
	}
	v := js.ValueOf(map[string]any{"nick": s.Nick, "rooms": rooms})
	storage(func(st js.Value) { st.Call("setItem", savedKey, js.Global().Get("JSON").Call("stringify", v)) })
}

// str returns v if it is a string, and "" otherwise.
func str(v js.Value) string {
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}

// length returns the length of v if it is an array, and 0 otherwise.
func length(v js.Value) int {
	if !js.Global().Get("Array").Call("isArray", v).Bool() {
		return 0
	}
	return v.Length()
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
			s.Rooms[i].Pending = append(s.Rooms[i].Pending, chatclient.Pending{ID: m.ID, Text: m.Text})
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

// storage calls f with the tab's sessionStorage, unless the browser
// refuses it (storage turned off, say): the page then keeps nothing.
func storage(f func(js.Value)) {
	defer func() { recover() }() // a js.Error: nothing kept
	st := js.Global().Get("sessionStorage")
	if st.Type() == js.TypeObject {
		f(st)
	}
}
