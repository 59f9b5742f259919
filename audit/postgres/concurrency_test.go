package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two stores on one schema (two instances of an application) write at
// once from many goroutines: every event gets its own seq, the seqs run
// from 1 with no gap, and the log verifies.
func TestTwoStoresWritingAtOnceNoGapNoDuplicate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := newSchema(t)
	a := openStore(t, schema, WithCheckpointInterval(5*time.Millisecond))
	b := openStore(t, schema, WithCheckpointInterval(5*time.Millisecond))
	const writers, each = 8, 40
	var mu sync.Mutex
	var seqs []uint64
	var wg sync.WaitGroup
	for i := range 2 * writers {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for j := range each {
				e := readEvent(t0.Add(time.Duration(j)*time.Second), patientA)
				e.RequestID = fmt.Sprintf("w%d-%d", i, j)
				seq, err := s.Append(ctx, e)
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				seqs = append(seqs, seq)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, seqs, 2*writers*each)
	slices.Sort(seqs)
	for i, seq := range seqs {
		require.Equal(t, uint64(i+1), seq, "no gap and no duplicate")
	}
	size, err := a.Size(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(2*writers*each), size)
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())

	s := openStore(t, schema)
	c, ok := s.Checkpoint()
	require.True(t, ok)
	assert.Equal(t, uint64(2*writers*each), c.Size, "the last store to close signed everything")
	require.NoError(t, s.Verify(ctx))
	// Each event is where its seq says, with the request ID it was written with.
	got := map[string]bool{}
	for _, e := range queryAll(t, s, audit.Filter{Patient: patientA}) {
		require.False(t, got[e.RequestID], "event %s written twice", e.RequestID)
		got[e.RequestID] = true
	}
	assert.Len(t, got, 2*writers*each)
}

// Instances that start at once on a new schema create it once.
func TestOpenConcurrentlyCreatesTheSchemaOnce(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	errs := make([]error, 4)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), testDSN(t), WithSchema(schema)) })
	}
	wg.Wait()
	for i, s := range stores {
		require.NoError(t, errs[i])
		t.Cleanup(func() { s.Close() })
	}
	for _, s := range stores[1:] {
		assert.Equal(t, stores[0].VerifierKey(), s.VerifierKey(), "one key for the log")
	}
	conn := admin(t)
	var versions []int
	rows, err := conn.Query(context.Background(), "SELECT version FROM "+schema+".schema_version ORDER BY version")
	require.NoError(t, err)
	for rows.Next() {
		var v int
		require.NoError(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []int{1}, versions)
	require.NoError(t, Migrate(context.Background(), testDSN(t), WithSchema(schema)), "idempotent")
}

func TestOpenRefusesANewerSchemaAndAnotherKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := newSchema(t)
	s := openStore(t, schema)
	require.NoError(t, s.Close())

	other, _, err := audit.GenerateSigningKey("another.log")
	require.NoError(t, err)
	_, err = Open(ctx, testDSN(t), WithSchema(schema), WithSigningKey(other))
	require.ErrorIs(t, err, audit.ErrInvalidOption)

	_, err = Open(ctx, testDSN(t), WithSchema(newSchema(t)), WithoutMigrate())
	require.ErrorIs(t, err, ErrSchema, "no store is created where one was expected")
	s, err = Open(ctx, testDSN(t), WithSchema(schema), WithoutMigrate())
	require.NoError(t, err)
	require.NoError(t, s.Close())

	conn := admin(t)
	_, err = conn.Exec(ctx, "INSERT INTO "+schema+".schema_version (version) VALUES (99)")
	require.NoError(t, err)
	_, err = Open(ctx, testDSN(t), WithSchema(schema))
	require.ErrorIs(t, err, ErrSchema)
}

func TestOptionsRefuseBadValues(t *testing.T) {
	for _, o := range []Option{
		WithSchema("Bad-Name"), WithSchema("x; DROP TABLE y"), WithAppRole(""), WithTablespace("a b"),
		WithMaxBatch(0), WithMaxConns(0), WithStatementTimeout(0), WithCheckpointInterval(0),
		WithClock(nil), WithLogger(nil), WithSigningKey("nope"), WithOrigin("has space"), WithCheckpointFunc(nil),
		nil,
	} {
		_, err := Open(context.Background(), "postgres://127.0.0.1:1/x", o)
		require.ErrorIs(t, err, audit.ErrInvalidOption)
	}
	_, err := Open(context.Background(), "postgres://user:secret@[bad", WithSchema("x"))
	require.ErrorIs(t, err, audit.ErrInvalidOption)
	assert.NotContains(t, err.Error(), "secret")
}
