package rbac_test

import (
	"bytes"
	"fmt"
	"log"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
)

// An agreement that has ended does not stop the policy loading: it is
// inactive, decisions against it say so, and the others serve on.
func ExamplePolicy_AgreementsEnding() {
	day := time.Date(2031, 1, 15, 12, 0, 0, 0, time.UTC)
	policy, err := rbac.LoadPolicy(bytes.NewReader(samplepolicy.YAML()))
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range policy.AgreementsEnding(day, day.AddDate(1, 0, 0)) {
		fmt.Println("ends within a year:", a.ID, a.ValidTo)
	}
	for _, a := range policy.AgreementsDueForReview(day, day.AddDate(0, 3, 0)) {
		fmt.Println("review due:", a.ID, a.ReviewDate)
	}
	fmt.Println("no agreement in force with:", policy.RemotesWithoutAgreement(day))

	req := rbac.Request{
		Requester: shcrkit.Requester{UserID: "555000000031", RoleProfileID: "555000000032", RoleCode: "S8000:G8000:R8001",
			Activities: []string{"B0380"}, Organisation: "RX1", AssuranceLevel: 3},
		Patient:      rbac.Subject{NHSNumber: shcrkit.NHSNumber("9434765919")},
		Relationship: rbac.Relationship{Kind: shcrkit.RelationshipEncounter},
		Purpose:      shcrkit.PurposeDirectCare,
		Time:         day,
		Custodian:    "RW1", RecordType: "887701000000100",
	}
	fmt.Println(policy.Decide(req))
	req.Custodian = "RE1"
	fmt.Println(policy.Decide(req))
	// Output:
	// ends within a year: ISA-QRX-QSD-2027 2031-12-31
	// review due: ISA-QRX-QEM-2025 2027-03-31
	// no agreement in force with: [QWH]
	// denied by agreements: no sharing agreement between QRX and QWH in force on 2031-01-15; agreement ISA-QRX-QWH-2026 ended on 2030-12-31
	// allowed by agreements/ISA-QRX-QEM-2025
}
