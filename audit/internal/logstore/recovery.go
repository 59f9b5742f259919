package logstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"github.com/shcrkit/shcrkit/audit/internal/tlogfrontier"
	"golang.org/x/mod/sumdb/tlog"
)

// Recovery happens in two steps. planRecovery reads what it must and
// decides everything: where the events after the latest checkpoint
// begin, which of them were committed, whether a tail was torn by a crash
// (and never acknowledged) or acknowledged events are missing, and
// whether the stored hashes, the table and the index agree. Only when
// everything checks does applyRecovery change files: it cuts the torn
// tail, rewrites what the records after the checkpoint imply and seals
// the result with a checkpoint. A log found damaged is left exactly as
// found.
//
// What tells a torn tail from lost acknowledged events: the writer puts a
// batch's table entries in index/table only after the batch's fsync, and
// acknowledges the batch only after that. An intact table entry for an
// event that the segments do not hold therefore names an acknowledged
// event that has gone. The state file records the latest stored
// checkpoint's size and how far the index runs reach, so that a deleted
// or rolled-back checkpoint, or a deleted index run, shows too.

// recovered is one event read back by recovery.
type recovered struct {
	seq   uint64
	seg   uint64
	off   int64
	data  []byte
	entry Entry    // from the codec
	keys  []string // from the codec
}

// zeroTail is a segment that ends in zeros a crash left: cut at end.
type zeroTail struct {
	s   *listedSegment
	end int64
}

// tornTail is an unfinished batch to cut from the last segment.
type tornTail struct {
	s      *listedSegment
	at     int64
	why    string
	events int
}

// recoveryPlan is what planRecovery decided.
type recoveryPlan struct {
	ckpt      Checkpoint
	listed    []*listedSegment
	recs      []recovered // committed events after the checkpoint
	zeroTails []zeroTail
	torn      *tornTail
	size      uint64 // committed events
	indexed   uint64 // the last seq the index runs cover
}

// recover brings the log to a consistent state after a clean close or a
// crash.
func (l *Store) recover() error {
	p, err := l.planRecovery()
	if err != nil {
		return err
	}
	return l.applyRecovery(p)
}

func (l *Store) planRecovery() (*recoveryPlan, error) {
	p := &recoveryPlan{}
	st, err := l.readCheckpointAndState(p)
	if err != nil {
		return nil, err
	}
	n := p.ckpt.Size
	listed, err := l.listSegments()
	p.listed = listed
	l.keepSegments(listed) // so that closeFiles closes them on failure
	if err != nil {
		return nil, err
	}
	if err := l.openStores(n); err != nil {
		return nil, err
	}
	// Where the events after the checkpoint begin.
	startSeg, startOff, next := 0, int64(segHeaderSize), uint64(1)
	if n > 0 {
		if startSeg, startOff, err = l.afterCheckpoint(listed, n); err != nil {
			return nil, err
		}
		next = n + 1
	} else if len(listed) == 0 {
		startSeg = -1
	}
	// Sealed segments before the checkpoint's are not read here: check
	// that each ends with the event before the next one's first, where
	// the table says it is.
	for i := 1; i <= startSeg && i < len(listed); i++ {
		seq := listed[i].first - 1
		e, err := l.table.read(seq)
		if err == nil {
			_, err = l.readRecord(seq, e)
		}
		var ie *IntegrityError
		if errors.As(err, &ie) || errors.Is(err, ErrNotFound) {
			return nil, tampered(fmt.Sprintf("segments/%s: does not follow %s: %v", listed[i].name, listed[i-1].name, err))
		}
		if err != nil {
			return nil, err
		}
	}
	if err := l.scanTail(p, startSeg, startOff, next); err != nil {
		return nil, err
	}
	if p.size < n {
		return nil, tampered(fmt.Sprintf("the checkpoint covers %d events but the log holds %d", n, p.size))
	}
	if err := l.checkAcknowledged(p.size); err != nil {
		return nil, err
	}
	for i := range p.recs {
		r := &p.recs[i]
		if r.entry, r.keys, err = l.cfg.Codec.Describe(r.data); err != nil {
			return nil, tampered(fmt.Sprintf("event %d: %v", r.seq, err))
		}
	}
	if err := l.checkStoredHashes(p.ckpt); err != nil {
		return nil, err
	}
	return p, l.loadIndex(p, st)
}

// readCheckpointAndState reads the checkpoint and the state file and
// checks them against each other: a checkpoint older than the state
// records, or missing when one was stored, is tampering.
func (l *Store) readCheckpointAndState(p *recoveryPlan) (logState, error) {
	st, present, err := l.readState()
	if err != nil {
		return logState{}, err
	}
	if !present {
		// A new log writes its state before its first event: one that
		// holds events (or a checkpoint) without it was tampered with.
		has, err := l.hasData()
		if err != nil {
			return logState{}, err
		}
		if has {
			return logState{}, tampered(stateFile + ": missing, but the log holds events")
		}
	}
	l.saved, l.statePresent = st, present
	data, err := os.ReadFile(filepath.Join(l.dir, checkpointFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if st.checkpoint > 0 {
			return st, tampered(fmt.Sprintf("%s: missing, but a checkpoint of %d events was stored", checkpointFile, st.checkpoint))
		}
		return st, nil
	case err != nil:
		return st, fmt.Errorf("audit: reading checkpoint: %w", err)
	}
	c, err := openCheckpoint(l.verifier, data)
	if err != nil {
		return st, tampered(fmt.Sprintf("%s: %v", checkpointFile, err))
	}
	if c.Origin != l.cfg.Origin {
		return st, tampered(fmt.Sprintf("%s: origin %q is not this log's", checkpointFile, c.Origin))
	}
	if c.Size < st.checkpoint {
		return st, tampered(fmt.Sprintf("%s: covers %d events, but a checkpoint of %d events was stored", checkpointFile, c.Size, st.checkpoint))
	}
	p.ckpt = c
	return st, nil
}

func (l *Store) keepSegments(listed []*listedSegment) {
	l.segs = l.segs[:0]
	for _, s := range listed {
		l.segs = append(l.segs, &s.segment)
	}
}

// openStores opens the stored hashes and the table, which must cover at
// least the n events of the checkpoint.
func (l *Store) openStores(n uint64) error {
	tf, err := openDurable(filepath.Join(l.dir, indexDir, tableFile))
	if err != nil {
		return err
	}
	l.table = &table{f: tf, segOf: l.segmentOf}
	hf, err := openDurable(filepath.Join(l.dir, hashesFile))
	if err != nil {
		return err
	}
	l.hashes = &hashStore{f: hf, leaf: l.leafHash}
	tsize, err := fileSize(tf)
	if err != nil {
		return err
	}
	hsize, err := fileSize(hf)
	if err != nil {
		return err
	}
	l.table.count.Store(tsize / tableEntrySize)
	l.hashes.count.Store(hsize / tlog.HashSize)
	if uint64(l.table.count.Load()) < n {
		return tampered(fmt.Sprintf("index/%s: %d entries, fewer than the %d events the checkpoint covers", tableFile, l.table.count.Load(), n))
	}
	if l.hashes.count.Load() < interiorCount(int64(n)) {
		return tampered(fmt.Sprintf("%s: fewer hashes than the %d events the checkpoint covers need", hashesFile, n))
	}
	return nil
}

// scanTail reads the committed events from segment startSeg at startOff
// on, and decides what a problem found there is: a torn tail to cut, or
// damage.
func (l *Store) scanTail(p *recoveryPlan, startSeg int, startOff int64, next uint64) error {
	listed := p.listed
	for i := startSeg; i >= 0 && i < len(listed); i++ {
		s := listed[i]
		from := int64(segHeaderSize)
		if i == startSeg {
			from = startOff
		}
		if s.badHeader {
			p.torn = &tornTail{s: s, why: "segment header incomplete"}
			break
		}
		if from == segHeaderSize && s.first != next {
			return tampered(fmt.Sprintf("segments/%s: starts at seq %d but the log is at seq %d", s.name, s.first, next))
		}
		res, err := scanSegment(s.f, from, s.size, next, func(r scannedRecord) error {
			p.recs = append(p.recs, recovered{seq: r.seq, seg: s.first, off: r.off, data: r.data})
			return nil
		})
		if err != nil {
			return fmt.Errorf("audit: reading %s: %w", s.name, err)
		}
		next = res.nextSeq
		if res.problem == "" {
			if res.committedEnd < s.size {
				p.zeroTails = append(p.zeroTails, zeroTail{s, res.committedEnd})
			}
			continue
		}
		if i != len(listed)-1 {
			return tampered(fmt.Sprintf("segments/%s: %s at offset %d", s.name, res.problem, res.problemAt))
		}
		if err := tornOrDamaged(s, res, next); err != nil {
			return err
		}
		p.torn = &tornTail{s: s, at: res.committedEnd, why: res.problem, events: res.uncommitted}
	}
	p.size = next - 1
	return nil
}

// tornOrDamaged decides whether the problem that stopped the scan of the
// last segment is a torn tail (nil) or damage to acknowledged events.
func tornOrDamaged(s *listedSegment, res scanResult, next uint64) error {
	intact, err := intactBatchAfter(s.f, res.committedEnd, s.size, next)
	if err != nil {
		return err
	}
	if intact {
		return tampered(fmt.Sprintf("segments/%s: %s at offset %d, before acknowledged events", s.name, res.problem, res.problemAt))
	}
	damaged, err := completeBatchDamaged(s.f, res.committedEnd, s.size, next)
	if err != nil {
		return err
	}
	if damaged {
		return tampered(fmt.Sprintf("segments/%s: %s at offset %d, in a batch written in full with its commit: damage to acknowledged events, not a torn write", s.name, res.problem, res.problemAt))
	}
	return nil
}

// checkAcknowledged fails when the table has an intact entry for the
// event after the last one the segments hold: the writer writes an entry
// only after its batch is durable and before acknowledging it, so that
// event was acknowledged and has since been cut or deleted. (Zeros or a
// partial entry at the table's end are what a crash can leave there.)
func (l *Store) checkAcknowledged(size uint64) error {
	count := uint64(l.table.count.Load())
	if count <= size {
		return nil
	}
	var b [tableEntrySize]byte
	if _, err := l.table.f.ReadAt(b[:], int64(size)*tableEntrySize); err != nil {
		return readError("reading table", err)
	}
	if _, ok := parseTableEntry(b[:]); !ok {
		return nil
	}
	return tampered(fmt.Sprintf("segments: acknowledged events %d to %d are missing (index/%s records them)", size+1, count, tableFile))
}

// checkStoredHashes loads the frontier of the checkpoint's tree and
// checks that it gives the checkpoint's root hash.
func (l *Store) checkStoredHashes(ckpt Checkpoint) error {
	n := ckpt.Size
	frontier, err := tlogfrontier.Load(int64(n), l.hashes)
	if err != nil {
		return err
	}
	l.hashes.frontier = frontier
	if n == 0 {
		return nil
	}
	h, err := l.hashes.treeHash(int64(n))
	if err != nil {
		return err
	}
	if h != ckpt.Hash {
		return tampered(fmt.Sprintf("%s: the stored hashes do not give the checkpoint's root hash", hashesFile))
	}
	return nil
}

// loadIndex opens the index runs, which must reach as far as the state
// file says they did and no further than the log.
func (l *Store) loadIndex(p *recoveryPlan, st logState) error {
	runs, err := loadRuns(filepath.Join(l.dir, indexDir))
	if err != nil {
		return err
	}
	l.idx = &index{dir: filepath.Join(l.dir, indexDir), runs: runs, logger: l.cfg.Logger}
	if len(runs) > 0 {
		p.indexed = runs[len(runs)-1].last
	}
	if p.indexed > p.size {
		return tampered(fmt.Sprintf("index: runs cover seq %d but the log holds %d events", p.indexed, p.size))
	}
	if p.indexed < st.indexed {
		return tampered(fmt.Sprintf("index: runs reach event %d, but runs up to event %d were stored: a run is missing", p.indexed, st.indexed))
	}
	return nil
}

// applyRecovery repairs what planRecovery found and readies the writer.
func (l *Store) applyRecovery(p *recoveryPlan) error {
	for _, z := range p.zeroTails {
		if err := truncateDurable(z.s, z.end); err != nil {
			return err
		}
	}
	if p.torn != nil {
		if err := l.cutTorn(p.torn); err != nil {
			return err
		}
		if p.torn.s.badHeader {
			p.listed = p.listed[:len(p.listed)-1]
			l.keepSegments(p.listed)
		}
	}
	if err := l.rewriteAfterCheckpoint(p); err != nil {
		return err
	}
	if err := l.rebuildMemIndex(p); err != nil {
		return err
	}
	size := p.size
	l.next = size + 1
	l.reserved.Store(size)
	l.size.Store(size)
	if len(l.segs) == 0 {
		s, err := createSegment(filepath.Join(l.dir, segmentsDir), 1)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
	}
	l.seg = l.segs[len(l.segs)-1]
	l.ckpt = p.ckpt
	l.recovery.Replayed = len(p.recs)
	l.recovery.NoCheckpoint = p.ckpt.Size == 0 && size > 0
	if l.recovery.NoCheckpoint {
		l.cfg.Logger.Warn("audit: log had events but no checkpoint", slog.Uint64("events", size))
	}
	// Seal what was found with a checkpoint (when it grew) and bring the
	// state file up to date (a new log writes its first here, before
	// any event).
	return l.checkpoint()
}

// rewriteAfterCheckpoint rewrites the stored hashes and table entries of
// the events after the checkpoint from their records.
func (l *Store) rewriteAfterCheckpoint(p *recoveryPlan) error {
	n := int64(p.ckpt.Size)
	if err := l.hashes.f.Truncate(interiorCount(n) * tlog.HashSize); err != nil {
		return err
	}
	l.hashes.count.Store(interiorCount(n))
	if err := l.table.f.Truncate(n * tableEntrySize); err != nil {
		return err
	}
	l.table.count.Store(n)
	for _, r := range p.recs {
		l.hashes.add(int64(r.seq-1), r.data)
		e := r.entry
		e.Seg, e.Off, e.N = r.seg, uint32(r.off), uint32(len(r.data))
		l.table.add(e)
	}
	if err := l.hashes.flush(); err != nil {
		return err
	}
	return l.table.flush()
}

// rebuildMemIndex indexes in memory the events after the last run:
// those the checkpoint covers read back through the table in bulk, the
// rest from what recovery read.
func (l *Store) rebuildMemIndex(p *recoveryPlan) error {
	n := p.ckpt.Size
	l.idx.mem = newMemtable(p.indexed + 1)
	const chunk = 4096
	entries := make([]Entry, chunk)
	for from := p.indexed + 1; from <= n; from += chunk {
		batch := entries[:min(chunk, n-from+1)]
		if err := l.table.readRange(from, batch); err != nil {
			return err
		}
		err := l.readRecords(from, batch, func(seq uint64, rec []byte) error {
			_, keys, err := l.cfg.Codec.Describe(rec)
			if err != nil {
				return tampered(fmt.Sprintf("event %d: %v", seq, err))
			}
			l.idx.mem.add(seq, keys)
			return nil
		})
		if err != nil {
			return err
		}
	}
	for seq := max(p.indexed+1, n+1); seq <= p.size; seq++ {
		l.idx.mem.add(seq, p.recs[seq-n-1].keys)
	}
	return nil
}

// afterCheckpoint finds where the events after the checkpoint's last one
// begin: it checks that the table entry for event n points at event n and
// that the commit of its batch follows it.
func (l *Store) afterCheckpoint(listed []*listedSegment, n uint64) (int, int64, error) {
	e, err := l.table.read(n)
	if err != nil {
		return 0, 0, err
	}
	i := sort.Search(len(listed), func(i int) bool { return listed[i].first >= e.Seg })
	if i == len(listed) || listed[i].first != e.Seg || listed[i].badHeader {
		return 0, 0, tampered(fmt.Sprintf("segments/%s: missing, and it holds checkpointed event %d", segmentName(e.Seg), n))
	}
	s := listed[i]
	rec, err := l.readRecord(n, e)
	if err != nil {
		return 0, 0, err
	}
	commitOff := int64(e.Off) + frameHeaderSize + 1 + int64(len(rec))
	buf := make([]byte, frameHeaderSize+commitPayloadSize)
	if _, err := s.f.ReadAt(buf, commitOff); err != nil {
		return 0, 0, tampered(fmt.Sprintf("segments/%s: the commit after checkpointed event %d is missing", s.name, n))
	}
	payload := buf[frameHeaderSize:]
	c, ok := parseCommit(payload)
	if !ok || binary.BigEndian.Uint32(buf) != commitPayloadSize || binary.BigEndian.Uint32(buf[4:]) != crc(payload) ||
		c.first+uint64(c.count)-1 != n || int64(c.len) > commitOff-segHeaderSize {
		return 0, 0, tampered(fmt.Sprintf("segments/%s: the commit after checkpointed event %d is damaged", s.name, n))
	}
	batch := make([]byte, c.len)
	if _, err := s.f.ReadAt(batch, commitOff-int64(c.len)); err != nil || crc(batch) != c.batch {
		return 0, 0, tampered(fmt.Sprintf("segments/%s: the batch of checkpointed event %d is damaged", s.name, n))
	}
	return i, commitOff + int64(len(buf)), nil
}

// cutTorn saves and removes a torn tail.
func (l *Store) cutTorn(t *tornTail) error {
	s := t.s
	tail := make([]byte, s.size-t.at)
	if _, err := s.f.ReadAt(tail, t.at); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	for len(tail) > 0 && tail[len(tail)-1] == 0 {
		tail = tail[:len(tail)-1] // the zero-filled space is not part of it
	}
	saved := filepath.Join(l.dir, tornDir, fmt.Sprintf("%s-%d.bin", s.name, t.at))
	if err := mkdirDurable(filepath.Dir(saved)); err != nil {
		return err
	}
	if err := writeFileAtomic(saved, tail, 0o600); err != nil {
		return fmt.Errorf("audit: saving torn tail: %w", err)
	}
	if s.badHeader {
		s.f.Close()
		if err := os.Remove(filepath.Join(l.dir, segmentsDir, s.name)); err != nil {
			return err
		}
		if err := syncDir(filepath.Join(l.dir, segmentsDir)); err != nil {
			return err
		}
	} else if err := truncateDurable(s, t.at); err != nil {
		return err
	}
	l.recovery.TornBytes = int64(len(tail))
	l.recovery.TornEvents = t.events
	l.recovery.TornSegment = s.name
	l.recovery.TornReason = t.why
	l.recovery.SavedTo = saved
	l.cfg.Logger.Warn("audit: cut a torn tail left by a crash",
		slog.String("segment", s.name), slog.Int64("offset", t.at), slog.Int64("bytes", int64(len(tail))),
		slog.Int("events", t.events), slog.String("reason", t.why), slog.String("savedTo", saved))
	return nil
}

func truncateDurable(s *listedSegment, at int64) error {
	if err := s.f.Truncate(at); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	s.size = at
	s.zeroed.Store(at)
	return nil
}
