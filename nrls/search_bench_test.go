package nrls_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
)

// BenchmarkSearch measures a search returning 20 pointers on loopback
// through the client (ns/op, allocs/op), and the same request made with
// plain net/http and encoding/json into the same FHIR model
// (nethttp-ns/op, nethttp-allocs/op), against the same fake; x-nethttp is
// the ratio of the two times.
func BenchmarkSearch(b *testing.B) {
	srv := nrlstest.NewServer(nrlstest.WithoutSeed())
	defer srv.Close()
	for i := 0; i < 20; i++ {
		spec := sspSpec()
		spec.LocalID = fmt.Sprintf("bench%02d", i)
		spec.URL = fmt.Sprintf("ssp://north.shcr.example/records/bench%02d", i)
		if _, err := srv.AddPointer(mustPointer(b, spec)); err != nil {
			b.Fatal(err)
		}
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 10 * time.Second}
	c, err := nrls.NewClient((srv.URL + nrls.ConsumerPath), nrls.WithEndUserOrganisation(nrlstest.ConsumerODS), nrls.WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}

	sdk := func() {
		ps, err := c.Search(ctx, testNHS)
		if err != nil || len(ps) != 20 {
			b.Fatalf("search: %d pointers, %v", len(ps), err)
		}
	}
	body, _ := json.Marshal(map[string]string{"subject:identifier": codesystem.NHSNumber + "|" + string(testNHS)})
	url := (srv.URL + nrls.ConsumerPath) + "/DocumentReference/_search"
	plain := func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/fhir+json")
		req.Header.Set("X-Request-ID", uuid.NewString())
		req.Header.Set("NHSD-End-User-Organisation-ODS", string(nrlstest.ConsumerODS))
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d, %v", resp.StatusCode, err)
		}
		var bundle struct {
			Entry []struct {
				Resource fhir.DocumentReference `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(raw, &bundle); err != nil || len(bundle.Entry) != 20 {
			b.Fatalf("decode: %d entries, %v", len(bundle.Entry), err)
		}
	}
	sdk()
	plain()

	// The two run in alternating blocks, so that both meet the same
	// conditions; the timer (and so ns/op and allocs/op) covers the
	// client only.
	const block = 10
	var sdkTime, plainTime time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += block {
		k := min(block, b.N-done)
		start := time.Now()
		for range k {
			sdk()
		}
		sdkTime += time.Since(start)
		b.StopTimer()
		start = time.Now()
		for range k {
			plain()
		}
		plainTime += time.Since(start)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(plainTime.Nanoseconds())/float64(b.N), "nethttp-ns/op")
	b.ReportMetric(testing.AllocsPerRun(20, plain), "nethttp-allocs/op")
	b.ReportMetric(float64(sdkTime)/float64(plainTime), "x-nethttp")
}
