package logstore

import (
	"fmt"
	"time"
)

// flight is a batch written to its segment, on its way to the syncer.
type flight struct {
	seg     *segment
	reqs    []*writeReq
	last    uint64 // the seq of its last event
	hashes  []byte // its stored hashes, to append to the hashes file
	nhashes int64
	table   []byte // its table entries, to append to the table
	witness *Checkpoint
}

// syncLoop is the syncer goroutine.
func (l *Store) syncLoop() {
	defer close(l.syncerDone)
	for f := range l.flights {
		l.land(f)
	}
}

// land makes a flight durable and acknowledges it: fsync; then its
// stored hashes and table entries, which are written only once the batch
// is durable and before any of its events is acknowledged, so that an
// entry in the table records that its event was acknowledged (what tells
// the loss of acknowledged events from a torn tail); then the index, the
// size that readers take as their snapshot, the witness and the answers.
func (l *Store) land(f *flight) {
	defer l.inFlight.Done()
	err := l.failed()
	if err == nil {
		if err = l.syncFlight(f); err != nil {
			err = l.fail(err)
		}
	}
	if err == nil {
		l.idx.addBatch(f.reqs)
		l.size.Store(f.last)
		if f.witness != nil {
			l.cfg.OnCheckpoint(*f.witness)
		}
	}
	answer(f.reqs, err)
}

func (l *Store) syncFlight(f *flight) error {
	t0 := time.Now()
	if err := syncData(f.seg.f); err != nil {
		return fmt.Errorf("syncing %s: %w", f.seg.name, err)
	}
	avg := l.syncAvg.Load()
	l.syncAvg.Store(avg + (int64(time.Since(t0))-avg)/8)
	if err := l.hashes.writeTaken(f.hashes, f.nhashes); err != nil {
		return fmt.Errorf("writing hashes: %w", err)
	}
	if err := l.table.writeTaken(f.table); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	return nil
}

// drain waits until every flight handed to the syncer has landed, so
// that the writer goroutine sees the files, the index and the size as
// they are when nothing is in flight.
func (l *Store) drain() { l.inFlight.Wait() }

// stopSyncer ends the syncer goroutine after the last flight.
func (l *Store) stopSyncer() {
	close(l.flights)
	<-l.syncerDone
}
