package logstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

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
// Verify reads every file in full. It runs alongside writes and checks
// the events written when it started.
func (l *Store) Verify(ctx context.Context) error {
	if err := l.enterRead(); err != nil {
		return err
	}
	defer l.inflight.Done()
	v := &verifier{log: l}
	v.checkKeys()
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
	if err := v.scan(ctx, segs, runs, size, ckpt); err != nil {
		return err
	}
	for i, r := range runs {
		v.checkRun(r, &v.expected[i])
	}
	if len(v.problems) > 0 {
		return &IntegrityError{Problems: v.problems}
	}
	return nil
}

type verifier struct {
	log      *Store
	problems []string
	expected []postingsDigest
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

// scan reads every segment in order, recomputing what the other files
// hold from the records.
func (v *verifier) scan(ctx context.Context, segs []*segment, runs []*run, size uint64, ckpt Checkpoint) error {
	l := v.log
	v.expected = make([]postingsDigest, len(runs))
	hashEnd := tlog.StoredHashCount(int64(size)) * tlog.HashSize
	hashes := bufio.NewReaderSize(io.NewSectionReader(l.hashes.f, 0, hashEnd), readBufferSize(hashEnd))
	entries := bufio.NewReaderSize(io.NewSectionReader(l.table.f, 0, int64(size)*tableEntrySize), readBufferSize(int64(size)*tableEntrySize))
	hs := &hashStore{}
	next := uint64(1)
	runIdx := 0
	var stored tlog.Hash
	var raw [tableEntrySize]byte
	if size > 0 && len(segs) == 0 {
		v.problem("segments: none, but %d events were written", size)
	}
	for i, s := range segs {
		if next > size {
			break
		}
		var hdr [segHeaderSize]byte
		if _, err := s.f.ReadAt(hdr[:], 0); err != nil {
			v.problem("segments/%s: header unreadable", s.name)
			return nil
		}
		if first, err := parseSegmentHeader(hdr[:]); err != nil || first != s.first {
			v.problem("segments/%s: bad header", s.name)
			return nil
		}
		if s.first != next {
			v.problem("segments/%s: starts at seq %d but the log is at %d", s.name, s.first, next)
			return nil
		}
		fsize, err := fileSize(s.f)
		if err != nil {
			return err
		}
		res, err := scanSegment(s.f, segHeaderSize, fsize, next, func(r scannedRecord) error {
			if r.seq > size {
				return errStopScan
			}
			if r.seq%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			// Stored hashes.
			before := len(hs.pending)
			if err := hs.add(int64(r.seq-1), r.data); err != nil {
				return err
			}
			for off := before; off < len(hs.pending); off += tlog.HashSize {
				if _, err := io.ReadFull(hashes, stored[:]); err != nil {
					v.problem("%s: ends before the hashes of event %d", hashesFile, r.seq)
					return errStopScan
				}
				if string(stored[:]) != string(hs.pending[off:off+tlog.HashSize]) {
					v.problem("%s: a stored hash of event %d does not match the record", hashesFile, r.seq)
				}
			}
			hs.pending = hs.pending[:0]
			if r.seq == ckpt.Size {
				if h, err := hs.treeHash(int64(r.seq)); err != nil || h != ckpt.Hash {
					v.problem("%s: root hash does not match the records", checkpointFile)
				}
			}
			// The event itself, its table entry and its index keys.
			want, keys, err := l.cfg.Codec.Describe(r.data)
			if err != nil {
				v.problem("segments/%s: event %d does not decode", s.name, r.seq)
				return nil
			}
			if _, err := io.ReadFull(entries, raw[:]); err != nil {
				v.problem("index/%s: ends before event %d", tableFile, r.seq)
				return errStopScan
			}
			want.Seg, want.Off, want.N = s.first, uint32(r.off), uint32(len(r.data))
			if got, ok := parseTableEntry(raw[:]); !ok || got != want {
				v.problem("index/%s: entry %d does not match the event", tableFile, r.seq)
			}
			for runIdx < len(runs) && runs[runIdx].last < r.seq {
				runIdx++
			}
			if runIdx < len(runs) && runs[runIdx].first <= r.seq {
				for _, k := range keys {
					v.expected[runIdx].add(k, r.seq)
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopScan) {
			return err
		}
		next = res.nextSeq
		if res.problem != "" && next <= size {
			v.problem("segments/%s: %s at offset %d", s.name, res.problem, res.problemAt)
			return nil
		}
		if errors.Is(err, errStopScan) {
			break
		}
		if i == len(segs)-1 && next <= size {
			v.problem("segments: hold %d events but %d were written", next-1, size)
		}
	}
	return nil
}

// checkRun reads every posting list of a run and compares the digest of
// its (key, seq) pairs with the one computed from the records.
func (v *verifier) checkRun(r *run, want *postingsDigest) {
	var got postingsDigest
	for _, e := range r.dir {
		list, err := r.list(e)
		if err != nil {
			v.problem("%v", err)
			return
		}
		for _, s := range list {
			got.add(e.key, s)
		}
	}
	if got != *want {
		v.problem("index/%s: does not hold exactly the events' keys", filepath.Base(r.path))
	}
}
