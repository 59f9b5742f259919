package logstore

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// maxProblems caps how many problems Verify lists.
const maxProblems = 100

var errStopScan = errors.New("stop scan")

// Verify checks the whole log against itself and its latest checkpoint:
// the checkpoint file's signature and canonical form; every segment
// header, frame checksum, commit and sequence number; every stored hash,
// recomputed from the records; the root hash at the checkpoint's size;
// every table entry; every index run, against what the records say it
// should hold; and the key files. Any changed, removed, reordered or
// inserted byte shows as an *IntegrityError matching ErrTampered, which
// lists what was found.
//
// Verify reads every file in full, segments in parallel, and decodes of
// each record only what it checks (through the Codec). It runs alongside
// writes and checks the events written when it started.
func (l *Store) Verify(ctx context.Context) error { return l.VerifyProgress(ctx, nil) }

// VerifyProgress is Verify calling progress, if not nil, as the events'
// records are checked: with how many of the total it checks are done,
// after each segment (from one goroutine at a time, done never going
// down), and last with done equal to total when every record was read.
func (l *Store) VerifyProgress(ctx context.Context, progress func(done, total uint64)) error {
	if err := l.enterRead(); err != nil {
		return err
	}
	defer l.inflight.Done()
	v := &verifier{log: l, seed: maphash.MakeSeed(), progress: progress}
	v.checkKeys()
	// The state file first: the writer replaces it only after the
	// checkpoint and runs it records exist, and those only grow, so what
	// is read after it reaches at least as far.
	st, stPresent, stErr := l.readState()
	if stErr == nil && !stPresent {
		stErr = fmt.Errorf("%s: missing", stateFile)
	}
	ckpt := v.checkCheckpoint()
	size := l.size.Load()
	if ckpt.Size > size {
		v.problem("%s: covers %d events but the log holds %d", checkpointFile, ckpt.Size, size)
	}
	l.segMu.RLock()
	segs := append([]*segment(nil), l.segs...)
	l.segMu.RUnlock()
	runs := l.idx.snapshotRuns()
	defer func() {
		for _, r := range runs {
			r.release()
		}
	}()
	v.checkState(st, stErr, ckpt, runs)
	if err := v.scan(ctx, segs, runs, size, ckpt); err != nil {
		return err
	}
	v.checkRuns(runs)
	if len(v.problems) > 0 {
		return &IntegrityError{Problems: v.problems}
	}
	return nil
}

type verifier struct {
	log      *Store
	seed     maphash.Seed
	problems []string
	expected []postingsDigest // per run, from the records
	progress func(done, total uint64)
	mu       sync.Mutex // serialises progress
	done     uint64     // events of the segments checked so far
}

// segmentDone reports the events of one checked segment to progress.
func (v *verifier) segmentDone(s *segment, c *segmentCheck, size uint64) {
	if v.progress == nil || s.first > size || c.next <= s.first {
		return
	}
	n := min(c.next, size+1) - s.first
	v.mu.Lock()
	defer v.mu.Unlock()
	v.done = min(v.done+n, size)
	v.progress(v.done, size)
}

func (v *verifier) problem(format string, args ...any) {
	if len(v.problems) < maxProblems {
		v.problems = append(v.problems, fmt.Sprintf(format, args...))
	}
}

func (v *verifier) checkKeys() {
	l := v.log
	if data, err := os.ReadFile(filepath.Join(l.dir, verifierFile)); err != nil || string(data) != l.vkey+"\n" {
		v.problem("%s: missing or changed", verifierFile)
	}
	if l.cfg.SigningKey != "" {
		return
	}
	data, err := os.ReadFile(filepath.Join(l.dir, signingKeyFile))
	if err != nil {
		v.problem("%s: missing", signingKeyFile)
		return
	}
	vkey, err := verifierKeyFor(string(data[:max(len(data)-1, 0)]))
	if err != nil || vkey != l.vkey || data[len(data)-1] != '\n' {
		v.problem("%s: changed", signingKeyFile)
	}
}

// checkCheckpoint reads the checkpoint from disk; it must verify and be
// no older than the latest one this Log signed.
func (v *verifier) checkCheckpoint() Checkpoint {
	l := v.log
	latest, haveLatest := l.Checkpoint()
	data, err := os.ReadFile(filepath.Join(l.dir, checkpointFile))
	if err != nil {
		if haveLatest {
			v.problem("%s: missing", checkpointFile)
		}
		return Checkpoint{}
	}
	c, err := openCheckpoint(l.verifier, data)
	if err != nil {
		v.problem("%s: %v", checkpointFile, err)
		return Checkpoint{}
	}
	if c.Size < latest.Size {
		v.problem("%s: replaced by an older checkpoint (%d events, latest signed %d)", checkpointFile, c.Size, latest.Size)
	}
	return c
}

// checkState checks the state file, read before the checkpoint file and
// the runs, against them.
func (v *verifier) checkState(st logState, err error, ckpt Checkpoint, runs []*run) {
	if err != nil {
		v.problem("%v", err)
		return
	}
	var indexed uint64
	if len(runs) > 0 {
		indexed = runs[len(runs)-1].last
	}
	if st.checkpoint > ckpt.Size {
		v.problem("%s: a checkpoint of %d events was stored, but %s covers %d", stateFile, st.checkpoint, checkpointFile, ckpt.Size)
	}
	if st.indexed > indexed {
		v.problem("%s: index runs up to event %d were stored, but they reach %d", stateFile, st.indexed, indexed)
	}
}

// segmentCheck is what one worker found in one segment.
type segmentCheck struct {
	next     uint64 // the seq after the last committed event found
	problems []string
	expected []postingsDigest
	err      error // an I/O error or ctx's
	// The leaf hashes at the segment's ends whose sibling may be in the
	// segment before or after, and their leaves (-1: none).
	firstLeaf, lastLeaf tlog.Hash
	firstN, lastN       int64
}

func (c *segmentCheck) problem(format string, args ...any) {
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, fmt.Sprintf(format, args...))
	}
}

// scan checks the segments in parallel, each against the table, the
// level-1 stored hashes (from the leaf hashes of its records) and the
// index runs; then the level-1 hashes whose two leaves lie in adjacent
// segments, the stored hashes above level 1 against their children, and
// the checkpoint's root hash.
func (v *verifier) scan(ctx context.Context, segs []*segment, runs []*run, size uint64, ckpt Checkpoint) error {
	l := v.log
	v.expected = make([]postingsDigest, len(runs))
	if size == 0 {
		return nil
	}
	if len(segs) == 0 {
		v.problem("segments: none, but %d events were written", size)
		return nil
	}
	if have := l.hashes.count.Load(); have < interiorCount(int64(size)) {
		v.problem("%s: ends before the hashes of event %d", hashesFile, size)
		return nil
	}
	checks := make([]segmentCheck, len(segs))
	work := make(chan int, len(segs))
	for i := range segs {
		work <- i
	}
	close(work)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(segs)) {
		wg.Go(func() {
			for i := range work {
				checks[i] = v.checkSegment(ctx, segs[i], runs, size)
				v.segmentDone(segs[i], &checks[i], size)
			}
		})
	}
	wg.Wait()
	next := uint64(1)
	for i, c := range checks {
		if c.err != nil {
			return c.err
		}
		for _, p := range c.problems {
			v.problem("%s", p)
		}
		for r := range c.expected {
			v.expected[r].merge(&c.expected[r])
		}
		if segs[i].first > size {
			break
		}
		if segs[i].first != next {
			v.problem("segments/%s: starts at seq %d but the log is at %d", segs[i].name, segs[i].first, next)
			return nil
		}
		if i > 0 {
			if err := v.checkPairAcross(&checks[i-1], &c, size); err != nil {
				return err
			}
		}
		next = c.next
	}
	if next <= size {
		v.problem("segments: hold %d events but %d were written", next-1, size)
		return nil
	}
	if err := v.checkInteriorHashes(ctx, size); err != nil {
		return err
	}
	if ckpt.Size > 0 {
		if h, err := tlog.TreeHash(int64(ckpt.Size), l.hashes); err != nil || h != ckpt.Hash {
			v.problem("%s: root hash does not match the records", checkpointFile)
		}
	}
	return nil
}

// checkSegment reads one segment and checks each committed event up to
// size against its table entry, the level-1 stored hashes and the runs.
func (v *verifier) checkSegment(ctx context.Context, s *segment, runs []*run, size uint64) segmentCheck {
	sc := &segmentChecker{v: v, s: s, runs: runs, size: size, prevN: -1}
	sc.c = segmentCheck{next: s.first, expected: make([]postingsDigest, len(runs)), firstN: -1, lastN: -1}
	sc.h.SetSeed(v.seed)
	var hdr [segHeaderSize]byte
	if _, err := s.f.ReadAt(hdr[:], 0); err != nil {
		sc.c.problem("segments/%s: header unreadable", s.name)
		return sc.c
	}
	if first, err := parseSegmentHeader(hdr[:]); err != nil || first != s.first {
		sc.c.problem("segments/%s: bad header", s.name)
		return sc.c
	}
	if s.first > size {
		return sc.c
	}
	fsize, err := fileSize(s.f)
	if err != nil {
		sc.c.err = err
		return sc.c
	}
	res, err := scanSegment(s.f, segHeaderSize, fsize, s.first, func(r scannedRecord) error { return sc.record(ctx, r) })
	if err != nil && !errors.Is(err, errStopScan) {
		sc.c.err = err
		return sc.c
	}
	sc.c.next = res.nextSeq
	if res.problem != "" && sc.c.next <= size {
		sc.c.problem("segments/%s: %s at offset %d", s.name, res.problem, res.problemAt)
	}
	return sc.c
}

// segmentChecker checks the records of one segment.
type segmentChecker struct {
	v       *verifier
	s       *segment
	runs    []*run
	size    uint64
	c       segmentCheck
	h       maphash.Hash
	entries []Entry // table entries of the next records
	inner   []byte  // interior stored hashes read by refill
	innerLo int64   // the interiorIndex of inner's first
	prev    tlog.Hash
	prevN   int64 // the leaf of prev, or -1
	runIdx  int
}

func (sc *segmentChecker) record(ctx context.Context, r scannedRecord) error {
	if r.seq > sc.size {
		return errStopScan
	}
	if len(sc.entries) == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := sc.refill(r.seq); err != nil {
			return err
		}
	}
	want, keys, err := sc.v.log.cfg.Codec.Describe(r.data)
	if err != nil {
		sc.c.problem("segments/%s: event %d does not decode", sc.s.name, r.seq)
	}
	want.Seg, want.Off, want.N = sc.s.first, uint32(r.off), uint32(len(r.data))
	if err == nil && sc.entries[0] != want {
		sc.c.problem("index/%s: entry %d does not match the event", tableFile, r.seq)
	}
	sc.entries = sc.entries[1:]
	if err := sc.leaf(int64(r.seq-1), tlog.RecordHash(r.data)); err != nil {
		return err
	}
	for sc.runIdx < len(sc.runs) && sc.runs[sc.runIdx].last < r.seq {
		sc.runIdx++
	}
	if sc.runIdx < len(sc.runs) && sc.runs[sc.runIdx].first <= r.seq {
		for _, k := range keys {
			sc.c.expected[sc.runIdx].add(&sc.h, k, r.seq)
		}
	}
	return nil
}

// leaf takes the leaf hash of leaf n: a right leaf is checked with its
// left sibling against their parent's stored hash; a leaf whose sibling
// is not in this segment is kept for checkPairAcross.
func (sc *segmentChecker) leaf(n int64, h tlog.Hash) error {
	if sc.c.firstN < 0 {
		sc.c.firstLeaf, sc.c.firstN = h, n
	}
	sc.c.lastLeaf, sc.c.lastN = h, n
	if n%2 == 0 {
		sc.prev, sc.prevN = h, n
		return nil
	}
	if sc.prevN != n-1 {
		return nil
	}
	stored, err := sc.level1(n / 2)
	if err != nil {
		var ie *IntegrityError
		if errors.As(err, &ie) {
			sc.c.problem("%s", ie.Problems[0])
			return errStopScan
		}
		return err
	}
	if tlog.NodeHash(sc.prev, h) != stored {
		sc.c.problem("%s: the stored hash over events %d and %d does not match their records", hashesFile, n, n+1)
	}
	return nil
}

// level1 returns the stored hash of node j at level 1, from what refill
// read or else from the file.
func (sc *segmentChecker) level1(j int64) (tlog.Hash, error) {
	var h tlog.Hash
	x := interiorIndex(1, j)
	if i := (x - sc.innerLo) * tlog.HashSize; x >= sc.innerLo && i+tlog.HashSize <= int64(len(sc.inner)) {
		copy(h[:], sc.inner[i:])
		return h, nil
	}
	if _, err := sc.v.log.hashes.f.ReadAt(h[:], x*tlog.HashSize); err != nil {
		return h, hashReadError(err)
	}
	return h, nil
}

// refill reads the table entries of the next events from seq, and the
// interior stored hashes among them, in bulk. A file cut short is a
// problem that ends the scan.
func (sc *segmentChecker) refill(seq uint64) error {
	l := sc.v.log
	n := min(4096, sc.size-seq+1)
	sc.entries = make([]Entry, n)
	err := l.table.readRange(seq, sc.entries)
	if err == nil {
		// The level-1 hashes of the pairs of leaves seq-1..seq+n-2, as far
		// as the tree of size leaves has them, and what lies between.
		first, last := int64(seq-1)/2, int64(seq+n-2)/2
		if 2*last+1 >= int64(sc.size) {
			last--
		}
		sc.inner = sc.inner[:0]
		if first <= last {
			sc.innerLo = interiorIndex(1, first)
			sc.inner = slices.Grow(sc.inner, int(interiorIndex(1, last)-sc.innerLo+1)*tlog.HashSize)[:(interiorIndex(1, last)-sc.innerLo+1)*tlog.HashSize]
			if _, rerr := l.hashes.f.ReadAt(sc.inner, sc.innerLo*tlog.HashSize); rerr != nil {
				err = hashReadError(rerr)
			}
		}
	}
	var ie *IntegrityError
	if errors.As(err, &ie) {
		sc.c.problem("%s", ie.Problems[0])
		return errStopScan
	}
	return err
}

// checkPairAcross checks the level-1 stored hash of the two leaves
// where segment a ends and b, the next, begins, if they are siblings.
func (v *verifier) checkPairAcross(a, b *segmentCheck, size uint64) error {
	n := a.lastN
	if n < 0 || n%2 == 1 || b.firstN != n+1 || uint64(n+1) >= size {
		return nil
	}
	var stored tlog.Hash
	if _, err := v.log.hashes.f.ReadAt(stored[:], interiorIndex(1, n/2)*tlog.HashSize); err != nil {
		err = hashReadError(err)
		var ie *IntegrityError
		if errors.As(err, &ie) {
			v.problem("%s", ie.Problems[0])
			return nil
		}
		return err
	}
	if tlog.NodeHash(a.lastLeaf, b.firstLeaf) != stored {
		v.problem("%s: the stored hash over events %d and %d does not match their records", hashesFile, n+1, n+2)
	}
	return nil
}

// hashReadError is a short read of the hashes file as an integrity
// problem (the file was cut), or a read error.
func hashReadError(err error) error {
	if errors.Is(err, io.EOF) {
		return tampered(hashesFile + ": ends before the hashes the log needs")
	}
	return readError("reading hashes", err)
}

// checkInteriorHashes checks every stored hash above level 1 of a tree
// of size leaves against its two children, in parallel chunks; with the
// level-1 hashes checked against the records, the whole tree then is.
func (v *verifier) checkInteriorHashes(ctx context.Context, size uint64) error {
	const leavesPerChunk = 1 << 16
	f := v.log.hashes.f
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for a := int64(0); a < int64(size); a += leavesPerChunk {
		b := min(a+leavesPerChunk, int64(size))
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			bad, err := checkHashChunk(ctx, f, a, b)
			mu.Lock()
			defer mu.Unlock()
			var ie *IntegrityError
			if errors.As(err, &ie) {
				v.problem("%s", ie.Problems[0])
			} else if err != nil && firstErr == nil {
				firstErr = err
			}
			if bad >= 0 {
				v.problem("%s: stored hash %d does not match the hashes below it", hashesFile, bad)
			}
		})
	}
	wg.Wait()
	return firstErr
}

// checkHashChunk checks the stored hashes above level 1 that complete
// with leaves [a, b). It returns the position in the hashes file of the
// first that does not match, or -1.
func checkHashChunk(ctx context.Context, f io.ReaderAt, a, b int64) (int64, error) {
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	lo, hi := interiorCount(a), interiorCount(b)
	buf := make([]byte, (hi-lo)*tlog.HashSize)
	if _, err := f.ReadAt(buf, lo*tlog.HashSize); err != nil {
		return -1, hashReadError(err)
	}
	at := func(x int64) (tlog.Hash, error) {
		var h tlog.Hash
		if x >= lo {
			copy(h[:], buf[(x-lo)*tlog.HashSize:])
			return h, nil
		}
		_, err := f.ReadAt(h[:], x*tlog.HashSize)
		return h, err
	}
	for n := a; n < b; n++ {
		// The nodes that complete with leaf n: one per trailing one bit of
		// n, node n>>level at each level, each the parent of the one
		// before; those above level 1 have stored children.
		for level := 2; n&(1<<level-1) == 1<<level-1; level++ {
			j := n >> level
			left, err := at(interiorIndex(level-1, 2*j))
			if err != nil {
				return -1, hashReadError(err)
			}
			right, err := at(interiorIndex(level-1, 2*j+1))
			if err != nil {
				return -1, hashReadError(err)
			}
			x := interiorIndex(level, j)
			got, err := at(x)
			if err != nil {
				return -1, hashReadError(err)
			}
			if tlog.NodeHash(left, right) != got {
				return x, nil
			}
		}
	}
	return -1, nil
}

// checkRuns reads every posting list of every run, in parallel, and
// compares the digest of its (key, seq) pairs with the one computed from
// the records.
func (v *verifier) checkRuns(runs []*run) {
	problems := make([]string, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Go(func() { problems[i] = v.checkRun(r, &v.expected[i]) })
	}
	wg.Wait()
	for _, p := range problems {
		if p != "" {
			v.problem("%s", p)
		}
	}
}

func (v *verifier) checkRun(r *run, want *postingsDigest) string {
	var got postingsDigest
	var h maphash.Hash
	h.SetSeed(v.seed)
	for _, e := range r.dir {
		list, err := r.list(e)
		if err != nil {
			return err.Error()
		}
		for _, s := range list {
			got.add(&h, e.key, s)
		}
	}
	if got != *want {
		return fmt.Sprintf("index/%s: does not hold exactly the events' keys", filepath.Base(r.path))
	}
	return ""
}
