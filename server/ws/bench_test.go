package ws_test

import (
	"testing"

	"duplex/server/internal/wsbench"
)

// This file measures the server alone: ws's leanest echo loop against the
// floor, a raw echo that does the least work possible. A raw client built
// on package wire drives them; it does not allocate once connected, so the
// allocations a benchmark reports are the server's. The harnesses are in
// duplex/server/internal/wsbench.
//
//	go test ./server/ws -run '^$' -bench 'EchoRoundTrip|Broadcast' -benchmem
//	go test ./server/ws -run '^$' -bench IdleConnMemory -benchtime=1x
//
// The same benchmarks compare duplex with other Go WebSocket libraries in
// the nested module duplex/server/ws/thirdparty, and measure the
// production router, with and without the protocol lab's listener, in
// duplex/server/web.

// BenchmarkEchoRoundTrip measures one client sending a binary message and
// waiting for its echo, on each server in turn.
func BenchmarkEchoRoundTrip(b *testing.B) {
	wsbench.EchoRoundTrip(b, []wsbench.EchoServer{wsbench.Floor, wsbench.DuplexMin})
}

// BenchmarkBroadcast measures writing one 64-byte text message to each of
// 1,000 connections, until every client has read it.
func BenchmarkBroadcast(b *testing.B) {
	wsbench.Broadcast(b, []wsbench.BroadcastServer{wsbench.DuplexBroadcast})
}

// BenchmarkIdleConnMemory measures the server-side memory of 10,000 idle
// connections (DUPLEX_MEMBENCH_CONNS), per connection, served from the
// handler and from a goroutine of their own. Run it with -benchtime=1x.
func BenchmarkIdleConnMemory(b *testing.B) {
	wsbench.IdleConnMemory(b, []wsbench.IdleServer{wsbench.DuplexIdleMin, wsbench.DuplexIdleGo})
}

// TestIdleConnMemoryChild is the client process of BenchmarkIdleConnMemory.
func TestIdleConnMemoryChild(t *testing.T) { wsbench.IdleConnMemoryChild(t) }
