//go:build !race

package shcrtest_test

// raceEnabled is whether the race detector is on.
const raceEnabled = false
