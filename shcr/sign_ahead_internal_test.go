package shcr

import (
	"fmt"
	"testing"

	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/jws"
	"github.com/shcrkit/shcrkit/shcr/internal/directoryfile"
	"github.com/stretchr/testify/assert"
)

func TestAheadStats(t *testing.T) {
	ep := func(name string, alg auth.Algorithm, reuse bool) *endpoint {
		return &endpoint{Endpoint: directoryfile.Endpoint{Name: name, ReuseIdentity: reuse,
			Identity: directoryfile.Identity{Signing: alg}}}
	}
	north, south := ep("north", auth.RS256, true), ep("south", auth.ES256, true)
	east := ep("east", jws.None, true)    // unsigned: nothing to gain
	west := ep("west", auth.RS512, false) // a token per request
	var s aheadStats
	assert.Empty(t, s.candidates(), "no history, no guess")

	s.observe(map[*endpoint]bool{north: true, south: true, east: true, west: true})
	assert.Equal(t, []*endpoint{north, south}, s.candidates(), "signed endpoints that accept reuse, once seen")

	// North keeps being used; south is not used again: its share falls
	// by a quarter a journey, 1 → 0.75 → 0.56 → 0.42, and it is no
	// longer signed for after the third journey without it.
	for miss, want := range [][]*endpoint{{north, south}, {north, south}, {north}} {
		s.observe(map[*endpoint]bool{north: true})
		assert.Equal(t, want, s.candidates(), "after %d journeys without south", miss+1)
	}
	// Forgotten once the share is negligible.
	for range 10 {
		s.observe(map[*endpoint]bool{north: true})
	}
	assert.NotContains(t, s.share, south)
	// Forgotten, it starts again at one when next used.
	s.observe(map[*endpoint]bool{north: true, south: true})
	assert.Equal(t, []*endpoint{north, south}, s.candidates(), "seen afresh, it starts again at one")

	// At most maxAhead endpoints, the most used first.
	var many aheadStats
	used := map[*endpoint]bool{}
	var eps []*endpoint
	for i := range maxAhead + 3 {
		e := ep(fmt.Sprintf("ep%02d", i), auth.ES256, true)
		eps = append(eps, e)
		used[e] = true
	}
	many.observe(used)
	delete(used, eps[0])
	many.observe(used)
	got := many.candidates()
	assert.Len(t, got, maxAhead)
	assert.NotContains(t, got, eps[0], "the least used is left out")
}
