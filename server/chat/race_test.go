//go:build race

package chat_test

// raceEnabled says that the race detector is on: the heaviest tests do
// less, since everything runs several times slower.
const raceEnabled = true
