package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Rows deleted from the end together with the checkpoints that covered
// them leave nothing in the database to find, but the store that signed
// (or saw) those checkpoints knows the log was longer: Verify must say
// so, and the writer must not number new events over the deleted ones
// (which made the deletion undetectable: before the fix Verify passed,
// before and after the store had reused seq 6 to 10).
func TestTruncatedTailIsFoundByTheStoreThatSignedIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "")
	for range 10 {
		require.NoError(t, s.Write(ctx, readEvent(t0, patientA)))
	}
	_, err := s.SignCheckpoint(ctx)
	require.NoError(t, err)
	_, err = admin(t).Exec(ctx, s.cfg.expand("DELETE FROM $s.events WHERE seq > 5; DELETE FROM $s.checkpoints WHERE size > 5"))
	require.NoError(t, err)

	err = s.Verify(ctx)
	require.ErrorIs(t, err, audit.ErrTampered)
	var ie *audit.IntegrityError
	require.ErrorAs(t, err, &ie)
	assert.Contains(t, strings.Join(ie.Problems, "\n"), "covers 10 events")

	_, err = s.Append(ctx, readEvent(t0, patientB))
	require.ErrorIs(t, err, audit.ErrTampered, "no new event takes the number of a deleted one")
	size, err := s.Size(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(5), size)
	require.ErrorIs(t, s.Verify(ctx), audit.ErrTampered)
}
