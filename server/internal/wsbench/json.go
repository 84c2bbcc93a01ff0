package wsbench

import (
	"fmt"
	"math/rand/v2"
)

// This file makes the JSON-like text that the compression benchmarks
// send: chat messages such as an application of this kit exchanges, with
// the repetition of keys and values that makes JSON compress well, and
// varied enough text that it does not compress absurdly well.

var jsonWords = []string{
	"the", "a", "of", "to", "and", "is", "in", "that", "it", "for", "on", "with",
	"hello", "world", "message", "room", "general", "random", "deploy", "build",
	"test", "release", "server", "client", "window", "socket", "frame", "compress",
	"lunch", "meeting", "tomorrow", "today", "yes", "no", "maybe", "thanks",
	"review", "merge", "branch", "issue", "fixed", "broken", "again", "soon",
}

var jsonUsers = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}

// JSONMessages returns a function that makes one chat message after another,
// each a JSON object of 100 to 250 bytes, the same sequence for the same
// seed.
func JSONMessages(seed uint64) func() []byte {
	r := rand.New(rand.NewPCG(seed, 0x6a736f6e))
	seq := 1000
	return func() []byte {
		seq++
		text := make([]byte, 0, 128)
		for i := range 3 + r.IntN(12) {
			if i > 0 {
				text = append(text, ' ')
			}
			text = append(text, jsonWords[r.IntN(len(jsonWords))]...)
		}
		return fmt.Appendf(nil, `{"type":"message","room":"general","seq":%d,"from":%q,"text":%q,"ts":"2026-05-%02dT%02d:%02d:%02d.%03dZ"}`,
			seq, jsonUsers[r.IntN(len(jsonUsers))], text, 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000))
	}
}

// JSONText returns n bytes of a JSON array of chat messages, cut at n: text
// to send as one message. The same n gives the same bytes.
func JSONText(n int) []byte {
	next := JSONMessages(uint64(n))
	b := make([]byte, 0, n+256)
	b = append(b, '[')
	for len(b) < n {
		b = append(b, next()...)
		b = append(b, ',')
	}
	return b[:n]
}
