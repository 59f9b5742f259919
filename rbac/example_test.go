package rbac_test

import (
	"bytes"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
)

// A nurse at a member trust of the North Riverside Shared Care Record asks
// to look across the boundary for a patient registered with her service,
// then for two records the National Record Locator returned.
func Example() {
	// The example is loaded as of a fixed day so that it runs the same in
	// any year.
	policy, err := rbac.LoadPolicy(bytes.NewReader(samplepolicy.YAML()))
	if err != nil {
		log.Fatal(err)
	}
	req := rbac.Request{
		Requester: shcrkit.Requester{
			UserID: "555000000031", RoleProfileID: "555000000032", RoleCode: "S8000:G8000:R8001",
			Activities: []string{"B0380"}, Organisation: "RX1", AssuranceLevel: 3,
		},
		Patient:      rbac.Subject{NHSNumber: shcrkit.NHSNumber("9434765919")},
		Relationship: rbac.Relationship{Kind: shcrkit.RelationshipRegistered},
		// The policy requires a registered relationship to be verified
		// (shcr's verifiers do it in the journey): here the patient's GP
		// practice, from PDS, is the requester's organisation.
		Verification: rbac.Verification{Status: rbac.VerificationVerified, Verifier: "registered", Evidence: "GP practice RX1"},
		Purpose:      shcrkit.PurposeDirectCare,
		Time:         time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
	}
	show := func(d rbac.Decision) {
		fmt.Printf("allowed=%v rule=%s\n", d.Allowed, d.Rule)
		for _, r := range d.Reasons {
			fmt.Println("  -", r)
		}
	}

	// May she look across the boundary at all?
	show(policy.Decide(req))

	// A mental health crisis plan held by a trust in Westhaven.
	req.Custodian, req.RecordType = "RW1", "736253002"
	show(policy.Decide(req))

	// An emergency health care plan held by a trust in Eastmoor.
	req.Custodian, req.RecordType = "RE1", "887701000000100"
	show(policy.Decide(req))

	// Output:
	// allowed=true rule=relationships/registered
	//   - legitimate relationship registered accepted for purpose direct-care
	//   - role grants access to data categories; each record is decided on its own
	// allowed=false rule=agreements/ISA-QRX-QWH-2026
	//   - agreement ISA-QRX-QWH-2026 between QRX and QWH does not cover category mental-health
	// allowed=true rule=agreements/ISA-QRX-QEM-2025
	//   - legitimate relationship registered accepted for purpose direct-care
	//   - category care-plans is within the requester's access levels
	//   - agreement ISA-QRX-QEM-2025 between QRX and QEM covers category care-plans for purpose direct-care
}

// Self-claimed relationships and break-glass are allowed with obligations
// the caller must honour.
func ExamplePolicy_Decide_obligations() {
	policy := samplepolicy.Load()
	req := rbac.Request{
		Requester: shcrkit.Requester{
			UserID: "555000000041", RoleProfileID: "555000000042", RoleCode: "S8000:G8000:R8000",
			Activities: []string{"B0360"}, Organisation: "Y12345", AssuranceLevel: 3,
		},
		Patient:      rbac.Subject{NHSNumber: shcrkit.NHSNumber("9434765919"), Confidentiality: shcrkit.ConfidentialityRestricted},
		Relationship: rbac.Relationship{Kind: shcrkit.RelationshipEmergency, Reason: "unconscious on arrival in ED"},
		Purpose:      shcrkit.PurposeBreakGlass,
		Custodian:    "RE1",
		RecordType:   "1382601000000107", // ReSPECT form
		Time:         time.Date(2026, 11, 24, 3, 10, 0, 0, time.UTC),
	}
	d := policy.Decide(req)
	fmt.Println(d)
	for _, o := range d.Obligations {
		fmt.Println("  must:", o)
	}

	// Break-glass does not override a patient's recorded dissent.
	req.Patient.Dissent = true
	fmt.Println(policy.Decide(req))
	// Output:
	// allowed by agreements/ISA-QRX-QEM-2025
	//   must: alert-privacy-officer B0015
	//   must: enhanced-audit
	//   must: time-box 4h0m0s
	//   must: redact address,telecom,contacts,general-practitioner
	// denied by dissent: patient has recorded dissent from sharing
}

func ExampleRequesterFromCIS2() {
	userinfo := []byte(`{
	  "sub": "910000000051",
	  "name": "Priya Natt",
	  "authentication_assurance_level": "3",
	  "nhsid_nrbac_roles": [
	    {"person_roleid": "910000000052", "org_code": "RX2", "role_code": "S8000:G8000:R8003",
	     "role_name": "\"Clinical\":\"Health Professional Access Role\"", "activity_codes": ["B0360"]},
	    {"person_roleid": "910000000053", "org_code": "Y12346", "role_code": "S8001:G8001:R8008",
	     "role_name": "\"Admin\":\"Admin/Clinical Support Access Role\"", "activity_codes": ["B0560"]}
	  ],
	  "nhsid_user_orgs": [{"org_code": "RX2", "org_name": "Riverside Community Health NHS Trust"}]
	}`)
	r, err := rbac.RequesterFromCIS2(userinfo, "910000000052")
	if err != nil {
		log.Fatal(err)
	}
	r.System = shcrkit.System{Name: "Riverside EPR", Version: "4.2"}
	fmt.Println(r.JobRole(), r.RoleName, r.Activities, r.Organisation, r.OrganisationName, r.AssuranceLevel)
	fmt.Println(samplepolicy.Load().VisibleCategories(r))

	_, err = rbac.RequesterFromCIS2(userinfo, "")
	fmt.Println(err)
	// Output:
	// R8003 Health Professional Access Role [B0360] RX2 Riverside Community Health NHS Trust 3
	// [demographics appointments care-plans observations]
	// rbac: no CIS2 role selected: the user has 2 roles and none is selected
}

func ExampleLoadPolicy() {
	_, err := rbac.LoadPolicy(strings.NewReader(`version: 1
name: Draft
local:
  shcr: QRX
  name: North Riverside Shared Care Record
categories:
  - id: care-plans
    record_types:
      - code: "736366004"
        display: Advance care plan
access_levels:
  - id: clinical
    categories: [care-plans]
roles:
  - id: clinicians
    job_roles: [R8000]
    acess_levels: [clinical]
relationships:
  - kind: registered
    purposes: [TREAT]
record_of_processing:
  controller:
    name: North Riverside ICB
`))
	fmt.Println(err)
	// Output:
	// rbac: policy line 17: field acess_levels not found in type a role
}
