package postgres

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/require"
)

// BenchmarkWrite measures durable events per second with 1, 16 and 64
// concurrent writers in one Store, and beside it the same writers with
// one transaction per event (WithMaxBatch(1), the per-event insert
// baseline), reporting both rates and their ratio (x-per-event).
func BenchmarkWrite(b *testing.B) {
	for _, writers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			batched := openStore(b, "")
			perEvent := openStore(b, "", WithMaxBatch(1))
			b.ResetTimer()
			rate := writeConcurrently(b, batched, writers, b.N)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/float64(batched.batchCount.Load()), "events/batch")
			// The baseline is an order of magnitude slower: a tenth of
			// the events measures its rate as well.
			base := writeConcurrently(b, perEvent, writers, max(b.N/10, writers))
			b.ReportMetric(rate, "events/s")
			b.ReportMetric(base, "per-event-events/s")
			b.ReportMetric(rate/base, "x-per-event")
		})
	}
}

// writeConcurrently writes n events from the given number of goroutines
// and returns events per second.
func writeConcurrently(b *testing.B, s *Store, writers, n int) float64 {
	ctx := context.Background()
	e := readEvent(t0, patientA)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range writers {
		count := n / writers
		if w < n%writers {
			count++
		}
		wg.Go(func() {
			for range count {
				if err := s.Write(ctx, e); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// The child processes of BenchmarkWriteProcesses are this test binary,
// run with benchChildEnv set.
const benchChildEnv = "SHCRKIT_BENCH_POSTGRES_CHILD"

// BenchmarkWriteProcesses measures durable events per second from 4
// processes with 16 writers each, all on one schema, and the per-event
// baseline the same way.
func BenchmarkWriteProcesses(b *testing.B) {
	const procs, writers = 4, 16
	testDSN(b)
	// Starting the processes takes seconds, so b.N stays small: each run
	// writes at least enough events to measure a rate.
	n := max(b.N, 20000)
	rate := writeFromProcesses(b, newSchema(b), procs, writers, n, 0)
	base := writeFromProcesses(b, newSchema(b), procs, writers, n/10, 1)
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(base, "per-event-events/s")
	b.ReportMetric(rate/base, "x-per-event")
}

// writeFromProcesses starts procs children, each opening a Store on
// schema; once all are ready it lets them write n events between them
// and returns events per second from the go to the last done.
func writeFromProcesses(b *testing.B, schema string, procs, writers, n, maxBatch int) float64 {
	// Create the schema first, so the children time only writing.
	s := openStore(b, schema)
	require.NoError(b, s.Close())
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Scanner
	}
	children := make([]child, procs)
	for i := range children {
		count := n / procs
		if i < n%procs {
			count++
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestBenchChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), benchChildEnv+"="+strconv.Itoa(count),
			"SHCRKIT_BENCH_SCHEMA="+schema, "SHCRKIT_BENCH_WRITERS="+strconv.Itoa(writers),
			"SHCRKIT_BENCH_MAX_BATCH="+strconv.Itoa(maxBatch))
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		require.NoError(b, err)
		stdout, err := cmd.StdoutPipe()
		require.NoError(b, err)
		require.NoError(b, cmd.Start())
		children[i] = child{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	}
	expect := func(c child, word string) {
		for c.out.Scan() {
			if c.out.Text() == word {
				return
			}
		}
		b.Fatalf("child process ended before %q", word)
	}
	for _, c := range children {
		expect(c, "ready")
	}
	start := time.Now()
	for _, c := range children {
		fmt.Fprintln(c.stdin, "go")
	}
	for _, c := range children {
		expect(c, "done")
	}
	elapsed := time.Since(start)
	for _, c := range children {
		c.stdin.Close()
		require.NoError(b, c.cmd.Wait())
	}
	return float64(n) / elapsed.Seconds()
}

// TestBenchChildProcess is one process of BenchmarkWriteProcesses; it
// does nothing unless run as one.
func TestBenchChildProcess(t *testing.T) {
	count, err := strconv.Atoi(os.Getenv(benchChildEnv))
	if err != nil {
		t.Skip("a child process of BenchmarkWriteProcesses only")
	}
	writers, _ := strconv.Atoi(os.Getenv("SHCRKIT_BENCH_WRITERS"))
	opts := []Option{WithSchema(os.Getenv("SHCRKIT_BENCH_SCHEMA"))}
	if mb, _ := strconv.Atoi(os.Getenv("SHCRKIT_BENCH_MAX_BATCH")); mb > 0 {
		opts = append(opts, WithMaxBatch(mb))
	}
	s, err := Open(context.Background(), testDSN(t), opts...)
	require.NoError(t, err)
	defer s.Close()
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	require.True(t, in.Scan())
	writeConcurrently(&testing.B{}, s, writers, count)
	fmt.Println("done")
}

// queryBenchEvents is the size of the table BenchmarkQueryByPatient
// searches; its events are spread over queryBenchPatients patients.
const (
	queryBenchEvents   = 1_000_000
	queryBenchPatients = 10_000
)

// BenchmarkQueryByPatient measures a query of one patient's events (about
// a hundred) in a table of a million, its own audited write included.
// The table is loaded once per cluster, in schema bench_query_1m, and
// kept for later runs.
func BenchmarkQueryByPatient(b *testing.B) {
	ctx := context.Background()
	testDSN(b)
	s, err := Open(ctx, testDSN(b), WithSchema("bench_query_1m"), WithCheckpointInterval(24*time.Hour))
	require.NoError(b, err)
	defer s.Close()
	patients := benchPatients(queryBenchPatients)
	size, err := s.Size(ctx)
	require.NoError(b, err)
	if size < queryBenchEvents {
		start := time.Now()
		loadEvents(b, s, int(size), queryBenchEvents, patients)
		b.Logf("loaded %d events in %v", queryBenchEvents-int(size), time.Since(start))
	}
	b.ResetTimer()
	found := 0
	for i := range b.N {
		for e, err := range s.Query(ctx, officer(), audit.Filter{Patient: patients[i%len(patients)], Service: audit.ServiceShCR}) {
			if err != nil {
				b.Fatal(err)
			}
			_ = e
			found++
		}
	}
	b.ReportMetric(float64(found)/float64(b.N), "events/query")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/query")
}

// loadEvents commits events from..to-1 in large batches, straight
// through the writer's commit (nothing else writes meanwhile).
func loadEvents(b *testing.B, s *Store, from, to int, patients []shcrkit.NHSNumber) {
	const batch = 5000
	reqs := make([]*writeReq, 0, batch)
	for i := from; i < to; i += batch {
		reqs = reqs[:0]
		for j := i; j < min(i+batch, to); j++ {
			e := readEvent(t0.Add(time.Duration(j)*time.Second), patients[j%len(patients)])
			n, err := e.Normalize(t0)
			require.NoError(b, err)
			reqs = append(reqs, &writeReq{ev: n})
		}
		_, err := s.commitBatch(reqs, false)
		require.NoError(b, err)
	}
}

// benchPatients returns n valid NHS numbers in the test range.
func benchPatients(n int) []shcrkit.NHSNumber {
	var out []shcrkit.NHSNumber
	for i := 0; len(out) < n; i++ {
		base := fmt.Sprintf("9%08d", i)
		for d := range 10 {
			if p := shcrkit.NHSNumber(base + strconv.Itoa(d)); p.Valid() {
				out = append(out, p)
				break
			}
		}
	}
	return out
}
