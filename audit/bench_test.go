package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/require"
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
		Relationship: shcrkit.RelationshipEncounter, RelationshipEvidence: "encounter-778899", Rule: "direct-care-lr",
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
// concurrent writers on the same disk: with group commit, with group
// commit and a checkpoint signed and handed to a witness for every commit
// (WithCheckpointEveryCommit), and with an fsync per event; it reports
// each and their ratios.
func BenchmarkGroupCommit(b *testing.B) {
	const writers = 64
	open := func(opts ...LogOption) *Log {
		l, err := OpenLog(b.TempDir(), opts...)
		if err != nil {
			b.Fatal(err)
		}
		return l
	}
	var witnessed atomic.Int64
	group := open()
	defer group.Close()
	witness := open(WithCheckpointEveryCommit(), WithCheckpointFunc(func(Checkpoint) { witnessed.Add(1) }))
	defer witness.Close()
	each := open(WithSyncEveryEvent())
	defer each.Close()
	b.ResetTimer()
	n := max(b.N, 1000)
	groupRate := writeConcurrently(b, group, writers, n)
	witnessRate := writeConcurrently(b, witness, writers, n)
	eachRate := writeConcurrently(b, each, writers, max(b.N/16, 500))
	b.StopTimer()
	b.ReportMetric(groupRate, "events/s")
	b.ReportMetric(witnessRate, "witnessed-events/s")
	b.ReportMetric(witnessRate/groupRate, "witnessed-ratio")
	b.ReportMetric(float64(n)/float64(witnessed.Load()), "events/witnessed-checkpoint")
	b.ReportMetric(eachRate, "fsync-each-events/s")
	b.ReportMetric(groupRate/eachRate, "speedup")
}

// queryFixture returns a log of a million events over 20,000 patients,
// 2,000 users in 50 organisations and 30 days, built once through the
// ordinary write path and kept in the temporary directory for later runs.
func queryFixture(b *testing.B) (dir string, patients []shcrkit.NHSNumber) {
	const events, npatients, nusers, norgs = 1_000_000, 20_000, 2_000, 50
	patients = testPatients(npatients)
	dir = filepath.Join(os.TempDir(), "shcrkit-audit-bench-1e6-v1")
	done := filepath.Join(dir, "fixture-complete")
	if _, err := os.Stat(done); err == nil {
		return dir, patients
	}
	require.NoError(b, os.RemoveAll(dir))
	start := time.Now()
	l, err := OpenLog(dir)
	require.NoError(b, err)
	users := make([]shcrkit.Requester, nusers)
	for i := range users {
		u := clinician()
		u.UserID = strconv.Itoa(555000000000 + i)
		u.Organisation = shcrkit.ODSCode(fmt.Sprintf("R%02dX", i%norgs))
		users[i] = u
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 1024; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= events {
					return
				}
				e := readEvent(t0.Add(time.Duration(i)*2600*time.Millisecond), users[(i*7)%nusers], patients[(i*13)%npatients])
				if err := l.Write(context.Background(), e); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(b, l.Close())
	require.NoError(b, os.WriteFile(done, nil, 0o600))
	b.Logf("built a fixture of %d events in %v", events, time.Since(start))
	return dir, patients
}

// BenchmarkQueryByPatient queries a log of a million events for one
// patient's 50 events at a time. The query goes through the index and
// reads only that patient's records (records-read/op); its time includes
// the durable write of the audit event that records the query itself.
func BenchmarkQueryByPatient(b *testing.B) {
	dir, patients := queryFixture(b)
	l, err := OpenLog(dir)
	require.NoError(b, err)
	defer l.Close()
	reader := officer()
	ctx := context.Background()
	reads, found := l.st.RecordReads(), 0
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		p := patients[i%len(patients)]
		i++
		for e, err := range l.Query(ctx, reader, Filter{Patient: p, Service: ServiceShCR}) {
			if err != nil {
				b.Fatal(err)
			}
			_ = e
			found++
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(found)/float64(i), "events/op")
	b.ReportMetric(float64(l.st.RecordReads()-reads)/float64(i), "records-read/op")
	b.ReportMetric(float64(l.Size()), "log-events")
}
