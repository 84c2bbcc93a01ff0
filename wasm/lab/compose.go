//go:build js && wasm

package lab

import (
	"strconv"
	"syscall/js"

	"duplex/shared/wire"
	"duplex/wasm/dom"
)

// composeHexBytes is how many bytes of a composed frame the box shows in
// hex; a payload of megabytes would make a page of digits.
const composeHexBytes = 256

// composer is the compose box: it builds, on the page, the frame a browser
// would send for the opcode, flags, key and payload chosen, with
// wire.AppendHeader and wire.Mask, and shows its bytes and bits.
type composer struct {
	form, opcode, fin, mask, key, random, payload dom.Element
	bytes, verdict, bits                          dom.Element
}

// startComposer wires up the compose box and enables it.
func startComposer() {
	c := &composer{
		form:    dom.ByID("lab-compose"),
		opcode:  dom.ByID("lab-compose-opcode"),
		fin:     dom.ByID("lab-compose-fin"),
		mask:    dom.ByID("lab-compose-mask"),
		key:     dom.ByID("lab-compose-key"),
		random:  dom.ByID("lab-compose-random"),
		payload: dom.ByID("lab-compose-payload"),
		bytes:   dom.ByID("lab-compose-bytes"),
		verdict: dom.ByID("lab-compose-verdict"),
		bits:    dom.ByID("lab-compose-bits"),
	}
	c.form.On("input", c.update)
	c.form.On("change", c.update)
	c.form.On("submit", func() {}) // Enter in a field must not reload the page
	c.random.On("click", c.randomKey)
	for _, e := range []dom.Element{c.opcode, c.fin, c.mask, c.key, c.random, c.payload} {
		e.SetDisabled(false)
	}
	c.update()
}

// update rebuilds the frame from the box's fields.
func (c *composer) update() {
	masked := c.mask.Checked()
	c.key.SetDisabled(!masked)
	c.random.SetDisabled(!masked)
	op, _ := strconv.Atoi(c.opcode.Input())
	frame, h, n, err := composeFrame(wire.Opcode(op), c.fin.Checked(), masked, c.key.Input(), []byte(c.payload.Input()))
	if err != nil {
		c.bytes.SetText("")
		c.bits.Clear()
		c.setVerdict("bad", err.Error())
		return
	}
	shown := spacedHex(frame[:min(len(frame), n+composeHexBytes)])
	if more := len(frame) - n - composeHexBytes; more > 0 {
		shown += " … and " + strconv.Itoa(more) + " more bytes"
	}
	c.bytes.SetText(shown)
	drawBits(c.bits, frameFields(frame[:n], h, frame[n:]))
	if we, ok := h.Check(0, true).(*wire.Error); ok {
		c.setVerdict("bad", "A server reading this from a browser would fail the connection with "+strconv.Itoa(int(we.Code))+": "+we.Msg+".")
		return
	}
	c.setVerdict("ok", "A valid frame from a browser: "+strconv.Itoa(n)+" bytes of header, "+strconv.Itoa(len(frame)-n)+" of payload.")
}

func (c *composer) setVerdict(state, text string) {
	c.verdict.SetData("state", state)
	c.verdict.SetText(text)
}

// randomKey draws a masking key as a browser does, from the browser's
// cryptographic generator (crypto/rand would make the module larger).
func (c *composer) randomKey() {
	arr := js.Global().Get("Uint8Array").New(4)
	js.Global().Get("crypto").Call("getRandomValues", arr)
	var key [4]byte
	js.CopyBytesToGo(key[:], arr)
	c.key.SetInput(hexString(key[:]))
	c.update()
}
