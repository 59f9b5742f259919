package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A store whose clock reads outside the times a record can hold refuses
// the write rather than acknowledging an event that no query can read
// back (before the fix the write succeeded and every later query that
// reached it failed with ErrTampered).
func TestBrokenClockDoesNotAcknowledgeAnUnreadableEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := newSchema(t)
	broken := openStore(t, schema, WithClock(func() time.Time { return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }))
	err := broken.Write(ctx, readEvent(t0, patientA))
	assert.ErrorIs(t, err, audit.ErrInvalidEvent)
	require.NoError(t, broken.Close())

	s := openStore(t, schema)
	for _, err := range s.Query(ctx, officer(), audit.Filter{Patient: patientA}) {
		require.NoError(t, err, "every acknowledged event reads back")
	}
}
