//go:build js && wasm

package lab

import (
	"strings"

	"duplex/shared/lab"
	"duplex/wasm/dom"
)

// handshakePanel shows the lab connection's opening handshake.
type handshakePanel struct {
	request, response, rebuilt   dom.Element
	key, keyGUID, digest, accept dom.Element
}

func newHandshakePanel() *handshakePanel {
	return &handshakePanel{
		request:  dom.ByID("lab-request"),
		response: dom.ByID("lab-response"),
		rebuilt:  dom.ByID("lab-rebuilt"),
		key:      dom.ByID("lab-key"),
		keyGUID:  dom.ByID("lab-key-guid"),
		digest:   dom.ByID("lab-sha1"),
		accept:   dom.ByID("lab-accept"),
	}
}

func (p *handshakePanel) show(h *lab.Handshake) {
	showRaw(p.request, h.Request)
	showRaw(p.response, h.Response)
	p.rebuilt.SetHidden(!h.Rebuilt)
	p.key.SetText(h.Key)
	p.keyGUID.SetText(h.KeyGUID)
	p.digest.SetText(spacedHex(h.SHA1))
	p.accept.SetText(h.Accept)
}

// showRaw shows an HTTP head in el exactly as its bytes, so the element's
// text is the head itself; each CRLF is in a span of its own, which the
// style sheet marks subtly, since HTTP's line ends are part of the
// protocol.
func showRaw(el dom.Element, head []byte) {
	el.Clear()
	for rest := string(head); rest != ""; {
		// Lines end with CRLF; looking for the LF alone keeps the module
		// free of substring search.
		end := strings.IndexByte(rest, '\n')
		if end < 0 || end == 0 || rest[end-1] != '\r' {
			el.Append("span", "", rest)
			return
		}
		if line := rest[:end-1]; line != "" {
			el.Append("span", "", line)
		}
		el.Append("span", "crlf", "\r\n")
		rest = rest[end+1:]
	}
}
