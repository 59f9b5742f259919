package nrls_test

// Checks package nrls against the public API contract in DESIGN.md.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"golang.org/x/oauth2"
)

func TestDesignContractSignatures(t *testing.T) {
	var _ func(baseURL string, opts ...nrls.Option) (*nrls.Client, error) = nrls.NewClient
	var _ func(*nrls.Client, context.Context, shcrkit.NHSNumber, ...nrls.SearchOption) ([]nrls.Pointer, error) = (*nrls.Client).Search
	var c *nrls.Client
	_ = func(ctx context.Context) {
		_, _ = c.Count(ctx, shcrkit.NHSNumber(""))
		_, _ = c.Get(ctx, "id")
		_, _ = c.Create(ctx, nrls.Pointer{})
		_ = c.Update(ctx, nrls.Pointer{})
		_, _ = c.Supersede(ctx, nrls.Pointer{}, "old")
		_ = c.Delete(ctx, "id")
	}

	// The option names every client shares.
	var _ func(oauth2.TokenSource) nrls.Option = nrls.WithTokenSource
	var _ func(*http.Client) nrls.Option = nrls.WithHTTPClient
	var _ func(shcrkit.ODSCode) nrls.Option = nrls.WithEndUserOrganisation
	var _ func(*slog.Logger) nrls.Option = nrls.WithLogger
	var _ func(int) nrls.Option = nrls.WithMaxAttempts
	var _ func(int64) nrls.Option = nrls.WithMaxResponseBytes
	var _ func(string) nrls.Option = nrls.WithUserAgent
}

func TestDesignContractBehaviour(t *testing.T) {
	srv := nrlstest.NewServer()
	defer srv.Close()
	ctx := context.Background()

	c, err := nrls.NewClient(srv.URL+nrls.ConsumerPath,
		nrls.WithHTTPClient(srv.HTTPClient()),
		nrls.WithEndUserOrganisation(nrlstest.ConsumerODS),
		nrls.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		nrls.WithMaxAttempts(2),
		nrls.WithMaxResponseBytes(1<<20),
		nrls.WithUserAgent("contract-test/1"),
	)
	if err != nil {
		t.Fatal(err)
	}
	ptrs, err := c.Search(ctx, pdstest.Patients.Normal)
	if err != nil || len(ptrs) == 0 {
		t.Fatalf("Search: %d pointers, %v", len(ptrs), err)
	}
	n, err := c.Count(ctx, pdstest.Patients.Normal)
	if err != nil || n != len(ptrs) {
		t.Errorf("Count = %d, %v; Search found %d", n, err, len(ptrs))
	}
	got, err := c.Get(ctx, ptrs[0].ID)
	if err != nil || got.ID != ptrs[0].ID {
		t.Errorf("Get(%s) = %s, %v", ptrs[0].ID, got.ID, err)
	}
	for _, r := range srv.Requests() {
		if h := r.Header.Get("Authorization"); h != "" {
			t.Errorf("no token source, yet Authorization %q was sent", h)
		}
	}

	// Producer side.
	producer, err := nrls.NewClient(srv.URL+nrls.ProducerPath, nrls.WithHTTPClient(srv.HTTPClient()), nrls.WithEndUserOrganisation(nrlstest.CustodianWest))
	if err != nil {
		t.Fatal(err)
	}
	p, err := nrls.NewPointer(nrls.PointerSpec{
		NHSNumber: pdstest.Patients.Minimal, Custodian: nrlstest.CustodianWest, Type: nrls.TypeRespectForm,
		URL:             "https://mercia-hills.shcr.example/fhir/records/respect-42",
		PracticeSetting: nrls.Concept{Code: "224891009", Display: "Healthcare services"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id, err := producer.Create(ctx, p)
	if err != nil || !strings.HasPrefix(id, string(nrlstest.CustodianWest)+"-") {
		t.Fatalf("Create = %q, %v", id, err)
	}
	stored, err := producer.Get(ctx, id)
	if err != nil {
		t.Fatalf("producer Get: %v", err)
	}
	if err := producer.Update(ctx, stored); err != nil {
		t.Errorf("Update: %v", err)
	}
	next, err := nrls.NewPointer(nrls.PointerSpec{
		NHSNumber: pdstest.Patients.Minimal, Custodian: nrlstest.CustodianWest, Type: nrls.TypeRespectForm,
		URL:             "https://mercia-hills.shcr.example/fhir/records/respect-43",
		PracticeSetting: nrls.Concept{Code: "224891009", Display: "Healthcare services"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := producer.Supersede(ctx, next, id)
	if err != nil {
		t.Fatalf("Supersede: %v", err)
	}
	if err := producer.Delete(ctx, id2); err != nil {
		t.Errorf("Delete: %v", err)
	}
}

// The record types the contract's facts name, in their categories.
func TestDesignContractRecordTypes(t *testing.T) {
	for cat, types := range map[string][]string{
		"734163000":        {"736253002", "887701000000100", "861421000000109", "1382601000000107", "325691000000100", "736373009", "16521000000101", "736366004", "735324008", "2181441000000107"},
		"1102421000000108": {"1363501000000100"},
		"823651000000106":  {"824321000000109"},
		"419891008":        {"749001000000101"},
		"716931000000107":  {"887181000000106"},
	} {
		for _, code := range types {
			rt, ok := nrls.LookupType(code)
			if !ok {
				t.Errorf("record type %s unknown", code)
				continue
			}
			if rt.Category.Code != cat {
				t.Errorf("record type %s in category %s, want %s", code, rt.Category.Code, cat)
			}
		}
	}
}
