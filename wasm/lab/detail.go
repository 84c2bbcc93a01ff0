//go:build js && wasm

package lab

import (
	"strconv"

	"duplex/shared/lab"
	"duplex/shared/wire"
	"duplex/wasm/dom"
)

// detailPanel shows one frame bit by bit, and its payload as on the wire
// and unmasked.
type detailPanel struct {
	summary, body       dom.Element // body is hidden until a frame is shown
	bits, length, key   dom.Element
	wireHex, wireText   dom.Element
	plainHex, plainText dom.Element
}

func newDetailPanel() *detailPanel {
	return &detailPanel{
		summary:   dom.ByID("lab-detail-summary"),
		body:      dom.ByID("lab-detail-body"),
		bits:      dom.ByID("lab-detail-bits"),
		length:    dom.ByID("lab-detail-length"),
		key:       dom.ByID("lab-detail-key"),
		wireHex:   dom.ByID("lab-detail-wire-hex"),
		wireText:  dom.ByID("lab-detail-wire-text"),
		plainHex:  dom.ByID("lab-detail-plain-hex"),
		plainText: dom.ByID("lab-detail-plain-text"),
	}
}

func (d *detailPanel) show(f *lab.Frame) {
	h, _, err := wire.ParseHeader(f.Header)
	if err != nil {
		d.summary.SetText("Frame #" + strconv.FormatUint(f.Seq, 10) + " has a header the codec cannot read: " + err.Error())
		return
	}
	summary := "#" + strconv.FormatUint(f.Seq, 10) + choose(f.Sent, ", server to browser", ", browser to server") +
		", " + millis(f.Micros) + " after the handshake: " + h.Opcode.String() + " frame"
	if int64(len(f.Payload)) < h.Length {
		summary += "; the report carries the first " + strconv.Itoa(len(f.Payload)) + " bytes of its payload"
	}
	d.summary.SetText(summary + ".")
	d.body.SetHidden(false)
	drawBits(d.bits, frameFields(f.Header, h, f.Payload))

	d.length.SetText(strconv.FormatInt(h.Length, 10) + " bytes, " + lengthEncoding(f.Header) + " encoding")
	if h.Masked {
		d.key.SetText(spacedHex(h.Mask[:]))
	} else {
		d.key.SetText("none: only frames from the browser are masked")
	}
	plain := unmasked(h, f.Payload)
	d.wireHex.SetText(spacedHex(f.Payload))
	d.wireText.SetText(readable(f.Payload))
	d.plainHex.SetText(spacedHex(plain))
	d.plainText.SetText(readable(plain))
}

// drawBits draws fields into el as RFC 6455 §5.2 does: 32 bits a row, a
// column per bit, each field spanning its bits and labelled with its name
// and what its bits say. The style sheet lays out the grid.
func drawBits(el dom.Element, fields []field) {
	el.Clear()
	grid := el.Append("div", "lab-grid", "")
	for i := range rowBits {
		grid.Append("span", "lab-col", strconv.Itoa(i%10))
	}
	for _, s := range segments(fields) {
		cell := grid.Append("div", choose(len(s.Bits) == 1, "lab-field lab-narrow", "lab-field"), "")
		cell.SetAttr("style", "grid-column: span "+strconv.Itoa(len(s.Bits)))
		cell.SetData("field", s.Field.Key)
		cell.SetAttr("title", s.Field.Name+": "+s.Field.Value)
		bits := cell.Append("span", "lab-bitvals", "")
		for _, b := range []byte(s.Bits) {
			bits.Append("span", choose(b == '1', "one", ""), string(rune(b)))
		}
		if s.Cont {
			cell.Append("span", "lab-fname", "… "+s.Field.Name)
			continue
		}
		label := cell.Append("span", "lab-fname", s.Field.Name)
		if s.Field.Value != "" {
			label.Append("span", "lab-fvalue", s.Field.Value)
		}
	}
}
