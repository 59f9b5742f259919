package audit

import (
	"context"
	"github.com/shcrkit/shcrkit/audit/internal/balp"
	"github.com/shcrkit/shcrkit/audit/internal/logstore"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTornTailOfClosedLog(t *testing.T) {
	pristine := t.TempDir()
	buildSmallLog(t, pristine)
	files := snapshotDir(t, pristine)
	seg := filepath.Join(segmentsDir, segmentName(1))
	body := appendEventBody(nil, balp.Ptr(smallEvent(4, patientC)))
	frame, _ := appendEventFrame(nil, 4, recordedString(t0), body)
	tests := []struct {
		name       string
		tail       []byte
		wantTorn   bool
		wantEvents int
	}{
		{"partial frame header", []byte{0, 0, 1}, true, 0},
		{"partial frame", frame[:len(frame)/2], true, 0},
		{"whole event without its commit", frame, true, 1},
		{"frame with a bad checksum", append(append([]byte(nil), frame[:len(frame)-1]...), frame[len(frame)-1]^1), true, 0},
		{"zeros left by the file system", make([]byte, 4096), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := map[string][]byte{}
			for k, v := range files {
				f[k] = v
			}
			f[seg] = append(append([]byte(nil), f[seg]...), tt.tail...)
			dir := filepath.Join(t.TempDir(), "log")
			restoreDir(t, dir, f)
			l := openTestLog(t, dir)
			rec := l.Recovered()
			assert.Equal(t, tt.wantTorn, rec.Torn())
			assert.Equal(t, uint64(3), l.Size())
			if tt.wantTorn {
				assert.Equal(t, int64(len(tt.tail)), rec.TornBytes)
				assert.Equal(t, tt.wantEvents, rec.TornEvents)
				assert.Equal(t, segmentName(1), rec.TornSegment)
				saved, err := os.ReadFile(rec.SavedTo)
				require.NoError(t, err)
				assert.Equal(t, tt.tail, saved, "the cut bytes are kept for inspection")
			}
			info, err := os.Stat(filepath.Join(dir, seg))
			require.NoError(t, err)
			assert.Equal(t, int64(len(files[seg])), info.Size(), "the tail is cut")
			require.NoError(t, l.Verify(context.Background()))
			writeAll(t, l, smallEvent(5, patientC))
			require.NoError(t, l.Close())
			l = openTestLog(t, dir)
			assert.Equal(t, uint64(4), l.Size())
			require.NoError(t, l.Verify(context.Background()))
		})
	}
}

// crashSnapshot writes n events, one batch each, to a log that signs no
// checkpoint, and copies its directory while it is still open: the state
// a crash right then would leave on disk, without the zeros filled ahead
// of the data (the cases that want them add them).
func crashSnapshot(t *testing.T, n int) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	l := openTestLog(t, dir, WithCheckpointInterval(24*time.Hour))
	for i := 1; i <= n; i++ {
		writeAll(t, l, smallEvent(i, patientA))
	}
	return withoutZeroFill(snapshotDir(t, dir))
}

func TestRecoveryAfterCrash(t *testing.T) {
	files := crashSnapshot(t, 4)
	_, hasCheckpoint := files[checkpointFile]
	require.False(t, hasCheckpoint)
	seg := filepath.Join(segmentsDir, segmentName(1))
	frames := frameOffsets(t, files[seg])
	require.Len(t, frames, 8)
	table := filepath.Join(indexDir, tableFile)

	tests := []struct {
		name     string
		change   func(map[string][]byte)
		wantSize uint64
		wantTorn bool
		tampered bool
	}{
		{"nothing lost", func(map[string][]byte) {}, 4, false, false},
		{"zeros filled ahead of the data", func(f map[string][]byte) {
			f[seg] = append(slices.Clone(f[seg]), make([]byte, 8192)...)
		}, 4, false, false},
		{"last batch torn, zeros filled after it", func(f map[string][]byte) {
			f[seg] = append(slices.Clone(f[seg][:frames[7]+3]), make([]byte, 8192)...)
			f[table] = f[table][:3*tableEntrySize]
		}, 3, true, false},
		{"acknowledged last batch cut, zeros filled after it", func(f map[string][]byte) {
			f[seg] = append(slices.Clone(f[seg][:frames[6]]), make([]byte, 8192)...)
		}, 0, false, true},
		{"hashes and table never reached the disk", func(f map[string][]byte) {
			f[hashesFile], f[table] = nil, nil
		}, 4, false, false},
		{"hashes half written", func(f map[string][]byte) { f[hashesFile] = f[hashesFile][:50] }, 4, false, false},
		// A crash tears only a batch whose fsync never returned, and
		// whose table entries were therefore never written.
		{"last batch torn", func(f map[string][]byte) {
			f[seg], f[table] = f[seg][:frames[7]+3], f[table][:3*tableEntrySize]
		}, 3, true, false},
		{"last batch torn, its table entry half written", func(f map[string][]byte) {
			f[seg], f[table] = f[seg][:frames[7]+3], f[table][:3*tableEntrySize+10]
		}, 3, true, false},
		{"last batch torn, zeros where its table entry would be", func(f map[string][]byte) {
			f[seg] = f[seg][:frames[7]+3]
			f[table] = append(append([]byte(nil), f[table][:3*tableEntrySize]...), make([]byte, tableEntrySize)...)
		}, 3, true, false},
		{"acknowledged last batch cut by one byte", func(f map[string][]byte) { f[seg] = f[seg][:len(f[seg])-1] }, 0, false, true},
		{"acknowledged last batch cut", func(f map[string][]byte) { f[seg] = f[seg][:frames[6]] }, 0, false, true},
		{"acknowledged batches cut", func(f map[string][]byte) { f[seg] = f[seg][:frames[2]] }, 0, false, true},
		{"segment holding acknowledged events deleted", func(f map[string][]byte) { delete(f, seg) }, 0, false, true},
		{"last batch's event damaged after its commit was written", func(f map[string][]byte) {
			d := append([]byte(nil), f[seg]...)
			d[frames[6]+20] ^= 0xff
			f[seg] = d
		}, 0, false, true},
		{"last batch's commit damaged", func(f map[string][]byte) {
			d := append([]byte(nil), f[seg]...)
			d[frames[7]+12] ^= 0xff
			f[seg], f[table] = d, f[table][:3*tableEntrySize]
		}, 3, true, false},
		{"last batch's event lost with its page, the commit written", func(f map[string][]byte) {
			d := append([]byte(nil), f[seg]...)
			clear(d[frames[6]+10 : frames[6]+40])
			f[seg], f[table] = d, f[table][:3*tableEntrySize]
		}, 3, true, false},
		{"acknowledged last batch's event zeroed", func(f map[string][]byte) {
			d := append([]byte(nil), f[seg]...)
			clear(d[frames[6]+10 : frames[6]+40])
			f[seg] = d
		}, 0, false, true},
		{"an acknowledged batch damaged before an intact one", func(f map[string][]byte) {
			d := append([]byte(nil), f[seg]...)
			d[frames[2]+20] ^= 0xff
			f[seg] = d
		}, 0, false, true},
		{"a new segment cut short while being created", func(f map[string][]byte) {
			f[filepath.Join(segmentsDir, segmentName(5))] = []byte(segMagic[:5])
		}, 4, true, false},
		{"a new segment whose header is damaged but which holds data", func(f map[string][]byte) {
			f[filepath.Join(segmentsDir, segmentName(5))] = make([]byte, 100)
		}, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := map[string][]byte{}
			for k, v := range files {
				f[k] = v
			}
			tt.change(f)
			dir := filepath.Join(t.TempDir(), "log")
			restoreDir(t, dir, f)
			l, err := OpenLog(dir)
			if tt.tampered {
				assert.ErrorIs(t, err, ErrTampered)
				assert.Equal(t, f, snapshotDir(t, dir), "a damaged log is left as found")
				return
			}
			require.NoError(t, err)
			defer l.Close()
			assert.Equal(t, tt.wantSize, l.Size())
			assert.Equal(t, tt.wantTorn, l.Recovered().Torn())
			assert.True(t, l.Recovered().NoCheckpoint)
			assert.Equal(t, int(tt.wantSize), l.Recovered().Replayed)
			c, ok := l.Checkpoint()
			require.True(t, ok, "recovery seals what it found with a checkpoint")
			assert.Equal(t, tt.wantSize, c.Size)
			require.NoError(t, l.Verify(context.Background()))
			got := queryAll(t, l, officer(), Filter{Patient: patientA, Service: ServiceShCR})
			assert.Len(t, got, int(tt.wantSize), "the index is rebuilt")
		})
	}
}

// After a merge wrote its run but before it removed the two it replaced,
// OpenLog keeps the merged run only.
func TestRecoveryOfInterruptedMerge(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, WithTuning(Tuning{IndexFlushEvents: 1000}))
	// Runs of 3 and 1 events: too unequal for the merge policy.
	writeAll(t, l, smallEvent(1, patientA), smallEvent(2, patientB), smallEvent(3, patientA))
	require.NoError(t, l.st.FlushIndex())
	writeAll(t, l, smallEvent(4, patientA))
	require.NoError(t, l.Close())
	idx := filepath.Join(dir, indexDir)
	require.NoError(t, logstore.MergeFirstRuns(dir))
	names, _ := filepath.Glob(filepath.Join(idx, "run-*"))
	require.Len(t, names, 3, "two runs and their merge")

	l = openTestLog(t, dir)
	names, _ = filepath.Glob(filepath.Join(idx, "run-*"))
	assert.Equal(t, []string{filepath.Join(idx, runName(1, 4))}, names)
	require.NoError(t, l.Verify(context.Background()))
	assert.Len(t, queryAll(t, l, officer(), Filter{Patient: patientA, Service: ServiceShCR}), 3)
}

func TestIndexGapIsTampering(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, WithTuning(Tuning{IndexFlushEvents: 1}))
	for i := 1; i <= 4; i++ {
		writeAll(t, l, smallEvent(i, patientA))
	}
	require.NoError(t, l.Close())
	runs, _ := filepath.Glob(filepath.Join(dir, indexDir, "run-*"))
	require.NotEmpty(t, runs)
	require.NoError(t, os.Remove(runs[0]))
	_, err := OpenLog(dir)
	assert.ErrorIs(t, err, ErrTampered)
}

func TestMissingMiddleSegmentIsTampering(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, WithTuning(Tuning{SegmentSize: 4 << 10}))
	for i := 1; i <= 40; i++ {
		writeAll(t, l, readEvent(t0, clinician(), patientA))
	}
	require.NoError(t, l.Close())
	segs, _ := filepath.Glob(filepath.Join(dir, segmentsDir, "*.seg"))
	require.GreaterOrEqual(t, len(segs), 3)
	require.NoError(t, os.Remove(segs[1]))
	_, err := OpenLog(dir)
	assert.ErrorIs(t, err, ErrTampered)
}
