package provider_test

// Checks package shcr/provider against the public API contract in
// DESIGN.md: New(Config) (*Guard, error), (*Guard).Wrap, AccessFrom.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/shcr/provider"
)

func TestDesignContractGuard(t *testing.T) {
	var _ func(provider.Config) (*provider.Guard, error) = provider.New
	var _ func(*provider.Guard, http.Handler) http.Handler = (*provider.Guard).Wrap
	var _ func(context.Context) (*provider.Access, bool) = provider.AccessFrom

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
		t.Fatal(err)
	}
	var served *provider.Access
	api := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := provider.AccessFrom(r.Context())
		if ok {
			served = a
		}
	}))
	doctor := shcrkit.Requester{UserID: "555000000201", Name: "Dr Ola Brennan", RoleProfileID: "555000000202",
		RoleCode: "S8000:G8000:R8000", Activities: []string{"B0360"}, Organisation: "RE1",
		System: shcrkit.System{Name: "Eastmoor Portal", Version: "2.0"}}
	claims := identitytoken.New(doctor, shcrkit.PurposeDirectCare, "https://shcr.north.example/fhir", "eastmoor", false, now)
	token, err := identitytoken.Sign("", nil, "", claims)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "https://shcr.north.example/fhir/DocumentReference/cp-1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Request-ID", "6f1f0c1e-9d1b-4c39-9f0e-4d1f5f2b7a10")
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || served == nil || served.Requester.UserID != doctor.UserID {
		t.Fatalf("status %d, access %+v", rec.Code, served)
	}
	if ev := sink.Events(); len(ev) == 0 || ev[0].Outcome != audit.OutcomeSuccess {
		t.Errorf("incoming access not audited: %+v", ev)
	}

	// Without a token: refused, audited, next never called.
	served = nil
	rec = httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://shcr.north.example/fhir/DocumentReference/cp-1", nil))
	if rec.Code < 400 || served != nil {
		t.Errorf("no token: status %d, served %v", rec.Code, served != nil)
	}
	if n := len(sink.Find(audit.Filter{Outcome: audit.OutcomeRefused})); n == 0 {
		t.Error("refused incoming access not audited")
	}
}
