//go:build js && wasm

package chat

import (
	"strconv"
	"syscall/js"
)

// count returns "1 thing" or "n things".
func count(n int, thing string) string {
	s := strconv.Itoa(n) + " " + thing
	if n != 1 {
		s += "s"
	}
	return s
}

// clock returns the time of day of a Unix time in milliseconds, as the
// page's clock shows it: "09:41". It asks the browser's Date, which knows
// the time zone's rules: Go's time.Local in the browser is the offset the
// page started with, wrong after a change to or from summer time, and its
// time-of-day code adds to the module.
func clock(ms int64) string {
	t := js.Global().Get("Date").New(ms)
	return pad2(t.Call("getHours").Int()) + ":" + pad2(t.Call("getMinutes").Int())
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

var (
	adjectives = [...]string{"brave", "calm", "clever", "cosy", "curious", "gentle", "happy", "jolly", "kind", "lucky", "merry", "quiet", "sunny", "swift"}
	animals    = [...]string{"badger", "beaver", "fox", "heron", "koala", "lynx", "otter", "owl", "panda", "puffin", "robin", "seal", "wombat", "wren"}
)

// friendlyNick returns a nickname to start with, such as "curious-otter".
func friendlyNick() string {
	math := js.Global().Get("Math")
	pick := func(n int) int { return int(math.Call("random").Float() * float64(n)) }
	return adjectives[pick(len(adjectives))] + "-" + animals[pick(len(animals))]
}
