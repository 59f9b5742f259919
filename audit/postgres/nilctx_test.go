package postgres

import (
	"context"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A nil context is refused with shcrkit.ErrInvalidRequest by every entry
// point, as by the rest of the SDK, rather than panicking (before the
// fix Open, Migrate and Verify dereferenced it).
func TestNilContextIsRefusedNotAPanic(t *testing.T) {
	t.Parallel()
	var nilCtx context.Context
	// A DSN that would not be reached: the check comes first.
	const nowhere = "postgres://postgres@127.0.0.1:1/x?sslmode=disable"
	assert.NotPanics(t, func() {
		_, err := Open(nilCtx, nowhere)
		assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	})
	assert.NotPanics(t, func() {
		assert.ErrorIs(t, Migrate(nilCtx, nowhere), shcrkit.ErrInvalidRequest)
	})

	s := openStore(t, "")
	assert.NotPanics(t, func() {
		assert.ErrorIs(t, s.Verify(nilCtx), shcrkit.ErrInvalidRequest)
	})
}

// After Close every call that reads the database fails with
// audit.ErrClosed, as writes and Verify do, not with ErrUnavailable from
// the closed pool.
func TestClosedStoreRefusesReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "")
	require.NoError(t, s.Write(ctx, readEvent(t0, patientA)))
	c, err := s.SignCheckpoint(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	_, err = s.Size(ctx)
	assert.ErrorIs(t, err, audit.ErrClosed)
	_, err = s.Prove(ctx, 1)
	assert.ErrorIs(t, err, audit.ErrClosed)
	_, err = s.ProveConsistency(ctx, 1)
	assert.ErrorIs(t, err, audit.ErrClosed)
	assert.ErrorIs(t, s.VerifyCheckpoint(ctx, c.Signed), audit.ErrClosed)
	for _, err := range s.Query(ctx, officer(), audit.Filter{}) {
		assert.ErrorIs(t, err, audit.ErrClosed)
	}
}
