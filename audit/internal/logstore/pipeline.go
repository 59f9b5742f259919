package logstore

import (
	"fmt"
	"os"
	"time"
)

// syncSlots is how many batches may be fsyncing at once. While a batch
// syncs, the writer already builds the next one (its frames, hashes and
// table entries) and writes it to the segment, so only the fsync itself
// waits for the one before. One slot measured best on the disks we test
// on: with 64 writers, 97–109k events/s and 0.93–1.01 × the naive
// baseline, against 82–107k and 0.82–0.99 × with two slots, whose smaller
// batches cost twice the fsyncs and more CPU per event (three slots were
// slower still). A disk that serves several flushes at once for the time
// of one may gain from more.
var syncSlots = 1

// flight is a batch written to its segment, on its way to durability.
type flight struct {
	seg     *segment
	reqs    []*writeReq
	last    uint64 // the seq of its last event
	hashes  []byte // its stored hashes, to append to the hashes file
	nhashes int64
	table   []byte // its table entries, to append to the table
	witness *Checkpoint
	synced  chan error // the result of its fsync
}

// The commit pipeline. The writer goroutine takes a sync slot (waiting
// while all are busy, which is when the next batch grows), collects the
// queued events, writes them to the segment and starts the batch's
// fsync on a goroutine of its own, through the slot's own file
// descriptor; then it hands the flight to the lander. The lander takes
// the flights in the order they were written, waits for each one's
// fsync, then writes its stored hashes and table entries, indexes it,
// publishes the new size and answers its callers.
//
// Each slot fsyncs through a file descriptor of its own (opened on the
// segment file for that slot alone) because Linux reports a failed
// writeback once per open file description: two fsyncs running at once
// on one descriptor can see the failure of the first batch's pages
// reported to the second only, and the first batch would be acknowledged.
// With a descriptor per slot every fsync that overlaps the failure sees
// it. A failed fsync fails the log, and no later batch is acknowledged.

// slotFile returns the descriptor slot i fsyncs segment s through.
func (s *segment) slotFile(i int) (*os.File, error) {
	if s.syncFDs == nil {
		s.syncFDs = make([]*os.File, syncSlots)
	}
	if s.syncFDs[i] == nil {
		f, err := os.OpenFile(s.path, os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", s.name, err)
		}
		s.syncFDs[i] = f
	}
	return s.syncFDs[i], nil
}

// closeSlotFiles closes the descriptors the slots fsynced s through,
// once no fsync of s can be running.
func (s *segment) closeSlotFiles() {
	for i, f := range s.syncFDs {
		if f != nil {
			f.Close()
			s.syncFDs[i] = nil
		}
	}
}

// takeSlot gives the writer a sync slot, waiting while every slot is
// busy.
func (l *Store) takeSlot() {
	if l.slot < 0 {
		l.slot = <-l.slots
	}
}

// launch starts the fsync of a written flight in the writer's slot and
// hands the flight to the lander.
func (l *Store) launch(f *flight) {
	slot := l.slot
	l.slot = -1
	f.synced = make(chan error, 1)
	fd, err := f.seg.slotFile(slot)
	if err != nil {
		f.synced <- err
		l.slots <- slot
	} else {
		go func() {
			t0 := time.Now()
			err := syncData(fd)
			if err == nil {
				avg := l.syncAvg.Load()
				l.syncAvg.Store(avg + (int64(time.Since(t0))-avg)/8)
			} else {
				err = fmt.Errorf("syncing %s: %w", f.seg.name, err)
			}
			f.synced <- err
			l.slots <- slot
		}()
	}
	l.inFlight.Add(1)
	l.flights <- f
}

// syncLoop is the lander goroutine.
func (l *Store) syncLoop() {
	defer close(l.syncerDone)
	for f := range l.flights {
		l.land(f)
	}
}

// land acknowledges a flight once it is durable: its fsync; then its
// stored hashes and table entries, which are written only once the batch
// is durable and before any of its events is acknowledged, so that an
// entry in the table records that its event was acknowledged (what tells
// the loss of acknowledged events from a torn tail); then the index, the
// size that readers take as their snapshot, the witness and the answers.
func (l *Store) land(f *flight) {
	defer l.inFlight.Done()
	serr := <-f.synced
	l.batchSyncs.Add(1)
	err := l.failed()
	if err == nil && serr != nil {
		err = l.fail(serr)
	}
	if err == nil {
		if err = l.landFlight(f); err != nil {
			err = l.fail(err)
		}
	}
	l.putSpare(f.hashes)
	l.putSpare(f.table)
	if err == nil {
		l.idx.addBatch(f.reqs)
		l.size.Store(f.last)
		if f.witness != nil {
			l.cfg.OnCheckpoint(*f.witness)
		}
	}
	answer(f.reqs, err)
}

func (l *Store) landFlight(f *flight) error {
	if err := l.hashes.writeTaken(f.hashes, f.nhashes); err != nil {
		return fmt.Errorf("writing hashes: %w", err)
	}
	if err := l.table.writeTaken(f.table); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	return nil
}

// spareBuf returns an empty buffer from a landed flight, or nil.
func (l *Store) spareBuf() []byte {
	select {
	case b := <-l.spare:
		return b
	default:
		return nil
	}
}

// putSpare keeps a landed flight's buffer for another.
func (l *Store) putSpare(b []byte) {
	if b == nil || cap(b) > 1<<20 {
		return
	}
	select {
	case l.spare <- b[:0]:
	default:
	}
}

// drain waits until every flight handed to the lander has landed, so
// that the writer goroutine sees the files, the index and the size as
// they are when nothing is in flight.
func (l *Store) drain() { l.inFlight.Wait() }

// stopSyncer ends the lander goroutine after the last flight.
func (l *Store) stopSyncer() {
	close(l.flights)
	<-l.syncerDone
}
