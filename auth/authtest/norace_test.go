//go:build !race

package authtest_test

// raceEnabled is whether the race detector is on.
const raceEnabled = false
