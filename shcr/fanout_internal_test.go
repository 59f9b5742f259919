package shcr

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFanOut(t *testing.T) {
	cases := []struct{ n, limit, want int }{
		{0, 4, 0},
		{1, 4, 1},
		{3, 4, 3},
		{100, 7, 7},
		{64, 32, 32},
	}
	for _, tc := range cases {
		synctest.Test(t, func(t *testing.T) {
			var mu sync.Mutex
			calls := make([]int, tc.n)
			inflight, most := 0, 0
			fanOut(tc.n, tc.limit, func(i int) {
				mu.Lock()
				calls[i]++
				inflight++
				most = max(most, inflight)
				mu.Unlock()
				// Every goroutine runs until it blocks before the clock
				// moves, so all the calls allowed at once are in flight.
				time.Sleep(time.Second)
				mu.Lock()
				inflight--
				mu.Unlock()
			})
			for i, n := range calls {
				require.Equal(t, 1, n, "call %d of %d", i, tc.n)
			}
			assert.Equal(t, tc.want, most, "n=%d limit=%d", tc.n, tc.limit)
		})
	}
}
