package postgres_test

// Checks package audit/postgres against the public API contract in
// DESIGN.md. The behaviour test needs a PostgreSQL named by
// SHCRKIT_TEST_POSTGRES and skips without one.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"iter"
	"os"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/postgres"
)

// logLike is the checkpoint and proof method set of *audit.Log that
// *postgres.Store is to share.
type logLike interface {
	Write(ctx context.Context, e audit.Event) error
	Query(ctx context.Context, reader shcrkit.Requester, f audit.Filter) iter.Seq2[audit.Event, error]
	Verify(ctx context.Context) error
	Close() error
	Append(ctx context.Context, e audit.Event) (uint64, error)
	Checkpoint() (audit.Checkpoint, bool)
	SignCheckpoint(ctx context.Context) (audit.Checkpoint, error)
	VerifyCheckpoint(ctx context.Context, signed []byte) error
	Prove(ctx context.Context, seq uint64) (*audit.InclusionProof, error)
	ProveConsistency(ctx context.Context, oldSize uint64) (*audit.ConsistencyProof, error)
	VerifierKey() string
}

func TestDesignContractSignatures(t *testing.T) {
	var _ func(ctx context.Context, dsn string, opts ...postgres.Option) (*postgres.Store, error) = postgres.Open
	var _ audit.Sink = (*postgres.Store)(nil)
	var _ audit.Reader = (*postgres.Store)(nil)
	var _ logLike = (*postgres.Store)(nil)
	var _ logLike = (*audit.Log)(nil)
}

func TestDesignContractStore(t *testing.T) {
	dsn := os.Getenv("SHCRKIT_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("SHCRKIT_TEST_POSTGRES is unset")
	}
	var b [4]byte
	rand.Read(b[:])
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn, postgres.WithSchema("t_design_contract_"+hex.EncodeToString(b[:])))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	doctor := shcrkit.Requester{UserID: "555000111222", RoleProfileID: "100200300400",
		RoleCode: "S8000:G8000:R8000", Organisation: "RX1", System: shcrkit.System{Name: "EPR"}}
	patient := shcrkit.NHSNumber("9434765919")
	if err := s.Write(ctx, audit.Event{Time: time.Now().UTC(), Requester: doctor, Patient: patient, Action: audit.ActionRead,
		Service: audit.ServicePDS, Resource: "Patient/9434765919", Purpose: shcrkit.PurposeDirectCare, Outcome: audit.OutcomeSuccess}); err != nil {
		t.Fatal(err)
	}
	var n int
	for e, err := range s.Query(ctx, doctor, audit.Filter{Patient: patient, Service: audit.ServicePDS}) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != 1 {
			t.Errorf("Seq = %d", e.Seq)
		}
		n++
	}
	if n != 1 {
		t.Errorf("Query found %d", n)
	}
	if err := s.Verify(ctx); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
