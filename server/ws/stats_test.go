package ws

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestStats(t *testing.T) {
	var srvStats, cliStats Stats
	u := &Upgrader{Stats: &srvStats}
	conns := make(chan *Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := u.Upgrade(w, r); err == nil {
			conns <- c
		}
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	ctx := testContext(t)

	if resp, err := http.Get(srv.URL); err == nil { // a plain GET: 426
		resp.Body.Close()
	}
	client, err := Dial(ctx, url, &DialOptions{Stats: &cliStats})
	if err != nil {
		t.Fatal(err)
	}
	server := <-conns
	if srvStats.Open.Load() != 1 || cliStats.Open.Load() != 1 {
		t.Fatalf("open: server %d, client %d, want 1 each", srvStats.Open.Load(), cliStats.Open.Load())
	}
	client.WriteMessage(ctx, Text, []byte("hello"))
	client.WriteMessages(ctx, Binary, [][]byte{make([]byte, 10), make([]byte, 20)})
	w, _ := client.NextWriter(ctx, Text)
	w.Write([]byte("abc"))
	w.Write([]byte("de"))
	w.Close()
	for range 4 {
		if _, _, err := server.ReadMessage(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	go server.ReadMessage(ctx, nil) // to answer the close
	if err := client.Close(4123, "app code"); err != nil {
		t.Fatal(err)
	}
	<-server.Done()

	check := func(name string, got, want uint64) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	check("client MessagesOut", cliStats.MessagesOut.Load(), 4)
	check("client BytesOut", cliStats.BytesOut.Load(), 5+10+20+5)
	check("server MessagesIn", srvStats.MessagesIn.Load(), 4)
	check("server BytesIn", srvStats.BytesIn.Load(), 5+10+20+5)
	check("server MessagesOut", srvStats.MessagesOut.Load(), 0)
	if srvStats.Open.Load() != 0 || cliStats.Open.Load() != 0 {
		t.Errorf("open after close: server %d, client %d", srvStats.Open.Load(), cliStats.Open.Load())
	}
	want := []Count[StatusCode]{{4000, 1}} // 4123, under its range
	for name, got := range map[string][]Count[StatusCode]{
		"client ClosesSent": cliStats.ClosesSent(), "client ClosesReceived": cliStats.ClosesReceived(),
		"server ClosesSent": srvStats.ClosesSent(), "server ClosesReceived": srvStats.ClosesReceived(),
	} {
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got, want := srvStats.Upgrades(), []Count[int]{{101, 1}, {426, 1}}; !slices.Equal(got, want) {
		t.Errorf("Upgrades = %v, want %v", got, want)
	}
}

func TestCloseKey(t *testing.T) {
	for code, want := range map[StatusCode]StatusCode{
		1000: 1000, 1005: 1005, 1011: 1011, 1006: 0, 999: 0, 2000: 0, 3000: 3000, 3999: 3000, 4000: 4000, 4999: 4000, 5000: 0,
	} {
		if got := closeKey(code); got != want {
			t.Errorf("closeKey(%d) = %d, want %d", code, got, want)
		}
	}
}

// TestStatsNoAllocs: counting costs no allocation per message.
func TestStatsNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	var stats Stats
	server, client := connPair(t, &Upgrader{Stats: &stats}, nil)
	ctx := context.Background()
	msg := make([]byte, 100)
	var buf []byte
	allocs := testing.AllocsPerRun(100, func() {
		client.WriteMessage(ctx, Binary, msg)
		_, buf, _ = server.ReadMessage(ctx, buf)
		server.WriteMessage(ctx, Binary, buf)
		_, msg, _ = client.ReadMessage(ctx, msg)
	})
	if allocs > 0 {
		t.Errorf("%.1f allocations per round trip", allocs)
	}
}
