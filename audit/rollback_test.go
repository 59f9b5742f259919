package audit

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// With the signing key held outside the directory (WithSigningKey), an
// intruder who can write the directory but not sign cannot drop
// acknowledged, checkpointed events by making the log look as if it had
// crashed before its first checkpoint: deleting the checkpoint, the state
// file and the index runs, and cutting the last batch from the segment
// and its entry from the table, is found, since the state file, signed
// with the log's key, is there from before the log's first event.
func TestDeletingCheckpointAndStateDoesNotHideLostEvents(t *testing.T) {
	ctx := context.Background()
	skey, _, err := GenerateSigningKey("shcrkit.audit")
	require.NoError(t, err)
	dir := t.TempDir()
	l, err := OpenLog(dir, WithSigningKey(skey))
	require.NoError(t, err)
	writeAll(t, l, smallEvent(1, patientA), smallEvent(2, patientB), smallEvent(3, patientA))
	require.NoError(t, l.Close()) // signs a checkpoint of all three

	// The intruder: no key, only file operations.
	seg := filepath.Join(dir, segmentsDir, segmentName(1))
	data, err := os.ReadFile(seg)
	require.NoError(t, err)
	frames := frameOffsets(t, data)
	require.Len(t, frames, 6)
	require.NoError(t, os.WriteFile(seg, data[:frames[4]], 0o600)) // the third event's batch
	table := filepath.Join(dir, indexDir, tableFile)
	tdata, err := os.ReadFile(table)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(table, tdata[:2*tableEntrySize], 0o600))
	require.NoError(t, os.Remove(filepath.Join(dir, checkpointFile)))
	require.NoError(t, os.Remove(filepath.Join(dir, stateFile)))
	runs, _ := filepath.Glob(filepath.Join(dir, indexDir, "run-*"))
	for _, r := range runs {
		require.NoError(t, os.Remove(r))
	}

	l, err = OpenLog(dir, WithSigningKey(skey))
	if err == nil {
		defer l.Close()
		err = l.Verify(ctx)
		t.Logf("opened: size %d, recovered %+v", l.Size(), l.Recovered())
	}
	require.ErrorIs(t, err, ErrTampered, "an acknowledged, checkpointed event was removed")
}
