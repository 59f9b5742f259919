package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteQueryProveVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	var kept []audit.Checkpoint
	// Checkpoints only when asked, so that which one a proof uses is known.
	s := openStore(t, "", WithCheckpointInterval(24*time.Hour), WithCheckpointFunc(func(c audit.Checkpoint) {
		mu.Lock()
		defer mu.Unlock()
		kept = append(kept, c)
	}))
	for i := range 10 {
		p := patientA
		if i%2 == 1 {
			p = patientB
		}
		seq, err := s.Append(ctx, readEvent(t0.Add(time.Duration(i)*time.Minute), p))
		require.NoError(t, err)
		assert.Equal(t, uint64(i+1), seq)
	}
	got := queryAll(t, s, audit.Filter{Patient: patientA})
	require.Len(t, got, 5)
	for i, e := range got {
		assert.Equal(t, uint64(2*i+1), e.Seq)
		assert.Equal(t, patientA, e.Patient)
	}
	size, err := s.Size(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(11), size, "the query is recorded")

	old, err := s.SignCheckpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(11), old.Size)
	_, err = audit.OpenCheckpoint(s.VerifierKey(), old.Signed)
	require.NoError(t, err)

	require.NoError(t, s.Write(ctx, readEvent(t0.Add(time.Hour), patientB)))
	p, err := s.Prove(ctx, 3)
	require.NoError(t, err)
	ev, c, err := audit.VerifyInclusion(s.VerifierKey(), p)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), ev.Seq)
	assert.Equal(t, uint64(11), c.Size, "the latest checkpoint covers event 3")

	cp, err := s.ProveConsistency(ctx, old.Size)
	require.NoError(t, err)
	_, err = audit.VerifyConsistency(s.VerifierKey(), old.Signed, cp)
	require.NoError(t, err)
	require.NoError(t, s.VerifyCheckpoint(ctx, old.Signed))
	require.NoError(t, s.Verify(ctx))
	mu.Lock()
	defer mu.Unlock()
	assert.NotEmpty(t, kept)
}

func TestClosedStoreRefusesWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "")
	require.NoError(t, s.Write(ctx, readEvent(t0, patientA)))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "idempotent")
	require.ErrorIs(t, s.Write(ctx, readEvent(t0, patientA)), audit.ErrClosed)
	require.ErrorIs(t, s.Verify(ctx), audit.ErrClosed)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	r := openStore(t, s.cfg.schema)
	require.ErrorIs(t, r.Write(cancelled, readEvent(t0, patientA)), context.Canceled)
	_, err := r.Append(ctx, audit.Event{})
	require.ErrorIs(t, err, audit.ErrInvalidEvent)
	c, ok := r.Checkpoint()
	require.True(t, ok, "Close signed a checkpoint")
	assert.Equal(t, uint64(1), c.Size)
}
