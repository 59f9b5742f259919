package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/require"
)

// The tests run against a real PostgreSQL named by SHCRKIT_TEST_POSTGRES
// (a superuser's DSN): scripts/test-postgres starts a throwaway one.
// Each test works in a schema of its own, dropped afterwards.
const dsnEnv = "SHCRKIT_TEST_POSTGRES"

func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skip(dsnEnv + " is unset, so the PostgreSQL tests do not run: " +
			`eval "$(scripts/test-postgres start)" starts a throwaway cluster and sets it`)
	}
	return dsn
}

var notIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// newSchema names a fresh schema for the test and drops it afterwards.
func newSchema(t testing.TB) string {
	t.Helper()
	dsn := testDSN(t)
	var b [4]byte
	rand.Read(b[:])
	name := notIdent.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	schema := "t_" + name + "_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

// openStore opens a store in schema (a new one when empty).
func openStore(t testing.TB, schema string, opts ...Option) *Store {
	t.Helper()
	if schema == "" {
		schema = newSchema(t)
	}
	return openStoreAt(t, testDSN(t), schema, opts...)
}

// openStoreAt opens a store in schema of the database at dsn.
func openStoreAt(t testing.TB, dsn, schema string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, append([]Option{WithSchema(schema)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// admin connects as the superuser, for what the tests do behind the
// store's back; triggers are off on it, so it can change what the
// append-only triggers protect.
func admin(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testDSN(t))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	_, err = conn.Exec(ctx, "SET session_replication_role = replica")
	require.NoError(t, err)
	return conn
}

// Synthetic people and patients (NHS test-range numbers).
const (
	patientA shcrkit.NHSNumber = "9434765919"
	patientB shcrkit.NHSNumber = "9000000009"
)

var t0 = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC) // a Monday

func clinician() shcrkit.Requester {
	return shcrkit.Requester{
		UserID: "555000111222", Name: "Dr Ada Lovegood", RoleProfileID: "100200300400",
		RoleCode: "S8000:G8000:R8000", Activities: []string{"B0360"}, Organisation: "RX1",
		OrganisationName: "Riverside Hospital", System: shcrkit.System{Name: "Riverside EPR", Version: "4.2"},
	}
}

func officer() shcrkit.Requester {
	return shcrkit.Requester{
		UserID: "555000999000", Name: "Cara Privacy", RoleProfileID: "100200300900",
		RoleCode: "S8000:G8000:R5080", Organisation: "RX1", System: shcrkit.System{Name: "Audit Console", Version: "1"},
	}
}

// readEvent is a successful read of a remote record about patient.
func readEvent(at time.Time, patient shcrkit.NHSNumber) audit.Event {
	return audit.Event{
		Time: at, Requester: clinician(), Action: audit.ActionRead, Service: audit.ServiceShCR,
		Resource: "DocumentReference/Y99999-care-plan-1", Endpoint: "https://shcr.example.test/fhir/R4",
		Patient: patient, Purpose: shcrkit.PurposeDirectCare, Relationship: shcrkit.RelationshipEncounter,
		RelationshipEvidence: "encounter-778899", Rule: "direct-care-lr", Outcome: audit.OutcomeSuccess,
		RequestID: "7f1c2b9e-4a51-4b7e-9d7e-5a1b2c3d4e5f", CorrelationID: "c0ffee00-1234-4abc-8def-001122334455",
		Custodian: "Y99999",
	}
}

func queryAll(t testing.TB, s *Store, f audit.Filter) []audit.Event {
	t.Helper()
	var out []audit.Event
	for e, err := range s.Query(context.Background(), officer(), f) {
		require.NoError(t, err)
		out = append(out, e)
	}
	return out
}
