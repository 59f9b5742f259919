package investigation_test

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

func ExampleQueryReview() {
	dir, err := os.MkdirTemp("", "audit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l, err := audit.OpenLog(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	ctx := context.Background()
	clinician := shcrkit.Requester{UserID: "555000111222", Name: "Dr Ada Lovegood", RoleProfileID: "100200300400",
		RoleCode: "S8000:G8000:R8000", Organisation: "RX1", System: shcrkit.System{Name: "Riverside EPR"}}
	at := time.Date(2025, 3, 3, 23, 30, 0, 0, time.UTC) // a Monday night
	err = l.Write(ctx, audit.Event{Time: at, Requester: clinician, Action: audit.ActionRead, Service: audit.ServiceShCR,
		Resource: "DocumentReference/Y99999-plan-1", Patient: "9434765919", Purpose: shcrkit.PurposeBreakGlass,
		BreakGlassReason: "unconscious in ED", Outcome: audit.OutcomeSuccess, Custodian: "Y99999"})
	if err != nil {
		log.Fatal(err) // no audit record, no data
	}

	officer := shcrkit.Requester{UserID: "555000999000", Name: "Cara Privacy", RoleProfileID: "100200300900",
		RoleCode: "S8000:G8000:R5080", Organisation: "RX1", System: shcrkit.System{Name: "Audit Console"}}
	flags, err := investigation.QueryReview(ctx, l, officer, audit.Filter{Patient: "9434765919"}, investigation.ReviewConfig{})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range flags {
		fmt.Println(f.Kind, f.Seqs)
	}
	// Output:
	// break-glass [1]
	// out-of-hours [1]
}
