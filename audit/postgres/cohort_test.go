package postgres

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

// cohortStore is a Store with just what the writer's wait for a cohort
// uses: a queue, the last batch's size and commit time.
func cohortStore(expect int, commitAvg time.Duration) *Store {
	s := &Store{cfg: config{maxBatch: 16}, reqs: make(chan *writeReq, 16), cohort: make(chan struct{}, 1)}
	s.w.expect, s.w.commitAvg = expect, commitAvg
	return s
}

// queue queues n events as Append does.
func (s *Store) queue(n int) {
	for range n {
		s.reqs <- &writeReq{}
		s.queued()
	}
}

func TestAwaitCohort(t *testing.T) {
	tests := []struct {
		name      string
		expect    int
		commitAvg time.Duration
		arrive    int           // events queued while the writer waits
		waited    time.Duration // how long the writer waits
	}{
		{"the cohort arrives", 4, 10 * time.Millisecond, 3, 0},
		{"part of it arrives: half a commit", 4, 600 * time.Microsecond, 2, 300 * time.Microsecond},
		{"part of it arrives: at most cohortMaxWait", 4, time.Second, 1, cohortMaxWait},
		{"no concurrency last time: no wait", 1, time.Second, 0, 0},
		{"more than the last batch arrives", 3, time.Second, 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := cohortStore(tt.expect, tt.commitAvg)
				start := time.Now()
				var waited time.Duration
				done := make(chan struct{})
				go func() {
					s.awaitCohort(1) // the batch's first event is taken
					waited = time.Since(start)
					close(done)
				}()
				synctest.Wait()
				s.queue(tt.arrive)
				<-done
				assert.Equal(t, tt.waited, waited)
				assert.Zero(t, s.want.Load(), "no wait is left armed")
				assert.Empty(t, s.cohort, "no signal is left for the next wait")
			})
		})
	}
}

func TestAwaitCohortQueuedAlready(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cohortStore(4, time.Second)
		s.queue(3)
		start := time.Now()
		s.awaitCohort(1)
		assert.Zero(t, time.Since(start), "the cohort was queued before the writer looked")
	})
}
