package echo

import (
	"net/http"
	"strconv"
	"strings"
)

// WirePath is the probe of the echo page's comparison: a POST there,
// made as the HTTP stream makes its POSTs, is answered with what such a
// POST costs on the wire beyond its body, which a page cannot see for
// itself — the head of the request as the server received it, and the
// head of the 204 No Content that answers it.
const WirePath = "/echo/wire"

// serveWire answers a probe with {"request": bytes, "response": bytes}:
// the request's head as it came (request line, headers, blank line),
// counted for the path the probe names in its query (?as=/ws/echo?stream=up),
// and the head of the stream's answer to a POST.
func serveWire(w http.ResponseWriter, r *http.Request) {
	as := r.URL.Query().Get("as")
	if as == "" {
		as = r.URL.RequestURI()
	}
	request := len(r.Method) + 1 + len(as) + 1 + len(r.Proto) + 2
	request += len("Host: ") + len(r.Host) + 2
	for name, values := range r.Header {
		for _, v := range values {
			request += len(name) + 2 + len(v) + 2
		}
	}
	request += 2
	// What net/http writes for the stream's 204: the status line, the
	// headers set by the site and the stream, its Date, a blank line.
	response := len("HTTP/1.1 204 No Content\r\n") + len("Cache-Control: no-store\r\n") +
		len("Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n") + 2
	w.Header().Set("Content-Type", "application/json")
	var b strings.Builder
	b.WriteString(`{"request":`)
	b.WriteString(strconv.Itoa(request))
	b.WriteString(`,"response":`)
	b.WriteString(strconv.Itoa(response))
	b.WriteString("}\n")
	w.Write([]byte(b.String()))
}
