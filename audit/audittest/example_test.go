package audittest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
)

// fetchRecord stands for code under test: it must audit before it hands
// back data, and hand back nothing when auditing fails.
func fetchRecord(ctx context.Context, sink audit.Sink, who shcrkit.Requester, nhs shcrkit.NHSNumber) (string, error) {
	e := audit.Event{
		Time: time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC), Requester: who, Patient: nhs,
		Action: audit.ActionRead, Service: audit.ServiceShCR, Resource: "DocumentReference/Y99999-1",
		Custodian: "Y99999", Purpose: shcrkit.PurposeDirectCare, Outcome: audit.OutcomeSuccess, RequestID: "req-1",
	}
	if err := sink.Write(ctx, e); err != nil {
		return "", fmt.Errorf("not audited, not returned: %w", err)
	}
	return "care plan", nil
}

func Example() {
	rec := audittest.NewRecorder()
	ctx := context.Background()
	who := shcrkit.Requester{UserID: "555000111222", RoleProfileID: "100200300400", RoleCode: "R8000",
		Organisation: "RX1", System: shcrkit.System{Name: "EPR"}}
	nhs := shcrkit.NHSNumber("9434765919")

	data, err := fetchRecord(ctx, rec, who, nhs)
	fmt.Println(data, err)
	fmt.Println(rec.Expect(audit.Filter{Patient: nhs, Action: audit.ActionRead}, 1))
	fmt.Println(rec.Check())

	rec.FailWith(errors.New("audit store unavailable"))
	data, err = fetchRecord(ctx, rec, who, nhs)
	fmt.Printf("%q %v\n", data, err)

	// Output:
	// care plan <nil>
	// <nil>
	// <nil>
	// "" not audited, not returned: audit store unavailable
}
