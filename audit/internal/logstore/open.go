package logstore

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
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

// Config configures Open. The audit package validates every field.
type Config struct {
	Dir                  string
	SigningKey           string // "": the key in the directory, generated for a new log
	Origin               string // the log's name; "" takes the signing key's
	CheckpointEvery      time.Duration
	CheckpointEachCommit bool // sign a checkpoint of every commit for OnCheckpoint
	SyncEach             bool // one fsync per event: no group commit
	SegmentSize          int64
	IndexFlushEvents     int
	MaxBatch             int
	Now                  func() time.Time
	Logger               *slog.Logger
	OnCheckpoint         func(Checkpoint)
	Codec                Codec
}

// Codec reads what the store needs from a record: the event's part of
// its table entry (Time to Purpose) and its index keys. An error means
// the record does not decode.
type Codec interface {
	Describe(rec []byte) (Entry, []string, error)
}

// Open opens the log in cfg.Dir, creating it (and a signing key, unless
// cfg.SigningKey is given) when the directory holds none.
//
// Opening checks the log without reading all of it: the latest checkpoint
// must verify with the log's key, the stored hashes must give its root
// hash, and every event after it must be intact. A torn tail, the
// unfinished batch of a crash that was never acknowledged, is cut (and
// saved under torn/), logged and reported by Recovered. Anything else
// that does not match (a changed byte in a record, a hash, the
// checkpoint, the keys, an index header; acknowledged events, a
// checkpoint or an index run missing) makes Open fail with an
// *IntegrityError, before it changes any file. Verify checks everything.
func Open(cfg Config) (*Store, error) {
	dir := cfg.Dir
	for _, d := range []string{dir, filepath.Join(dir, segmentsDir), filepath.Join(dir, indexDir)} {
		if err := mkdirDurable(d); err != nil {
			return nil, fmt.Errorf("audit: creating log directory: %w", err)
		}
	}
	unlock, err := lockDir(filepath.Join(dir, lockFile))
	if err != nil {
		return nil, err
	}
	l := &Store{
		dir:    dir,
		cfg:    cfg,
		unlock: unlock,
		reqs:   make(chan *writeReq, 1024),
		ctl:    make(chan ctlReq),
		done:   make(chan struct{}),
		cohort: make(chan struct{}, 1),

		flights:    make(chan *flight, syncSlots),
		syncerDone: make(chan struct{}),
		slots:      make(chan int, syncSlots),
		spare:      make(chan []byte, 2*syncSlots+2),
		slot:       -1,

		zwake: make(chan *segment, 1),
		zdone: make(chan struct{}),
	}
	for i := range syncSlots {
		l.slots <- i
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
	if err := l.loadKeys(); err != nil {
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
	go l.syncLoop()
	go l.zeroLoop()
	go l.run()
	ok = true
	return l, nil
}

// loadKeys loads (or, for a new log, generates) the signing key and
// checks verifier.key against it.
func (l *Store) loadKeys() error {
	skey := l.cfg.SigningKey
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
			skey, _, err = GenerateSigningKey(cmp.Or(l.cfg.Origin, DefaultOrigin))
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
	if l.cfg.Origin != "" && name != l.cfg.Origin {
		return fmt.Errorf("%w: origin %q differs from the signing key's name %q", ErrInvalidOption, l.cfg.Origin, name)
	}
	l.cfg.Origin = name
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
func (l *Store) hasData() (bool, error) {
	for _, f := range []string{checkpointFile, stateFile} {
		if _, err := os.Stat(filepath.Join(l.dir, f)); err == nil {
			return true, nil
		}
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

func (l *Store) listSegments() ([]*listedSegment, error) {
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
		s := &listedSegment{segment: segment{first: first, name: e.Name(), path: f.Name(), f: f, size: st.Size()}}
		s.zeroed.Store(st.Size())
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

func fileSize(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
