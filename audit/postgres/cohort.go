package postgres

import "time"

// The writers of a batch are answered together and queue their next
// events together, a moment later. Taken at once, the first of them would
// make a batch of their own and the rest the next one, and the store would
// go on committing two half batches in turn, each a transaction, a WAL
// flush and two round trips. So before it takes a batch, the writer
// goroutine waits, briefly, for as many events as the last batch and its
// queue held: only when that showed concurrency, for at most half a
// commit's time (and never more than cohortMaxWait), and no longer than it
// takes them to arrive.

// cohortMaxWait bounds the writer's wait for a cohort.
const cohortMaxWait = time.Millisecond

// queued is called by Append once its event is queued: it ends the
// writer's wait when the cohort is complete.
func (s *Store) queued() {
	if w := s.want.Load(); w > 0 && int64(len(s.reqs)) >= w {
		select {
		case s.cohort <- struct{}{}:
		default:
		}
	}
}

// awaitCohort waits until the events expected in the next batch are
// queued (have of them already taken), or half a commit's time has
// passed, whichever is first.
func (s *Store) awaitCohort(have int) {
	target := min(s.w.expect, s.cfg.maxBatch)
	if target <= 1 || have+len(s.reqs) >= target {
		return
	}
	s.want.Store(int64(target - have))
	if have+len(s.reqs) < target {
		if s.w.cohortTimer == nil {
			s.w.cohortTimer = time.NewTimer(time.Hour)
		}
		s.w.cohortTimer.Reset(min(s.w.commitAvg/2, cohortMaxWait))
		select {
		case <-s.cohort:
		case <-s.w.cohortTimer.C:
		}
		s.w.cohortTimer.Stop()
	}
	s.want.Store(0)
	select {
	case <-s.cohort: // a late signal must not end the next wait early
	default:
	}
}
