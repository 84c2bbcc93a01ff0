//go:build js && wasm

package echo

import (
	"context"
	"strconv"
	"syscall/js"

	"duplex/shared/conn"
	"duplex/shared/streamclient"
	"duplex/shared/streamwire"
	"duplex/wasm/dom"
	"duplex/wasm/websocket"
)

// This file is the page's comparison of the two transports: the same
// messages echoed one at a time over a WebSocket and over the HTTP stream,
// each opened for the purpose, with the median round trip and what each
// message costs on the wire.
//
// The bytes are counted, not guessed, wherever a page can count them: the
// stream's bodies, both ways, by its connection (streamclient.Conn.Wire);
// the heads of its POSTs by the server, which a probe asks (server/echo's
// /echo/wire). A WebSocket's frames a page cannot see: they are counted by
// RFC 6455's rules, which leave no freedom.

// warmup is how many round trips each transport makes before the clock
// starts.
const warmup = 5

// startComparison wires up the comparison's form.
func startComparison() {
	run := dom.ByID("compare-run")
	dom.ByID("compare-form").On("submit", func() {
		n, err1 := strconv.Atoi(dom.ByID("compare-size").Input())
		count, err2 := strconv.Atoi(dom.ByID("compare-count").Input())
		if err1 != nil || err2 != nil || n < 1 || n > 65536 || count < 1 || count > 1000 {
			dom.ByID("compare-note").SetText("Messages of 1 to 65536 bytes, 1 to 1000 round trips.")
			return
		}
		run.SetDisabled(true)
		go func() {
			defer run.SetDisabled(false)
			compare(n, count)
		}()
	})
	run.SetDisabled(false)
}

// A measure is what one transport did.
type measure struct {
	rtt       float64 // median, ms
	up, down  float64 // bytes per message on the wire
	requests  float64 // HTTP requests per message
	failed    string  // why it could not be measured
	extension string  // what the WebSocket agreed, if anything
}

// compare measures both transports with count round trips of n bytes and
// shows the figures.
func compare(n, count int) {
	note := dom.ByID("compare-note")
	note.SetText("Measuring…")
	cells := func(name string) [4]dom.Element {
		return [4]dom.Element{dom.ByID("cmp-" + name + "-rtt"), dom.ByID("cmp-" + name + "-up"),
			dom.ByID("cmp-" + name + "-down"), dom.ByID("cmp-" + name + "-requests")}
	}
	var heads [2]int // of a POST: request, response
	for _, t := range []struct {
		name      string
		transport websocket.Transport
	}{{"ws", websocket.TransportWebSocket}, {"stream", websocket.TransportStream}} {
		m := measureOne(t.transport, n, count, &heads)
		c := cells(t.name)
		if m.failed != "" {
			c[0].SetText(m.failed)
			for _, e := range c[1:] {
				e.SetText("")
			}
			continue
		}
		c[0].SetText(dom.Fixed(m.rtt, 2) + " ms")
		c[1].SetText(dom.Fixed(m.up, 0) + " B")
		c[2].SetText(dom.Fixed(m.down, 0) + " B")
		c[3].SetText(dom.Fixed(m.requests, 2))
		if m.extension != "" {
			note.SetText("The WebSocket agreed on " + m.extension + ": its payloads may be smaller than counted.")
		}
	}
	text := strconv.Itoa(count) + " round trips of " + strconv.Itoa(n) + "-byte text messages each way. "
	if heads[0] > 0 {
		text += "Each POST's heads, as the server counts them: " + strconv.Itoa(heads[0]) + " B of request, " +
			strconv.Itoa(heads[1]) + " B of response (204). "
	}
	text += "WebSocket's bytes are counted by RFC 6455's framing; the stream's bodies by its connection."
	note.SetText(text)
}

// measureOne opens a connection over transport and echoes count messages
// of n bytes on it. For the stream, it fills heads with what a POST's heads
// cost.
func measureOne(transport websocket.Transport, n, count int, heads *[2]int) measure {
	ctx := context.Background()
	c, _, err := websocket.Connect(ctx, path, &websocket.Options{Transport: transport})
	if err != nil {
		return measure{failed: "cannot connect: " + err.Error()}
	}
	defer c.Close(websocket.StatusNormalClosure, "measured")
	msg := make([]byte, n)
	for i := range msg {
		msg[i] = 'x'
	}
	for range warmup {
		if _, err := roundTrip(c, msg); err != nil {
			return measure{failed: err.Error()}
		}
	}
	sc, isStream := c.(*streamclient.Conn)
	var before streamclient.Wire
	if isStream {
		before = sc.Wire()
	}
	rtts := make([]float64, count)
	for i := range rtts {
		rtt, err := roundTrip(c, msg)
		if err != nil {
			return measure{failed: err.Error()}
		}
		rtts[i] = rtt
	}
	m := measure{rtt: median(rtts), extension: c.Extensions()}
	if !isStream {
		m.up = float64(wsFrame(n, true))
		m.down = float64(wsFrame(n, false))
		return m
	}
	w := sc.Wire()
	posts, bodyUp, bodyDown := w.Posts-before.Posts, w.PostBytes-before.PostBytes, w.StreamBytes-before.StreamBytes
	if posts > 0 {
		heads[0], heads[1] = probeHeads(len(sc.Limits().Session), int(bodyUp)/posts)
	}
	frame := streamwire.FrameSize(uint64(count), n)
	chunk := len(strconv.FormatInt(int64(frame), 16)) + 4 // each echo is flushed as a chunk of its own: size, CRLF, data, CRLF
	m.up = (float64(bodyUp) + float64(posts*(heads[0]+heads[1]))) / float64(count)
	m.down = float64(bodyDown)/float64(count) + float64(chunk)
	m.requests = float64(posts) / float64(count)
	return m
}

// median returns the median of v, which it sorts: by insertion, for the
// few values here, rather than with package slices or sort, which would
// add 13 KB to the module.
func median(v []float64) float64 {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// roundTrip sends msg on c and waits for its echo; it returns the round
// trip in milliseconds.
func roundTrip(c conn.Conn, msg []byte) (float64, error) {
	ctx := context.Background()
	start := dom.Now()
	if err := c.WriteMessage(ctx, websocket.Text, msg); err != nil {
		return 0, err
	}
	if _, _, err := c.ReadMessage(ctx, nil); err != nil {
		return 0, err
	}
	return dom.Now() - start, nil
}

// wsFrame returns the size of a WebSocket frame with n bytes of payload:
// 2 bytes of header, 2 or 8 more for a length over 125 or 65535, and a
// 4-byte mask on frames from the browser.
func wsFrame(n int, fromBrowser bool) int {
	size := 2 + n
	switch {
	case n > 65535:
		size += 8
	case n > 125:
		size += 2
	}
	if fromBrowser {
		size += 4
	}
	return size
}

// probeJS makes a POST shaped as the stream's — the same fetch options,
// headers of the same lengths, a body of the same size — to the server's
// probe, which answers with what such a POST's heads cost.
var probeJS = js.Global().Get("Function").New("url", "session", "size", "done", `
	fetch(url, {
		method: "POST", cache: "no-store", credentials: "same-origin",
		headers: {"`+streamwire.HeaderSession+`": session, "Content-Type": "`+streamwire.ContentType+`"},
		body: new Uint8Array(size),
	}).then(r => r.json()).then(j => done(j.request, j.response), () => done(0, 0));
`)

// probeHeads returns the heads of a POST of the stream, with a session id
// of idLen characters and a body of size bytes, as the server counts them.
func probeHeads(idLen, size int) (request, response int) {
	type result struct{ request, response int }
	ch := make(chan result, 1)
	var done js.Func
	done = js.FuncOf(func(_ js.Value, args []js.Value) any {
		done.Release()
		ch <- result{args[0].Int(), args[1].Int()}
		return nil
	})
	url := "/echo/wire?as=" + path + "%3F" + streamwire.QueryOp + "=" + streamwire.OpUp
	id := make([]byte, idLen)
	for i := range id {
		id[i] = 'x'
	}
	probeJS.Invoke(url, string(id), size, done)
	r := <-ch
	return r.request, r.response
}
