package audit_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/investigation"
)

// Write a morning's accesses to a patient's record, verify the log and
// print the report the patient would receive.
func Example() {
	dir, err := os.MkdirTemp("", "audit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	morning := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	l, err := audit.OpenLog(dir, audit.WithClock(func() time.Time { return morning }))
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()

	patient := shcrkit.NHSNumber("9434765919")
	doctor := shcrkit.Requester{
		UserID: "555000111222", Name: "Dr Ada Lovegood", RoleProfileID: "100200300400",
		RoleCode: "S8000:G8000:R8000", RoleName: "Clinical Practitioner", Organisation: "RX1",
		OrganisationName: "Riverside Hospital", System: shcrkit.System{Name: "Riverside EPR", Version: "4.2"},
	}
	receptionist := shcrkit.Requester{
		UserID: "555000333444", Name: "Ben Carter", RoleProfileID: "100200300500",
		RoleCode: "S8000:G8001:R8001", RoleName: "Receptionist", Organisation: "Y12345",
		OrganisationName: "Hilltop Practice", System: shcrkit.System{Name: "Hilltop GP", Version: "9"},
	}
	events := []audit.Event{{
		Time: morning.Add(15 * time.Minute), Requester: doctor, Patient: patient,
		Action: audit.ActionSearch, Service: audit.ServiceNRL, Resource: "DocumentReference",
		Query:   "subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919",
		Purpose: shcrkit.PurposeDirectCare, Outcome: audit.OutcomeSuccess,
	}, {
		Time: morning.Add(16 * time.Minute), Requester: doctor, Patient: patient,
		Action: audit.ActionRead, Service: audit.ServiceShCR, Resource: "DocumentReference/Y99999-plan-1",
		Custodian: "Y99999", Purpose: shcrkit.PurposeDirectCare, Relationship: shcrkit.RelationshipEncounter,
		Outcome: audit.OutcomeSuccess,
	}, {
		Time: morning.Add(40 * time.Minute), Requester: receptionist, Patient: patient,
		Action: audit.ActionRead, Service: audit.ServiceShCR, Resource: "DocumentReference/Y99999-plan-1",
		Custodian: "Y99999", Purpose: shcrkit.PurposeDirectCare, Outcome: audit.OutcomeRefused,
		Rule: "role-lacks-B0360", Reason: "role may not view clinical records",
	}}
	for _, e := range events {
		if err := l.Write(ctx, e); err != nil {
			log.Fatal(err) // no audit record, no data
		}
	}

	if err := l.Verify(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("log verified:", l.Size(), "events")

	officer := shcrkit.Requester{
		UserID: "555000999000", Name: "Cara Privacy", RoleProfileID: "100200300900",
		RoleCode: "R5080", Organisation: "RX1", System: shcrkit.System{Name: "Audit Console"},
	}
	report, err := investigation.QueryAccessReport(ctx, l, officer, patient, time.Time{}, time.Time{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(report.Markdown())

	// Output:
	// log verified: 3 events
	// # Access to the record of NHS number 943 476 5919
	//
	// Period: all recorded accesses.
	//
	// 3 accesses by 2 organisations; 1 refused attempt.
	//
	// ## By organisation
	//
	// | Organisation | Accesses | Refused | Users | First | Last |
	// |---|---|---|---|---|---|
	// | Riverside Hospital (RX1) | 2 | 0 | 1 | 2025-03-03 09:15 | 2025-03-03 09:16 |
	// | Hilltop Practice (Y12345) | 1 | 1 | 1 | 2025-03-03 09:40 | 2025-03-03 09:40 |
	//
	// ## Accesses
	//
	// | Seq | When (UTC) | Who | Organisation | Why | What | Outcome |
	// |---|---|---|---|---|---|---|
	// | 1 | 2025-03-03 09:15 | Dr Ada Lovegood (Clinical Practitioner, user 555000111222) | Riverside Hospital (RX1) | direct-care | searched the National Record Locator for DocumentReference | success |
	// | 2 | 2025-03-03 09:16 | Dr Ada Lovegood (Clinical Practitioner, user 555000111222) | Riverside Hospital (RX1) | direct-care; relationship: encounter | read DocumentReference/Y99999-plan-1 from the shared care record held by Y99999 | success |
	// | 3 | 2025-03-03 09:40 | Ben Carter (Receptionist, user 555000333444) | Hilltop Practice (Y12345) | direct-care | read DocumentReference/Y99999-plan-1 from the shared care record held by Y99999 | refused: role may not view clinical records |
}

// A third party holding only the log's public key checks that an event
// is in the log, and later that the log still holds what it held then.
func ExampleVerifyInclusion() {
	dir, err := os.MkdirTemp("", "audit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l, err := audit.OpenLog(dir, audit.WithOrigin("riverside.audit"))
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	e := audit.Event{
		Time: time.Date(2025, 3, 3, 9, 15, 0, 0, time.UTC), Patient: shcrkit.NHSNumber("9434765919"),
		Requester: shcrkit.Requester{UserID: "555000111222", Organisation: "RX1", System: shcrkit.System{Name: "EPR"}},
		Action:    audit.ActionRead, Service: audit.ServicePDS, Resource: "Patient/9434765919", Outcome: audit.OutcomeSuccess,
	}
	seq, err := l.Append(ctx, e)
	if err != nil {
		log.Fatal(err)
	}
	proof, err := l.Prove(ctx, seq)
	if err != nil {
		log.Fatal(err)
	}
	held, _ := l.Checkpoint()

	// Elsewhere, with the verifier key alone:
	vkey := l.VerifierKey()
	got, checkpoint, err := audit.VerifyInclusion(vkey, proof)
	fmt.Println(got.Seq, got.Resource, checkpoint.Origin, err)

	// Later, after more events:
	if err := l.Write(ctx, e); err != nil {
		log.Fatal(err)
	}
	consistency, err := l.ProveConsistency(ctx, held.Size)
	if err != nil {
		log.Fatal(err)
	}
	now, err := audit.VerifyConsistency(vkey, held.Signed, consistency)
	fmt.Println(held.Size, "->", now.Size, err)

	// Output:
	// 1 Patient/9434765919 riverside.audit <nil>
	// 1 -> 2 <nil>
}
