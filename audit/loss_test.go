package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
)

// lossFixture is a log with acknowledged events, several segments, index
// runs and a stored checkpoint, in two states: copied while the log was
// still open (what a kill -9 leaves, with events after the latest
// checkpoint) and after Close.
type lossFixture struct {
	crashed, closed map[string][]byte
	acked           map[uint64]string // seq → request ID
	ckptCrashed     uint64            // the stored checkpoint's size when crashed
}

func buildLossFixture(t *testing.T) lossFixture {
	t.Helper()
	dir := t.TempDir()
	l, err := OpenLog(dir, WithTuning(Tuning{SegmentSize: 4 << 10, IndexFlushEvents: 8}), WithCheckpointInterval(24*time.Hour))
	require.NoError(t, err)
	fx := lossFixture{acked: map[uint64]string{}}
	for i := 1; i <= 30; i++ {
		e := smallEvent(i, []shcrkit.NHSNumber{patientA, patientB, patientC}[i%3])
		e.RequestID = fmt.Sprintf("req-%d", i)
		seq, err := l.Append(context.Background(), e)
		require.NoError(t, err)
		fx.acked[seq] = e.RequestID
	}
	c, ok := l.Checkpoint()
	require.True(t, ok)
	require.Less(t, c.Size, uint64(30), "events after the latest checkpoint")
	fx.ckptCrashed = c.Size
	fx.crashed = withoutZeroFill(snapshotDir(t, dir))
	require.NoError(t, l.Close())
	fx.closed = snapshotDir(t, dir)
	delete(fx.crashed, lockFile)
	delete(fx.closed, lockFile)
	return fx
}

// lossAttempt is one truncation or deletion of one file.
type lossAttempt struct {
	file string
	cut  int // new length; -1 deletes the file
}

func (a lossAttempt) String() string {
	if a.cut < 0 {
		return a.file + " deleted"
	}
	return fmt.Sprintf("%s cut to %d bytes", a.file, a.cut)
}

// lossAttempts lists the deletion of each file and its truncation at
// many offsets: every offset of a short file, and of a longer one the
// first and last bytes and offsets spread between.
func lossAttempts(files map[string][]byte, spread int) []lossAttempt {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []lossAttempt
	for _, name := range names {
		size := len(files[name])
		out = append(out, lossAttempt{name, -1})
		seen := map[int]bool{}
		add := func(cut int) {
			if cut >= 0 && cut < size && !seen[cut] {
				seen[cut] = true
				out = append(out, lossAttempt{name, cut})
			}
		}
		if size <= 2*spread {
			for cut := range size {
				add(cut)
			}
			continue
		}
		for _, cut := range []int{0, 1, segHeaderSize, size - 1, size - 2, size - tableEntrySize, size - tlog32} {
			add(cut)
		}
		for i := 1; i < spread; i++ {
			add(size * i / spread)
		}
	}
	return out
}

const tlog32 = 32

// lossOutcome runs one attempt against a copy of files: "detected" when
// OpenLog or Verify reports an *IntegrityError naming the damaged file,
// "repaired" when the log opens and verifies with every acknowledged
// event and the stored checkpoint still there (derived data rebuilt from
// intact records), or an error saying what went wrong.
func lossOutcome(dir string, fx lossFixture, files map[string][]byte, a lossAttempt, ckpt uint64) (string, error) {
	var ie *IntegrityError
	named := func(err error) (string, error) {
		if !errors.As(err, &ie) || len(ie.Problems) == 0 {
			return "", fmt.Errorf("not an *IntegrityError: %v", err)
		}
		top := strings.SplitN(filepath.ToSlash(a.file), "/", 2)[0]
		if !strings.Contains(err.Error(), top) {
			return "", fmt.Errorf("the error does not name %s: %v", top, err)
		}
		return "detected", nil
	}
	l, err := OpenLog(dir)
	if err != nil {
		return named(err)
	}
	defer l.Close()
	if err := l.Verify(context.Background()); err != nil {
		return named(err)
	}
	for seq, id := range fx.acked {
		e, err := l.event(seq)
		if err != nil || e.RequestID != id {
			return "", fmt.Errorf("acknowledged event %d vanished silently (%v)", seq, err)
		}
	}
	if c, _ := l.Checkpoint(); ckpt > 0 && (a.file == checkpointFile || c.Size < ckpt) {
		return "", fmt.Errorf("the stored checkpoint of %d events vanished silently", ckpt)
	}
	return "repaired", nil
}

// Truncating or deleting any one file of the log never loses an
// acknowledged event or the stored checkpoint silently: OpenLog or Verify
// fails with an *IntegrityError naming what is missing, or (for data
// derived from intact records: hashes and table entries after the
// checkpoint, a verifier key, the state file) the log rebuilds it. Every
// cut into a segment that holds events, the checkpoint or an index run is
// detected.
func TestTruncationAndDeletionAreDetected(t *testing.T) {
	fx := buildLossFixture(t)
	spread := 24
	if raceEnabled || testing.Short() {
		spread = 6
	}
	type tally struct{ attempts, detected, repaired int }
	for _, state := range []struct {
		name  string
		files map[string][]byte
		ckpt  uint64
	}{
		{"closed", fx.closed, uint64(len(fx.acked))},
		{"crashed", fx.crashed, fx.ckptCrashed},
	} {
		t.Run(state.name, func(t *testing.T) {
			work := filepath.Join(t.TempDir(), "log")
			byKind := map[string]*tally{}
			failures := 0
			for _, a := range lossAttempts(state.files, spread) {
				f := map[string][]byte{}
				for k, v := range state.files {
					f[k] = v
				}
				if a.cut < 0 {
					delete(f, a.file)
				} else {
					f[a.file] = f[a.file][:a.cut]
				}
				restoreDir(t, work, f)
				got, err := lossOutcome(work, fx, state.files, a, state.ckpt)
				kind := strings.SplitN(filepath.ToSlash(a.file), "/", 2)[0]
				if strings.HasPrefix(filepath.Base(a.file), "run-") {
					kind = "index/run"
				} else if kind == indexDir {
					kind = "index/table"
				}
				if byKind[kind] == nil {
					byKind[kind] = &tally{}
				}
				byKind[kind].attempts++
				mustDetect := kind == segmentsDir && len(state.files[a.file]) > segHeaderSize ||
					kind == checkpointFile || kind == "index/run" && state.name == "closed"
				switch {
				case err != nil:
					t.Errorf("%s: %v", a, err)
				case got == "repaired" && mustDetect:
					t.Errorf("%s: not detected", a)
				case got == "detected":
					byKind[kind].detected++
				default:
					byKind[kind].repaired++
				}
				if t.Failed() {
					if failures++; failures > 10 {
						t.FailNow()
					}
				}
			}
			var total tally
			kinds := make([]string, 0, len(byKind))
			for k := range byKind {
				kinds = append(kinds, k)
			}
			sort.Strings(kinds)
			for _, k := range kinds {
				c := byKind[k]
				t.Logf("%-14s %4d attempts: %4d detected, %4d rebuilt with nothing lost", k, c.attempts, c.detected, c.repaired)
				total.attempts += c.attempts
				total.detected += c.detected
				total.repaired += c.repaired
			}
			t.Logf("%s log: %d attempts, all held: %d detected, %d rebuilt with nothing lost", state.name, total.attempts, total.detected, total.repaired)
			assert.Positive(t, total.detected)
		})
	}
}

// A checkpoint file that has been deleted, or replaced by an older one,
// is found even when every other file is intact; a log that never stored
// a checkpoint opens without one.
func TestMissingCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := openTestLog(t, dir, WithCheckpointInterval(24*time.Hour))
	writeAll(t, l, smallEvent(1, patientA))
	old, err := l.SignCheckpoint(ctx)
	require.NoError(t, err)
	writeAll(t, l, smallEvent(2, patientA))
	require.NoError(t, l.Close())
	files := snapshotDir(t, dir)

	tests := []struct {
		name   string
		change func(map[string][]byte)
		want   string
	}{
		{"deleted", func(f map[string][]byte) { delete(f, checkpointFile) }, "checkpoint: missing, but a checkpoint of 2 events was stored"},
		{"rolled back", func(f map[string][]byte) { f[checkpointFile] = old.Signed }, "checkpoint: covers 1 events, but a checkpoint of 2 events was stored"},
		{"state malformed", func(f map[string][]byte) { f[stateFile] = f[stateFile][:10] }, "state: malformed, or not signed by the log's key"},
		{"state deleted with the checkpoint", func(f map[string][]byte) { delete(f, stateFile); delete(f, checkpointFile) },
			"state: missing, but the log holds events"},
		{"state deleted", func(f map[string][]byte) { delete(f, stateFile) }, "state: missing, but the log holds events"},
		{"state of no checkpoint, unsigned", func(f map[string][]byte) {
			delete(f, checkpointFile)
			f[stateFile] = []byte("shcrkit-audit-state 2\ncheckpoint 0\nindexed 0\n")
		}, "state: malformed, or not signed by the log's key"},
		{"state signed by another key", func(f map[string][]byte) {
			skey, _, err := GenerateSigningKey("shcrkit.audit")
			require.NoError(t, err)
			signer, err := note.NewSigner(skey)
			require.NoError(t, err)
			forged, err := note.Sign(&note.Note{Text: "shcrkit-audit-state 2\ncheckpoint 0\nindexed 0\n"}, signer)
			require.NoError(t, err)
			delete(f, checkpointFile)
			f[stateFile] = forged
		}, "state: malformed, or not signed by the log's key"},
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
			_, err := OpenLog(work)
			var ie *IntegrityError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, []string{tt.want}, ie.Problems)
			assert.Equal(t, f, snapshotDir(t, work), "a damaged log is left as found")
		})
	}

	t.Run("never checkpointed", func(t *testing.T) {
		// A new log writes its state, of no checkpoint, before any event.
		files := crashSnapshot(t, 3)
		require.NotContains(t, files, checkpointFile)
		require.Contains(t, files, stateFile)
		work := filepath.Join(t.TempDir(), "log")
		restoreDir(t, work, files)
		l := openTestLog(t, work)
		assert.True(t, l.Recovered().NoCheckpoint)
		assert.Equal(t, uint64(3), l.Size())
	})
}

// With WithCheckpointEveryCommit the witness holds a checkpoint covering
// each event before its Write returns, and each verifies against the log.
func TestCheckpointEveryCommit(t *testing.T) {
	_, err := OpenLog(t.TempDir(), WithCheckpointEveryCommit())
	require.ErrorIs(t, err, ErrInvalidOption, "a witness is needed")

	var mu sync.Mutex
	var witnessed []Checkpoint
	l := openTestLog(t, t.TempDir(), WithCheckpointEveryCommit(), WithCheckpointInterval(24*time.Hour),
		WithCheckpointFunc(func(c Checkpoint) {
			mu.Lock()
			witnessed = append(witnessed, c)
			mu.Unlock()
		}))
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				seq, err := l.Append(ctx, smallEvent(w*10+i, patientA))
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				last := witnessed[len(witnessed)-1]
				mu.Unlock()
				assert.GreaterOrEqual(t, last.Size, seq, "the witness covers event %d before it is acknowledged", seq)
			}
		}()
	}
	wg.Wait()
	_, stored := l.Checkpoint()
	assert.False(t, stored, "per-commit checkpoints go to the witness, not the directory")
	mu.Lock()
	got := slices.Clone(witnessed)
	mu.Unlock()
	require.NotEmpty(t, got)
	assert.Equal(t, uint64(80), got[len(got)-1].Size)
	for i, c := range got {
		if i > 0 {
			assert.Greater(t, c.Size, got[i-1].Size)
		}
		require.NoError(t, l.VerifyCheckpoint(ctx, c.Signed))
	}
}

// Verify beside writers, checkpoints, index flushes and merges and
// segment rolls finds nothing wrong.
func TestVerifyBesideWrites(t *testing.T) {
	l := openTestLog(t, t.TempDir(), WithCheckpointInterval(time.Millisecond), WithTuning(Tuning{IndexFlushEvents: 16, SegmentSize: 8 << 10}))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				if err := l.Write(ctx, smallEvent(w*1000+i, patientA)); err != nil && ctx.Err() == nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 20 {
		require.NoError(t, l.Verify(context.Background()))
	}
	cancel()
	wg.Wait()
	require.NoError(t, l.Verify(context.Background()))
}
