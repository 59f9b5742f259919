package investigation

import (
	"context"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/require"
)

// Synthetic people, organisations and patients (NHS test-range numbers
// with valid check digits).
const (
	patientA shcrkit.NHSNumber = "9434765919"
	patientB shcrkit.NHSNumber = "9000000009"
	patientC shcrkit.NHSNumber = "9000000025"
)

var t0 = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC) // a Monday

func clinician() shcrkit.Requester {
	return shcrkit.Requester{
		UserID: "555000111222", Name: "Dr Ada Lovegood", RoleProfileID: "100200300400",
		RoleCode: "S8000:G8000:R8000", RoleName: "Clinical Practitioner Access Role",
		Activities: []string{"B0360", "B0380"}, Organisation: "RX1", OrganisationName: "Riverside Hospital",
		System: shcrkit.System{Name: "Riverside EPR", Version: "4.2", ASID: "200000000123"},
	}
}

func nurse() shcrkit.Requester {
	return shcrkit.Requester{
		UserID: "555000333444", Name: "Ben Carter", RoleProfileID: "100200300500",
		RoleCode: "S8000:G8000:R8001", RoleName: "Nurse Access Role", Organisation: "Y12345",
		OrganisationName: "Hilltop Practice", System: shcrkit.System{Name: "Hilltop GP", Version: "9"},
	}
}

func officer() shcrkit.Requester {
	return shcrkit.Requester{
		UserID: "555000999000", Name: "Cara Privacy", RoleProfileID: "100200300900",
		RoleCode: "S8000:G8000:R5080", RoleName: "Privacy Officer", Organisation: "RX1",
		OrganisationName: "Riverside Hospital", System: shcrkit.System{Name: "Audit Console", Version: "1"},
	}
}

// readEvent is a successful read of a remote record about patient.
func readEvent(at time.Time, who shcrkit.Requester, patient shcrkit.NHSNumber) audit.Event {
	return audit.Event{
		Time: at, Requester: who, Action: audit.ActionRead, Service: audit.ServiceShCR,
		Resource: "DocumentReference/Y99999-care-plan-1", Endpoint: "https://shcr.example.test/fhir/R4",
		Patient: patient, Purpose: shcrkit.PurposeDirectCare, Relationship: shcrkit.RelationshipEncounter,
		RelationshipEvidence: "encounter-778899", Rule: "direct-care-lr", Outcome: audit.OutcomeSuccess,
		RequestID: "7f1c2b9e-4a51-4b7e-9d7e-5a1b2c3d4e5f", CorrelationID: "c0ffee00-1234-4abc-8def-001122334455",
		Custodian: "Y99999",
	}
}

// searchEvent is an NRL search for patient's pointers.
func searchEvent(at time.Time, who shcrkit.Requester, patient shcrkit.NHSNumber) audit.Event {
	return audit.Event{
		Time: at, Requester: who, Action: audit.ActionSearch, Service: audit.ServiceNRL, Resource: "DocumentReference",
		Query:    "subject:identifier=https://fhir.nhs.uk/Id/nhs-number|" + audit.QueryPatientPlaceholder,
		Endpoint: "https://nrl.example.test/record-locator/consumer/FHIR/R4", Patient: patient,
		Purpose: shcrkit.PurposeDirectCare, Outcome: audit.OutcomeSuccess, RequestID: "0b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d",
	}
}

func openTestLog(t testing.TB, dir string, opts ...audit.LogOption) *audit.Log {
	t.Helper()
	l, err := audit.OpenLog(dir, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

func writeAll(t testing.TB, l audit.Sink, events ...audit.Event) {
	t.Helper()
	for _, e := range events {
		require.NoError(t, l.Write(context.Background(), e))
	}
}

func investigationLog(t *testing.T, opts ...audit.LogOption) *audit.Log {
	t.Helper()
	l := openTestLog(t, t.TempDir(), opts...)
	refused := readEvent(t0.Add(3*time.Hour), nurse(), patientA)
	refused.Outcome, refused.Reason, refused.Rule = audit.OutcomeRefused, "no legitimate relationship", "lr-required"
	failed := readEvent(t0.Add(4*time.Hour), clinician(), patientB)
	failed.Outcome, failed.ErrorCode = audit.OutcomeFailed, "503"
	btg := readEvent(t0.Add(26*time.Hour), clinician(), patientC)
	btg.Purpose, btg.BreakGlassReason = shcrkit.PurposeBreakGlass, "unconscious in ED"
	other := readEvent(t0.Add(27*time.Hour), nurse(), patientB)
	other.Custodian = "Y88888"
	writeAll(t, l,
		searchEvent(t0, clinician(), patientA),                // 1
		readEvent(t0.Add(time.Hour), clinician(), patientA),   // 2
		readEvent(t0.Add(2*time.Hour), clinician(), patientB), // 3
		refused, // 4
		failed,  // 5
		btg,     // 6
		other,   // 7
	)
	return l
}
