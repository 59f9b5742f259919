package audit

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
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

// Log is the embedded, tamper-evident audit log: the Sink a vendor gets
// with no infrastructure. See the package documentation for its layout
// and guarantees. A Log is safe for concurrent use; one directory can be
// open in one Log at a time.
type Log struct {
	dir      string
	cfg      logConfig
	signer   note.Signer
	verifier note.Verifier
	vkey     string
	unlock   func() error

	reqs chan *writeReq
	ctl  chan ctlReq
	done chan struct{}

	mu       sync.Mutex
	closed   bool
	failErr  error
	inflight sync.WaitGroup
	closeErr error

	// Owned by the writer goroutine (and by OpenLog before it starts).
	seg              *segment
	hashes           *hashStore
	table            *table
	next             uint64
	wbuf             []byte
	lastCheckpointAt time.Time
	reserved         atomic.Uint64 // the last seq given to a writer
	expect           int           // events expected in the next batch
	syncAvg          time.Duration // moving average of an fsync
	cohortTimer      *time.Timer
	want             atomic.Int64  // queued events that end awaitCohort's wait
	cohort           chan struct{} // signalled when want events are queued

	size atomic.Uint64 // events written and fsynced

	segMu sync.RWMutex
	segs  []*segment

	ckptMu sync.RWMutex
	ckpt   Checkpoint
	saved  logState // what the state file says

	idx      *index
	recovery Recovery

	recordReads atomic.Int64
}

type segment struct {
	first uint64
	name  string
	f     *os.File
	size  int64 // end of the data
}

// writeReq is one event on its way to disk. The writer's goroutine
// prepares all of it that can be prepared in parallel: the seq (reserved
// in order), the framed record and its leaf hash.
type writeReq struct {
	seq   uint64
	frame []byte    // the event frame
	rec   int       // offset of the record in frame
	leaf  tlog.Hash // tlog.RecordHash of the record
	keys  []string
	entry tableEntry
	done  chan error
}

type ctlOp int

const (
	ctlCheckpoint ctlOp = iota + 1
)

type ctlReq struct {
	op   ctlOp
	done chan error
}

// Recovery reports what OpenLog found and repaired.
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
	// NoCheckpoint is set when the log held events but no checkpoint (a
	// crash before the first one, or a deleted checkpoint file).
	NoCheckpoint bool
}

// Torn reports whether a torn tail was cut.
func (r Recovery) Torn() bool { return r.TornSegment != "" }

// Recovered reports what OpenLog repaired when it opened the log.
func (l *Log) Recovered() Recovery { return l.recovery }

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }

// Origin returns the log's name, the first line of its checkpoints.
func (l *Log) Origin() string { return l.cfg.origin }

// VerifierKey returns the public key that verifies the log's checkpoints
// and proofs, as a golang.org/x/mod/sumdb/note verifier key. Publish it.
func (l *Log) VerifierKey() string { return l.vkey }

// Size returns the number of events durably written, which is also the
// Seq of the last one.
func (l *Log) Size() uint64 { return l.size.Load() }

// Checkpoint returns the latest signed checkpoint, and false when none
// has been signed yet.
func (l *Log) Checkpoint() (Checkpoint, bool) {
	l.ckptMu.RLock()
	defer l.ckptMu.RUnlock()
	return l.ckpt, l.ckpt.Size > 0
}

// Write appends the event to the log and returns once it is on disk:
// written and fsynced, together with the other events written at the
// same moment (group commit). The log assigns Seq and Recorded; Time is
// set to the log's clock when zero. See Normalize for the checks.
//
// When ctx ends while the event is queued, Write returns ctx.Err() and
// the event may or may not be written. After a failed write or fsync the
// log accepts no more events (ErrLogFailed): reopen it.
func (l *Log) Write(ctx context.Context, e Event) error {
	_, err := l.Append(ctx, e)
	return err
}

// Append is Write that also returns the sequence number the log gave the
// event, for a caller that wants to cite it (in a response header, say).
func (l *Log) Append(ctx context.Context, e Event) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, err := e.Normalize(l.cfg.now())
	if err != nil {
		return 0, err
	}
	body := appendEventBody(make([]byte, 0, 1024), &n)
	if len(body) > maxPayload-256 {
		return 0, fmt.Errorf("%w: event too large", ErrInvalidEvent)
	}
	req := &writeReq{keys: eventKeys(&n), entry: entryFor(&n), done: make(chan error, 1)}
	if err := l.enter(); err != nil {
		return 0, err
	}
	// From here the event will be committed whatever happens to ctx: a
	// reserved seq is never left empty.
	req.seq = l.reserved.Add(1)
	req.frame, req.rec = appendEventFrame(make([]byte, 0, len(body)+96), req.seq, recordedString(l.cfg.now()), body)
	req.leaf = tlog.RecordHash(req.frame[req.rec:])
	l.reqs <- req
	l.inflight.Done()
	if w := l.want.Load(); w > 0 && int64(len(l.reqs)) >= w {
		select {
		case l.cohort <- struct{}{}:
		default:
		}
	}
	select {
	case err := <-req.done:
		if err != nil {
			return 0, err
		}
		return req.seq, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// enter admits one request to the writer unless the log is closed or has
// failed.
func (l *Log) enter() error {
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

func (l *Log) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// enterRead admits a reader that uses the files (Verify, Prove), so that
// Close waits for it; unlike enter it works on a failed log.
func (l *Log) enterRead() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.inflight.Add(1)
	return nil
}

// SignCheckpoint signs a checkpoint covering every event written so far
// (unless the latest already does) and returns it.
func (l *Log) SignCheckpoint(ctx context.Context) (Checkpoint, error) {
	if err := l.control(ctx, ctlCheckpoint); err != nil {
		return Checkpoint{}, err
	}
	c, ok := l.Checkpoint()
	if !ok {
		return Checkpoint{}, fmt.Errorf("%w: the log is empty", ErrNotFound)
	}
	return c, nil
}

func (l *Log) control(ctx context.Context, op ctlOp) error {
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
// final checkpoint and closes the files. Writes after Close fail with
// ErrClosed. Close is idempotent.
func (l *Log) Close() error {
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

func (l *Log) closeFiles() {
	l.segMu.Lock()
	for _, s := range l.segs {
		s.f.Close()
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
func (l *Log) fail(err error) error {
	l.mu.Lock()
	if l.failErr == nil {
		l.failErr = err
		l.cfg.logger.Error("audit: log failed; no more events will be accepted", slog.String("error", err.Error()))
	}
	first := l.failErr
	l.mu.Unlock()
	return fmt.Errorf("%w: %v", ErrLogFailed, first)
}

func (l *Log) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failErr != nil {
		return fmt.Errorf("%w: %v", ErrLogFailed, l.failErr)
	}
	return nil
}

// run is the writer goroutine: it owns the files and commits queued
// events in batches.
func (l *Log) run() {
	defer close(l.done)
	l.cohortTimer = time.NewTimer(time.Hour)
	l.cohortTimer.Stop()
	tick := time.NewTicker(l.cfg.checkpointEvery)
	defer tick.Stop()
	held := map[uint64]*writeReq{} // received, waiting for their turn
	batch := make([]*writeReq, 0, l.cfg.maxBatch)
	for {
		select {
		case r, ok := <-l.reqs:
			if !ok {
				l.finish(held, batch)
				return
			}
			held[r.seq] = r
			open := true
			if !l.cfg.syncEach {
				l.awaitCohort(len(held))
			drain:
				for len(held) < l.cfg.maxBatch {
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
			c.done <- l.handleControl(c.op)
		case <-tick.C:
			if l.failed() == nil && time.Since(l.lastCheckpointAt) >= l.cfg.checkpointEvery {
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
func (l *Log) commitHeld(held map[uint64]*writeReq, batch []*writeReq) int {
	limit := l.cfg.maxBatch
	if l.cfg.syncEach {
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
func (l *Log) finish(held map[uint64]*writeReq, batch []*writeReq) {
	l.commitHeld(held, batch)
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
func (l *Log) awaitCohort(have int) {
	target := min(l.expect, l.cfg.maxBatch)
	if target <= 1 || have+len(l.reqs) >= target {
		return
	}
	l.want.Store(int64(target - have))
	if have+len(l.reqs) < target {
		l.cohortTimer.Reset(min(l.syncAvg/2, time.Millisecond))
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

func (l *Log) handleControl(op ctlOp) error {
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
func (l *Log) shutdown() {
	if l.failed() != nil {
		l.closeErr = l.failed()
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

// commit writes one batch: its event frames and a commit frame in one
// write, the stored hashes and table entries, one fsync; then it
// acknowledges every request.
func (l *Log) commit(batch []*writeReq) {
	if err := l.failed(); err != nil {
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	err := l.writeBatch(batch)
	if err == nil && l.cfg.checkpointEachCommit {
		err = l.witnessCommit()
	}
	if err != nil {
		err = l.fail(err)
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	// Index first: a query takes the size as its snapshot and must find
	// every event up to it.
	l.idx.addBatch(batch)
	l.size.Store(l.next - 1)
	for _, r := range batch {
		r.done <- nil
	}
	if l.idx.memEvents() >= l.cfg.indexFlushEvents {
		if err := l.idx.flush(); err != nil {
			l.fail(err)
			return
		}
		// A run on disk and a checkpoint together bound how much OpenLog
		// has to read back after a crash.
		if err := l.checkpoint(); err != nil {
			l.fail(err)
		}
	}
}

func (l *Log) writeBatch(batch []*writeReq) error {
	need := int64(frameHeaderSize + commitPayloadSize)
	for _, r := range batch {
		need += int64(len(r.frame))
	}
	if l.seg.size > segHeaderSize && l.seg.size+need > l.cfg.segmentSize {
		if err := l.rollSegment(); err != nil {
			return err
		}
	}
	buf := l.wbuf[:0]
	first := l.next
	for _, r := range batch {
		if r.seq != l.next {
			return fmt.Errorf("internal error: event %d committed as %d", r.seq, l.next)
		}
		l.next++
		frameOff := l.seg.size + int64(len(buf))
		buf = append(buf, r.frame...)
		if err := l.hashes.addLeaf(int64(r.seq-1), r.leaf); err != nil {
			return err
		}
		e := r.entry
		e.seg, e.off, e.n = l.seg.first, uint32(frameOff), uint32(len(r.frame)-r.rec)
		l.table.add(e)
	}
	buf = appendCommitFrame(buf, first, uint32(len(batch)), uint32(len(buf)), crc32.Checksum(buf, castagnoli))
	l.wbuf = buf
	if _, err := l.seg.f.WriteAt(buf, l.seg.size); err != nil {
		return fmt.Errorf("writing %s: %w", l.seg.name, err)
	}
	l.seg.size += int64(len(buf))
	t0 := time.Now()
	if err := syncData(l.seg.f); err != nil {
		return fmt.Errorf("syncing %s: %w", l.seg.name, err)
	}
	l.syncAvg += (time.Since(t0) - l.syncAvg) / 8
	// Only now, with the batch durable, do its table entries go to the
	// file, before any of its events is acknowledged: an entry in the
	// table is the record that its event was acknowledged, which is what
	// tells the loss of acknowledged events from a torn tail.
	if err := l.hashes.flush(); err != nil {
		return fmt.Errorf("writing hashes: %w", err)
	}
	if err := l.table.flush(); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	if cap(l.wbuf) > 16<<20 {
		l.wbuf = nil // do not pin a buffer grown by one huge batch
	}
	return nil
}

// rollSegment starts a new segment. The current one was fsynced with its
// last batch, so a segment that has a successor is complete.
func (l *Log) rollSegment() error {
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
	return &segment{first: first, name: name, f: f, size: segHeaderSize}, nil
}

// checkpoint signs and stores a checkpoint of the current size, after
// making the stored hashes and the table durable, unless the latest
// already covers it; then it brings the state file up to date.
func (l *Log) checkpoint() error {
	size := l.next - 1
	l.lastCheckpointAt = time.Now()
	if cur, ok := l.Checkpoint(); size > 0 && (!ok || cur.Size != size) {
		if err := l.storeCheckpoint(size); err != nil {
			return err
		}
	}
	return l.saveState()
}

func (l *Log) storeCheckpoint(size uint64) error {
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
	if l.cfg.onCheckpoint != nil {
		l.cfg.onCheckpoint(c)
	}
	return nil
}

// witnessCommit signs a checkpoint of the batch just committed and hands
// it to the checkpoint func before the batch is acknowledged
// (WithCheckpointEveryCommit). It is not stored in the directory: the
// witness keeps it.
func (l *Log) witnessCommit() error {
	size := l.next - 1
	h, err := l.hashes.treeHash(int64(size))
	if err != nil {
		return err
	}
	c, err := signCheckpoint(l.signer, size, h)
	if err != nil {
		return err
	}
	l.cfg.onCheckpoint(c)
	return nil
}

// segmentFor returns the segment whose first seq is first.
func (l *Log) segmentFor(first uint64) (*segment, bool) {
	l.segMu.RLock()
	defer l.segMu.RUnlock()
	i, ok := slices.BinarySearchFunc(l.segs, first, func(s *segment, f uint64) int {
		switch {
		case s.first < f:
			return -1
		case s.first > f:
			return 1
		}
		return 0
	})
	if !ok {
		return nil, false
	}
	return l.segs[i], true
}

// readRecord reads the record of seq through its table entry, checking
// the frame.
func (l *Log) readRecord(seq uint64, e tableEntry) ([]byte, error) {
	s, ok := l.segmentFor(e.seg)
	if !ok {
		if l.isClosed() {
			return nil, ErrClosed // a query still reading when the log was closed
		}
		return nil, tampered(fmt.Sprintf("index/table: entry %d names a missing segment", seq))
	}
	buf := make([]byte, frameHeaderSize+1+int(e.n))
	if _, err := s.f.ReadAt(buf, int64(e.off)); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, tampered(fmt.Sprintf("segments/%s: event %d lies past the end of the file", s.name, seq))
		}
		return nil, readError(fmt.Sprintf("reading event %d", seq), err)
	}
	l.recordReads.Add(1)
	payload := buf[frameHeaderSize:]
	if int(binary.BigEndian.Uint32(buf)) != len(payload) || binary.BigEndian.Uint32(buf[4:]) != crc(payload) || payload[0] != kindEvent {
		return nil, tampered(fmt.Sprintf("segments/%s: event %d fails its checksum", s.name, seq))
	}
	rec := payload[1:]
	if got, ok := recordSeq(rec); !ok || got != seq {
		return nil, tampered(fmt.Sprintf("segments/%s: record at the offset of event %d is not that event", s.name, seq))
	}
	return rec, nil
}

// decodeRecord decodes a record.
func decodeRecord(rec []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(rec, &e); err != nil {
		return Event{}, fmt.Errorf("decoding event: %w", err)
	}
	return e, nil
}

// event reads and decodes the event with the given seq.
func (l *Log) event(seq uint64) (Event, error) {
	e, err := l.table.read(seq)
	if err != nil {
		return Event{}, err
	}
	rec, err := l.readRecord(seq, e)
	if err != nil {
		return Event{}, err
	}
	ev, err := decodeRecord(rec)
	if err != nil {
		return Event{}, tampered(fmt.Sprintf("event %d: %v", seq, err))
	}
	return ev, nil
}
