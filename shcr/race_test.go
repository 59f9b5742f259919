//go:build race

package shcr_test

// raceEnabled is whether the race detector is on: it slows the
// many-users test ten-fold, so that test runs fewer users under it.
const raceEnabled = true
