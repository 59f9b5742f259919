package postgres

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/require"
)

// The store's clock steps back an hour (an NTP correction, a VM
// restored): the store goes on signing checkpoints every interval. Before
// the fix the interval was measured on that clock, so no checkpoint was
// signed until it caught up an hour later, and events written meanwhile
// could be deleted from the end without a trace.
func TestClockSteppingBackDoesNotStopCheckpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var back atomic.Int64
	clock := func() time.Time { return time.Now().Add(-time.Duration(back.Load())) }
	signed := make(chan uint64, 100)
	s := openStore(t, "", WithCheckpointInterval(10*time.Millisecond), WithClock(clock),
		WithCheckpointFunc(func(c audit.Checkpoint) {
			select {
			case signed <- c.Size:
			default:
			}
		}))
	waitFor := func(n uint64, msg string) {
		timeout := time.After(10 * time.Second)
		for size := uint64(0); size < n; {
			select {
			case size = <-signed:
			case <-timeout:
				t.Fatal(msg)
			}
		}
	}
	require.NoError(t, s.Write(ctx, readEvent(t0, patientA)))
	waitFor(1, "no checkpoint of the first event")

	back.Store(int64(time.Hour))
	for range 5 {
		require.NoError(t, s.Write(ctx, readEvent(t0, patientA)))
	}
	waitFor(6, "no checkpoint covers the events written after the clock stepped back")
	require.NoError(t, s.Verify(ctx))
}
