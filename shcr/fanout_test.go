package shcr_test

import (
	"context"
	"sync"
	"testing"

	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gatedSink holds each pointer decision's write until as many are in
// flight as the journey may have (bound), or as are left to write, so
// that decisions written together are seen together; it remembers the
// most it saw at once.
type gatedSink struct {
	bound, total int

	mu                    sync.Mutex
	gate                  chan struct{}
	inflight, done, most  int
	decisions, retrievals int
}

func newGatedSink(bound, total int) *gatedSink {
	return &gatedSink{bound: bound, total: total, gate: make(chan struct{})}
}

// openIfFull opens the gate when the writes in flight are all there can
// be; s.mu is held.
func (s *gatedSink) openIfFull() {
	if s.inflight > 0 && s.inflight >= min(s.bound, s.total-s.done) {
		close(s.gate)
		s.gate = make(chan struct{})
	}
}

func (s *gatedSink) Write(_ context.Context, e audit.Event) error {
	if stepOf(e) != stepDecision {
		s.mu.Lock()
		if stepOf(e) == stepRetrieval {
			s.retrievals++
		}
		s.mu.Unlock()
		return nil
	}
	s.mu.Lock()
	s.decisions++
	s.inflight++
	s.most = max(s.most, s.inflight)
	gate := s.gate
	s.openIfFull()
	s.mu.Unlock()
	<-gate
	s.mu.Lock()
	s.inflight--
	s.done++
	s.openIfFull()
	s.mu.Unlock()
	return nil
}

// TestDecisionWritesBounded checks that the decisions of a journey with
// more pointers than the bound are written together, but never more than
// 32 at once, and that each is written once.
func TestDecisionWritesBounded(t *testing.T) {
	t.Parallel()
	const pointers, bound = 45, 32
	w := newWorld(t)
	nhs := pdstest.Patients.Minimal
	for i := range pointers {
		r := w.Regions[i%len(w.Regions)]
		_, err := w.AddPointer(nrls.PointerSpec{NHSNumber: nhs, Custodian: r.Custodian(), Type: nrls.TypeContingencyPlan})
		require.NoError(t, err)
	}
	for _, journey := range []string{"discover", "records"} {
		t.Run(journey, func(t *testing.T) {
			sink := newGatedSink(bound, pointers)
			c := newJourney(t, w, sink)
			var n int
			if journey == "discover" {
				d, err := c.Discover(t.Context(), encounter(w, nhs))
				require.NoError(t, err)
				n = len(d.Pointers)
			} else {
				res, err := c.Records(t.Context(), encounter(w, nhs))
				require.NoError(t, err)
				t.Cleanup(func() { res.Close() })
				require.Empty(t, res.Failures)
				n = len(res.Records)
				assert.Equal(t, pointers, sink.retrievals)
			}
			assert.Equal(t, pointers, n)
			assert.Equal(t, pointers, sink.decisions)
			assert.Equal(t, bound, sink.most, "decision writes in flight at once")
		})
	}
}
