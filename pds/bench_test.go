package pds_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

// BenchmarkGet measures Client.Get against the fake on loopback (ns/op and
// allocs/op, the fake's own work included), then the same request made
// with plain net/http and encoding/json into a fhir.Patient the same
// number of times, and reports the baseline and the ratio of the two
// (x-nethttp; the target is at most 1.3).
func BenchmarkGet(b *testing.B) {
	srv := pdstest.NewServer()
	defer srv.Close()
	transport := func() *http.Client {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 32
		return &http.Client{Transport: t, Timeout: 60 * time.Second}
	}
	c, err := srv.NewClient(pds.WithHTTPClient(transport()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	nhs := pdstest.Patients.Normal

	plain := transport()
	url := srv.URL + "/Patient/" + nhs.String()
	baseline := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("X-Request-ID", uuid.NewString())
		req.Header.Set("Accept", "application/fhir+json")
		resp, err := plain.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		var p fhir.Patient
		return json.NewDecoder(resp.Body).Decode(&p)
	}
	for i := 0; i < 50; i++ { // warm both connections and caches
		if _, err := c.Get(ctx, nhs); err != nil {
			b.Fatal(err)
		}
		if err := baseline(); err != nil {
			b.Fatal(err)
		}
	}

	// Alternate the two, timing the client with the benchmark's timer and
	// the baseline by hand, so that a change of load on the machine
	// affects both alike.
	var baseTotal time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Get(ctx, nhs); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		start := time.Now()
		if err := baseline(); err != nil {
			b.Fatal(err)
		}
		baseTotal += time.Since(start)
		b.StartTimer()
	}
	b.StopTimer()
	clientNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	baseNs := float64(baseTotal.Nanoseconds()) / float64(b.N)

	const allocRuns = 200
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < allocRuns; i++ {
		if err := baseline(); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)

	b.ReportMetric(baseNs, "nethttp-ns/op")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/allocRuns, "nethttp-allocs/op")
	b.ReportMetric(clientNs/baseNs, "x-nethttp")
}
