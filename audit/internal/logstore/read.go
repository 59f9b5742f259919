package logstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"slices"
	"sort"

	"golang.org/x/mod/sumdb/tlog"
)

// Entry returns the table entry of seq.
func (l *Store) Entry(seq uint64) (Entry, error) { return l.table.read(seq) }

// Entries reads the table entries of seqs [from, from+len(dst)).
func (l *Store) Entries(from uint64, dst []Entry) error { return l.table.readRange(from, dst) }

// KeyCount returns how many events have the index key.
func (l *Store) KeyCount(key string) int { return l.idx.count(key) }

// KeySeqs yields the seqs of the events that have the index key, in
// ascending runs (one slice per index run, then the memory index).
func (l *Store) KeySeqs(key string) iter.Seq2[[]uint64, error] {
	return func(yield func([]uint64, error) bool) {
		srcs, _ := l.idx.lookup(key)
		defer releaseSources(srcs)
		for _, src := range srcs {
			seqs := src.inMem
			if src.r != nil {
				var err error
				if seqs, err = src.r.list(src.e); err != nil {
					yield(nil, err)
					return
				}
			}
			if !yield(seqs, nil) {
				return
			}
		}
	}
}

// segmentOf returns the first seq of the segment that holds seq (the
// one with the greatest first seq not above it; 0 if none) and that of
// the next segment (math.MaxUint64 if none).
func (l *Store) segmentOf(seq uint64) (first, next uint64) {
	l.segMu.RLock()
	defer l.segMu.RUnlock()
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].first > seq })
	next = math.MaxUint64
	if i < len(l.segs) {
		next = l.segs[i].first
	}
	if i == 0 {
		return 0, next
	}
	return l.segs[i-1].first, next
}

// segmentFor returns the segment whose first seq is first.
func (l *Store) segmentFor(first uint64) (*segment, bool) {
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

// Record reads the record of seq through its table entry, checking the
// frame.
func (l *Store) Record(seq uint64, e Entry) ([]byte, error) { return l.readRecord(seq, e) }

func (l *Store) readRecord(seq uint64, e Entry) ([]byte, error) {
	s, ok := l.segmentFor(e.Seg)
	if !ok {
		if l.isClosed() {
			return nil, ErrClosed // a query still reading when the log was closed
		}
		return nil, tampered(fmt.Sprintf("index/table: entry %d names a missing segment", seq))
	}
	buf := make([]byte, frameHeaderSize+1+int(e.N))
	if _, err := s.f.ReadAt(buf, int64(e.Off)); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, tampered(fmt.Sprintf("segments/%s: event %d lies past the end of the file", s.name, seq))
		}
		return nil, readError(fmt.Sprintf("reading event %d", seq), err)
	}
	l.recordReads.Add(1)
	return frameRecord(s, seq, buf)
}

// frameRecord checks the event frame of seq read from segment s and
// returns its record.
func frameRecord(s *segment, seq uint64, frame []byte) ([]byte, error) {
	payload := frame[frameHeaderSize:]
	if int(binary.BigEndian.Uint32(frame)) != len(payload) || binary.BigEndian.Uint32(frame[4:]) != crc(payload) || payload[0] != kindEvent {
		return nil, tampered(fmt.Sprintf("segments/%s: event %d fails its checksum", s.name, seq))
	}
	rec := payload[1:]
	if got, ok := RecordSeq(rec); !ok || got != seq {
		return nil, tampered(fmt.Sprintf("segments/%s: record at the offset of event %d is not that event", s.name, seq))
	}
	return rec, nil
}

// readRecords reads the records of seqs [from, from+len(entries)),
// whose table entries those are, with one read per segment, and calls
// visit with each.
func (l *Store) readRecords(from uint64, entries []Entry, visit func(seq uint64, rec []byte) error) error {
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].Seg == entries[i].Seg && entries[j].Off > entries[j-1].Off {
			j++
		}
		s, ok := l.segmentFor(entries[i].Seg)
		if !ok {
			return tampered(fmt.Sprintf("index/table: entry %d names a missing segment", from+uint64(i)))
		}
		start := int64(entries[i].Off)
		end := int64(entries[j-1].Off) + frameHeaderSize + 1 + int64(entries[j-1].N)
		buf := make([]byte, end-start)
		if _, err := s.f.ReadAt(buf, start); err != nil {
			if errors.Is(err, io.EOF) {
				return tampered(fmt.Sprintf("segments/%s: event %d lies past the end of the file", s.name, from+uint64(j-1)))
			}
			return readError("reading events", err)
		}
		for k := i; k < j; k++ {
			e := entries[k]
			off := int64(e.Off) - start
			if off+frameHeaderSize+1+int64(e.N) > int64(len(buf)) {
				return tampered(fmt.Sprintf("index/table: entry %d overlaps the next", from+uint64(k)))
			}
			rec, err := frameRecord(s, from+uint64(k), buf[off:off+frameHeaderSize+1+int64(e.N)])
			if err != nil {
				return err
			}
			if err := visit(from+uint64(k), rec); err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

// leafHash returns the leaf hash of leaf n (the event with seq n+1),
// read from its record.
func (l *Store) leafHash(n int64) (tlog.Hash, error) {
	seq := uint64(n + 1)
	e, err := l.table.read(seq)
	if err != nil {
		return tlog.Hash{}, err
	}
	rec, err := l.readRecord(seq, e)
	if err != nil {
		return tlog.Hash{}, err
	}
	return tlog.RecordHash(rec), nil
}

// ProveRecord returns the record of seq and its inclusion proof against
// the latest checkpoint, signing a checkpoint first when the latest does
// not cover seq.
func (l *Store) ProveRecord(ctx context.Context, seq uint64) ([]byte, tlog.RecordProof, Checkpoint, error) {
	if seq == 0 || seq > l.Size() {
		return nil, nil, Checkpoint{}, fmt.Errorf("%w: seq %d", ErrNotFound, seq)
	}
	c, err := l.checkpointCovering(ctx, seq)
	if err != nil {
		return nil, nil, Checkpoint{}, err
	}
	if err := l.enterRead(); err != nil {
		return nil, nil, Checkpoint{}, err
	}
	defer l.inflight.Done()
	e, err := l.table.read(seq)
	if err != nil {
		return nil, nil, Checkpoint{}, err
	}
	rec, err := l.readRecord(seq, e)
	if err != nil {
		return nil, nil, Checkpoint{}, err
	}
	p, err := tlog.ProveRecord(int64(c.Size), int64(seq-1), l.hashes)
	if err != nil {
		return nil, nil, Checkpoint{}, fmt.Errorf("audit: proving event %d: %w", seq, err)
	}
	return rec, p, c, nil
}

// ProveTree returns a proof that the log of oldSize events is a prefix
// of the log at a checkpoint of everything committed (signed first if
// the latest checkpoint is older), and that checkpoint.
func (l *Store) ProveTree(ctx context.Context, oldSize uint64) (tlog.TreeProof, Checkpoint, error) {
	size := l.Size()
	if oldSize > size {
		return nil, Checkpoint{}, fmt.Errorf("%w: the log holds fewer than %d events", ErrNotFound, oldSize)
	}
	c, err := l.checkpointCovering(ctx, size)
	if err != nil {
		return nil, Checkpoint{}, err
	}
	if err := l.enterRead(); err != nil {
		return nil, Checkpoint{}, err
	}
	defer l.inflight.Done()
	var p tlog.TreeProof
	if oldSize > 0 && oldSize < c.Size {
		if p, err = tlog.ProveTree(int64(c.Size), int64(oldSize), l.hashes); err != nil {
			return nil, Checkpoint{}, fmt.Errorf("audit: proving consistency: %w", err)
		}
	}
	return p, c, nil
}

func (l *Store) checkpointCovering(ctx context.Context, seq uint64) (Checkpoint, error) {
	if c, ok := l.Checkpoint(); ok && c.Size >= seq {
		return c, nil
	}
	return l.SignCheckpoint(ctx)
}
