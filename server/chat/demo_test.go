package chat_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"duplex/server/chat"
	"duplex/server/web"
	"duplex/server/ws"
	"duplex/shared/message"
)

// With -nats, the chat demo keeps's rooms as streams on the NATS server, and
// the site's Close closes its connection.
func TestChatThroughNATS(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS server did not start")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conns := &ws.Group{}
	site, err := web.NewSite(web.Config{Conns: conns, Demos: []web.Demo{chat.DemoWith(&chat.DemoOptions{NATS: ns.ClientURL()})}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()

	conn, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+chat.Path, &ws.DialOptions{Subprotocols: []string{message.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	for _, m := range []message.Message{&message.Join{Room: "lobby", Nick: "ann"}, &message.Send{Room: "lobby", Text: "hello"}} {
		if err := conn.WriteMessage(ctx, ws.Binary, message.Append(nil, m)); err != nil {
			t.Fatal(err)
		}
	}
	for {
		_, b, err := conn.ReadMessage(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := message.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := m.(*message.Chat); ok {
			if c.Seq != 1 || c.Text != "hello" {
				t.Errorf("got %+v, want hello as message 1", c)
			}
			break
		}
	}

	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := js.Stream(ctx, "CHAT_lobby"); err != nil || st.CachedInfo().State.Msgs != 1 {
		t.Errorf("the room's stream on the NATS server: %v", err)
	}

	go func() { // answer the server's close
		for {
			if _, _, err := conn.ReadMessage(ctx, nil); err != nil {
				return
			}
		}
	}()
	if err := conns.Close(ctx, ws.StatusGoingAway, "test over"); err != nil {
		t.Fatal(err)
	}
	site.Close() // closes the chat's connection to NATS
	for deadline := time.Now().Add(10 * time.Second); ns.NumClients() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after Close, the NATS server has %d clients, want only the test's", ns.NumClients())
		}
	}
}
