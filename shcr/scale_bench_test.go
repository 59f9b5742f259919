//go:build unix

package shcr_test

import (
	"context"
	"fmt"
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/internal/jws"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/require"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// signCost measures the CPU time that signing one identity token costs
// for id.
func signCost(b *testing.B, id shcr.Identity, r shcrkit.Requester) time.Duration {
	const n = 40
	start := cpuTime(b)
	for range n {
		c := identitytoken.New(r, shcrkit.PurposeDirectCare, "https://provider.example/fhir", "", false, time.Now())
		if _, err := identitytoken.Sign(id.Signing, id.Key, id.KeyID, c); err != nil {
			b.Fatal(err)
		}
	}
	return (cpuTime(b) - start) / n
}

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
//     their ratio (target ≤ 1.1);
//   - new-conns/journey: connections the regions accepted during the
//     measured journeys, per journey (target 0: the warm-up opens them);
//   - proc-cpu-µs/retrieval: the process's CPU time per retrieval, the
//     in-process fakes' serving included, so an upper bound on the SDK's;
//   - sign-µs/retrieval: the identity-token signing part of it, from the
//     CPU cost of signing with each region's configuration (RS256, ES256,
//     unsigned, RS512, RS256) measured alongside, times the tokens signed
//     per retrieval.
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
			w := newWorld(b)
			nhs := pdstest.PatientMinimal
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
			ctx := shcrkit.WithSession(context.Background(), shcrkit.SessionOf(w.Requester, "bench-session", ""))

			var sign time.Duration
			for _, ep := range w.Directory.Endpoints() {
				sign += signCost(b, ep.Identity, w.Requester)
			}
			sign /= time.Duration(len(w.Directory.Endpoints()))
			if tc.reuse {
				sign = sign * time.Duration(len(w.Regions)) / time.Duration(n)
			}

			perCustodian := int(math.Ceil(float64(n) / float64(len(w.Regions))))
			const parallelism = 8 // Config.Parallelism's default
			waves := (perCustodian + parallelism - 1) / parallelism

			// Warm up: tokens cached, connections open.
			for range 2 {
				res, err := c.Records(ctx, req)
				require.NoError(b, err)
				require.Len(b, res.Records, n)
				drain(b, res)
			}
			conns := func() (total int64) {
				for _, r := range w.Regions {
					total += r.Connections()
				}
				return total
			}
			var journeyTime, boundTime, cpu time.Duration
			var newConns int64
			journeys := 0
			for b.Loop() {
				t := time.Now()
				if _, err := cfg.PDS.Get(ctx, nhs); err != nil {
					b.Fatal(err)
				}
				pdsTime := time.Since(t)
				t = time.Now()
				if _, err := cfg.NRL.Search(ctx, nhs); err != nil {
					b.Fatal(err)
				}
				nrlTime := time.Since(t)
				boundTime += max(pdsTime, nrlTime) + time.Duration(waves)*latency

				before, cpu0 := conns(), cpuTime(b)
				start := time.Now()
				res, err := c.Records(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Records) != n {
					b.Fatalf("%d records, want %d (%d failures)", len(res.Records), n, len(res.Failures))
				}
				drain(b, res)
				journeyTime += time.Since(start)
				cpu += cpuTime(b) - cpu0
				newConns += conns() - before
				journeys++
			}
			ms := func(d time.Duration) float64 { return float64(d) / float64(journeys) / float64(time.Millisecond) }
			b.ReportMetric(ms(journeyTime), "journey-ms")
			b.ReportMetric(ms(boundTime), "wave-bound-ms")
			b.ReportMetric(float64(journeyTime)/float64(boundTime), "x-wave-bound")
			b.ReportMetric(float64(newConns)/float64(journeys), "new-conns/journey")
			b.ReportMetric(float64(cpu)/float64(journeys*n)/float64(time.Microsecond), "proc-cpu-µs/retrieval")
			b.ReportMetric(float64(sign)/float64(time.Microsecond), "sign-µs/retrieval")
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
