package audit

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVerifyProgress(t *testing.T) {
	type call struct{ done, total uint64 }
	tests := []struct {
		name   string
		events int
	}{
		{name: "empty", events: 0},
		{name: "one segment", events: 3},
		{name: "many segments", events: 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := openTestLog(t, t.TempDir(), WithTuning(Tuning{SegmentSize: 4 << 10, IndexFlushEvents: 50}))
			for i := 0; i < tt.events; i++ {
				writeAll(t, l, readEvent(t0.Add(time.Duration(i)*time.Minute), clinician(), []shcrkit.NHSNumber{patientA, patientB}[i%2]))
			}
			var calls []call
			require.NoError(t, l.VerifyProgress(context.Background(), func(done, total uint64) {
				calls = append(calls, call{done, total})
			}))
			if tt.events == 0 {
				assert.Empty(t, calls, "nothing to check, nothing reported")
				return
			}
			require.NotEmpty(t, calls)
			for i, c := range calls {
				assert.EqualValues(t, tt.events, c.total)
				if i > 0 {
					assert.Greater(t, c.done, calls[i-1].done, "done only goes up")
				}
			}
			assert.Equal(t, call{uint64(tt.events), uint64(tt.events)}, calls[len(calls)-1])
			if tt.events > 100 {
				assert.Greater(t, len(calls), 2, "a log of several segments reports along the way")
			}
			require.NoError(t, l.VerifyProgress(context.Background(), nil), "the callback is optional")
		})
	}
}

// A tampered log still fails its check when progress is reported.
func TestVerifyProgressTampered(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, WithTuning(Tuning{SegmentSize: 4 << 10}))
	for i := 0; i < 20; i++ {
		writeAll(t, l, readEvent(t0.Add(time.Duration(i)*time.Minute), clinician(), patientA))
	}
	segs, err := filepath.Glob(filepath.Join(dir, "segments", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, segs)
	f, err := os.OpenFile(segs[0], os.O_RDWR, 0)
	require.NoError(t, err)
	b := make([]byte, 1)
	_, err = f.ReadAt(b, 200)
	require.NoError(t, err)
	b[0] ^= 0xff
	_, err = f.WriteAt(b, 200)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	err = l.VerifyProgress(context.Background(), func(done, total uint64) {})
	require.ErrorIs(t, err, ErrTampered)
}
