package logstore

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The investigation index maps keys (a patient, a user, an organisation,
// a custodian) to the ascending seqs of their events. Recent events are
// indexed in memory; every so many events the memory index is written as
// an immutable run file covering a contiguous range of seqs, and runs of
// similar size are merged in the background, so that a lookup reads a
// handful of files and never the log.
//
// Run file (index/run-<first>-<last>.idx), integers big-endian:
//
//	magic "SHCRIDX1" | first seq u64 | last seq u64 | key count u32 | directory length u32
//	directory: per key, sorted: key length u16 | key | postings offset u64 |
//	           postings length u32 | count u32 | postings CRC-32C u32
//	CRC-32C of everything above, u32
//	postings: per key, uvarint deltas of ascending seqs
//
// Run files are written to a temporary name, fsynced and renamed, so a
// crash leaves whole runs only. A merge writes the merged run before it
// removes the two it replaces; OpenLog drops a run whose range another
// run covers.
const (
	idxMagic      = "SHCRIDX1"
	idxHeaderSize = 8 + 8 + 8 + 4 + 4
	indexDir      = "index"
	maxRuns       = 24
)

type memtable struct {
	first  uint64 // first seq this memtable may hold
	last   uint64 // last seq added (first-1 when empty)
	events int
	lists  map[string][]uint64
}

func newMemtable(first uint64) *memtable {
	return &memtable{first: first, last: first - 1, lists: make(map[string][]uint64)}
}

func (m *memtable) add(seq uint64, keys []string) {
	for _, k := range keys {
		m.lists[k] = append(m.lists[k], seq)
	}
	m.last = seq
	m.events++
}

type runEntry struct {
	key   string
	off   int64 // absolute file offset of the postings
	n     uint32
	count uint32
	crc   uint32
}

type run struct {
	path        string
	f           *os.File
	first, last uint64
	dir         []runEntry
	postings    int64 // total number of postings
	refs        atomic.Int64
	retired     atomic.Bool
}

func runName(first, last uint64) string { return fmt.Sprintf("run-%020d-%020d.idx", first, last) }

func parseRunName(name string) (first, last uint64, ok bool) {
	s, ok1 := strings.CutPrefix(name, "run-")
	s, ok2 := strings.CutSuffix(s, ".idx")
	a, b, ok3 := strings.Cut(s, "-")
	if !ok1 || !ok2 || !ok3 || len(a) != 20 || len(b) != 20 {
		return 0, 0, false
	}
	f, err1 := strconv.ParseUint(a, 10, 64)
	l, err2 := strconv.ParseUint(b, 10, 64)
	return f, l, err1 == nil && err2 == nil && f >= 1 && f <= l
}

// writeRun writes lists (seqs ascending, all within [first, last]) as a
// run file in dir and opens it.
func writeRun(dir string, first, last uint64, lists map[string][]uint64) (*run, error) {
	keys := make([]string, 0, len(lists))
	for k := range lists {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var postings []byte
	var directory []byte
	type span struct{ off, n int }
	spans := make([]span, len(keys))
	for i, k := range keys {
		start := len(postings)
		prev := uint64(0)
		for _, s := range lists[k] {
			postings = binary.AppendUvarint(postings, s-prev)
			prev = s
		}
		spans[i] = span{start, len(postings) - start}
	}
	for i, k := range keys {
		directory = binary.BigEndian.AppendUint16(directory, uint16(len(k)))
		directory = append(directory, k...)
		directory = binary.BigEndian.AppendUint64(directory, uint64(spans[i].off))
		directory = binary.BigEndian.AppendUint32(directory, uint32(spans[i].n))
		directory = binary.BigEndian.AppendUint32(directory, uint32(len(lists[k])))
		directory = binary.BigEndian.AppendUint32(directory, crc(postings[spans[i].off:spans[i].off+spans[i].n]))
	}
	buf := make([]byte, 0, idxHeaderSize+len(directory)+4+len(postings))
	buf = append(buf, idxMagic...)
	buf = binary.BigEndian.AppendUint64(buf, first)
	buf = binary.BigEndian.AppendUint64(buf, last)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(keys)))
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(directory)))
	buf = append(buf, directory...)
	buf = binary.BigEndian.AppendUint32(buf, crc(buf))
	buf = append(buf, postings...)
	path := filepath.Join(dir, runName(first, last))
	if err := writeFileAtomic(path, buf, 0o600); err != nil {
		return nil, fmt.Errorf("audit: writing index run: %w", err)
	}
	return openRun(path)
}

// openRun opens a run file, checking its header and directory.
func openRun(path string) (*run, error) {
	name := filepath.Base(path)
	first, last, ok := parseRunName(name)
	if !ok {
		return nil, tampered(fmt.Sprintf("index/%s: not a run file name", name))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := readRunHeader(f, name, first, last)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.path = path
	r.refs.Store(1)
	return r, nil
}

func readRunHeader(f *os.File, name string, first, last uint64) (*run, error) {
	bad := func(why string) (*run, error) {
		return nil, tampered(fmt.Sprintf("index/%s: %s", name, why))
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	var hdr [idxHeaderSize]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return bad("short header")
	}
	if string(hdr[:8]) != idxMagic || binary.BigEndian.Uint64(hdr[8:]) != first || binary.BigEndian.Uint64(hdr[16:]) != last {
		return bad("header does not match the file name")
	}
	nkeys := int64(binary.BigEndian.Uint32(hdr[24:]))
	dirLen := int64(binary.BigEndian.Uint32(hdr[28:]))
	if idxHeaderSize+dirLen+4 > size {
		return bad("directory runs past the end of the file")
	}
	head := make([]byte, idxHeaderSize+dirLen+4)
	if _, err := f.ReadAt(head, 0); err != nil {
		return bad("short directory")
	}
	if binary.BigEndian.Uint32(head[len(head)-4:]) != crc(head[:len(head)-4]) {
		return bad("directory checksum mismatch")
	}
	base := int64(len(head))
	d := head[idxHeaderSize : len(head)-4]
	r := &run{f: f, first: first, last: last, dir: make([]runEntry, 0, nkeys)}
	var end int64
	for i := int64(0); i < nkeys; i++ {
		if len(d) < 2 {
			return bad("directory truncated")
		}
		kl := int(binary.BigEndian.Uint16(d))
		if len(d) < 2+kl+20 {
			return bad("directory truncated")
		}
		e := runEntry{
			key:   string(d[2 : 2+kl]),
			off:   base + int64(binary.BigEndian.Uint64(d[2+kl:])),
			n:     binary.BigEndian.Uint32(d[10+kl:]),
			count: binary.BigEndian.Uint32(d[14+kl:]),
			crc:   binary.BigEndian.Uint32(d[18+kl:]),
		}
		d = d[2+kl+20:]
		if e.off != base+end || e.count == 0 || e.n < e.count || (i > 0 && e.key <= r.dir[i-1].key) {
			return bad("directory entries out of order")
		}
		end += int64(e.n)
		r.postings += int64(e.count)
		r.dir = append(r.dir, e)
	}
	if len(d) != 0 || base+end != size {
		return bad("file size does not match its directory")
	}
	return r, nil
}

func (r *run) find(key string) (runEntry, bool) {
	i, ok := slices.BinarySearchFunc(r.dir, key, func(e runEntry, k string) int { return strings.Compare(e.key, k) })
	if !ok {
		return runEntry{}, false
	}
	return r.dir[i], true
}

// list reads and checks one posting list.
func (r *run) list(e runEntry) ([]uint64, error) {
	buf := make([]byte, e.n)
	if _, err := r.f.ReadAt(buf, e.off); err != nil && err != io.EOF {
		return nil, readError("reading index", err)
	}
	if crc(buf) != e.crc {
		return nil, tampered(fmt.Sprintf("index/%s: postings of a key fail their checksum", filepath.Base(r.path)))
	}
	out := make([]uint64, 0, e.count)
	var prev uint64
	for len(buf) > 0 {
		d, n := binary.Uvarint(buf)
		if n <= 0 || d == 0 {
			return nil, tampered(fmt.Sprintf("index/%s: malformed postings", filepath.Base(r.path)))
		}
		prev += d
		buf = buf[n:]
		out = append(out, prev)
	}
	if len(out) != int(e.count) || out[0] < r.first || out[len(out)-1] > r.last {
		return nil, tampered(fmt.Sprintf("index/%s: postings do not match the directory", filepath.Base(r.path)))
	}
	return out, nil
}

func (r *run) acquire() { r.refs.Add(1) }

// release drops a reference; the last one closes the file and, if the
// run was merged away, removes it.
func (r *run) release() {
	if r.refs.Add(-1) == 0 {
		r.f.Close()
		if r.retired.Load() {
			os.Remove(r.path)
		}
	}
}

// index is the investigation index of a Log.
type index struct {
	dir string

	mu   sync.RWMutex
	runs []*run // ascending, contiguous ranges
	mem  *memtable

	mergeWake chan struct{}
	mergeStop chan struct{}
	mergeDone chan struct{}
	logger    *slog.Logger
}

// addBatch indexes committed events.
func (ix *index) addBatch(reqs []*writeReq) {
	ix.mu.Lock()
	for _, r := range reqs {
		ix.mem.add(r.seq, r.keys)
	}
	ix.mu.Unlock()
}

// flush writes the memory index as a run.
func (ix *index) flush() error {
	ix.mu.RLock()
	m := ix.mem
	ix.mu.RUnlock()
	if m.events == 0 {
		return nil
	}
	r, err := writeRun(ix.dir, m.first, m.last, m.lists)
	if err != nil {
		return err
	}
	ix.mu.Lock()
	ix.runs = append(ix.runs, r)
	ix.mem = newMemtable(m.last + 1)
	ix.mu.Unlock()
	ix.wakeMerger()
	return nil
}

func (ix *index) wakeMerger() {
	select {
	case ix.mergeWake <- struct{}{}:
	default:
	}
}

// indexed returns the last seq the runs cover (0 when there are none).
func (ix *index) indexed() uint64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if len(ix.runs) == 0 {
		return 0
	}
	return ix.runs[len(ix.runs)-1].last
}

// memEvents returns how many events the memory index holds.
func (ix *index) memEvents() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.mem.events
}

// postingSource is one ascending list of seqs for a key: from a run (read
// on demand) or a copy of the memory index's list.
type postingSource struct {
	r     *run
	e     runEntry
	inMem []uint64
}

// lookup returns the sources for key, holding a reference on each run;
// the caller releases them with releaseSources.
func (ix *index) lookup(key string) (srcs []postingSource, count int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, r := range ix.runs {
		if e, ok := r.find(key); ok {
			r.acquire()
			srcs = append(srcs, postingSource{r: r, e: e})
			count += int(e.count)
		}
	}
	if l := ix.mem.lists[key]; len(l) > 0 {
		srcs = append(srcs, postingSource{inMem: slices.Clone(l)})
		count += len(l)
	}
	return srcs, count
}

// count returns how many events key has, for choosing the most selective
// key of a filter.
func (ix *index) count(key string) int {
	srcs, n := ix.lookup(key)
	releaseSources(srcs)
	return n
}

func releaseSources(srcs []postingSource) {
	for _, s := range srcs {
		if s.r != nil {
			s.r.release()
		}
	}
}

// snapshotRuns returns the runs with a reference held on each.
func (ix *index) snapshotRuns() []*run {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	rs := slices.Clone(ix.runs)
	for _, r := range rs {
		r.acquire()
	}
	return rs
}

// mergeLoop merges runs in the background until stopped.
func (ix *index) mergeLoop() {
	defer close(ix.mergeDone)
	for {
		select {
		case <-ix.mergeStop:
			return
		case <-ix.mergeWake:
			for {
				select {
				case <-ix.mergeStop:
					return
				default:
				}
				merged, err := ix.mergeOnce()
				if err != nil {
					// The runs stay as they were, which is still a
					// correct index; only lookups get slower.
					ix.logger.Error("audit: merging index runs failed; merging stops until the log is reopened",
						slog.String("error", err.Error()))
					return
				}
				if !merged {
					break
				}
			}
		}
	}
}

// pickMerge chooses two adjacent runs to merge: from the newest end, the
// first pair where the older run is no more than twice the newer one
// (so that runs grow like the digits of a binary counter), or, with too
// many runs, the adjacent pair with the fewest postings.
func pickMerge(runs []*run) int {
	for i := len(runs) - 2; i >= 0; i-- {
		if runs[i].postings <= 2*runs[i+1].postings {
			return i
		}
	}
	if len(runs) > maxRuns {
		best, bestSize := 0, int64(-1)
		for i := 0; i+1 < len(runs); i++ {
			if s := runs[i].postings + runs[i+1].postings; bestSize < 0 || s < bestSize {
				best, bestSize = i, s
			}
		}
		return best
	}
	return -1
}

func (ix *index) mergeOnce() (bool, error) {
	ix.mu.RLock()
	i := pickMerge(ix.runs)
	var a, b *run
	if i >= 0 {
		a, b = ix.runs[i], ix.runs[i+1]
		a.acquire()
		b.acquire()
	}
	ix.mu.RUnlock()
	if i < 0 {
		return false, nil
	}
	defer a.release()
	defer b.release()
	m, err := mergeRuns(ix.dir, a, b)
	if err != nil {
		return false, err
	}
	ix.mu.Lock()
	j := slices.Index(ix.runs, a)
	if j < 0 || j+1 >= len(ix.runs) || ix.runs[j+1] != b {
		ix.mu.Unlock()
		m.retired.Store(true)
		m.release()
		return false, fmt.Errorf("audit: internal error: index runs changed during a merge")
	}
	ix.runs = slices.Replace(ix.runs, j, j+2, m)
	ix.mu.Unlock()
	a.retired.Store(true)
	b.retired.Store(true)
	a.release() // the index's own references
	b.release()
	return true, nil
}

// mergeRuns writes the union of two adjacent runs.
func mergeRuns(dir string, a, b *run) (*run, error) {
	lists := make(map[string][]uint64, len(a.dir)+len(b.dir))
	for _, r := range []*run{a, b} {
		for _, e := range r.dir {
			l, err := r.list(e)
			if err != nil {
				return nil, err
			}
			lists[e.key] = append(lists[e.key], l...)
		}
	}
	return writeRun(dir, a.first, b.last, lists)
}

// loadRuns opens the run files of dir, drops runs covered by a merged
// run (left by a crash between a merge and the removal of its inputs),
// and checks that the rest cover 1..n contiguously.
func loadRuns(dir string) ([]*run, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type span struct {
		name        string
		first, last uint64
	}
	var spans []span
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "run-") {
			continue
		}
		f, l, ok := parseRunName(e.Name())
		if !ok {
			return nil, tampered(fmt.Sprintf("index/%s: not a run file name", e.Name()))
		}
		spans = append(spans, span{e.Name(), f, l})
	}
	// Widest first among equal starts, so that covered runs follow the
	// run that covers them.
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].first != spans[j].first {
			return spans[i].first < spans[j].first
		}
		return spans[i].last > spans[j].last
	})
	var keep []span
	var covered []string
	for _, s := range spans {
		if n := len(keep); n > 0 && s.last <= keep[n-1].last {
			covered = append(covered, s.name)
			continue
		}
		keep = append(keep, s)
	}
	next := uint64(1)
	for _, s := range keep {
		if s.first != next {
			return nil, tampered(fmt.Sprintf("index: runs leave a gap or overlap at seq %d", next))
		}
		next = s.last + 1
	}
	var runs []*run
	for _, s := range keep {
		r, err := openRun(filepath.Join(dir, s.name))
		if err != nil {
			for _, r := range runs {
				r.release()
			}
			return nil, err
		}
		runs = append(runs, r)
	}
	for _, name := range covered {
		os.Remove(filepath.Join(dir, name))
	}
	return runs, nil
}

// postingsDigest accumulates an order-independent digest of (key, seq)
// pairs, so that Verify can compare an index run with what the records
// say it should hold without sorting either: the sums of two 64-bit
// hashes of each pair, seeded afresh by each Verify so that no one can
// prepare pairs whose sums collide.
type postingsDigest struct {
	sum   [2]uint64
	count int64
}

func (d *postingsDigest) add(h *maphash.Hash, key string, seq uint64) {
	var s [9]byte
	binary.BigEndian.PutUint64(s[1:], seq)
	for i := range d.sum {
		h.Reset()
		s[0] = byte(i)
		h.Write(s[:])
		h.WriteString(key)
		d.sum[i] += h.Sum64()
	}
	d.count++
}

func (d *postingsDigest) merge(o *postingsDigest) {
	for i := range d.sum {
		d.sum[i] += o.sum[i]
	}
	d.count += o.count
}
