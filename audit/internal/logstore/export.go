package logstore

import (
	"path/filepath"
)

// Names of the log's files and layout constants, for the audit package's
// tests that damage a log's files on purpose.
const (
	CheckpointFile  = checkpointFile
	SigningKeyFile  = signingKeyFile
	VerifierFile    = verifierFile
	HashesFile      = hashesFile
	TableFile       = tableFile
	StateFile       = stateFile
	LockFile        = lockFile
	IndexDir        = indexDir
	SegmentsDir     = segmentsDir
	SegMagic        = segMagic
	SegHeaderSize   = segHeaderSize
	FrameHeaderSize = frameHeaderSize
	TableEntrySize  = tableEntrySize
)

// SegmentName is the file name of the segment whose first seq is first.
func SegmentName(first uint64) string { return segmentName(first) }

// RunName is the file name of the index run covering first..last.
func RunName(first, last uint64) string { return runName(first, last) }

// AppendEventFrame appends the frame of an event record, as the writer
// does, and returns it with the record's offset in it.
func AppendEventFrame(dst []byte, seq uint64, recorded string, body []byte) ([]byte, int) {
	return appendEventFrame(dst, seq, recorded, body)
}

// FlushIndex writes the events indexed in memory as a run now, as the
// writer does every so many events.
func (l *Store) FlushIndex() error { return l.idx.flush() }

// CloseActiveSegment closes the file of the segment being written, so
// that the writer's next write fails as on a failing disk.
func (l *Store) CloseActiveSegment() error { return l.seg.f.Close() }

// MergeFirstRuns writes the merge of the first two runs of the index in
// dir without removing them: what a crash in the middle of a merge
// leaves.
func MergeFirstRuns(dir string) error {
	idx := filepath.Join(dir, indexDir)
	runs, err := loadRuns(idx)
	if err != nil {
		return err
	}
	defer func() {
		for _, r := range runs {
			r.release()
		}
	}()
	if len(runs) < 2 {
		return tampered("index: fewer than two runs to merge")
	}
	m, err := mergeRuns(idx, runs[0], runs[1])
	if err != nil {
		return err
	}
	m.release()
	return nil
}
