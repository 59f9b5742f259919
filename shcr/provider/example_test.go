package provider_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/shcr/provider"
)

// A provider (North Riverside, QRX in the example policy) serves a care
// plan to a consumer (Eastmoor, QEM) that sends GP Connect-style unsigned
// identity tokens.
func Example() {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	sink := audittest.NewRecorder()
	g, err := provider.New(provider.Config{
		Policy:   samplepolicy.Load(),
		Audit:    sink,
		Audience: "https://shcr.north.example/fhir",
		Resolver: provider.ResolverFunc(func(r *http.Request) (provider.Target, error) {
			return provider.Target{Resource: "DocumentReference/cp-1", Patient: "9434765919", RecordType: "887701000000100"}, nil
		}),
		Consumers: []provider.Consumer{{Name: "Eastmoor ShCR", ShCR: "QEM"}},
		Now:       func() time.Time { return now },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	api := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, _ := provider.AccessFrom(r.Context())
		fmt.Printf("serving %s to %s of %s under %s\n", a.Target.Resource, a.Requester.Name, a.ShCR, a.Decision.Agreement)
	}))

	doctor := shcrkit.Requester{UserID: "555000000201", Name: "Dr Ola Brennan", RoleProfileID: "555000000202",
		RoleCode: "S8000:G8000:R8000", Activities: []string{"B0360"}, Organisation: "RE1",
		System: shcrkit.System{Name: "Eastmoor Portal", Version: "2.0"}}
	claims := identitytoken.New(doctor, shcrkit.PurposeDirectCare, "https://shcr.north.example/fhir", "eastmoor", false, now)
	token, _ := identitytoken.Sign("", nil, "", claims)
	req := httptest.NewRequest(http.MethodGet, "https://shcr.north.example/fhir/DocumentReference/cp-1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Request-ID", "6f1f0c1e-9d1b-4c39-9f0e-4d1f5f2b7a10")
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)

	e := sink.Events()[0]
	fmt.Println(rec.Code, e.Outcome, e.Action, e.RequestID)
	// Output:
	// serving DocumentReference/cp-1 to Dr Ola Brennan of QEM under ISA-QRX-QEM-2025
	// 200 success disclose 6f1f0c1e-9d1b-4c39-9f0e-4d1f5f2b7a10
}
