package audit

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallEvent keeps the byte-flip test's log small.
func smallEvent(i int, patient shcrkit.NHSNumber) Event {
	return Event{
		Time:      t0.Add(time.Duration(i) * time.Minute),
		Requester: shcrkit.Requester{UserID: "555000111222", Organisation: "RX1", System: shcrkit.System{Name: "EPR"}},
		Action:    ActionRead, Service: ServiceShCR, Patient: patient, Outcome: OutcomeSuccess, Custodian: "Y99999",
	}
}

// snapshotDir reads every file under dir.
func snapshotDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		files[rel] = data
		return err
	}))
	return files
}

// restoreDir makes dir hold exactly files.
func restoreDir(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	require.NoError(t, os.RemoveAll(dir))
	for rel, data := range files {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
		require.NoError(t, os.WriteFile(p, data, 0o600))
	}
}

// syncDirTo rewrites only what differs from files: what OpenLog
// repaired or added, and the flipped file.
func syncDirTo(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	have := snapshotDir(t, dir)
	for rel := range have {
		if _, ok := files[rel]; !ok {
			require.NoError(t, os.Remove(filepath.Join(dir, rel)))
		}
	}
	for rel, data := range files {
		if cur, ok := have[rel]; !ok || string(cur) != string(data) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, rel), data, 0o600))
		}
	}
}

// checkDetected opens the log in dir and verifies it; it returns nil
// when OpenLog or Verify reported tampering, and an error describing
// what happened otherwise.
func checkDetected(dir string) error {
	l, err := OpenLog(dir)
	if err != nil {
		if errors.Is(err, ErrTampered) {
			return nil
		}
		return err
	}
	defer l.Close()
	err = l.Verify(context.Background())
	if errors.Is(err, ErrTampered) {
		return nil
	}
	if err != nil {
		return err
	}
	return errors.New("not detected")
}

func buildSmallLog(t *testing.T, dir string) {
	t.Helper()
	l, err := OpenLog(dir)
	require.NoError(t, err)
	writeAll(t, l, smallEvent(1, patientA), smallEvent(2, patientB), smallEvent(3, patientA))
	require.NoError(t, l.Close())
}

// Flip a bit of every byte of every file of a small closed log, one at a
// time: OpenLog must refuse it or Verify must fail.
func TestByteFlipIsDetected(t *testing.T) {
	pristine := t.TempDir()
	buildSmallLog(t, pristine)
	files := snapshotDir(t, pristine)
	work := filepath.Join(t.TempDir(), "log")
	restoreDir(t, work, files)
	l, err := OpenLog(work)
	require.NoError(t, err)
	require.NoError(t, l.Verify(context.Background()), "the untouched log verifies")
	require.NoError(t, l.Close())

	names := make([]string, 0, len(files))
	total := 0
	for name, data := range files {
		names = append(names, name)
		total += len(data)
	}
	sort.Strings(names)
	step := 1
	if raceEnabled || testing.Short() {
		step = 7 // the race detector makes every open ten times slower
	}
	missed := 0
	for _, name := range names {
		data := files[name]
		for i := 0; i < len(data); i += step {
			flipped := append([]byte(nil), data...)
			flipped[i] ^= 0x01
			require.NoError(t, os.WriteFile(filepath.Join(work, name), flipped, 0o600))
			if err := checkDetected(work); err != nil {
				missed++
				t.Errorf("%s byte %d: %v", name, i, err)
				if missed > 10 {
					t.FailNow()
				}
			}
			syncDirTo(t, work, files)
		}
	}
	t.Logf("%d files, %d bytes, every %d byte(s) flipped", len(names), total, step)
}

func TestStructuralTamperingIsDetected(t *testing.T) {
	pristine := t.TempDir()
	buildSmallLog(t, pristine)
	files := snapshotDir(t, pristine)
	seg := filepath.Join(segmentsDir, segmentName(1))
	frames := frameOffsets(t, files[seg])
	require.Len(t, frames, 6, "three events, three commits")
	tests := []struct {
		name   string
		change func(map[string][]byte)
	}{
		{"byte removed from a record", func(f map[string][]byte) {
			d := f[seg]
			f[seg] = append(append([]byte(nil), d[:frames[0]+20]...), d[frames[0]+21:]...)
		}},
		{"byte inserted into a record", func(f map[string][]byte) {
			d := f[seg]
			f[seg] = append(append(append([]byte(nil), d[:frames[2]+30]...), 'x'), d[frames[2]+30:]...)
		}},
		{"two batches swapped", func(f map[string][]byte) {
			d := f[seg]
			b1, b2 := d[frames[0]:frames[2]], d[frames[2]:frames[4]]
			out := append([]byte(nil), d[:frames[0]]...)
			out = append(out, b2...)
			out = append(out, b1...)
			f[seg] = append(out, d[frames[4]:]...)
		}},
		{"last batch removed", func(f map[string][]byte) { f[seg] = f[seg][:frames[4]] }},
		{"first batch removed", func(f map[string][]byte) {
			d := f[seg]
			f[seg] = append(append([]byte(nil), d[:frames[0]]...), d[frames[2]:]...)
		}},
		{"segment removed", func(f map[string][]byte) { delete(f, seg) }},
		{"hashes truncated", func(f map[string][]byte) { f[hashesFile] = f[hashesFile][:len(f[hashesFile])/2] }},
		{"table truncated", func(f map[string][]byte) {
			p := filepath.Join(indexDir, tableFile)
			f[p] = f[p][:tableEntrySize]
		}},
		{"verifier key removed and another key given", func(f map[string][]byte) {
			skey, vkey, _ := GenerateSigningKey("shcrkit.audit")
			f[signingKeyFile] = []byte(skey + "\n")
			f[verifierFile] = []byte(vkey + "\n")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := map[string][]byte{}
			for k, v := range files {
				f[k] = v
			}
			tt.change(f)
			work := filepath.Join(t.TempDir(), "log")
			restoreDir(t, work, f)
			assert.NoError(t, checkDetected(work))
		})
	}
}

// frameOffsets lists the offsets of the frames of a segment, up to the
// zeros the writer fills ahead of its data, if any.
func frameOffsets(t *testing.T, seg []byte) []int {
	var out []int
	for off := segHeaderSize; off < segmentDataEnd(seg); {
		out = append(out, off)
		off += frameHeaderSize + int(binary.BigEndian.Uint32(seg[off:]))
	}
	return out
}

// segmentDataEnd returns where a segment's frames end: at the end of the
// file, or where the zeros the writer fills ahead of its data begin.
func segmentDataEnd(seg []byte) int {
	off := segHeaderSize
	for off+frameHeaderSize <= len(seg) {
		n := int(binary.BigEndian.Uint32(seg[off:]))
		if n == 0 {
			return off
		}
		off += frameHeaderSize + n
	}
	return min(off, len(seg))
}

// withoutZeroFill returns files with every segment cut where its frames
// end: a directory copied while the log was open, without the zeros the
// writer had filled ahead of the data, so that a test cutting or damaging
// a segment's end meets data.
func withoutZeroFill(files map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(files))
	for name, data := range files {
		if filepath.Dir(name) == segmentsDir && len(data) > segHeaderSize {
			data = data[:segmentDataEnd(data)]
		}
		out[name] = data
	}
	return out
}

func TestVerifyWhileOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := openTestLog(t, dir)
	writeAll(t, l, smallEvent(1, patientA))
	old, err := l.SignCheckpoint(ctx)
	require.NoError(t, err)
	writeAll(t, l, smallEvent(2, patientA))
	_, err = l.SignCheckpoint(ctx)
	require.NoError(t, err)
	require.NoError(t, l.Verify(ctx))

	t.Run("checkpoint rolled back", func(t *testing.T) {
		cur, err := os.ReadFile(filepath.Join(dir, checkpointFile))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, checkpointFile), old.Signed, 0o644))
		err = l.Verify(ctx)
		assert.ErrorIs(t, err, ErrTampered)
		assert.ErrorContains(t, err, "older checkpoint")
		require.NoError(t, os.WriteFile(filepath.Join(dir, checkpointFile), cur, 0o644))
	})
	t.Run("record changed under a running log", func(t *testing.T) {
		p := filepath.Join(dir, segmentsDir, segmentName(1))
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		changed := append([]byte(nil), data...)
		changed[segHeaderSize+40] ^= 0x20
		require.NoError(t, os.WriteFile(p, changed, 0o600))
		var ie *IntegrityError
		require.ErrorAs(t, l.Verify(ctx), &ie)
		assert.NotEmpty(t, ie.Problems)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		require.NoError(t, l.Verify(ctx))
	})
}
