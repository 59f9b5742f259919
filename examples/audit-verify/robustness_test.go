package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDirWithoutLogFails: a -dir that holds no log (a wrong path, or a
// log whose files were all deleted) is an error, and nothing is written
// to it; verifying it must not create a fresh empty log that "verifies".
func TestDirWithoutLogFails(t *testing.T) {
	empty := t.TempDir()
	var out bytes.Buffer
	err := run(context.Background(), []string{"-dir", empty}, &out, &out)
	require.Error(t, err, out.String())
	assert.Contains(t, err.Error(), "holds no audit log")
	ents, rerr := os.ReadDir(empty)
	require.NoError(t, rerr)
	assert.Empty(t, ents, "audit-verify wrote into the directory it was checking")
}

// TestDirIsAFileFails: a file where the log directory is expected is
// named as such, not reported as a failure to create a log.
func TestDirIsAFileFails(t *testing.T) {
	f := filepath.Join(t.TempDir(), "audit")
	require.NoError(t, os.WriteFile(f, []byte("x"), 0o600))
	var out bytes.Buffer
	err := run(context.Background(), []string{"-dir", f}, &out, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a directory")
	assert.NotContains(t, err.Error(), "creating")
}

// TestKeyOfAnotherLogFails: -key without -checkpoint is the log's
// verifier key as recorded elsewhere; a log with another key does not pass.
func TestKeyOfAnotherLogFails(t *testing.T) {
	dir, _, vkey := newLog(t)
	_, other, err := audit.GenerateSigningKey("audit-verify.test")
	require.NoError(t, err)
	var out bytes.Buffer
	err = run(context.Background(), []string{"-dir", dir, "-key", other}, &out, &out)
	require.Error(t, err, out.String())
	assert.Contains(t, err.Error(), "verifier key")
	assert.Contains(t, out.String(), "TAMPERED")

	out.Reset()
	t.Setenv("SHCRKIT_KEY", vkey)
	require.NoError(t, run(context.Background(), []string{"-dir", dir}, &out, &out), out.String())
}

// TestRolledBackLogWithKeyFails: a whole log put back to an earlier copy
// is shorter than a witness's checkpoint; with -key the error names the
// checkpoint and the tampering, as it does without -key.
func TestRolledBackLogWithKeyFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit")
	log, err := audit.OpenLog(dir, audit.WithOrigin("audit-verify.test"))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, log.Write(ctx, audit.Event{Time: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), Requester: doctor,
		Action: audit.ActionRead, Service: audit.ServiceShCR, Resource: "DocumentReference/RNR-000001", Patient: patient,
		Purpose: shcrkit.PurposeDirectCare, Outcome: audit.OutcomeSuccess, Reason: "retrieval", Custodian: "RNR"}))
	vkey := log.VerifierKey()
	require.NoError(t, log.Close())
	older := filepath.Join(t.TempDir(), "older")
	require.NoError(t, os.CopyFS(older, os.DirFS(dir)))

	_, kept, _ := newLogIn(t, dir)
	for _, args := range [][]string{{"-key", vkey}, nil} {
		var out bytes.Buffer
		err = run(ctx, append([]string{"-dir", older, "-checkpoint", kept}, args...), &out, &out)
		require.ErrorIs(t, err, audit.ErrTampered, "args %v", args)
		assert.Contains(t, err.Error(), kept)
		assert.Contains(t, out.String(), "TAMPERED")
	}
}

// newLogIn appends to the log in dir as newLog does, returning its
// checkpoint.
func newLogIn(t *testing.T, dir string) (string, string, string) {
	t.Helper()
	log, err := audit.OpenLog(dir)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, log.Write(ctx, audit.Event{Time: time.Date(2026, 11, 24, 9, 5, 0, 0, time.UTC), Requester: doctor,
		Action: audit.ActionRead, Service: audit.ServiceShCR, Resource: "DocumentReference/RNR-000002", Patient: patient,
		Purpose: shcrkit.PurposeDirectCare, Outcome: audit.OutcomeSuccess, Reason: "retrieval", Custodian: "RNR"}))
	cp, err := log.SignCheckpoint(ctx)
	require.NoError(t, err)
	kept := filepath.Join(t.TempDir(), "kept.note")
	require.NoError(t, os.WriteFile(kept, cp.Signed, 0o600))
	vkey := log.VerifierKey()
	require.NoError(t, log.Close())
	return dir, kept, vkey
}
