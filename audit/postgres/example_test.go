package postgres_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/investigation"
	"github.com/shcrkit/shcrkit/audit/postgres"
)

// Every instance of the application opens the same store; the schema is
// created by the first. The example needs a database, so it has no
// output to check: run it with SHCRKIT_TEST_POSTGRES set.
func Example() {
	ctx := context.Background()
	store, err := postgres.Open(ctx, os.Getenv("SHCRKIT_TEST_POSTGRES"), postgres.WithSchema("example_audit"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	clinician := shcrkit.Requester{
		UserID: "555000111222", RoleProfileID: "100200300400", RoleCode: "S8000:G8000:R8000",
		Organisation: "RX1", System: shcrkit.System{Name: "Riverside EPR"},
	}
	err = store.Write(ctx, audit.Event{
		Time: time.Now(), Requester: clinician, Action: audit.ActionRead, Service: audit.ServiceShCR,
		Resource: "DocumentReference/Y99999-care-plan-1", Patient: "9434765919",
		Purpose: shcrkit.PurposeDirectCare, Outcome: audit.OutcomeSuccess,
	})
	if err != nil {
		fmt.Println("not recorded, so not shown:", err)
		return
	}

	// A patient asks who looked at their record: the read is audited too.
	report, err := investigation.QueryAccessReport(ctx, store, clinician, "9434765919", time.Time{}, time.Time{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(report.Markdown())

	// A third party checks an event with the public key alone.
	proof, err := store.Prove(ctx, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, _, err := audit.VerifyInclusion(store.VerifierKey(), proof); err != nil {
		fmt.Println(err)
	}
}
