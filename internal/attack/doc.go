// Package attack holds the SDK's attack suite: tests that try, as an
// attacker would, to break each promise of the README's Security section,
// and count what they tried. Run it with
//
//	go test -v -run . ./internal/attack
//
// and read the tally it prints at the end: every attempt must hold.
package attack
