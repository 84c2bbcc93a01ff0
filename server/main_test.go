package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"duplex/server/ws"
	"duplex/shared/message"
	"duplex/shared/wire"
)

func TestShutdownClosesWebSocketsWithGoingAway(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, slog.New(slog.DiscardHandler), options{}, nil) }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET /ws/echo HTTP/1.1\r\nHost: "+ln.Addr().String()+"\r\n"+
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}

	cancel()
	h, err := wire.ReadHeader(br)
	if err != nil {
		t.Fatalf("reading the server's close frame: %v", err)
	}
	payload := make([]byte, h.Length)
	io.ReadFull(br, payload)
	code, reason, err := wire.ParseClose(payload)
	if h.Opcode != wire.OpClose || err != nil || code != wire.StatusGoingAway {
		t.Fatalf("got %v frame with code %d %q (%v), want close 1001", h.Opcode, code, reason, err)
	}
	// Answer the close, as a client does; the server then closes TCP and
	// run returns.
	reply := wire.AppendHeader(nil, wire.Header{Fin: true, Opcode: wire.OpClose, Masked: true, Length: int64(len(payload))})
	conn.Write(append(reply, payload...)) // masked with a zero key: bytes unchanged
	if _, err := br.ReadByte(); err == nil {
		t.Error("server sent more after the closing handshake")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after shutdown")
	}
}

func TestDisplayAddr(t *testing.T) {
	bound := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	for _, tt := range []struct{ flag, want string }{
		{"localhost:8080", "localhost:8080"},
		{":8080", "localhost:8080"},
		{"0.0.0.0:8080", "localhost:8080"},
		{"127.0.0.1:0", "127.0.0.1:8080"},
	} {
		if got := displayAddr(tt.flag, bound); got != tt.want {
			t.Errorf("displayAddr(%q) = %q, want %q", tt.flag, got, tt.want)
		}
	}
	if !strings.Contains(displayAddr("[::]:0", &net.TCPAddr{IP: net.IPv6unspecified, Port: 9}), "localhost") {
		t.Error("unspecified IPv6 host not shown as localhost")
	}
}

// With -nats, the chat's rooms are streams on the NATS server.
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

	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hub, closeChat, err := newChat(ctx, ns.ClientURL(), log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serving, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(serving, ln, log, options{}, hub) }()

	conn, err := ws.Dial(ctx, "ws://"+ln.Addr().String()+"/ws/chat", &ws.DialOptions{Subprotocols: []string{message.Subprotocol}})
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

	stop()
	go func() { // answer the server's close
		for {
			if _, _, err := conn.ReadMessage(ctx, nil); err != nil {
				return
			}
		}
	}()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	closeChat()
}
