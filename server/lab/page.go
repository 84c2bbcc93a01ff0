package lab

import (
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"

	"duplex/shared/handshake"
	"duplex/shared/lab"
	"duplex/shared/wire"
)

// This file holds what the protocol lab's page (page.templ) computes on the
// server: the draft-76 handshake of its History panel, and the compose
// box's first frame, shown before the wasm app takes the box over.

// draft76Keys are the inputs of a draft-76 handshake: the values of
// Sec-WebSocket-Key1 and Sec-WebSocket-Key2, and key3, the 8 bytes after
// the request's headers.
type draft76Keys struct {
	Key1, Key2, Key3 string
}

// draft76Example is the example of draft-hixie-thewebsocketprotocol-76
// §1.3, whose response the draft gives as 8jKS'y:G*Co,Wxa-.
var draft76Example = draft76Keys{
	Key1: "4 @1  46546xW%0l 1 5",
	Key2: "12998 5 Y3 1  .P00",
	Key3: "^n:ds[4U",
}

// maxDraft76Key bounds each key read from the query, so the page never
// echoes a huge one back.
const maxDraft76Key = 100

// A draft76Run is the History panel's computation: the keys, the steps of
// handshake.Draft76, and why it failed, if it did.
type draft76Run struct {
	Keys    draft76Keys
	Example bool // the keys are the draft's example
	Steps   handshake.Draft76Steps
	Err     string
}

// runDraft76 computes the draft-76 response to the keys in the query
// (key1, key2, key3), or to the draft's example if the query names none.
func runDraft76(q url.Values) draft76Run {
	run := draft76Run{Keys: draft76Example, Example: true}
	if q.Has("key1") || q.Has("key2") || q.Has("key3") {
		run.Keys = draft76Keys{q.Get("key1"), q.Get("key2"), q.Get("key3")}
		run.Example = run.Keys == draft76Example
	}
	k := run.Keys
	switch {
	case len(k.Key1) > maxDraft76Key || len(k.Key2) > maxDraft76Key:
		run.Err = "the keys here are at most " + strconv.Itoa(maxDraft76Key) + " bytes long"
		return run
	case len(k.Key3) != 8:
		run.Err = "key3 is exactly 8 bytes, not " + strconv.Itoa(len(k.Key3))
		return run
	}
	steps, err := handshake.Draft76(k.Key1, k.Key2, [8]byte([]byte(k.Key3)))
	run.Steps = steps
	if err != nil {
		run.Err = err.Error()
	}
	return run
}

// composeExample is the frame the compose box starts with: "Hi" as a
// final text frame, masked with the key of RFC 6455's examples (§5.7).
func composeExample() string {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	payload := []byte("Hi")
	frame := wire.AppendHeader(nil, wire.Header{Fin: true, Opcode: wire.OpText, Masked: true, Mask: key, Length: int64(len(payload))})
	wire.Mask(key, 0, payload)
	return spacedHex(append(frame, payload...))
}

// spacedHex writes b in hex with a space between bytes: "81 82 37".
func spacedHex(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(' ')
		}
		s.WriteString(hex.EncodeToString([]byte{c}))
	}
	return s.String()
}

// printable shows b as text, each byte that is not printable ASCII as a
// middle dot: the draft-76 response is 16 arbitrary bytes.
func printable(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			s.WriteByte(c)
		} else {
			s.WriteString("·")
		}
	}
	return s.String()
}

// keyRuns cuts a draft-76 key into runs of spaces and runs of other
// characters, so the page can make the spaces, which count, visible.
func keyRuns(key string) []keyRun {
	var runs []keyRun
	for len(key) > 0 {
		space := key[0] == ' '
		n := 1
		for n < len(key) && (key[n] == ' ') == space {
			n++
		}
		runs = append(runs, keyRun{Text: key[:n], Space: space})
		key = key[n:]
	}
	return runs
}

// A keyRun is a part of a draft-76 key: spaces only, or no spaces.
type keyRun struct {
	Text  string
	Space bool
}

// digitsOnly returns the decimal digits of key, the ones draft-76 reads.
func digitsOnly(key string) string {
	var s strings.Builder
	for _, c := range []byte(key) {
		if c >= '0' && c <= '9' {
			s.WriteByte(c)
		}
	}
	return s.String()
}

// A ruleOption is one choice of the lab's "break the protocol" select.
type ruleOption struct {
	Value, Label string
}

// ruleOptions lists the rules the lab's server can break, in its order.
func ruleOptions() []ruleOption {
	opts := make([]ruleOption, len(lab.Rules))
	for i, r := range lab.Rules {
		opts[i] = ruleOption{Value: strconv.Itoa(int(r)), Label: r.String()}
	}
	return opts
}
