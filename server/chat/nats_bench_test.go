package chat

import (
	"strconv"
	"testing"
)

// BenchmarkLatencyNATS is BenchmarkLatency with the room's members split
// between two chat servers sharing it through a NATS server, all in this
// process: every message goes through the room's JetStream stream to both
// instances before it reaches the members.
//
//	go test ./server/chat -run '^$' -bench LatencyNATS -benchtime 3x
func BenchmarkLatencyNATS(b *testing.B) {
	for _, n := range []int{100, 200, 500, 1000} {
		b.Run("members="+strconv.Itoa(n), func(b *testing.B) {
			s := natsServer(b, true)
			addrA := benchServer(b, Config{Broker: natsBroker(b, s, NATSOptions{})})
			addrB := benchServer(b, Config{Broker: natsBroker(b, s, NATSOptions{})})
			benchLatency(b, n, addrA, addrB)
		})
	}
}
