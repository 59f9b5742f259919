package postgres

import (
	"context"
	"testing"

	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/require"
)

// Someone who can write the database but has no signing key rewrites an
// old event, recomputes the Merkle tree over it and deletes the
// checkpoints that covered the original. The store must not sign a
// checkpoint of the rewritten log: its next checkpoint would otherwise
// launder the change (before the fix Verify passed once the store had
// signed again, and every proof checked against the forged tree).
func TestStoreDoesNotSignOverARewrittenLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "")
	for range 10 {
		require.NoError(t, s.Write(ctx, readEvent(t0, patientA)))
	}
	_, err := s.SignCheckpoint(ctx)
	require.NoError(t, err)

	c := admin(t)
	_, err = c.Exec(ctx, s.cfg.expand(`UPDATE $s.events SET record = convert_to(replace(convert_from(record, 'UTF8'), 'care-plan-1', 'care-plan-2'), 'UTF8') WHERE seq = 4;
		DELETE FROM $s.checkpoints`))
	require.NoError(t, err)
	rebuildTree(t, c, s)

	_, werr := s.Append(ctx, readEvent(t0, patientB))
	_, serr := s.SignCheckpoint(ctx)
	t.Logf("write after the rewrite: %v; signing: %v", werr, serr)
	require.ErrorIs(t, serr, audit.ErrTampered, "no checkpoint is signed over the rewritten events")
	require.ErrorIs(t, s.Verify(ctx), audit.ErrTampered)
}
