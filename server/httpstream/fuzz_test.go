package httpstream

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"duplex/server/ws"
	"duplex/shared/streamwire"
)

// Fuzz targets for the package; run one with, for example,
//
//	go test ./server/httpstream -run '^$' -fuzz '^FuzzUp$' -fuzztime 1m

// FuzzParseID checks that parseID never panics, accepts only what newID
// could have made, and accepts what it makes.
func FuzzParseID(f *testing.F) {
	f.Add(newID("inst"))
	f.Add("a.AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("a.b")
	f.Add(".")
	f.Add(strings.Repeat("x", 40) + "." + strings.Repeat("A", 22))
	f.Fuzz(func(t *testing.T, id string) {
		instance, ok := parseID(id)
		if !ok {
			if instance != "" {
				t.Fatalf("parseID(%q) refused, with instance %q", id, instance)
			}
			return
		}
		secret := strings.TrimPrefix(id, instance+".")
		if !ValidInstance(instance) || len(secret) != secretLen || strings.ContainsAny(secret, ".+/=") {
			t.Fatalf("parseID accepted %q: instance %q, secret %q", id, instance, secret)
		}
		if again, ok := parseID(newID(instance)); !ok || again != instance {
			t.Fatalf("newID(%q) does not parse", instance)
		}
	})
}

// FuzzUp sends arbitrary POST bodies to a session, through the server's
// handler, and checks that each gets an answer the package documents, and
// that another session, which gets only good requests, is undisturbed.
func FuzzUp(f *testing.F) {
	for _, frames := range [][]streamwire.Frame{
		{text(1, "hello")},
		{{Kind: streamwire.KindAck, Seq: 2}, text(1, "a"), {Kind: streamwire.KindBinary, Seq: 2, Payload: []byte{0}}},
		{text(1, "a"), text(1, "a again"), text(2, "b")},
		{text(2, "gap")},
		{text(1, "bye"), {Kind: streamwire.KindClose, Seq: 2, Payload: []byte{0x03, 0xe8}}},
		{{Kind: streamwire.KindClose, Seq: 1, Payload: []byte{0x03}}},
		{{Kind: streamwire.KindAbort}},
		{{Kind: streamwire.KindAck, Seq: 4}},
		{text(1, strings.Repeat("x", 200))},
	} {
		var body []byte
		for _, fr := range frames {
			body = streamwire.AppendFrame(body, fr)
		}
		f.Add(body)
	}
	f.Add([]byte{1, 1, 5, 'a'})
	f.Add([]byte{1, 0x81, 0})

	s := NewServer(Config{Upgrader: &ws.Upgrader{ReadLimit: 128}, MaxPost: 1024, InboxLimit: 256}, func(c *Conn) {
		ctx := context.Background()
		for range 3 {
			c.WriteMessage(ctx, streamwire.KindText.MessageType(), []byte("down"))
		}
		for {
			if _, _, err := c.ReadMessage(ctx, nil); err != nil {
				return
			}
		}
	})
	open := func() *Conn {
		c, _, _ := s.add(httptest.NewRequest("POST", "/?stream=open", nil), "")
		go s.serve(c)
		return c
	}
	post := func(c *Conn, body []byte) int {
		r := httptest.NewRequest("POST", "/?stream=up", bytes.NewReader(body))
		r.Header.Set(streamwire.HeaderSession, c.id)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusNoContent && !strings.HasSuffix(w.Body.String(), "\n") {
			f.Fatalf("status %d without a one-line reason: %q", w.Code, w.Body.String())
		}
		return w.Code
	}
	bystander := open()
	var seq uint64

	f.Fuzz(func(t *testing.T, body []byte) {
		c := open()
		defer c.CloseNow()
		switch status := post(c, body); status {
		case 204, 400, 409, 410, 413:
		default:
			t.Fatalf("status %d for % x", status, body)
		}
		seq++
		if status := post(bystander, streamwire.AppendFrame(nil, text(seq, "fine"))); status != 204 || bystander.Err() != nil {
			t.Fatalf("the bystander got %d, and its session's Err is %v", status, bystander.Err())
		}
	})
}
