package audit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
)

// benchEvent returns a realistic event: a read of a remote record.
func benchEvent(i int) Event {
	return Event{
		Requester: shcrkit.Requester{
			UserID: "555000111222", Name: "Dr Ada Example", RoleProfileID: "100200300400",
			RoleCode: "S8000:G8000:R8000", RoleName: "Clinical Practitioner Access Role",
			Activities: []string{"B0360", "B0380"}, Organisation: "RX1", OrganisationName: "Riverside Hospital",
			System: shcrkit.System{Name: "Riverside EPR", Version: "4.2", ASID: "200000000123"},
		},
		Action: ActionRead, Service: ServiceShCR, Resource: "DocumentReference/Y12345-care-plan-1",
		Endpoint: "https://shcr.example.test/fhir/R4", Patient: "9434765919", Purpose: shcrkit.PurposeDirectCare,
		Relationship: RelationshipEncounter, RelationshipEvidence: "encounter-778899", Rule: "direct-care-lr",
		Outcome: OutcomeSuccess, RequestID: "7f1c2b9e-4a51-4b7e-9d7e-5a1b2c3d4e5f",
		CorrelationID: "c0ffee00-1234-4abc-8def-001122334455", Custodian: "Y12345",
	}
}

// writeConcurrently writes n events with the given number of writers and
// returns the durable events per second.
func writeConcurrently(tb testing.TB, l *Log, writers, n int) float64 {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				if err := l.Write(ctx, benchEvent(int(i))); err != nil {
					tb.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkGroupCommit measures durable events per second with 64
// concurrent writers, with group commit and with an fsync per event, on
// the same disk, and reports both and their ratio.
func BenchmarkGroupCommit(b *testing.B) {
	const writers = 64
	open := func(opts ...LogOption) *Log {
		l, err := OpenLog(b.TempDir(), opts...)
		if err != nil {
			b.Fatal(err)
		}
		return l
	}
	group := open()
	defer group.Close()
	each := open(WithSyncEveryEvent())
	defer each.Close()
	b.ResetTimer()
	groupRate := writeConcurrently(b, group, writers, max(b.N, 1000))
	eachRate := writeConcurrently(b, each, writers, max(b.N/16, 500))
	b.StopTimer()
	b.ReportMetric(groupRate, "events/s")
	b.ReportMetric(eachRate, "fsync-each-events/s")
	b.ReportMetric(groupRate/eachRate, "speedup")
}
