package shcr_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
)

// The whole journey against the bundled fakes: a doctor in an emergency
// department, treating a patient from another region, retrieves the
// patient's records from the regional shared care records that hold them,
// with every step written to a tamper-evident audit log first.
func Example() {
	world, err := shcrtest.NewWorld()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer world.Close()

	dir, err := os.MkdirTemp("", "shcr-example-audit")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	log, err := audit.OpenLog(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer log.Close()

	client, err := world.Client(log)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := shcrkit.WithCorrelationID(context.Background(), "ed-attendance-42")
	res, err := client.Records(ctx, shcr.Request{
		Requester:    world.Requester,
		NHSNumber:    pdstest.Patients.Normal,
		Purpose:      shcrkit.PurposeDirectCare,
		Relationship: rbac.Relationship{Kind: shcrkit.RelationshipEncounter, Evidence: "ED-ATTENDANCE-42"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Close()

	for _, r := range res.Records {
		what := r.ContentType
		if r.Body != nil {
			// An attachment is streamed; read it before the Result is closed.
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				fmt.Println(err)
			}
		} else {
			what += " " + r.ResourceType
		}
		fmt.Printf("record %s from %s: %s\n", r.Pointer.ID, r.Pointer.Custodian, what)
	}
	for _, r := range res.Refused {
		fmt.Printf("refused %s from %s by %s\n", r.Pointer.ID, r.Pointer.Custodian, r.Decision.Rule)
	}

	// The audit trail of the journey.
	counts := map[string]int{}
	for e, err := range log.Query(ctx, world.Requester, audit.Filter{CorrelationID: "ed-attendance-42"}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		kind := e.Kind
		if kind == "" {
			kind = audit.KindInteraction
		}
		counts[fmt.Sprintf("%s %s %s", kind, e.Service, e.Outcome)]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("audit: %d × %s\n", counts[k], k)
	}
	// Output:
	// record RNR-000001 from RNR: application/pdf
	// record RNR-000002 from RNR: application/fhir+json Bundle
	// record RWV-000003 from RWV: application/pdf
	// record RNR-000005 from RNR: application/pdf
	// refused RFC-000004 from RFC by confidentiality/very_restricted
	// audit: 1 × decision nrl success
	// audit: 1 × decision shcr refused
	// audit: 4 × decision shcr success
	// audit: 1 × interaction nrl success
	// audit: 1 × interaction pds success
	// audit: 6 × interaction shcr success
}
