package audit_test

// Checks package audit against the public API contract in DESIGN.md.

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/audit/postgres"
)

func TestDesignContractSignatures(t *testing.T) {
	var e audit.Event
	var _ time.Time = e.Time
	var _ uint64 = e.Seq
	var _ shcrkit.Requester = e.Requester
	var _ shcrkit.NHSNumber = e.Patient
	var _ audit.Action = e.Action
	var _ audit.Service = e.Service
	var _ string = e.Resource
	var _ shcrkit.Purpose = e.Purpose
	var _ audit.Outcome = e.Outcome
	var _ string = e.Reason
	var _ string = e.RequestID
	var _ string = e.CorrelationID
	var _ shcrkit.ODSCode = e.Custodian
	_ = []audit.Action{audit.ActionRead, audit.ActionSearch, audit.ActionCreate, audit.ActionUpdate, audit.ActionDelete, audit.ActionDisclose}
	_ = []audit.Service{audit.ServicePDS, audit.ServiceNRL, audit.ServiceShCR, audit.ServiceAudit}
	_ = []audit.Outcome{audit.OutcomeSuccess, audit.OutcomeRefused, audit.OutcomeFailed}

	var f audit.Filter
	var _ shcrkit.NHSNumber = f.Patient
	var _ string = f.UserID
	var _ time.Time = f.From
	var _ time.Time = f.To

	// Sink and Reader, and who implements them.
	type sink interface {
		Write(ctx context.Context, e audit.Event) error
	}
	type reader interface {
		Query(ctx context.Context, reader shcrkit.Requester, f audit.Filter) iter.Seq2[audit.Event, error]
	}
	var s audit.Sink
	var _ sink = s
	var _ audit.Sink = sink(nil)
	var r audit.Reader
	var _ reader = r
	var _ audit.Reader = reader(nil)
	var _ audit.Sink = (*audit.Log)(nil)
	var _ audit.Reader = (*audit.Log)(nil)
	var _ audit.Sink = (*postgres.Store)(nil)
	var _ audit.Reader = (*postgres.Store)(nil)
	var _ audit.Sink = (*audittest.Recorder)(nil)
	var _ audit.Sink = &audittest.Recorder{}

	var _ func(dir string, opts ...audit.LogOption) (*audit.Log, error) = audit.OpenLog
	var _ func(*audit.Log) error = (*audit.Log).Close
	var _ func(*audit.Log, context.Context) error = (*audit.Log).Verify
	var _ func(*audit.Log, context.Context, shcrkit.Requester, audit.Filter) iter.Seq2[audit.Event, error] = (*audit.Log).Query
	var _ func(audit.Event) fhir.AuditEvent = audit.ToFHIR
}

func TestDesignContractLog(t *testing.T) {
	ctx := context.Background()
	l, err := audit.OpenLog(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	doctor := shcrkit.Requester{UserID: "555000111222", Name: "Dr A", RoleProfileID: "100200300400",
		RoleCode: "S8000:G8000:R8000", Organisation: "RX1", System: shcrkit.System{Name: "EPR"}}
	officer := shcrkit.Requester{UserID: "555000999888", Name: "PO", RoleProfileID: "100200300999",
		RoleCode: "S8000:G8000:R8000", Organisation: "RX1", System: shcrkit.System{Name: "Audit"}}
	patient := shcrkit.NHSNumber("9434765919")
	at := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	in := audit.Event{Time: at, Seq: 999, Requester: doctor, Patient: patient, Action: audit.ActionRead,
		Service: audit.ServiceShCR, Resource: "DocumentReference/RX9-1", Purpose: shcrkit.PurposeDirectCare,
		Outcome: audit.OutcomeSuccess, RequestID: "60a1b2c3-0000-4000-8000-000000000001", CorrelationID: "corr-1", Custodian: "RX9"}
	if err := l.Write(ctx, in); err != nil {
		t.Fatal(err)
	}

	var got []audit.Event
	for e, err := range l.Query(ctx, officer, audit.Filter{Patient: patient, UserID: doctor.UserID, From: at.Add(-time.Hour), To: at.Add(time.Hour)}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if len(got) != 1 {
		t.Fatalf("Query found %d events, want 1", len(got))
	}
	if got[0].Seq != 1 {
		t.Errorf("Seq = %d, want 1 assigned by the log (caller's 999 ignored)", got[0].Seq)
	}
	if got[0].Resource != in.Resource || got[0].Custodian != in.Custodian || got[0].RequestID != in.RequestID || !got[0].Time.Equal(at) {
		t.Errorf("event read back differs: %+v", got[0])
	}

	// The read is itself audited.
	var reads int
	for e, err := range l.Query(ctx, officer, audit.Filter{UserID: officer.UserID}) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Service == audit.ServiceAudit && e.Action == audit.ActionSearch {
			reads++
		}
	}
	if reads < 1 {
		t.Error("Query of the trail was not audited")
	}
	if err := l.Verify(ctx); err != nil {
		t.Errorf("Verify: %v", err)
	}

	fe := audit.ToFHIR(got[0])
	if fe.Recorded == "" || len(fe.Agent) == 0 {
		t.Errorf("ToFHIR: %+v", fe)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
