//go:build !race

package shcr_test

// raceEnabled is whether the race detector is on.
const raceEnabled = false
