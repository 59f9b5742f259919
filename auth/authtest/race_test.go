//go:build race

package authtest_test

// raceEnabled is whether the race detector is on: the tests that send
// tens of thousands of requests one after another to check a bound skip
// under it, which would slow them ten-fold and find nothing.
const raceEnabled = true
