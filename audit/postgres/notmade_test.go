package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/postgres"
)

// TestStoreNotMadeByOpen: a nil Store, or its zero value, takes no event
// (audit.ErrClosed, as a closed store) and answers its other calls with
// an error or a zero value instead of panicking. It needs no database.
func TestStoreNotMadeByOpen(t *testing.T) {
	ctx := context.Background()
	for name, s := range map[string]*postgres.Store{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, s.Write(ctx, audit.Event{}), audit.ErrClosed)
			_, err := s.Append(ctx, audit.Event{})
			assert.ErrorIs(t, err, audit.ErrClosed)
			for _, err := range s.Query(ctx, shcrkit.Requester{}, audit.Filter{}) {
				assert.ErrorIs(t, err, audit.ErrClosed)
			}
			_, err = s.Size(ctx)
			assert.ErrorIs(t, err, audit.ErrClosed)
			_, err = s.Prove(ctx, 1)
			assert.ErrorIs(t, err, audit.ErrClosed)
			_, err = s.ProveConsistency(ctx, 1)
			assert.ErrorIs(t, err, audit.ErrClosed)
			_, err = s.SignCheckpoint(ctx)
			assert.ErrorIs(t, err, audit.ErrClosed)
			assert.ErrorIs(t, s.Verify(ctx), audit.ErrClosed)
			assert.ErrorIs(t, s.VerifyCheckpoint(ctx, nil), audit.ErrClosed)
			assert.ErrorIs(t, s.Close(), audit.ErrClosed)
			assert.Empty(t, s.VerifierKey())
			_, ok := s.Checkpoint()
			assert.False(t, ok)
		})
	}
}
