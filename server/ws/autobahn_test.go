package ws

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestAutobahnClient plays the native client against Autobahn|Testsuite
// in fuzzingserver mode, which tests a client: for every case it dials
// /runCase, echoes what it receives until the connection ends, then asks
// for the reports. It runs only by hand, with the suite listening:
//
//	AUTOBAHN_SERVER=ws://127.0.0.1:9001 go test ./server/ws -run TestAutobahnClient -v
//
// The reports then hold each case's verdict (see the suite's README).
// With AUTOBAHN_DEFLATE=1 the client offers permessage-deflate, as for
// groups 12 and 13; AUTOBAHN_DEFLATE=no-takeover offers it with
// NoContextTakeover.
func TestAutobahnClient(t *testing.T) {
	base := os.Getenv("AUTOBAHN_SERVER")
	if base == "" {
		t.Skip("set AUTOBAHN_SERVER to the fuzzingserver's ws:// URL to run")
	}
	const agent = "duplex"
	opts := &DialOptions{ReadLimit: 64 << 20}
	switch deflate := os.Getenv("AUTOBAHN_DEFLATE"); deflate {
	case "":
	case "1":
		opts.Compression = &CompressionOptions{}
	case "no-takeover":
		opts.Compression = &CompressionOptions{NoContextTakeover: true}
	default:
		t.Fatalf("AUTOBAHN_DEFLATE=%q: want 1 or no-takeover", deflate)
	}
	ctx := context.Background()
	count := func() int {
		c, err := Dial(ctx, base+"/getCaseCount", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		_, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.Atoi(string(msg))
		if err != nil {
			t.Fatalf("case count %q: %v", msg, err)
		}
		return n
	}()
	for i := 1; i <= count; i++ {
		c, err := Dial(ctx, base+"/runCase?case="+strconv.Itoa(i)+"&agent="+agent, opts)
		if err != nil {
			t.Logf("case %d: %v", i, err)
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(cctx, buf)
			if err != nil {
				if !errors.Is(err, ErrClosed) {
					t.Logf("case %d ended: %v", i, err)
				}
				break
			}
			buf = msg
			if err := c.WriteMessage(cctx, typ, msg); err != nil {
				break
			}
		}
		cancel()
		c.CloseNow()
	}
	c, err := Dial(ctx, base+"/updateReports?agent="+url.QueryEscape(agent), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.ReadMessage(ctx, nil) // the suite closes when the reports are written
	c.CloseNow()
}
