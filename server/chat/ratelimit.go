package chat

import "time"

// A bucket is the token bucket that limits one connection's requests: it
// holds up to burst tokens, gains rate of them a second, and each request
// spends one. A request made without a token is refused; one that would
// take the debt down to -burst ends the connection.
//
// It is fed the time each request arrived. The read loop stamps requests
// as it reads them and never waits for the broker — the requests go to
// the connection's worker (requests.go) — so that a client that keeps
// within the rate is never refused because the server was slow: had the
// reading waited, requests sent at an even pace would be read in a burst.
type bucket struct {
	rate   float64   // tokens gained per second
	burst  float64   // the most tokens held, and the most debt
	tokens float64   // negative for a debt
	at     time.Time // when tokens was last brought up to date
}

// A verdict is what a bucket makes of a request.
type verdict uint8

const (
	allow      verdict = iota // a token was spent
	refuse                    // no token: the request is dropped, with an error
	disconnect                // and the debt is too deep: the connection ends
)

func newBucket(rate float64, burst int, now time.Time) bucket {
	return bucket{rate: rate, burst: float64(burst), tokens: float64(burst), at: now}
}

// take spends a token for a request that arrived at now.
func (b *bucket) take(now time.Time) verdict {
	if now.After(b.at) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.at).Seconds()*b.rate)
		b.at = now
	}
	b.tokens--
	switch {
	case b.tokens >= 0:
		return allow
	case b.tokens > -b.burst:
		return refuse
	}
	return disconnect
}
