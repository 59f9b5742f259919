package audit_test

import (
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/require"
)

var (
	casePatient shcrkit.NHSNumber = "9434765919"
	caseT0                        = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

func privacyOfficer() shcrkit.Requester {
	return shcrkit.Requester{UserID: "555000999000", Name: "Cara Privacy", RoleProfileID: "100200300900",
		RoleCode: "S8000:G8000:R5080", Organisation: "RX1", System: shcrkit.System{Name: "Audit Console"}}
}

func TestInvestigationEventValidation(t *testing.T) {
	base := audit.Event{Time: caseT0, Requester: privacyOfficer(), Action: audit.ActionUpdate, Service: audit.ServiceAudit,
		Resource: "Case/CASE-1", Patient: casePatient, Outcome: audit.OutcomeSuccess}
	for _, tt := range []struct {
		name string
		inv  audit.Investigation
		svc  audit.Service
	}{
		{"bad case ID", audit.Investigation{Case: "1", Step: "noted"}, audit.ServiceAudit},
		{"unknown step", audit.Investigation{Case: "CASE-1", Step: "pondered"}, audit.ServiceAudit},
		{"opening without events", audit.Investigation{Case: "CASE-1", Step: "opened"}, audit.ServiceAudit},
		{"events on a later step", audit.Investigation{Case: "CASE-1", Step: "noted", Concerns: []uint64{1}}, audit.ServiceAudit},
		{"seq zero", audit.Investigation{Case: "CASE-1", Step: "opened", Concerns: []uint64{0}}, audit.ServiceAudit},
		{"closing without finding", audit.Investigation{Case: "CASE-1", Step: "closed"}, audit.ServiceAudit},
		{"finding before closing", audit.Investigation{Case: "CASE-1", Step: "noted", Finding: "appropriate"}, audit.ServiceAudit},
		{"not an audit event", audit.Investigation{Case: "CASE-1", Step: "noted"}, audit.ServiceShCR},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := base
			e.Service = tt.svc
			inv := tt.inv
			e.Investigation = &inv
			require.ErrorIs(t, e.Validate(), audit.ErrInvalidEvent)
		})
	}
	ok := base
	ok.Investigation = &audit.Investigation{Case: "CASE-1", Step: "noted", Note: "fine"}
	require.NoError(t, ok.Validate())
}
