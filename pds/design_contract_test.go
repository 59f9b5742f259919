package pds_test

// Checks package pds against the public API contract in DESIGN.md.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"golang.org/x/oauth2"
)

func TestDesignContractSignatures(t *testing.T) {
	var _ func(baseURL string, opts ...pds.Option) (*pds.Client, error) = pds.NewClient
	var _ func(*pds.Client, context.Context, shcrkit.NHSNumber) (*pds.Patient, error) = (*pds.Client).Get
	var _ func(*pds.Client, context.Context, pds.SearchQuery) ([]pds.Match, error) = (*pds.Client).Search
	var _ func(*pds.Client, context.Context, shcrkit.NHSNumber, string, ...pds.PatchOp) (*pds.Patient, error) = (*pds.Client).Update
	var c *pds.Client
	_ = func(ctx context.Context) { _, _ = c.RelatedPersons(ctx, shcrkit.NHSNumber("")) }

	// The option names every client shares.
	var _ func(oauth2.TokenSource) pds.Option = pds.WithTokenSource
	var _ func(*http.Client) pds.Option = pds.WithHTTPClient
	var _ func(shcrkit.ODSCode) pds.Option = pds.WithEndUserOrganisation
	var _ func(*slog.Logger) pds.Option = pds.WithLogger
	var _ func(int) pds.Option = pds.WithMaxAttempts
	var _ func(int64) pds.Option = pds.WithMaxResponseBytes
	var _ func(string) pds.Option = pds.WithUserAgent
}

func TestDesignContractBehaviour(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	ctx := context.Background()

	c, err := pds.NewClient(srv.URL,
		pds.WithHTTPClient(&http.Client{}),
		pds.WithEndUserOrganisation("RX1"),
		pds.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		pds.WithMaxAttempts(2),
		pds.WithMaxResponseBytes(1<<20),
		pds.WithUserAgent("contract-test/1"),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Get(ctx, pdstest.Patients.Normal)
	if err != nil {
		t.Fatal(err)
	}
	if p.NHSNumber() != pdstest.Patients.Normal {
		t.Errorf("Get returned %v", p.NHSNumber())
	}
	for _, r := range srv.Requests() {
		if h := r.Header.Get("Authorization"); h != "" {
			t.Errorf("no token source, yet Authorization %q was sent", h)
		}
		if h := r.Header.Get("X-Request-ID"); h == "" {
			t.Error("no X-Request-ID sent")
		}
	}

	// With a token source, it is sent as a bearer token.
	srv.ResetRequests()
	c2, err := pds.NewClient(srv.URL, pds.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok"})))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Get(ctx, pdstest.Patients.Normal); err != nil {
		t.Fatal(err)
	}
	if reqs := srv.Requests(); len(reqs) == 0 || reqs[0].Header.Get("Authorization") != "Bearer tok" {
		t.Errorf("token source: requests %+v", reqs)
	}

	// A superseded number returns the surviving record and says so.
	sp, err := c.Get(ctx, pdstest.Patients.Superseded)
	if err != nil {
		t.Fatal(err)
	}
	if sp.NHSNumber() != pdstest.Patients.Surviving || sp.Superseded() != pdstest.Patients.Superseded {
		t.Errorf("superseded: got %v (superseded %v)", sp.NHSNumber(), sp.Superseded())
	}
	// Invalidated: not found.
	if _, err := c.Get(ctx, pdstest.Patients.Invalidated); !errors.Is(err, shcrkit.ErrNotFound) {
		t.Errorf("invalidated: %v", err)
	}

	ms, err := c.Search(ctx, pds.SearchQuery{Family: "Hartley", BirthDate: pds.DateRange{From: "1984-03-14", To: "1984-03-14"}})
	if err != nil || len(ms) == 0 {
		t.Errorf("Search: %d matches, %v", len(ms), err)
	}
	if _, err := c.RelatedPersons(ctx, pdstest.Patients.Normal); err != nil {
		t.Errorf("RelatedPersons: %v", err)
	}
	hw, err := pds.NewClient(srv.URL, pds.WithAccessMode(pds.AccessHealthcareWorker))
	if err != nil {
		t.Fatal(err)
	}
	up, err := hw.Update(ctx, pdstest.Patients.Normal, p.Version(), pds.PatchOp{Op: "replace", Path: "/gender", Value: "female"})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if up.Version() == p.Version() {
		t.Errorf("Update kept version %s", up.Version())
	}
}
