package audit

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/internal/conformance"

	"github.com/shcrkit/shcrkit"
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
func readEvent(at time.Time, who shcrkit.Requester, patient shcrkit.NHSNumber) Event {
	return Event{
		Time: at, Requester: who, Action: ActionRead, Service: ServiceShCR,
		Resource: "DocumentReference/Y99999-care-plan-1", Endpoint: "https://shcr.example.test/fhir/R4",
		Patient: patient, Purpose: shcrkit.PurposeDirectCare, Relationship: shcrkit.RelationshipEncounter,
		RelationshipEvidence: "encounter-778899", Rule: "direct-care-lr", Outcome: OutcomeSuccess,
		RequestID: "7f1c2b9e-4a51-4b7e-9d7e-5a1b2c3d4e5f", CorrelationID: "c0ffee00-1234-4abc-8def-001122334455",
		Custodian: "Y99999",
	}
}

// searchEvent is an NRL search for patient's pointers.
func searchEvent(at time.Time, who shcrkit.Requester, patient shcrkit.NHSNumber) Event {
	return Event{
		Time: at, Requester: who, Action: ActionSearch, Service: ServiceNRL, Resource: "DocumentReference",
		Query:    "subject:identifier=https://fhir.nhs.uk/Id/nhs-number|" + QueryPatientPlaceholder,
		Endpoint: "https://nrl.example.test/record-locator/consumer/FHIR/R4", Patient: patient,
		Purpose: shcrkit.PurposeDirectCare, Outcome: OutcomeSuccess, RequestID: "0b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d",
	}
}

func openTestLog(t testing.TB, dir string, opts ...LogOption) *Log {
	t.Helper()
	l, err := OpenLog(dir, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

func writeAll(t testing.TB, l Sink, events ...Event) {
	t.Helper()
	for _, e := range events {
		require.NoError(t, l.Write(context.Background(), e))
	}
}

func queryAll(t testing.TB, l *Log, reader shcrkit.Requester, f Filter) []Event {
	t.Helper()
	var out []Event
	for e, err := range l.Query(context.Background(), reader, f) {
		require.NoError(t, err)
		out = append(out, e)
	}
	return out
}

func seqsOf(events []Event) []uint64 {
	out := make([]uint64, len(events))
	for i, e := range events {
		out[i] = e.Seq
	}
	return out
}

// conformanceDir returns ../shared/conformance/<sub>, skipping the test
// when it is absent.
func conformanceDir(t *testing.T, sub string) string { return conformance.Dir(t, sub) }

// test range.
func testPatients(n int) []shcrkit.NHSNumber {
	var out []shcrkit.NHSNumber
	for base := 900000000; len(out) < n; base++ {
		s := strconv.Itoa(base)
		sum := 0
		for i := 0; i < 9; i++ {
			sum += int(s[i]-'0') * (10 - i)
		}
		check := (11 - sum%11) % 11
		if check == 10 {
			continue
		}
		out = append(out, shcrkit.NHSNumber(s+strconv.Itoa(check)))
	}
	return out
}
