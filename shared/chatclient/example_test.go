//go:build !js

package chatclient_test

import (
	"context"
	"fmt"
	"log"

	"duplex/server/ws"
	"duplex/shared/chatclient"
	"duplex/shared/conn"
	"duplex/shared/message"
)

// printer is a chatclient.UI that prints what the client reports.
type printer struct{}

func (printer) Status(s chatclient.Status)    { fmt.Println("status:", s.State) }
func (printer) RoomChanged(r chatclient.Room) { fmt.Println("room:", r.Name, "as", r.Nick) }
func (printer) RoomRemoved(room string, err error) {
	fmt.Println("left:", room, err)
}
func (printer) Message(m message.Chat, mine bool) { fmt.Printf("#%d %s: %s\n", m.Seq, m.Nick, m.Text) }
func (printer) Outbox(room string, pending []chatclient.Pending) {
	fmt.Println("pending in", room+":", len(pending))
}
func (printer) Refused(room, text string, err error) { fmt.Println("refused:", text, err) }
func (printer) HistoryReset(room string)             { fmt.Println("history of", room, "afresh") }
func (printer) NickTaken(room, asked, given string)  { fmt.Println(asked, "is taken; you are", given) }
func (printer) Error(err error)                      { fmt.Println("error:", err) }

// A chat bot: the client the chat page runs, natively. It dials with
// server/ws (in a page, wasm/websocket's Dialer does), joins, sends, and
// hears everything through its UI; after a restart it passes on, with
// their IDs, the messages its last run had not seen stored (kept from the
// UI's Outbox reports), and the server stores each once.
func ExampleStart() {
	dial := func(ctx context.Context) (conn.Conn, error) {
		return ws.Dial(ctx, "ws://localhost:8080/ws/chat", &ws.DialOptions{Subprotocols: []string{message.Subprotocol}})
	}
	c := chatclient.Start(printer{}, dial, nil)
	defer c.Close()

	room, err := c.Join("bot", "lobby")
	if err != nil {
		log.Fatal(err)
	}
	kept := []chatclient.Pending{{ID: 7254981, Text: "sent just before the restart"}}
	if err := c.Requeue(room, kept); err != nil {
		log.Print(err)
	}
	if err := c.Send(room, "hello from a bot"); err != nil {
		log.Print(err)
	}
}
