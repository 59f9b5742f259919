package shcr_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/internal/jws"
	"github.com/shcrkit/shcrkit/internal/proccpu"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/require"
)

// reusingIdentity returns the directory with every endpoint accepting one
// identity token per journey.
func reusingIdentity(b *testing.B, d *shcr.Directory) *shcr.Directory {
	eps := d.Endpoints()
	for i := range eps {
		eps[i].ReuseIdentity = true
	}
	ssp, _ := d.SSP()
	out, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: eps, SSP: &ssp})
	require.NoError(b, err)
	return out
}

// BenchmarkRecordsAtScale runs journeys of 20, 100 and 500 pointers spread
// over the world's five custodians, with 20 ms of latency on PDS, the NRL
// and every regional ShCR. Per size it reports:
//
//   - journey-ms and wave-bound-ms: the journey against the per-custodian
//     wave bound, max(PDS, NRL) + ceil(pointers per custodian / bound) ×
//     20 ms, with PDS and NRL timed in the same iteration; x-wave-bound is
//     their ratio (target ≤ 1.1). The 20 ms of a wave is timed too, as
//     a timer like the fakes' own, which fires late on a loaded machine:
//     latency-ms is the shortest it took;
//   - floor-ms, floor-x-wave-bound and x-floor: the floor is the same
//     retrievals sent by a bare net/http client (the SDK's requests, with
//     their tokens made beforehand, its own connections, the same bound
//     per endpoint, the answers read and dropped) once PDS and the NRL
//     have answered, run after every journey; floor-x-wave-bound is what
//     the machine and the in-process fakes alone take over the bound, and
//     x-floor the journey against the floor: what the SDK's own work
//     (decisions, audit, checks, parsing) adds;
//   - new-conns/journey: connections the regions accepted during the
//     measured journeys, per journey (target 0: the warm-up opens them);
//   - proc-cpu-µs/retrieval: the process's CPU time per retrieval, the
//     in-process fakes' serving included;
//   - sdk-cpu-µs/retrieval, fake-cpu-µs/retrieval, runtime-cpu-µs/retrieval:
//     the process's CPU time over the journeys split by the shares of a
//     CPU profile's samples, whose goroutines carry a pprof label: the
//     SDK's journeys, the fakes serving them (and the two calls timing
//     the bound), and the runtime's own (garbage collection, scheduling)
//     that both cause, over untimed journeys after the timed ones, until
//     1,500 retrievals were profiled;
//   - sign-cpu-µs/retrieval: the part of the SDK's spent signing identity
//     tokens.
//
// The split needs the benchmark's own CPU profile, so it is left out
// (and said so) under go test -cpuprofile.
//
// Each size runs twice: tokens=fresh signs a token per request, as the
// world's regions are configured; tokens=reused marks every endpoint
// ReuseIdentity, one token per endpoint and journey.
func BenchmarkRecordsAtScale(b *testing.B) {
	const latency = 20 * time.Millisecond
	for _, tc := range []struct {
		n     int
		reuse bool
	}{{20, false}, {100, false}, {500, false}, {20, true}, {100, true}, {500, true}} {
		n := tc.n
		tokens := "fresh"
		if tc.reuse {
			tokens = "reused"
		}
		b.Run(fmt.Sprintf("pointers=%d/tokens=%s", n, tokens), func(b *testing.B) {
			var w *shcrtest.World
			onSide(sideFake, func() { w = newWorld(b) })
			nhs := pdstest.Patients.Minimal
			for i := range n {
				r := w.Regions[i%len(w.Regions)]
				_, err := w.AddPointer(nrls.PointerSpec{NHSNumber: nhs, Custodian: r.Custodian(), Type: nrls.TypeContingencyPlan})
				require.NoError(b, err)
			}
			req := encounter(w, nhs)
			w.SetLatency(latency)
			sink := &countingSink{}
			c := newJourney(b, w, sink, func(cfg *shcr.Config) {
				if tc.reuse {
					cfg.Directory = reusingIdentity(b, w.Directory)
				}
			})
			cfg, err := w.Config(sink)
			require.NoError(b, err)
			// PDS and the NRL are timed directly, as the requester's session.
			ctx := shcrkit.WithSession(context.Background(), shcrkit.Session{ID: "bench-session", UserID: w.Requester.UserID, Organisation: w.Requester.Organisation, RoleProfileID: w.Requester.RoleProfileID})

			perCustodian := int(math.Ceil(float64(n) / float64(len(w.Regions))))
			const parallelism = 8 // Config.Parallelism's default
			waves := (perCustodian + parallelism - 1) / parallelism

			// Warm up: tokens cached, connections open.
			for range 2 {
				onSide(sideSDK, func() {
					res, err := c.Records(ctx, req)
					require.NoError(b, err)
					require.Len(b, res.Records, n)
					drain(b, res)
				})
			}
			// The fakes log every request they serve; a real provider's log
			// is not in this process, so the logs are dropped after each
			// journey rather than left to grow the heap the garbage
			// collector marks.
			forget := func() {
				// Outside the split, as the bound's calls are.
				onSide(sideBound, func() {
					w.PDS.ResetRequests()
					w.NRL.ResetRequests()
					w.Proxy.ResetRequests()
					for _, r := range w.Regions {
						r.ResetRequests()
					}
				})
			}
			forget()
			conns := func() (total int64) {
				for _, r := range w.Regions {
					total += r.Connections()
				}
				return total
			}
			journey := func() {
				onSide(sideSDK, func() {
					res, err := c.Records(ctx, req)
					if err != nil {
						b.Fatal(err)
					}
					if len(res.Records) != n {
						b.Fatalf("%d records, want %d (%d failures)", len(res.Records), n, len(res.Failures))
					}
					drain(b, res)
				})
			}
			// The floor: the same retrievals sent by a bare net/http
			// client (shcr.BareFetches) once PDS and the NRL have
			// answered, asked side by side as the journey asks them.
			// It is what the machine and the fakes alone take.
			pointers, err := cfg.NRL.Search(ctx, nhs)
			require.NoError(b, err)
			fetches, err := shcr.BareFetches(c, req, pointers)
			require.NoError(b, err)
			floor := func() time.Duration {
				var d time.Duration
				onSide(sideBound, func() {
					start := time.Now()
					var wg sync.WaitGroup
					wg.Go(func() {
						if _, err := cfg.PDS.Get(ctx, nhs); err != nil {
							b.Error(err)
						}
					})
					wg.Go(func() {
						if _, err := cfg.NRL.Search(ctx, nhs); err != nil {
							b.Error(err)
						}
					})
					wg.Wait()
					for _, fetch := range fetches {
						wg.Go(func() {
							if err := fetch(ctx); err != nil {
								b.Error(err)
							}
						})
					}
					wg.Wait()
					d = time.Since(start)
				})
				forget()
				return d
			}
			for range 2 {
				floor()
			}
			// A wave is counted at the shortest the timer took, so that one
			// that fired late once, on a busy machine, does not lengthen the
			// bound's every wave.
			var journeyTime, floorTime, firstTime, cpu time.Duration
			remoteTime := time.Duration(math.MaxInt64)
			var newConns int64
			journeys := 0
			for b.Loop() {
				var pdsTime, nrlTime, waveTime time.Duration
				onSide(sideBound, func() {
					t := time.Now()
					if _, err := cfg.PDS.Get(ctx, nhs); err != nil {
						b.Fatal(err)
					}
					pdsTime = time.Since(t)
					t = time.Now()
					if _, err := cfg.NRL.Search(ctx, nhs); err != nil {
						b.Fatal(err)
					}
					nrlTime = time.Since(t)
					// A wave costs the latency as the fakes make it: a
					// timer, which fires late on a busy machine even
					// when this process is idle, as it is here.
					t = time.Now()
					timer := time.NewTimer(latency)
					<-timer.C
					waveTime = time.Since(t)
				})
				remoteTime = min(remoteTime, waveTime)
				firstTime += max(pdsTime, nrlTime)

				before, cpu0 := conns(), proccpu.Time(b)
				start := time.Now()
				journey()
				journeyTime += time.Since(start)
				cpu += proccpu.Time(b) - cpu0
				newConns += conns() - before
				journeys++
				forget()
				floorTime += floor()
			}
			boundTime := firstTime + time.Duration(journeys*waves)*remoteTime
			ms := func(d time.Duration) float64 { return float64(d) / float64(journeys) / float64(time.Millisecond) }
			b.ReportMetric(ms(journeyTime), "journey-ms")
			b.ReportMetric(ms(boundTime), "wave-bound-ms")
			b.ReportMetric(float64(remoteTime)/float64(time.Millisecond), "latency-ms")
			b.ReportMetric(float64(journeyTime)/float64(boundTime), "x-wave-bound")
			b.ReportMetric(ms(floorTime), "floor-ms")
			b.ReportMetric(float64(floorTime)/float64(boundTime), "floor-x-wave-bound")
			b.ReportMetric(float64(journeyTime)/float64(floorTime), "x-floor")
			b.ReportMetric(float64(newConns)/float64(journeys), "new-conns/journey")
			b.ReportMetric(float64(cpu)/float64(journeys*n)/float64(time.Microsecond), "proc-cpu-µs/retrieval")

			// The CPU split is a share of samples taken at 100 Hz, over
			// untimed journeys of at least minProfiled retrievals in all,
			// so that it rests on enough samples and no floor's or
			// bound's calls are in it.
			const minProfiled = 1500
			stop, err := profileCPU("identitytoken.Sign")
			if err != nil {
				b.Logf("no CPU split: %v", err)
				return
			}
			var profiled int
			var profCPU time.Duration
			for ; profiled*n < minProfiled; profiled++ {
				cpu0 := proccpu.Time(b)
				journey()
				profCPU += proccpu.Time(b) - cpu0
				forget()
			}
			split, err := stop()
			require.NoError(b, err)
			seen := split.bySide[sideSDK] + split.bySide[sideFake] + split.bySide[""]
			if seen == 0 {
				b.Logf("no CPU split: the profile took no samples")
				return
			}
			perRetrieval := func(d time.Duration) float64 {
				return float64(profCPU) * float64(d) / float64(seen) / float64(profiled*n) / float64(time.Microsecond)
			}
			b.ReportMetric(perRetrieval(split.bySide[sideSDK]), "sdk-cpu-µs/retrieval")
			b.ReportMetric(perRetrieval(split.focus), "sign-cpu-µs/retrieval")
			b.ReportMetric(perRetrieval(split.bySide[sideFake]), "fake-cpu-µs/retrieval")
			b.ReportMetric(perRetrieval(split.bySide[""]), "runtime-cpu-µs/retrieval")
		})
	}
}

// BenchmarkIdentityToken is the cost of the identity token of one
// retrieval for each way a provider may accept it: signed anew with
// RS256 or ES256, unsigned, or (ReuseIdentity) one ES256 token shared by
// the 100 retrievals of a journey at one endpoint.
func BenchmarkIdentityToken(b *testing.B) {
	w := newWorld(b)
	ids := map[auth.Algorithm]shcr.Identity{}
	for _, ep := range w.Directory.Endpoints() {
		ids[ep.Identity.Signing] = ep.Identity
	}
	sign := func(b *testing.B, id shcr.Identity) {
		c := identitytoken.New(w.Requester, shcrkit.PurposeDirectCare, "https://provider.example/fhir", "", false, time.Now())
		if _, err := identitytoken.Sign(id.Signing, id.Key, id.KeyID, c); err != nil {
			b.Fatal(err)
		}
	}
	for _, m := range []auth.Algorithm{auth.RS256, auth.ES256, jws.None} {
		id, ok := ids[m]
		if !ok && m == jws.None {
			id, ok = shcr.Identity{}, true
		}
		require.True(b, ok, "the world has a region signing %s", m)
		b.Run(string(m), func(b *testing.B) {
			for b.Loop() {
				sign(b, id)
			}
		})
	}
	b.Run("ES256-reused-by-100", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if i%100 == 0 {
				sign(b, ids[auth.ES256])
			}
			i++
		}
	})
}
