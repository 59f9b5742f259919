package logstore

import (
	"context"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Store is the storage engine of an embedded audit log: segments of
// framed records, the Merkle tree's stored hashes, the table, the
// investigation index, checkpoints, recovery and verification. It knows
// records only as bytes; a Codec tells it what an event's table entry
// and index keys are.
//
// Its concurrency design:
//
//   - Callers' goroutines (Append) reserve the next seq, frame the
//     record, hash its leaf and queue it on reqs; each then waits for the
//     answer on its request's own done channel.
//   - One writer goroutine (run) takes queued events in seq order, in
//     batches (group commit), builds each batch's frames, stored hashes
//     and table entries, writes the frames to the segment and starts the
//     batch's fsync in a sync slot (pipeline.go): up to syncSlots batches
//     fsync at once, and while every slot is busy the next batch grows.
//     It alone changes the fields it owns below.
//   - One lander goroutine takes the batches in order, waits for each
//     one's fsync, then writes its stored hashes and table entries,
//     indexes it, publishes the new size and answers its callers.
//     Checkpoints, index flushes and segment rolls happen on the writer
//     goroutine once the flights have landed (drain); a periodic
//     checkpoint first has the stored hashes and the table synced on a
//     goroutine of its own while commits go on (startPresync).
//   - One zeroer goroutine keeps the space after the active segment's
//     data filled with zeros, so that a batch's fdatasync has no new
//     blocks or size to commit (zerofill.go).
//   - Readers (Verify, queries, proofs) read files with ReadAt beside the
//     writer's appends. They see what the writer has published: size
//     (every event up to it is durable, in the table and indexed), segs
//     (under segMu), ckpt (under ckptMu), the index (its own lock) and
//     the stored hashes' and table's counts (atomics in those types).
//   - mu guards the lifecycle: closed and failErr, and inflight, the
//     requests admitted but not yet queued, which Close waits for before
//     it closes reqs (so that no send on reqs can follow the close).
type Store struct {
	// Fixed by Open.
	dir      string
	cfg      Config
	signer   note.Signer
	verifier note.Verifier
	vkey     string
	unlock   func() error
	recovery Recovery

	// The lifecycle, under mu.
	mu       sync.Mutex
	closed   bool           // Close has begun: admit nothing more
	failErr  error          // the first write failure: admit no more writes
	inflight sync.WaitGroup // admitted requests not yet queued

	// Between callers and the writer goroutine.
	reqs     chan *writeReq // queued events
	ctl      chan ctlReq    // control requests (sign a checkpoint)
	done     chan struct{}  // closed when the writer goroutine ends
	reserved atomic.Uint64  // the last seq given to a caller
	want     atomic.Int64   // writer: queued events that end awaitCohort's wait (0: not waiting)
	cohort   chan struct{}  // a caller signals here when want events are queued

	// Owned by the writer goroutine (by Open before it starts, by Close
	// after it ends).
	seg              *segment   // the segment being appended to
	hashes           *hashStore // pending hashes and the frontier
	table            *table     // pending entries
	next             uint64     // the seq the next committed event must have
	wbuf             []byte     // a batch's bytes
	lastCheckpointAt time.Time
	expect           int // events expected in the next batch
	cohortTimer      *time.Timer
	presync          chan error // the result of a running presync, or nil
	saved            logState   // what the state file says
	statePresent     bool       // whether there is a state file
	closeErr         error      // read by Close after done

	// Between the writer goroutine, the fsyncs it starts and the lander
	// goroutine, which acknowledges the batches in order once they are
	// durable (pipeline.go).
	flights    chan *flight
	inFlight   sync.WaitGroup // flights handed over and not yet answered
	syncerDone chan struct{}  // closed when the lander ends
	syncAvg    atomic.Int64   // moving average of an fsync, ns
	slots      chan int       // free sync slots
	spare      chan []byte    // buffers of landed flights' hashes and table entries
	slot       int            // the slot the writer holds, or -1 (writer)

	// Between the writer goroutine and the zeroer (zerofill.go).
	zwake chan *segment // a segment to fill ahead of its data
	zdone chan struct{} // closed when the zeroer ends

	// Published by the writer and lander goroutines for readers.
	size        atomic.Uint64 // events committed, in the table and indexed (lander)
	segMu       sync.RWMutex
	segs        []*segment // ascending; the writer appends
	ckptMu      sync.RWMutex
	ckpt        Checkpoint // the latest stored checkpoint
	idx         *index
	recordReads atomic.Int64 // records read back, for benchmarks
	batchSyncs  atomic.Int64 // batches fsynced, for benchmarks
}

type segment struct {
	first   uint64
	name    string
	path    string
	f       *os.File
	size    int64      // end of the data
	syncFDs []*os.File // per sync slot (pipeline.go); writer and lander

	// Zero-filling ahead of the data (zerofill.go).
	zmu    sync.Mutex   // held by the zeroer, and by a write past zeroed
	zeroed atomic.Int64 // the zeroer fills only at or after it
	zstop  bool         // under zmu: fill no more
}

// Pending is an event on its way into the log, as a caller prepares it.
type Pending struct {
	// Body is the event's JSON object without "seq" and "recorded",
	// which the store puts in front when it assigns them. Append copies
	// it: the caller may reuse it once Append returns.
	Body []byte
	// Keys are the event's index keys. Append copies the slice (not the
	// strings, which the index may keep).
	Keys []string
	// Entry holds the event's part of its table entry (Time to Purpose).
	Entry Entry
	// Recorded is the record's "recorded" time; zero takes the store's
	// clock. It must be a time RFC 3339 can write (years 0 to 9999), or
	// Append refuses the event with ErrBadTime.
	Recorded time.Time
}

// writeReq is one event on its way to disk: everything that can be
// prepared on the caller's goroutine, in parallel with other callers.
type writeReq struct {
	seq   uint64
	frame []byte    // the event frame
	rec   int       // offset of the record in frame
	leaf  tlog.Hash // tlog.RecordHash of the record
	keys  []string
	entry Entry
	done  chan error
	kbuf  [4]string // keys' array, for up to four
}

type ctlOp int

const (
	ctlCheckpoint ctlOp = iota + 1
)

type ctlReq struct {
	op   ctlOp
	done chan error
}

// Recovery reports what Open found and repaired.
type Recovery struct {
	// TornBytes is how many bytes of an unfinished batch OpenLog cut from
	// the end of the last segment: a write that a crash interrupted and
	// that was therefore never acknowledged.
	TornBytes int64
	// TornEvents is how many whole event records those bytes held.
	TornEvents int
	// TornSegment names the segment file that was cut.
	TornSegment string
	// TornReason says what was wrong at the cut.
	TornReason string
	// SavedTo is the file the cut bytes were saved to, for inspection.
	SavedTo string
	// Replayed is how many events after the last checkpoint OpenLog read
	// back to rebuild the stored hashes, the table and the index.
	Replayed int
	// NoCheckpoint is set when the log held events but had never stored a
	// checkpoint (a crash before the first one).
	NoCheckpoint bool
}

// Torn reports whether a torn tail was cut.
func (r Recovery) Torn() bool { return r.TornSegment != "" }

// Recovered reports what Open repaired.
func (l *Store) Recovered() Recovery { return l.recovery }

// Dir returns the log's directory.
func (l *Store) Dir() string { return l.dir }

// Origin returns the log's name, the first line of its checkpoints.
func (l *Store) Origin() string { return l.cfg.Origin }

// VerifierKey returns the note verifier key of the log's checkpoints.
func (l *Store) VerifierKey() string { return l.vkey }

// Size returns the number of events committed, which is also the seq of
// the last one.
func (l *Store) Size() uint64 { return l.size.Load() }

// RecordReads returns how many records have been read back.
func (l *Store) RecordReads() int64 { return l.recordReads.Load() }

// BatchSyncs returns how many batches have been fsynced: the group
// commits.
func (l *Store) BatchSyncs() int64 { return l.batchSyncs.Load() }

// Checkpoint returns the latest stored checkpoint, and false when none
// has been signed yet.
func (l *Store) Checkpoint() (Checkpoint, bool) {
	l.ckptMu.RLock()
	defer l.ckptMu.RUnlock()
	return l.ckpt, l.ckpt.Size > 0
}

// Append commits the event and returns its seq once it is durable
// (group commit). When ctx ends while the event is queued, Append returns
// ctx.Err() and the event may or may not be committed. After a failed
// write or fsync the store accepts no more events (ErrLogFailed).
func (l *Store) Append(ctx context.Context, p Pending) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(p.Body) > maxPayload-256 {
		return 0, ErrTooLarge
	}
	recorded := p.Recorded
	if recorded.IsZero() {
		recorded = l.cfg.Now()
	}
	if y := recorded.UTC().Year(); y < 0 || y > 9999 {
		// A record whose time cannot be read back would be acknowledged
		// and then fail every read as if it had been tampered with.
		return 0, ErrBadTime
	}
	if err := l.enter(); err != nil {
		return 0, err
	}
	req := reqPool.Get().(*writeReq)
	req.keys, req.entry = append(req.kbuf[:0], p.Keys...), p.Entry
	// From here the event will be committed whatever happens to ctx: a
	// reserved seq is never left empty.
	req.seq = l.reserved.Add(1)
	req.frame, req.rec = appendEventFrameAt(getFrame(len(p.Body)+96), req.seq, recorded, p.Body)
	req.leaf = tlog.RecordHash(req.frame[req.rec:])
	l.reqs <- req
	l.inflight.Done()
	if w := l.want.Load(); w > 0 && int64(len(l.reqs)) >= w {
		select {
		case l.cohort <- struct{}{}:
		default:
		}
	}
	var err error
	if ctxDone := ctx.Done(); ctxDone == nil {
		err = <-req.done // a context that never ends: a plain receive
	} else {
		select {
		case err = <-req.done:
		case <-ctxDone:
			// The answer is still to come: req is left to the garbage
			// collector.
			return 0, ctx.Err()
		}
	}
	// Nothing touches req once it is answered: it can serve another
	// event.
	seq := req.seq
	*req = writeReq{done: req.done}
	reqPool.Put(req)
	if err != nil {
		return 0, err
	}
	return seq, nil
}

// reqPool holds writeReqs, each with its done channel, for reuse.
var reqPool = sync.Pool{New: func() any { return &writeReq{done: make(chan error, 1)} }}

// framePool holds the buffers of frames that the writer has copied into
// a batch.
var framePool sync.Pool

// getFrame returns an empty buffer for a frame of about n bytes.
func getFrame(n int) []byte {
	if p, ok := framePool.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]byte, 0, max(n, 1024))
}

// putFrame returns a frame's buffer for reuse.
func putFrame(b []byte) {
	if cap(b) <= 16<<10 {
		framePool.Put(&b)
	}
}

// enter admits one request to the writer unless the store is closed or
// has failed.
func (l *Store) enter() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.failErr != nil {
		return fmt.Errorf("%w: %v", ErrLogFailed, l.failErr)
	}
	l.inflight.Add(1)
	return nil
}

func (l *Store) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// enterRead admits a reader that uses the files (Verify, proofs), so that
// Close waits for it; unlike enter it works on a failed store. The
// caller calls l.inflight.Done when it is finished.
func (l *Store) enterRead() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.inflight.Add(1)
	return nil
}

// SignCheckpoint signs and stores a checkpoint covering every event
// committed so far (unless the latest already does) and returns it.
func (l *Store) SignCheckpoint(ctx context.Context) (Checkpoint, error) {
	if err := l.control(ctx, ctlCheckpoint); err != nil {
		return Checkpoint{}, err
	}
	c, ok := l.Checkpoint()
	if !ok {
		return Checkpoint{}, fmt.Errorf("%w: the log is empty", ErrNotFound)
	}
	return c, nil
}

func (l *Store) control(ctx context.Context, op ctlOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := ctlReq{op: op, done: make(chan error, 1)}
	if err := l.enter(); err != nil {
		return err
	}
	l.ctl <- req
	l.inflight.Done()
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close waits for the events being written, flushes the index, signs a
// final checkpoint and closes the files. Close is idempotent.
func (l *Store) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	l.inflight.Wait()
	close(l.reqs)
	<-l.done
	close(l.idx.mergeStop)
	<-l.idx.mergeDone
	l.closeFiles()
	if err := l.unlock(); err != nil && l.closeErr == nil {
		l.closeErr = err
	}
	return l.closeErr
}

func (l *Store) closeFiles() {
	l.segMu.Lock()
	for _, s := range l.segs {
		s.f.Close()
		s.closeSlotFiles()
	}
	l.segs = nil
	l.segMu.Unlock()
	if l.hashes != nil && l.hashes.f != nil {
		l.hashes.f.Close()
	}
	if l.table != nil && l.table.f != nil {
		l.table.f.Close()
	}
	if l.idx != nil {
		l.idx.mu.Lock()
		runs := l.idx.runs
		l.idx.runs = nil
		l.idx.mu.Unlock()
		for _, r := range runs {
			r.release()
		}
	}
}

// fail records a write failure; every later Write is refused.
func (l *Store) fail(err error) error {
	l.mu.Lock()
	if l.failErr == nil {
		l.failErr = err
		l.cfg.Logger.Error("audit: log failed; no more events will be accepted", slog.String("error", err.Error()))
	}
	first := l.failErr
	l.mu.Unlock()
	return fmt.Errorf("%w: %v", ErrLogFailed, first)
}

func (l *Store) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failErr != nil {
		return fmt.Errorf("%w: %v", ErrLogFailed, l.failErr)
	}
	return nil
}

// run is the writer goroutine: it owns the files and commits queued
// events in batches.
func (l *Store) run() {
	defer close(l.done)
	l.cohortTimer = time.NewTimer(time.Hour)
	l.cohortTimer.Stop()
	tick := time.NewTicker(l.cfg.CheckpointEvery)
	defer tick.Stop()
	held := map[uint64]*writeReq{} // received, waiting for their turn
	batch := make([]*writeReq, 0, l.cfg.MaxBatch)
	for {
		select {
		case r, ok := <-l.reqs:
			if !ok {
				l.finish(held, batch)
				return
			}
			held[r.seq] = r
			open := true
			if !l.cfg.SyncEach {
				l.takeSlot()
				l.awaitCohort(len(held))
			drain:
				for len(held) < l.cfg.MaxBatch {
					select {
					case r, ok := <-l.reqs:
						if !ok {
							open = false
							break drain
						}
						held[r.seq] = r
					default:
						break drain
					}
				}
			}
			n := l.commitHeld(held, batch)
			if n > 0 {
				l.expect = n + len(held) + len(l.reqs)
			}
			if !open {
				l.finish(held, batch)
				return
			}
		case c := <-l.ctl:
			l.drain()
			c.done <- l.handleControl(c.op)
		case <-tick.C:
			if l.presync == nil && l.failed() == nil && time.Since(l.lastCheckpointAt) >= l.cfg.CheckpointEvery {
				l.startPresync()
			}
		case err := <-l.presync:
			// The stored hashes and the table written so far are on
			// disk: the checkpoint's own syncs have little left to do
			// while the commits wait for it.
			l.presync = nil
			l.drain()
			if err != nil {
				l.fail(err)
			} else if l.failed() == nil && time.Since(l.lastCheckpointAt) >= l.cfg.CheckpointEvery {
				if err := l.checkpoint(); err != nil {
					l.fail(err)
				}
			}
		}
	}
}

// commitHeld commits the held requests whose seqs follow on from the
// last committed one, in batches (one event per batch with
// WithSyncEveryEvent). Writers reserve seqs in order but may queue their
// events slightly out of order; an event waits here for the ones before
// it. It returns how many events it committed.
func (l *Store) commitHeld(held map[uint64]*writeReq, batch []*writeReq) int {
	limit := l.cfg.MaxBatch
	if l.cfg.SyncEach {
		limit = 1
	}
	total := 0
	for {
		batch = batch[:0]
		for next := l.next; len(batch) < limit; next++ {
			r, ok := held[next]
			if !ok {
				break
			}
			delete(held, next)
			batch = append(batch, r)
		}
		if len(batch) == 0 {
			return total
		}
		l.commit(batch)
		total += len(batch)
		clear(batch)
	}
}

// finish commits what is left when the queue closes and shuts down.
func (l *Store) finish(held map[uint64]*writeReq, batch []*writeReq) {
	l.commitHeld(held, batch)
	defer l.stopSyncer()
	l.drain()
	l.stopZeroer()
	if err := l.awaitPresync(); err != nil {
		l.fail(err)
	}
	for _, r := range held {
		// Unreachable: every reserved seq is queued before Close closes
		// the queue. Answer rather than leave a writer waiting.
		r.done <- fmt.Errorf("%w: event %d was queued out of order", ErrLogFailed, r.seq)
	}
	l.shutdown()
}

// awaitCohort waits, briefly, for the writers acknowledged by the last
// commit to queue their next events, so that one fsync serves all the
// concurrent writers instead of alternating between two halves of them.
// It waits only when the last commit showed concurrency, for at most
// half an fsync's time, and stops as soon as the expected number of
// events is queued.
func (l *Store) awaitCohort(have int) {
	target := min(l.expect, l.cfg.MaxBatch)
	if target <= 1 || have+len(l.reqs) >= target {
		return
	}
	l.want.Store(int64(target - have))
	if have+len(l.reqs) < target {
		l.cohortTimer.Reset(min(time.Duration(l.syncAvg.Load())/2, time.Millisecond))
		select {
		case <-l.cohort:
		case <-l.cohortTimer.C:
		}
		l.cohortTimer.Stop()
	}
	l.want.Store(0)
	select {
	case <-l.cohort: // a late signal must not end the next wait early
	default:
	}
}

func (l *Store) handleControl(op ctlOp) error {
	if err := l.failed(); err != nil {
		return err
	}
	switch op {
	case ctlCheckpoint:
		if err := l.checkpoint(); err != nil {
			return l.fail(err)
		}
	}
	return nil
}

// shutdown runs when the queue is closed: flush the index, seal with a
// checkpoint.
func (l *Store) shutdown() {
	if l.failed() != nil {
		l.closeErr = l.failed()
		return
	}
	if err := l.seg.trim(); err != nil {
		l.closeErr = l.fail(err)
		return
	}
	if err := l.idx.flush(); err != nil {
		l.closeErr = l.fail(err)
		return
	}
	if err := l.checkpoint(); err != nil {
		l.closeErr = l.fail(err)
	}
}

// commit writes one batch to its segment, its event frames and a commit
// frame in one write, in a sync slot, and starts its fsync; the lander
// acknowledges it once it is durable, while this goroutine prepares the
// next (see pipeline.go).
func (l *Store) commit(batch []*writeReq) {
	if err := l.failed(); err != nil {
		answer(batch, err)
		return
	}
	l.takeSlot()
	f, err := l.writeBatch(batch)
	if err != nil {
		answer(batch, l.fail(err))
		return
	}
	l.launch(f)
	if l.idx.memEvents() >= l.cfg.IndexFlushEvents {
		// A run on disk and a checkpoint together bound how much OpenLog
		// has to read back after a crash.
		l.drain()
		if err := l.idx.flush(); err != nil {
			l.fail(err)
			return
		}
		if err := l.checkpoint(); err != nil {
			l.fail(err)
		}
	}
}

func answer(batch []*writeReq, err error) {
	for _, r := range batch {
		r.done <- err
	}
}

// writeBatch writes the batch to the segment (not yet durable) and
// returns it as a flight, with its stored hashes and table entries to be
// written once it is.
func (l *Store) writeBatch(batch []*writeReq) (*flight, error) {
	need := int64(frameHeaderSize + commitPayloadSize)
	for _, r := range batch {
		need += int64(len(r.frame))
	}
	if l.seg.size > segHeaderSize && l.seg.size+need > l.cfg.SegmentSize {
		if err := l.rollSegment(); err != nil {
			return nil, err
		}
	}
	buf := l.wbuf[:0]
	first := l.next
	for _, r := range batch {
		if r.seq != l.next {
			return nil, fmt.Errorf("internal error: event %d committed as %d", r.seq, l.next)
		}
		l.next++
		frameOff := l.seg.size + int64(len(buf))
		buf = append(buf, r.frame...)
		putFrame(r.frame)
		l.hashes.addLeaf(int64(r.seq-1), r.leaf)
		e := r.entry
		e.Seg, e.Off, e.N = l.seg.first, uint32(frameOff), uint32(len(r.frame)-r.rec)
		r.frame = nil
		l.table.add(e)
	}
	buf = appendCommitFrame(buf, first, uint32(len(batch)), uint32(len(buf)), crc32.Checksum(buf, castagnoli))
	l.wbuf = buf
	if cap(l.wbuf) > 16<<20 {
		l.wbuf = nil // do not pin a buffer grown by one huge batch
	}
	if err := l.seg.writeData(buf, l.seg.size); err != nil {
		return nil, fmt.Errorf("writing %s: %w", l.seg.name, err)
	}
	l.seg.size += int64(len(buf))
	l.zeroAhead()
	f := &flight{seg: l.seg, reqs: slices.Clone(batch), last: l.next - 1}
	f.hashes, f.nhashes = l.hashes.take(l.spareBuf())
	f.table = l.table.take(l.spareBuf())
	if l.cfg.CheckpointEachCommit {
		c, err := l.witnessCheckpoint()
		if err != nil {
			return nil, err
		}
		f.witness = &c
	}
	return f, nil
}

// rollSegment starts a new segment. The current one was fsynced with its
// last batch, so a segment that has a successor is complete.
func (l *Store) rollSegment() error {
	// A segment that has a successor must be complete and durable: let
	// the batches in flight land first.
	l.drain()
	if err := l.failed(); err != nil {
		return err
	}
	if err := l.seg.trim(); err != nil {
		return err
	}
	l.seg.closeSlotFiles()
	s, err := createSegment(filepath.Join(l.dir, segmentsDir), l.next)
	if err != nil {
		return err
	}
	l.segMu.Lock()
	l.segs = append(l.segs, s)
	l.segMu.Unlock()
	l.seg = s
	return nil
}

func createSegment(dir string, first uint64) (*segment, error) {
	name := segmentName(first)
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating segment: %w", err)
	}
	if _, err := f.WriteAt(segmentHeader(first), 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing segment header: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("syncing segment: %w", err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, err
	}
	s := &segment{first: first, name: name, path: f.Name(), f: f, size: segHeaderSize}
	s.zeroed.Store(segHeaderSize)
	return s, nil
}

// checkpoint signs and stores a checkpoint of the current size, after
// making the stored hashes and the table durable, unless the latest
// already covers it; then it brings the state file up to date.
func (l *Store) checkpoint() error {
	size := l.next - 1
	l.lastCheckpointAt = time.Now()
	if cur, ok := l.Checkpoint(); size > 0 && (!ok || cur.Size != size) {
		if err := l.storeCheckpoint(size); err != nil {
			return err
		}
	}
	return l.saveState()
}

func (l *Store) storeCheckpoint(size uint64) error {
	if err := l.awaitPresync(); err != nil {
		return err
	}
	if err := l.hashes.f.Sync(); err != nil {
		return fmt.Errorf("syncing hashes: %w", err)
	}
	if err := l.table.f.Sync(); err != nil {
		return fmt.Errorf("syncing table: %w", err)
	}
	h, err := l.hashes.treeHash(int64(size))
	if err != nil {
		return err
	}
	c, err := signCheckpoint(l.signer, size, h)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(l.dir, checkpointFile), c.Signed, 0o644); err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	l.ckptMu.Lock()
	l.ckpt = c
	l.ckptMu.Unlock()
	if l.cfg.OnCheckpoint != nil {
		l.cfg.OnCheckpoint(c)
	}
	return nil
}

// witnessCheckpoint signs a checkpoint of the batch just written, which
// the lander hands to the checkpoint func once the batch is durable and
// before it is acknowledged (WithCheckpointEveryCommit). It is not stored
// in the directory: the witness keeps it.
func (l *Store) witnessCheckpoint() (Checkpoint, error) {
	size := l.next - 1
	h, err := l.hashes.treeHash(int64(size))
	if err != nil {
		return Checkpoint{}, err
	}
	return signCheckpoint(l.signer, size, h)
}
