//go:build js && wasm

package lab

import (
	"strconv"
	"syscall/js"

	"duplex/shared/lab"
	"duplex/shared/wire"
	"duplex/wasm/dom"
)

// maxRows is how many rows the frames log keeps: the oldest go, so that a
// flood of frames cannot slow the page down.
const maxRows = 500

// frameLog is the list of frames, one row each, with the server's notes
// between them. A click on a row shows its frame in the detail panel.
type frameLog struct {
	list   dom.Element
	detail *detailPanel
	rows   []logRow
	frames map[int]*lab.Frame // by row key
	next   int                // the next row's key
	conns  int                // lab connections so far
	chosen js.Value           // the selected row, if any
	atEnd  bool               // the list was scrolled to its end before the last row came

	// deflate says that the current lab connection agreed on
	// permessage-deflate, so RSV1 marks a compressed message.
	deflate bool

	// onBrowserClose, if set, is told of each close frame the browser
	// sent: the page's close event does not always say its code.
	onBrowserClose func(code wire.StatusCode, reason string)
}

type logRow struct {
	el  dom.Element
	key int // -1 for a row that is not a frame
}

func newFrameLog(detail *detailPanel) *frameLog {
	l := &frameLog{list: dom.ByID("lab-frames"), detail: detail, frames: make(map[int]*lab.Frame)}
	l.listen("click", func(js.Value) bool { return true })
	l.listen("keydown", func(ev js.Value) bool { return ev.Get("key").String() == "Enter" })
	return l
}

// listen selects the row an event happened in, if accept says so.
func (l *frameLog) listen(event string, accept func(ev js.Value) bool) {
	l.list.Value().Call("addEventListener", event, js.FuncOf(func(_ js.Value, args []js.Value) any {
		if row := args[0].Get("target").Call("closest", "li.frame"); !row.IsNull() && accept(args[0]) {
			l.selectRow(row)
		}
		return nil
	}))
}

// add appends a row for a frame report.
func (l *frameLog) add(f *lab.Frame) {
	h, _, err := wire.ParseHeader(f.Header)
	if err == nil && !f.Sent && h.Opcode == wire.OpClose && l.onBrowserClose != nil {
		if code, reason, err := wire.ParseClose(unmasked(h, f.Payload)); err == nil {
			l.onBrowserClose(code, reason)
		}
	}
	dir := choose(f.Sent, "sent", "received")
	row := l.appendRow("frame "+dir, l.next)
	l.frames[l.next] = f
	l.next++
	row.SetAttr("tabindex", "0")
	row.SetData("dir", dir)
	row.SetData("seq", strconv.FormatUint(f.Seq, 10))
	row.Append("span", "arrow", choose(f.Sent, "←", "→"))
	row.Append("span", "seq", "#"+strconv.FormatUint(f.Seq, 10))
	row.Append("span", "time", millis(f.Micros))
	if err != nil {
		row.Append("span", "bad", "unreadable header "+spacedHex(f.Header)+": "+err.Error())
		l.follow()
		return
	}
	row.SetData("fin", choose(h.Fin, "1", "0"))
	row.SetData("opcode", strconv.Itoa(int(h.Opcode)))
	row.SetData("mask", choose(h.Masked, "1", "0"))
	row.SetData("len", strconv.FormatInt(h.Length, 10))
	row.Append("span", "op", h.Opcode.String())
	row.Append("span", choose(h.Fin, "flag", "flag off"), "FIN")
	row.Append("span", choose(h.Masked, "flag", "flag off"), "MASK")
	// RSV1 on a message's first frame is permessage-deflate's mark when
	// the handshake agreed on it; any other reserved bit breaks the rules.
	deflated := l.deflate && h.Rsv == wire.Rsv1 && (h.Opcode == wire.OpText || h.Opcode == wire.OpBinary)
	switch {
	case deflated:
		row.SetData("rsv1", "deflate")
		row.Append("span", "flag", "RSV1")
	default:
		row.Append("span", "flag bad", choose(h.Rsv != 0, "RSV", ""))
	}
	row.Append("span", "len", strconv.FormatInt(h.Length, 10)+" B")
	if deflated {
		row.Append("span", "preview", "compressed: DEFLATE data")
	} else {
		row.Append("span", "preview", preview(h.Opcode, unmasked(h, f.Payload)))
	}
	l.follow()
}

// note appends one of the server's notes.
func (l *frameLog) note(text string) {
	l.appendRow("note", -1).SetText(text)
	l.follow()
}

// newConnection marks where a new lab connection's frames begin.
func (l *frameLog) newConnection() {
	l.conns++
	l.appendRow("conn", -1).SetText("Lab connection " + strconv.Itoa(l.conns) + ": handshake done, frames numbered from 1")
	l.follow()
}

// appendRow adds a row, dropping the oldest beyond maxRows, and returns
// it. It notes whether the list was scrolled to its end, for follow.
func (l *frameLog) appendRow(class string, key int) dom.Element {
	v := l.list.Value()
	l.atEnd = v.Get("scrollHeight").Int()-v.Get("scrollTop").Int()-v.Get("clientHeight").Int() < 8
	el := l.list.Append("li", class, "")
	if key >= 0 {
		el.SetData("key", strconv.Itoa(key))
	}
	l.rows = append(l.rows, logRow{el, key})
	if len(l.rows) > maxRows {
		old := l.rows[0]
		old.el.Remove()
		delete(l.frames, old.key)
		l.rows[0] = logRow{}
		l.rows = l.rows[1:]
	}
	return el
}

// follow scrolls to the newest row, unless the reader has scrolled up to
// look at an older one.
func (l *frameLog) follow() {
	if l.atEnd {
		l.list.ScrollToEnd()
	}
}

// selectRow marks a frame's row as selected and shows the frame.
func (l *frameLog) selectRow(row js.Value) {
	key, _ := strconv.Atoi(row.Get("dataset").Get("key").String())
	f := l.frames[key]
	if f == nil {
		return
	}
	if l.chosen.Truthy() {
		l.chosen.Call("setAttribute", "aria-selected", "false")
	}
	l.chosen = row
	row.Call("setAttribute", "aria-selected", "true")
	l.detail.show(f)
}
