package audit

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
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Files in a log directory.
const (
	checkpointFile = "checkpoint"
	signingKeyFile = "signing.key"
	verifierFile   = "verifier.key"
	hashesFile     = "hashes"
	tableFile      = "table"
	lockFile       = "LOCK"
	tornDir        = "torn"
)

// OpenLog opens the log in dir, creating it (and a signing key, unless
// WithSigningKey is given) when dir holds none.
//
// Opening checks the log without reading all of it: the latest checkpoint
// must verify with the log's key, the stored hashes must give its root
// hash, and every event after it must be intact. A torn tail, the
// unfinished batch of a crash that was never acknowledged, is cut (and
// saved under torn/), logged and reported by Recovered. Anything else
// that does not match (a changed byte in a record, a hash, the
// checkpoint, the keys, an index header; events missing that a
// checkpoint covers) makes OpenLog fail with an error matching
// ErrTampered, before it changes any file. Verify checks everything.
func OpenLog(dir string, opts ...LogOption) (*Log, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: empty directory", ErrInvalidOption)
	}
	cfg := defaultLogConfig()
	originSet := false
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidOption)
		}
		before := cfg.origin
		if err := o.applyLog(&cfg); err != nil {
			return nil, err
		}
		if cfg.origin != before {
			originSet = true
		}
	}
	for _, d := range []string{dir, filepath.Join(dir, segmentsDir), filepath.Join(dir, indexDir)} {
		if err := mkdirDurable(d); err != nil {
			return nil, fmt.Errorf("audit: creating log directory: %w", err)
		}
	}
	unlock, err := lockDir(filepath.Join(dir, lockFile))
	if err != nil {
		return nil, err
	}
	l := &Log{
		dir:    dir,
		cfg:    cfg,
		unlock: unlock,
		reqs:   make(chan *writeReq, 1024),
		ctl:    make(chan ctlReq),
		done:   make(chan struct{}),
		cohort: make(chan struct{}, 1),
	}
	ok := false
	defer func() {
		if !ok {
			l.closeFiles()
			unlock()
		}
	}()
	removeTemps(dir)
	removeTemps(filepath.Join(dir, indexDir))
	if err := l.loadKeys(originSet); err != nil {
		return nil, err
	}
	if err := l.recover(); err != nil {
		return nil, err
	}
	l.idx.mergeStop = make(chan struct{})
	l.idx.mergeDone = make(chan struct{})
	l.idx.mergeWake = make(chan struct{}, 1)
	go l.idx.mergeLoop()
	l.idx.wakeMerger()
	go l.run()
	ok = true
	return l, nil
}

// loadKeys loads (or, for a new log, generates) the signing key and
// checks verifier.key against it.
func (l *Log) loadKeys(originSet bool) error {
	skey := l.cfg.signingKey
	skeyPath := filepath.Join(l.dir, signingKeyFile)
	if skey == "" {
		data, err := os.ReadFile(skeyPath)
		switch {
		case err == nil:
			s, ok := strings.CutSuffix(string(data), "\n")
			if !ok {
				return tampered(signingKeyFile + ": malformed")
			}
			skey = s
			if _, err := verifierKeyFor(skey); err != nil {
				return tampered(signingKeyFile + ": malformed")
			}
		case errors.Is(err, fs.ErrNotExist):
			has, err := l.hasData()
			if err != nil {
				return err
			}
			if has {
				return tampered(signingKeyFile + ": missing, and no signing key was given")
			}
			skey, _, err = GenerateSigningKey(l.cfg.origin)
			if err != nil {
				return err
			}
			if err := writeFileAtomic(skeyPath, []byte(skey+"\n"), 0o600); err != nil {
				return fmt.Errorf("audit: writing signing key: %w", err)
			}
		default:
			return fmt.Errorf("audit: reading signing key: %w", err)
		}
	}
	vkey, err := verifierKeyFor(skey)
	if err != nil {
		return err
	}
	name, _, _ := strings.Cut(vkey, "+")
	if originSet && name != l.cfg.origin {
		return fmt.Errorf("%w: origin %q differs from the signing key's name %q", ErrInvalidOption, l.cfg.origin, name)
	}
	l.cfg.origin = name
	if l.signer, err = note.NewSigner(skey); err != nil {
		return fmt.Errorf("%w: signing key: %v", ErrInvalidOption, err)
	}
	if l.verifier, err = note.NewVerifier(vkey); err != nil {
		return fmt.Errorf("%w: verifier key: %v", ErrInvalidOption, err)
	}
	l.vkey = vkey
	vpath := filepath.Join(l.dir, verifierFile)
	data, err := os.ReadFile(vpath)
	switch {
	case err == nil:
		if string(data) != vkey+"\n" {
			return tampered(verifierFile + ": does not match the signing key")
		}
	case errors.Is(err, fs.ErrNotExist):
		if err := writeFileAtomic(vpath, []byte(vkey+"\n"), 0o644); err != nil {
			return fmt.Errorf("audit: writing verifier key: %w", err)
		}
	default:
		return fmt.Errorf("audit: reading verifier key: %w", err)
	}
	return nil
}

// hasData reports whether the directory already holds a log.
func (l *Log) hasData() (bool, error) {
	if _, err := os.Stat(filepath.Join(l.dir, checkpointFile)); err == nil {
		return true, nil
	}
	ents, err := os.ReadDir(filepath.Join(l.dir, segmentsDir))
	if err != nil {
		return false, err
	}
	for _, e := range ents {
		if _, ok := parseSegmentName(e.Name()); !ok {
			continue
		}
		f, err := os.Open(filepath.Join(l.dir, segmentsDir, e.Name()))
		if err != nil {
			return false, err
		}
		var b [frameHeaderSize]byte
		n, _ := f.ReadAt(b[:], segHeaderSize)
		f.Close()
		if !allZero(b[:n]) {
			return true, nil
		}
	}
	return false, nil
}

// listedSegment is a segment file found by OpenLog.
type listedSegment struct {
	segment
	badHeader bool
}

func (l *Log) listSegments() ([]*listedSegment, error) {
	dir := filepath.Join(l.dir, segmentsDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var segs []*listedSegment
	for _, e := range ents {
		first, ok := parseSegmentName(e.Name())
		if !ok {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, e.Name()), os.O_RDWR, 0)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		s := &listedSegment{segment: segment{first: first, name: e.Name(), f: f, size: st.Size()}}
		segs = append(segs, s)
		var hdr [segHeaderSize]byte
		if _, err := f.ReadAt(hdr[:], 0); err != nil && !errors.Is(err, io.EOF) {
			return segs, err
		}
		got, err := parseSegmentHeader(hdr[:])
		if err != nil {
			s.badHeader = true
		} else if got != first {
			return segs, tampered(fmt.Sprintf("segments/%s: header names seq %d", e.Name(), got))
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].first < segs[j].first })
	for i, s := range segs {
		last := i == len(segs)-1
		// Only a segment being created when the process stopped may lack
		// its header, and then it holds nothing else.
		if s.badHeader && (!last || s.size > segHeaderSize) {
			return segs, tampered(fmt.Sprintf("segments/%s: bad header", s.name))
		}
	}
	if len(segs) > 0 && segs[0].first != 1 {
		return segs, tampered(fmt.Sprintf("segments: the first segment starts at seq %d", segs[0].first))
	}
	return segs, nil
}

// recovered is one event read back by recover.
type recovered struct {
	seq   uint64
	seg   uint64
	off   int64
	data  []byte
	event Event
}

// recover brings the log to a consistent state after a clean close or a
// crash. It decides everything before it changes anything, so that a log
// found damaged is left exactly as found.
func (l *Log) recover() error {
	var ckpt Checkpoint
	switch data, err := os.ReadFile(filepath.Join(l.dir, checkpointFile)); {
	case err == nil:
		c, err := openCheckpoint(l.verifier, data)
		if err != nil {
			return tampered(fmt.Sprintf("%s: %v", checkpointFile, err))
		}
		if c.Origin != l.cfg.origin {
			return tampered(fmt.Sprintf("%s: origin %q is not this log's", checkpointFile, c.Origin))
		}
		ckpt = c
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("audit: reading checkpoint: %w", err)
	}
	n := ckpt.Size

	listed, err := l.listSegments()
	keep := func() {
		l.segs = l.segs[:0]
		for _, s := range listed {
			l.segs = append(l.segs, &s.segment)
		}
	}
	keep()
	if err != nil {
		return err
	}

	tf, err := openDurable(filepath.Join(l.dir, indexDir, tableFile))
	if err != nil {
		return err
	}
	l.table = &table{f: tf}
	hf, err := openDurable(filepath.Join(l.dir, hashesFile))
	if err != nil {
		return err
	}
	l.hashes = &hashStore{f: hf}
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
		return tampered(fmt.Sprintf("index/%s: fewer entries than the checkpoint covers", tableFile))
	}
	if l.hashes.count.Load() < tlog.StoredHashCount(int64(n)) {
		return tampered(fmt.Sprintf("%s: fewer hashes than the checkpoint covers", hashesFile))
	}

	// Where the events after the checkpoint begin.
	startSeg, startOff, next := 0, int64(segHeaderSize), uint64(1)
	if n > 0 {
		i, off, err := l.afterCheckpoint(listed, n)
		if err != nil {
			return err
		}
		startSeg, startOff, next = i, off, n+1
	} else if len(listed) == 0 {
		startSeg = -1
	}

	// Sealed segments before the checkpoint's are not read here: check
	// from the table that each follows the one before.
	for i := 1; i <= startSeg && i < len(listed); i++ {
		e, err := l.table.read(listed[i].first - 1)
		if err != nil || e.seg != listed[i-1].first {
			return tampered(fmt.Sprintf("segments/%s: does not follow %s", listed[i].name, listed[i-1].name))
		}
	}

	var recs []recovered
	var zeroTails []*listedSegment // segments ending in zeros, to cut
	var zeroEnds []int64
	var torn *listedSegment
	var tornAt int64
	var tornWhy string
	var tornEvents int
	for i := startSeg; i >= 0 && i < len(listed); i++ {
		s := listed[i]
		from := int64(segHeaderSize)
		if i == startSeg {
			from = startOff
		}
		if s.badHeader {
			torn, tornAt, tornWhy = s, 0, "segment header incomplete"
			break
		}
		if from == segHeaderSize && s.first != next {
			return tampered(fmt.Sprintf("segments/%s: starts at seq %d but the log is at seq %d", s.name, s.first, next))
		}
		res, err := scanSegment(s.f, from, s.size, next, func(r scannedRecord) error {
			recs = append(recs, recovered{seq: r.seq, seg: s.first, off: r.off, data: r.data})
			return nil
		})
		if err != nil {
			return fmt.Errorf("audit: reading %s: %w", s.name, err)
		}
		next = res.nextSeq
		if res.problem == "" {
			if res.committedEnd < s.size {
				zeroTails = append(zeroTails, s)
				zeroEnds = append(zeroEnds, res.committedEnd)
			}
			continue
		}
		if i != len(listed)-1 {
			return tampered(fmt.Sprintf("segments/%s: %s at offset %d", s.name, res.problem, res.problemAt))
		}
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
		torn, tornAt, tornWhy, tornEvents = s, res.committedEnd, res.problem, res.uncommitted
	}
	size := next - 1
	if size < n {
		return tampered(fmt.Sprintf("the checkpoint covers %d events but the log holds %d", n, size))
	}
	for i := range recs {
		ev, err := decodeRecord(recs[i].data)
		if err != nil {
			return tampered(fmt.Sprintf("event %d: %v", recs[i].seq, err))
		}
		recs[i].event = ev
	}

	frontier, err := loadFrontier(int64(n), l.hashes)
	if err != nil {
		return err
	}
	l.hashes.frontier = frontier
	if n > 0 {
		h, err := l.hashes.treeHash(int64(n))
		if err != nil {
			return err
		}
		if h != ckpt.Hash {
			return tampered(fmt.Sprintf("%s: the stored hashes do not give the checkpoint's root hash", hashesFile))
		}
	}

	runs, err := loadRuns(filepath.Join(l.dir, indexDir))
	if err != nil {
		return err
	}
	l.idx = &index{dir: filepath.Join(l.dir, indexDir), runs: runs, logger: l.cfg.logger}
	var indexed uint64
	if len(runs) > 0 {
		indexed = runs[len(runs)-1].last
	}
	if indexed > size {
		return tampered(fmt.Sprintf("index: runs cover seq %d but the log holds %d events", indexed, size))
	}

	// Everything checks: now repair.
	for i, s := range zeroTails {
		if err := s.f.Truncate(zeroEnds[i]); err != nil {
			return err
		}
		if err := s.f.Sync(); err != nil {
			return err
		}
		s.size = zeroEnds[i]
	}
	if torn != nil {
		if err := l.cutTorn(torn, tornAt, tornWhy, tornEvents); err != nil {
			return err
		}
		if torn.badHeader {
			listed = listed[:len(listed)-1]
			keep()
		}
	}
	if err := l.hashes.f.Truncate(tlog.StoredHashCount(int64(n)) * tlog.HashSize); err != nil {
		return err
	}
	l.hashes.count.Store(tlog.StoredHashCount(int64(n)))
	if err := l.table.f.Truncate(int64(n) * tableEntrySize); err != nil {
		return err
	}
	l.table.count.Store(int64(n))
	for _, r := range recs {
		if err := l.hashes.add(int64(r.seq-1), r.data); err != nil {
			return err
		}
		e := entryFor(&r.event)
		e.seg, e.off, e.n = r.seg, uint32(r.off), uint32(len(r.data))
		l.table.add(e)
	}
	if err := l.hashes.flush(); err != nil {
		return err
	}
	if err := l.table.flush(); err != nil {
		return err
	}

	l.idx.mem = newMemtable(indexed + 1)
	for seq := indexed + 1; seq <= size; seq++ {
		var ev Event
		if seq > n {
			ev = recs[seq-n-1].event
		} else if ev, err = l.event(seq); err != nil {
			return err
		}
		l.idx.mem.add(seq, eventKeys(&ev))
	}

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
	l.ckpt = ckpt
	l.recovery.Replayed = len(recs)
	l.recovery.NoCheckpoint = n == 0 && size > 0
	if size > n {
		if err := l.checkpoint(); err != nil {
			return err
		}
	}
	if l.recovery.NoCheckpoint {
		l.cfg.logger.Warn("audit: log had events but no checkpoint", slog.Uint64("events", size))
	}
	return nil
}

// afterCheckpoint finds where the events after the checkpoint's last one
// begin: it checks that the table entry for event n points at event n and
// that the commit of its batch follows it.
func (l *Log) afterCheckpoint(listed []*listedSegment, n uint64) (int, int64, error) {
	e, err := l.table.read(n)
	if err != nil {
		return 0, 0, err
	}
	i := sort.Search(len(listed), func(i int) bool { return listed[i].first >= e.seg })
	if i == len(listed) || listed[i].first != e.seg || listed[i].badHeader {
		return 0, 0, tampered(fmt.Sprintf("the segment holding checkpointed event %d is missing", n))
	}
	s := listed[i]
	rec, err := l.readRecord(n, e)
	if err != nil {
		return 0, 0, err
	}
	commitOff := int64(e.off) + frameHeaderSize + 1 + int64(len(rec))
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
func (l *Log) cutTorn(s *listedSegment, at int64, why string, events int) error {
	tail := make([]byte, s.size-at)
	if _, err := s.f.ReadAt(tail, at); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	for len(tail) > 0 && tail[len(tail)-1] == 0 {
		tail = tail[:len(tail)-1] // the zero-filled space is not part of it
	}
	saved := filepath.Join(l.dir, tornDir, fmt.Sprintf("%s-%d.bin", s.name, at))
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
	} else {
		if err := s.f.Truncate(at); err != nil {
			return err
		}
		if err := s.f.Sync(); err != nil {
			return err
		}
		s.size = at
	}
	l.recovery.TornBytes = int64(len(tail))
	l.recovery.TornEvents = events
	l.recovery.TornSegment = s.name
	l.recovery.TornReason = why
	l.recovery.SavedTo = saved
	l.cfg.logger.Warn("audit: cut a torn tail left by a crash",
		slog.String("segment", s.name), slog.Int64("offset", at), slog.Int64("bytes", int64(len(tail))),
		slog.Int("events", events), slog.String("reason", why), slog.String("savedTo", saved))
	return nil
}

func fileSize(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
