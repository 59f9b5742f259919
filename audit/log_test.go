package audit

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogWriteAssignsSeqAndRecorded(t *testing.T) {
	clock := t0.Add(time.Hour)
	l := openTestLog(t, t.TempDir(), WithClock(func() time.Time { return clock }))
	e := readEvent(time.Time{}, clinician(), patientA)
	writeAll(t, l, e, readEvent(t0, nurse(), patientB))
	assert.Equal(t, uint64(2), l.Size())
	got := queryAll(t, l, officer(), Filter{Service: ServiceShCR})
	require.Len(t, got, 2)
	assert.Equal(t, []uint64{1, 2}, seqsOf(got))
	assert.Equal(t, clock, got[0].Recorded)
	assert.Equal(t, clock, got[0].Time, "a zero time is the log's clock")
	assert.Equal(t, t0, got[1].Time)
	want := e.Clone()
	want.Seq, want.Recorded, want.Time = 1, clock, clock
	assert.Equal(t, want, got[0])
}

func TestLogConcurrentWriters(t *testing.T) {
	l := openTestLog(t, t.TempDir(), WithTuning(Tuning{IndexFlushEvents: 300, SegmentSize: 64 << 10}))
	const writers, each = 16, 100
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				e := readEvent(t0.Add(time.Duration(i)*time.Minute), clinician(), patientA)
				e.RequestID = "w" + string(rune('a'+w)) + "-" + time.Duration(i).String()
				assert.NoError(t, l.Write(context.Background(), e))
			}
		}()
	}
	wg.Wait()
	require.Equal(t, uint64(writers*each), l.Size())
	require.NoError(t, l.Verify(context.Background()))
	seen := map[string]bool{}
	for _, e := range queryAll(t, l, officer(), Filter{Patient: patientA}) {
		assert.False(t, seen[e.RequestID], "each event once")
		seen[e.RequestID] = true
	}
	assert.Len(t, seen, writers*each)
	segs, err := filepath.Glob(filepath.Join(l.st.Dir(), segmentsDir, "*.seg"))
	require.NoError(t, err)
	assert.Greater(t, len(segs), 1, "small segments roll over")
	require.NoError(t, l.Close())
	for _, name := range segs {
		data, err := os.ReadFile(name)
		require.NoError(t, err)
		assert.Equal(t, len(data), segmentDataEnd(data), "%s: a rolled or closed segment ends with its data, no zeros filled ahead", filepath.Base(name))
	}
}

func TestLogReopen(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenLog(dir, WithTuning(Tuning{IndexFlushEvents: 7, SegmentSize: 4 << 10}))
	require.NoError(t, err)
	for i := 0; i < 50; i++ {
		writeAll(t, l, readEvent(t0.Add(time.Duration(i)*time.Minute), clinician(), []shcrkit.NHSNumber{patientA, patientB}[i%2]))
	}
	c1, ok := l.Checkpoint()
	require.True(t, ok)
	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "Close is idempotent")
	assert.ErrorIs(t, l.Write(context.Background(), readEvent(t0, clinician(), patientA)), ErrClosed)
	assert.ErrorIs(t, l.Verify(context.Background()), ErrClosed)

	l = openTestLog(t, dir, WithTuning(Tuning{IndexFlushEvents: 7, SegmentSize: 4 << 10}))
	assert.Equal(t, uint64(50), l.Size())
	assert.False(t, l.Recovered().Torn())
	c2, ok := l.Checkpoint()
	require.True(t, ok)
	assert.Equal(t, uint64(50), c2.Size, "Close signed a checkpoint of everything")
	require.NoError(t, l.VerifyCheckpoint(context.Background(), c1.Signed))
	writeAll(t, l, readEvent(t0, nurse(), patientC))
	assert.Equal(t, uint64(51), l.Size())
	require.NoError(t, l.Verify(context.Background()))
	assert.Len(t, queryAll(t, l, officer(), Filter{Patient: patientA, Service: ServiceShCR}), 25)
	assert.Len(t, queryAll(t, l, officer(), Filter{Patient: patientC, Service: ServiceShCR}), 1)
}

func TestLogLocked(t *testing.T) {
	dir := t.TempDir()
	openTestLog(t, dir)
	_, err := OpenLog(dir)
	assert.ErrorIs(t, err, ErrLocked)
}

func TestLogRejectsBadInput(t *testing.T) {
	l := openTestLog(t, t.TempDir())
	assert.ErrorIs(t, l.Write(context.Background(), Event{}), ErrInvalidEvent)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, l.Write(ctx, readEvent(t0, clinician(), patientA)), context.Canceled)
	assert.Zero(t, l.Size())
}

func TestLogOptions(t *testing.T) {
	bad := []LogOption{nil, WithSigningKey("nonsense"), WithOrigin(""), WithOrigin("has space"), WithOrigin("a+b"),
		WithCheckpointInterval(0), WithTuning(Tuning{SegmentSize: 10}), WithTuning(Tuning{SegmentSize: 2 << 30}),
		WithTuning(Tuning{IndexFlushEvents: -1}), WithTuning(Tuning{MaxBatch: 1 << 17}), WithClock(nil),
		WithCheckpointFunc(nil), WithLogger(nil)}
	for i, o := range bad {
		_, err := OpenLog(t.TempDir(), o)
		assert.ErrorIs(t, err, ErrInvalidOption, i)
	}
	_, err := OpenLog("")
	assert.ErrorIs(t, err, ErrInvalidOption)
}

func TestLogKeys(t *testing.T) {
	t.Run("generated and kept in the directory", func(t *testing.T) {
		dir := t.TempDir()
		l, err := OpenLog(dir, WithOrigin("riverside.audit"))
		require.NoError(t, err)
		vkey := l.VerifierKey()
		assert.Equal(t, "riverside.audit", l.st.Origin())
		writeAll(t, l, readEvent(t0, clinician(), patientA))
		require.NoError(t, l.Close())
		info, err := os.Stat(filepath.Join(dir, signingKeyFile))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
		pub, err := os.ReadFile(filepath.Join(dir, verifierFile))
		require.NoError(t, err)
		assert.Equal(t, vkey+"\n", string(pub))

		l = openTestLog(t, dir)
		assert.Equal(t, vkey, l.VerifierKey())
		assert.Equal(t, "riverside.audit", l.st.Origin(), "the origin comes with the key")
	})
	t.Run("given, not written", func(t *testing.T) {
		skey, vkey, err := GenerateSigningKey("hilltop.audit")
		require.NoError(t, err)
		dir := t.TempDir()
		l := openTestLog(t, dir, WithSigningKey(skey))
		assert.Equal(t, vkey, l.VerifierKey())
		assert.Equal(t, "hilltop.audit", l.st.Origin())
		_, err = os.Stat(filepath.Join(dir, signingKeyFile))
		assert.ErrorIs(t, err, os.ErrNotExist)
		require.NoError(t, l.Close())

		other, _, err := GenerateSigningKey("hilltop.audit")
		require.NoError(t, err)
		_, err = OpenLog(dir, WithSigningKey(other))
		assert.ErrorIs(t, err, ErrTampered, "a log cannot be reopened with another key")
		_, err = OpenLog(dir, WithSigningKey(skey), WithOrigin("other"))
		assert.ErrorIs(t, err, ErrInvalidOption)
	})
	t.Run("missing key for an existing log", func(t *testing.T) {
		dir := t.TempDir()
		l, err := OpenLog(dir)
		require.NoError(t, err)
		writeAll(t, l, readEvent(t0, clinician(), patientA))
		require.NoError(t, l.Close())
		require.NoError(t, os.Remove(filepath.Join(dir, signingKeyFile)))
		_, err = OpenLog(dir)
		assert.ErrorIs(t, err, ErrTampered)
	})
	_, _, err := GenerateSigningKey("bad name")
	assert.ErrorIs(t, err, ErrInvalidOption)
}

func TestLogCheckpoints(t *testing.T) {
	var mu sync.Mutex
	var seen []Checkpoint
	l := openTestLog(t, t.TempDir(), WithCheckpointFunc(func(c Checkpoint) {
		mu.Lock()
		seen = append(seen, c)
		mu.Unlock()
	}))
	ctx := context.Background()
	_, ok := l.Checkpoint()
	assert.False(t, ok)
	_, err := l.SignCheckpoint(ctx)
	assert.ErrorIs(t, err, ErrNotFound, "nothing to sign in an empty log")

	writeAll(t, l, readEvent(t0, clinician(), patientA), readEvent(t0, clinician(), patientB))
	c, err := l.SignCheckpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), c.Size)
	assert.Equal(t, l.st.Origin(), c.Origin)
	opened, err := OpenCheckpoint(l.VerifierKey(), c.Signed)
	require.NoError(t, err)
	assert.Equal(t, c, opened)
	assert.Equal(t, c.Text(), string(c.Signed[:len(c.Text())]))

	again, err := l.SignCheckpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, c, again, "no new checkpoint without new events")
	mu.Lock()
	assert.Len(t, seen, 1)
	assert.Equal(t, c, seen[0])
	mu.Unlock()
}

func TestPeriodicCheckpoint(t *testing.T) {
	signed := make(chan Checkpoint, 10)
	l := openTestLog(t, t.TempDir(), WithCheckpointInterval(5*time.Millisecond),
		WithCheckpointFunc(func(c Checkpoint) { signed <- c }))
	writeAll(t, l, readEvent(t0, clinician(), patientA))
	c := <-signed
	assert.Equal(t, uint64(1), c.Size)
}

func TestMultiWithLog(t *testing.T) {
	l := openTestLog(t, t.TempDir())
	m := &memSink{}
	require.NoError(t, Multi(l, m).Write(context.Background(), readEvent(t0, clinician(), patientA)))
	assert.Equal(t, uint64(1), l.Size())
	assert.Len(t, m.events, 1)
}

// After an I/O error the log refuses everything (fail closed) until it is
// reopened, and what was acknowledged before survives.
func TestLogFailsClosed(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenLog(dir)
	require.NoError(t, err)
	writeAll(t, l, readEvent(t0, clinician(), patientA))
	ctx := context.Background()

	// The writer's next write goes to a closed file.
	require.NoError(t, l.st.CloseActiveSegment())
	err = l.Write(ctx, readEvent(t0, clinician(), patientB))
	require.ErrorIs(t, err, ErrLogFailed)
	assert.ErrorIs(t, l.Write(ctx, readEvent(t0, clinician(), patientB)), ErrLogFailed, "no write is accepted after a failure")
	_, err = l.SignCheckpoint(ctx)
	assert.ErrorIs(t, err, ErrLogFailed)
	for _, err := range l.Query(ctx, officer(), Filter{}) {
		assert.ErrorIs(t, err, ErrLogFailed, "a query that cannot be audited is refused")
	}
	assert.ErrorIs(t, l.Close(), ErrLogFailed)

	l = openTestLog(t, dir)
	assert.Equal(t, uint64(1), l.Size())
	require.NoError(t, l.Verify(ctx))
	writeAll(t, l, readEvent(t0, clinician(), patientC))
	assert.Equal(t, uint64(2), l.Size())
}

func TestSyncEveryEvent(t *testing.T) {
	l := openTestLog(t, t.TempDir(), withSyncEveryEvent())
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				assert.NoError(t, l.Write(context.Background(), smallEvent(i, patientA)))
			}
		}()
	}
	wg.Wait()
	require.NoError(t, l.Close())
	seg, err := os.ReadFile(filepath.Join(l.st.Dir(), segmentsDir, segmentName(1)))
	require.NoError(t, err)
	assert.Len(t, frameOffsets(t, seg), 80, "every event has its own commit")
}
