package natsforward_test

import (
	"log"
	"net/http"

	"duplex/server/httpstream"
	"duplex/server/httpstream/natsforward"
	"duplex/server/ws"
)

// Each instance of a server behind a load balancer that is not sticky
// forwards the requests of sessions it does not own through NATS, and
// serves those the others forward to it.
func Example() {
	fw, err := natsforward.Dial("nats://localhost:4222", natsforward.Options{Subject: "myapp.stream"})
	if err != nil {
		log.Fatal(err)
	}
	defer fw.Close()
	serve := func(c httpstream.Peer) { defer c.CloseNow() /* … */ }
	endpoint := httpstream.NewEndpoint(&ws.Upgrader{}, httpstream.Config{Forwarder: fw}, serve)
	if err := fw.Serve(endpoint.Streams()); err != nil {
		log.Fatal(err)
	}
	http.Handle("/ws/app", endpoint)
}
