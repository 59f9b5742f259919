package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/proccpu"
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
// returns the events per second.
func writeConcurrently(tb testing.TB, l Sink, writers, n int) float64 {
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

// naiveLog is the baseline a durable log is measured against: each event
// validated, encoded with encoding/json and appended to one file as a
// line under a mutex, with an fsync every 256 events. Its Write returns
// before the event is durable.
type naiveLog struct {
	mu sync.Mutex
	f  *os.File
	n  int
}

func (l *naiveLog) Write(_ context.Context, e Event) error {
	n, err := e.Normalize(time.Now())
	if err != nil {
		return err
	}
	line, err := json.Marshal(n)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.f.Write(line); err != nil {
		return err
	}
	if l.n++; l.n%256 == 0 {
		return l.f.Sync()
	}
	return nil
}

// BenchmarkGroupCommit measures events per second with 64 concurrent
// writers on the same disk, in one run: durable with group commit
// (events/s); durable with a checkpoint signed and handed to a witness
// for every commit (WithCheckpointEveryCommit); with an fsync per event;
// and the naive baseline that appends and fsyncs every 256 events,
// durable on return for none of them (naive256-events/s). x-naive256 is
// the group commit's rate over the baseline's; events/fsync is the group
// commit's mean batch; cpu-us/event and naive256-cpu-us/event are the
// process's CPU time (user and system, every goroutine) per event of the
// group commit and of the baseline, steadier than the rates on a busy
// machine. The figures depend on the
// disk's fsync latency and on what else the machine runs.
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
	each := open(withSyncEveryEvent())
	defer each.Close()
	f, err := os.Create(filepath.Join(b.TempDir(), "naive.jsonl"))
	require.NoError(b, err)
	defer f.Close()
	naive := &naiveLog{f: f}
	b.ResetTimer()
	// The three are measured in turns, four rounds each, so that a
	// change in the machine's load during the run falls on all of them.
	const rounds = 4
	n := max(b.N, 1000) / rounds * rounds
	var naiveTime, groupTime, witnessTime float64
	var naiveCPU, groupCPU time.Duration
	syncs := group.st.BatchSyncs()
	for range rounds {
		c0 := proccpu.Time(b)
		naiveTime += float64(n/rounds) / writeConcurrently(b, naive, writers, n/rounds)
		c1 := proccpu.Time(b)
		groupTime += float64(n/rounds) / writeConcurrently(b, group, writers, n/rounds)
		c2 := proccpu.Time(b)
		witnessTime += float64(n/rounds) / writeConcurrently(b, witness, writers, n/rounds)
		naiveCPU += c1 - c0
		groupCPU += c2 - c1
	}
	naiveRate, groupRate, witnessRate := float64(n)/naiveTime, float64(n)/groupTime, float64(n)/witnessTime
	eachRate := writeConcurrently(b, each, writers, max(b.N/16, 500))
	b.StopTimer()
	b.ReportMetric(groupRate, "events/s")
	b.ReportMetric(naiveRate, "naive256-events/s")
	b.ReportMetric(groupRate/naiveRate, "x-naive256")
	b.ReportMetric(float64(groupCPU.Microseconds())/float64(n), "cpu-us/event")
	b.ReportMetric(float64(naiveCPU.Microseconds())/float64(n), "naive256-cpu-us/event")
	b.ReportMetric(float64(n)/float64(group.st.BatchSyncs()-syncs), "events/fsync")
	b.ReportMetric(witnessRate, "witnessed-events/s")
	b.ReportMetric(witnessRate/groupRate, "witnessed-ratio")
	b.ReportMetric(float64(n)/float64(witnessed.Load()), "events/witnessed-checkpoint")
	b.ReportMetric(eachRate, "fsync-each-events/s")
	b.ReportMetric(groupRate/eachRate, "speedup")
}

// BenchmarkDurableWrite writes events with 64 concurrent writers through
// the group commit alone, each Write durable on return, and reports
// events/s and the process's CPU time per event (cpu-us/event), for
// profiling the write path.
func BenchmarkDurableWrite(b *testing.B) {
	const writers = 64
	l, err := OpenLog(b.TempDir())
	require.NoError(b, err)
	defer l.Close()
	writeConcurrently(b, l, writers, 2000) // warm the pools
	b.ReportAllocs()
	b.ResetTimer()
	c0 := proccpu.Time(b)
	rate := writeConcurrently(b, l, writers, b.N)
	cpu := proccpu.Time(b) - c0
	b.StopTimer()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/event")
}

// BenchmarkVerify verifies the log of a million events of queryFixture
// and reports the seconds one Verify takes.
func BenchmarkVerify(b *testing.B) {
	dir, _ := queryFixture(b)
	l, err := OpenLog(dir)
	require.NoError(b, err)
	defer l.Close()
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		require.NoError(b, l.Verify(ctx))
	}
	per := time.Since(start).Seconds() / float64(b.N)
	b.ReportMetric(per, "s/verify")
	b.ReportMetric(float64(l.Size())/per, "events-verified/s")
	b.ReportMetric(float64(l.Size()), "log-events")
}

// BenchmarkOpenAfterCrash opens a log left by a crash with 60,000 events
// checkpointed but not yet in an index run (the most the default index
// flush leaves) and reports the seconds OpenLog takes.
func BenchmarkOpenAfterCrash(b *testing.B) {
	const events = 60_000
	src := b.TempDir()
	l, err := OpenLog(src, WithCheckpointInterval(24*time.Hour))
	require.NoError(b, err)
	writeConcurrently(b, l, 64, events)
	_, err = l.SignCheckpoint(context.Background())
	require.NoError(b, err)
	files := map[string][]byte{}
	require.NoError(b, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		files[rel] = data
		return err
	}))
	require.NoError(b, l.Close())
	b.ResetTimer()
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "log")
		for rel, data := range files {
			p := filepath.Join(dir, rel)
			require.NoError(b, os.MkdirAll(filepath.Dir(p), 0o700))
			require.NoError(b, os.WriteFile(p, data, 0o600))
		}
		b.StartTimer()
		start := time.Now()
		l, err := OpenLog(dir)
		total += time.Since(start)
		require.NoError(b, err)
		b.StopTimer()
		require.Equal(b, uint64(events), l.Size())
		require.NoError(b, l.Close())
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/open")
}

// BenchmarkStoragePerEvent writes events through a log, closes it and
// reports the bytes of every file in its directory per event, against a
// JSON line of the same event (encoding/json, Seq and Recorded included).
// Its figures do not depend on b.N: run it with -benchtime 1x.
func BenchmarkStoragePerEvent(b *testing.B) {
	const events = 50_000
	dir := b.TempDir()
	l, err := OpenLog(dir)
	require.NoError(b, err)
	writeConcurrently(b, l, 64, events)
	require.NoError(b, l.Close())
	var bytes int64
	require.NoError(b, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		bytes += info.Size()
		return err
	}))
	l, err = OpenLog(dir)
	require.NoError(b, err)
	defer l.Close()
	e, err := l.event(l.Size())
	require.NoError(b, err)
	line, err := json.Marshal(e)
	require.NoError(b, err)
	per := float64(bytes) / float64(l.Size())
	b.ReportMetric(per, "bytes/event")
	b.ReportMetric(float64(len(line)+1), "json-line-bytes")
	b.ReportMetric(per/float64(len(line)+1), "x-json-line")
}

// queryFixture returns a log of a million events over 20,000 patients,
// 2,000 users in 50 organisations and 30 days, built once through the
// ordinary write path and kept in the temporary directory for later runs.
func queryFixture(b *testing.B) (dir string, patients []shcrkit.NHSNumber) {
	const events, npatients, nusers, norgs = 1_000_000, 20_000, 2_000, 50
	patients = testPatients(npatients)
	dir = filepath.Join(os.TempDir(), "shcrkit-audit-bench-1e6-v3")
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
