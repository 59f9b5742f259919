package audit

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A clock that reads outside the times a record can hold (a broken or
// tampered clock) must make Write fail with a typed error, not
// acknowledge an event whose record can never be read back: before the
// fix such an event was acknowledged, Verify passed, and every later
// Query that reached it failed with ErrTampered.
func TestBrokenClockDoesNotAcknowledgeAnUnreadableEvent(t *testing.T) {
	ctx := context.Background()
	for _, at := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		t.Run(at.String(), func(t *testing.T) {
			dir := t.TempDir()
			l, err := OpenLog(dir, WithClock(func() time.Time { return at }))
			require.NoError(t, err)
			err = l.Write(ctx, readEvent(t0, clinician(), patientA))
			require.NoError(t, l.Close())
			assert.ErrorIs(t, err, ErrInvalidEvent, "the write must be refused")

			l = openTestLog(t, dir)
			for _, err := range l.Query(ctx, officer(), Filter{Patient: patientA}) {
				require.NoError(t, err, "every acknowledged event reads back")
			}
			require.NoError(t, l.Verify(ctx))
		})
	}
}
