package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/internal/proccpu"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/provider"
)

// validatingSink checks each event as a sink would and keeps none, so
// that a benchmark's trail costs what a fast sink costs.
type validatingSink struct{}

func (validatingSink) Write(_ context.Context, e audit.Event) error {
	_, err := e.Normalize(time.Now())
	return err
}

// BenchmarkGuard is the guard's cost per allowed request, the wrapped
// handler doing nothing: identity token verified (by signing method),
// organisation and agreement checked, decision made, audit event built
// and validated; cpu-µs/op is the process's CPU time per request. One
// token is presented throughout (the consumer is allowed to reuse it), so
// neither its signing nor, after the first request, the verification of
// its signature is part of the figure: BenchmarkVerify in
// internal/identitytoken is what verifying one costs.
func BenchmarkGuard(b *testing.B) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		id   shcr.Identity
		key  any
	}{
		{"RS256", shcr.Identity{Signing: auth.RS256, Key: testRSA}, &testRSA.PublicKey},
		{"ES256", shcr.Identity{Signing: auth.ES256, Key: testEC}, &testEC.PublicKey},
		{"unsigned", shcr.Identity{}, nil},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := provider.Consumer{Name: "Eastmoor", ShCR: "QEM", Signing: tc.id.Signing, Key: tc.key, IdentityReuse: 1 << 30}
			g, err := provider.New(provider.Config{
				Policy: samplepolicy.Load(), Audit: validatingSink{}, Audience: audience, Consumers: []provider.Consumer{c},
				Resolver: provider.ResolverFunc(func(*http.Request) (provider.Target, error) {
					return provider.Target{Resource: "DocumentReference/cp", Patient: patientNormal, RecordType: typeCarePlan}, nil
				}),
				Now: func() time.Time { return now },
			})
			if err != nil {
				b.Fatal(err)
			}
			h := g.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			claims := identitytoken.New(eastmoorDoctor(), shcrkit.PurposeDirectCare, audience, "eastmoor", false, now)
			tok, err := identitytoken.Sign(tc.id.Signing, tc.id.Key, tc.id.KeyID, claims)
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "https://shcr.north.example/fhir/DocumentReference/cp", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("X-Request-ID", "0b9b1f9e-5a7c-4d55-9a57-1b5b8e1f0001")
			b.ReportAllocs()
			cpu0, n := proccpu.Time(b), 0
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
				n++
			}
			b.ReportMetric(float64(proccpu.Time(b)-cpu0)/float64(n)/float64(time.Microsecond), "cpu-µs/op")
		})
	}
}
