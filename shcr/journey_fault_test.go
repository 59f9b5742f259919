package shcr_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A sink's own error text may carry the patient's NHS number (a store
// that echoes the row it refused); the journey's error must not pass it
// on, as every other error it returns does not.
func TestAuditErrorMasksNHSNumber(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	nhs := pdstest.Patients.Normal
	for _, step := range []string{stepTrace, stepBoundary, stepSearch} {
		sink := failingSink{next: audittest.NewRecorder(), fail: func(e audit.Event) error {
			if stepOf(e) == step {
				return fmt.Errorf("store refused event for patient %s", e.Patient)
			}
			return nil
		}}
		_, err := newJourney(t, w, sink).Records(context.Background(), encounter(w, nhs))
		require.ErrorIs(t, err, shcr.ErrAudit, step)
		assert.NotContains(t, err.Error(), string(nhs), step)
	}
}

func settleGoroutines(t *testing.T, want int) int {
	t.Helper()
	var n int
	for range 200 {
		runtime.GC()
		n = runtime.NumGoroutine()
		if n <= want {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

// cancelOnDecision cancels the journey's context once the first record
// decision is written.
type cancelOnDecision struct {
	next   audit.Sink
	cancel context.CancelFunc
	once   sync.Once
}

func (s *cancelOnDecision) Write(ctx context.Context, e audit.Event) error {
	err := s.next.Write(ctx, e)
	if stepOf(e) == stepDecision {
		s.once.Do(s.cancel)
	}
	return err
}

// A journey whose caller cancels it part way leaves no goroutine behind.
func TestCancelledRecordsLeaksNothing(t *testing.T) {
	w := newWorld(t)
	rec := audittest.NewRecorder()
	var sink cancelOnDecision
	sink.next = rec
	c := newJourney(t, w, &sink)
	// Warm up connections.
	res, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Normal))
	require.NoError(t, err)
	require.NoError(t, res.Close())
	before := steadyGoroutines()
	rec.Reset()
	for range 5 {
		ctx, cancel := context.WithCancel(context.Background())
		sink.once = sync.Once{}
		sink.cancel = cancel
		res, err = c.Records(ctx, encounter(w, pdstest.Patients.Normal))
		cancel()
		require.NoError(t, err)
		require.NoError(t, res.Close())
	}
	after := settleGoroutines(t, before)
	assert.LessOrEqual(t, after, before, "goroutines leaked")
}

// steadyGoroutines is the number of goroutines once it has stopped
// changing: what earlier work left winding down has ended.
func steadyGoroutines() int {
	last, same := -1, 0
	for range 200 {
		runtime.GC()
		n := runtime.NumGoroutine()
		if n == last {
			if same++; same == 3 {
				return n
			}
		} else {
			last, same = n, 0
		}
		time.Sleep(10 * time.Millisecond)
	}
	return last
}

// blockingSink blocks on one step's event, ignoring its context.
type blockingSink struct {
	next    audit.Sink
	step    string
	release chan struct{}
	hits    atomic.Int32
}

func (s *blockingSink) Write(ctx context.Context, e audit.Event) error {
	if stepOf(e) == s.step {
		s.hits.Add(1)
		<-s.release
		return errors.New("late")
	}
	return s.next.Write(ctx, e)
}

// A sink that blocks and ignores its context fails the journey closed at
// the audit timeout, rather than holding it for ever.
func TestBlockedSinkFailsClosed(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the audit timeout")
	}
	w := newWorld(t)
	sink := &blockingSink{next: audittest.NewRecorder(), step: stepTrace, release: make(chan struct{})}
	defer close(sink.release)
	c := newJourney(t, w, sink)
	done := make(chan error, 1)
	go func() {
		_, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Normal))
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, shcr.ErrAudit)
	case <-time.After(20 * time.Second):
		t.Fatal("the journey hangs on a sink that ignores its context")
	}
}
