package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/postgres"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The same checks over a PostgreSQL store (SHCRKIT_TEST_POSTGRES, as for
// audit/postgres's tests): a checkpoint kept elsewhere proved with the
// key alone, the report, and a changed row found.
func TestVerifyPostgresStore(t *testing.T) {
	dsn := os.Getenv("SHCRKIT_TEST_POSTGRES")
	if dsn == "" {
		t.Skip(`SHCRKIT_TEST_POSTGRES is unset: eval "$(scripts/test-postgres start)" starts a throwaway PostgreSQL`)
	}
	ctx := context.Background()
	var b [4]byte
	rand.Read(b[:])
	schema := "t_audit_verify_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		admin.Close(context.Background())
	})

	var out bytes.Buffer
	err = run(ctx, []string{"-postgres", dsn, "-schema", schema}, &out, &out)
	require.ErrorIs(t, err, postgres.ErrSchema, "nothing is created where a store was expected")

	store, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema), postgres.WithOrigin("audit-verify.pg.test"))
	require.NoError(t, err)
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	write := func(resource string) {
		at = at.Add(time.Minute)
		require.NoError(t, store.Write(ctx, audit.Event{Time: at, Requester: doctor, Action: audit.ActionRead, Service: audit.ServiceShCR,
			Resource: resource, Patient: patient, Purpose: shcrkit.PurposeDirectCare, Outcome: audit.OutcomeSuccess, Custodian: "RNR"}))
	}
	write("DocumentReference/RNR-000001")
	cp, err := store.SignCheckpoint(ctx)
	require.NoError(t, err)
	kept := filepath.Join(t.TempDir(), "kept.note")
	require.NoError(t, os.WriteFile(kept, cp.Signed, 0o600))
	write("DocumentReference/RNR-000002")
	vkey := store.VerifierKey()
	require.NoError(t, store.Close())

	out.Reset()
	require.NoError(t, run(ctx, []string{"-postgres", dsn, "-schema", schema, "-checkpoint", kept, "-key", vkey,
		"-patient", patient.String(), "-reader", readerFile(t)}, &out, &out))
	assert.Contains(t, out.String(), "events 1..1 unchanged")
	assert.Contains(t, out.String(), "verified 2 events")
	assert.Contains(t, out.String(), "RNR-000002")

	_, err = admin.Exec(ctx, "SET session_replication_role = replica")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "UPDATE "+schema+".events SET record = convert_to(replace(convert_from(record, 'UTF8'), 'RNR-000001', 'RNR-000009'), 'UTF8') WHERE seq = 1")
	require.NoError(t, err)
	out.Reset()
	err = run(ctx, []string{"-postgres", dsn, "-schema", schema}, &out, &out)
	require.ErrorIs(t, err, audit.ErrTampered)
	assert.Contains(t, out.String(), "TAMPERED")
}
