package shcr_test

// Checks package shcr against the public API contract in DESIGN.md.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"golang.org/x/oauth2"
)

func TestDesignContractSignatures(t *testing.T) {
	var _ func(shcr.Config) (*shcr.Client, error) = shcr.New
	var _ func(*shcr.Client, context.Context, shcr.Request) (*shcr.Discovery, error) = (*shcr.Client).Discover
	var _ func(*shcr.Client, context.Context, shcr.Request, nrls.Pointer) (*shcr.Record, error) = (*shcr.Client).Retrieve
	var _ func(*shcr.Client, context.Context, shcr.Request) (*shcr.Result, error) = (*shcr.Client).Records
	var cfg shcr.Config
	var _ shcr.RelationshipVerifier = cfg.Relationships

	// The option names the clients share, as the remote-ShCR client takes
	// them.
	var _ func(oauth2.TokenSource) shcr.Option = shcr.WithTokenSource
	var _ func(shcrkit.ODSCode) shcr.Option = shcr.WithEndUserOrganisation
	var _ func(*http.Client) shcr.Option = shcr.WithHTTPClient
	var _ func(*slog.Logger) shcr.Option = shcr.WithLogger
	var _ func(int) shcr.Option = shcr.WithMaxAttempts
	var _ func(int64) shcr.Option = shcr.WithMaxResponseBytes
	var _ func(string) shcr.Option = shcr.WithUserAgent
}

func TestDesignContractJourney(t *testing.T) {
	world, err := shcrtest.NewWorld()
	if err != nil {
		t.Fatal(err)
	}
	defer world.Close()
	sink := audittest.NewRecorder()
	cfg, err := world.Config(sink)
	if err != nil {
		t.Fatal(err)
	}
	c, err := shcr.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := shcr.Request{
		Requester:    world.Requester,
		NHSNumber:    pdstest.Patients.Normal,
		Purpose:      shcrkit.PurposeDirectCare,
		Relationship: rbac.Relationship{Kind: shcrkit.RelationshipEncounter, Evidence: "Encounter/ed-1"},
	}

	d, err := c.Discover(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Boundary.Allowed || len(d.Pointers) == 0 {
		t.Fatalf("Discover: boundary %v, %d pointers", d.Boundary, len(d.Pointers))
	}
	rec, err := c.Retrieve(ctx, req, d.Pointers[0].Pointer)
	if err != nil {
		t.Fatalf("Retrieve: %v", err)
	}
	if rec.Body != nil {
		io.Copy(io.Discard, rec.Body)
		rec.Body.Close()
	}
	if len(sink.Find(audit.Filter{Service: audit.ServiceShCR})) == 0 {
		t.Error("retrieval not audited")
	}

	res, err := c.Records(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) == 0 {
		t.Errorf("Records: none retrieved (%d failures)", len(res.Failures))
	}
	res.Close()

	// No audit record, no data.
	sink.FailWith(errors.New("audit store down"))
	res, err = c.Records(ctx, req)
	if err == nil {
		defer res.Close()
		if len(res.Records) != 0 {
			t.Errorf("audit failing, yet %d records handed back", len(res.Records))
		}
	}
}
