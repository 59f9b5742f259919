package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	patient = shcrkit.NHSNumber("9490000019")
	doctor  = shcrkit.Requester{UserID: "555000000101", Name: "Dr Nia Ferreira", RoleProfileID: "555000000102",
		RoleCode: "S8000:G8000:R8000", RoleName: "Medical Practitioner", Organisation: "Y90001",
		OrganisationName: "Riverside Emergency Department", System: shcrkit.System{Name: "Riverside ED EPR"}}
)

// newLog writes a small log and returns its directory, a checkpoint taken
// half way, and the log's verifier key.
func newLog(t *testing.T) (dir, checkpoint, vkey string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "audit")
	log, err := audit.OpenLog(dir, audit.WithOrigin("audit-verify.test"))
	require.NoError(t, err)
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	write := func(outcome audit.Outcome, resource string) {
		at = at.Add(time.Minute)
		require.NoError(t, log.Write(ctx, audit.Event{Time: at, Requester: doctor, Action: audit.ActionRead, Service: audit.ServiceShCR,
			Resource: resource, Patient: patient, Purpose: shcrkit.PurposeDirectCare, Outcome: outcome, Reason: "retrieval",
			Custodian: "RNR"}))
	}
	write(audit.OutcomeSuccess, "DocumentReference/RNR-000001")
	write(audit.OutcomeRefused, "DocumentReference/RFC-000004")
	cp, err := log.SignCheckpoint(ctx)
	require.NoError(t, err)
	checkpoint = filepath.Join(t.TempDir(), "kept.note")
	require.NoError(t, os.WriteFile(checkpoint, cp.Signed, 0o600))
	write(audit.OutcomeSuccess, "DocumentReference/RNR-000002")
	vkey = log.VerifierKey()
	require.NoError(t, log.Close())
	return dir, checkpoint, vkey
}

// readerFile is the sample -reader shipped beside the command, so the
// documented commands are the ones tested.
func readerFile(t *testing.T) string {
	t.Helper()
	_, err := os.Stat("reader.json")
	require.NoError(t, err)
	return "reader.json"
}

func TestVerifyAndReport(t *testing.T) {
	dir, kept, vkey := newLog(t)
	var out bytes.Buffer
	err := run(context.Background(), []string{"-dir", dir, "-checkpoint", kept, "-key", vkey,
		"-patient", patient.String(), "-reader", readerFile(t)}, &out, &out)
	require.NoError(t, err, out.String())
	s := out.String()
	assert.Contains(t, s, "events 1..2 unchanged in the log of 3 events (proved with the given key alone)")
	assert.Contains(t, s, "verified 3 events")
	assert.Contains(t, s, "verifier key: "+vkey)
	assert.Contains(t, s, "accesses to the record of 949 000 0019: 3, 1 refused")
	assert.Contains(t, s, "Dr Nia Ferreira (Medical Practitioner)")
	assert.Contains(t, s, "REFUSED")

	// The read was audited, on behalf of the reader.
	log, err := audit.OpenLog(dir)
	require.NoError(t, err)
	defer log.Close()
	var readers []string
	for e, err := range log.Query(context.Background(), doctor, audit.Filter{Service: audit.ServiceAudit}) {
		require.NoError(t, err)
		readers = append(readers, e.Requester.UserID)
	}
	assert.Contains(t, readers, "555000000901")
}

func TestVerifyWithLogKeyAndMarkdown(t *testing.T) {
	dir, kept, _ := newLog(t)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-dir", dir, "-checkpoint", kept, "-patient", patient.String(),
		"-reader", readerFile(t), "-markdown"}, &out, &out), out.String())
	assert.Contains(t, out.String(), "checked with the log's own key")
	assert.Contains(t, out.String(), "| Seq |")
}

func TestTamperedLogFails(t *testing.T) {
	dir, _, _ := newLog(t)
	// Change one byte of the first segment's first record.
	segs, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	var seg string
	for _, p := range segs {
		if info, err := os.Stat(p); err == nil && !info.IsDir() && filepath.Ext(p) == ".log" {
			seg = p
			break
		}
	}
	if seg == "" {
		seg = largestFile(t, dir)
	}
	b, err := os.ReadFile(seg)
	require.NoError(t, err)
	b[len(b)/3] ^= 0x20
	require.NoError(t, os.WriteFile(seg, b, 0o600))

	var out bytes.Buffer
	err = run(context.Background(), []string{"-dir", dir}, &out, &out)
	require.ErrorIs(t, err, audit.ErrTampered)
	assert.Contains(t, out.String(), "TAMPERED")
}

func TestWrongKeyFails(t *testing.T) {
	dir, kept, _ := newLog(t)
	_, otherKey, err := audit.GenerateSigningKey("audit-verify.test")
	require.NoError(t, err)
	var out bytes.Buffer
	err = run(context.Background(), []string{"-dir", dir, "-checkpoint", kept, "-key", otherKey}, &out, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "with the given key")
}

func TestUsageErrors(t *testing.T) {
	dir, _, _ := newLog(t)
	tests := []struct {
		args []string
		want string
	}{
		{nil, "-dir or -postgres is required"},
		{[]string{"-dir", dir, "-postgres", "postgres://127.0.0.1:1/x"}, "one of -dir and -postgres, not both"},
		{[]string{"-h"}, flag.ErrHelp.Error()},
		{[]string{"-dir", filepath.Join(t.TempDir(), "missing")}, "no such file"},
		{[]string{"-dir", dir, "-patient", "123"}, "invalid NHS number"},
		{[]string{"-dir", dir, "-patient", patient.String()}, "-reader is required"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := run(context.Background(), tt.args, &out, &out)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tt.want)
	}
}

// largestFile finds the biggest file under dir: the segment of a small log.
func largestFile(t *testing.T, dir string) string {
	t.Helper()
	var best string
	var size int64
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && info.Size() > size {
			best, size = p, info.Size()
		}
		return nil
	}))
	return best
}

// TestEnvironment runs the documented patient query with its flags from
// the environment, and a flag on the command line winning over it.
func TestEnvironment(t *testing.T) {
	dir, _, _ := newLog(t)
	t.Setenv("SHCRKIT_DIR", dir)
	t.Setenv("SHCRKIT_PATIENT", "123")
	t.Setenv("SHCRKIT_READER", "reader.json")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-patient", patient.String()}, &out, &out), out.String())
	assert.Contains(t, out.String(), "accesses to the record of "+patient.Format())
}

// TestProgressOnStderr: the check's progress goes to standard error, the
// results to standard output.
func TestProgressOnStderr(t *testing.T) {
	dir, _, _ := newLog(t)
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-dir", dir}, &out, &errOut), errOut.String())
	assert.Contains(t, errOut.String(), "verifying: 3 of 3 events' records checked (100%)")
	assert.NotContains(t, out.String(), "verifying:")
	assert.Contains(t, out.String(), "verified 3 events")
}
