//go:build race

package ws

// raceEnabled reports whether the race detector is on: it allocates, so
// tests that count allocations skip.
const raceEnabled = true
