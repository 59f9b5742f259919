package shcr_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// searchset reads the resource types and IDs of a searchset Bundle.
func searchset(t *testing.T, b []byte) (total int, ids []string) {
	t.Helper()
	var bundle struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Total        int    `json:"total"`
		Entry        []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
				ID           string `json:"id"`
			} `json:"resource"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(b, &bundle))
	require.Equal(t, "Bundle", bundle.ResourceType)
	assert.Equal(t, "searchset", bundle.Type)
	for _, e := range bundle.Entry {
		ids = append(ids, e.Resource.ResourceType+"/"+e.Resource.ID)
	}
	return bundle.Total, ids
}

func TestRemoteSearchFollowsPagesAtTheCustodiansShCR(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	remote, err := shcr.NewRemote(w.Directory, shcr.RemoteConfig{})
	require.NoError(t, err)
	region := w.Region(nrlstest.CustodianNorth)
	c, err := remote.Search(context.Background(), shcr.SearchRequest{
		Requester: w.Requester, Purpose: shcrkit.PurposeDirectCare, Custodian: nrlstest.CustodianNorth,
		ResourceType: "AllergyIntolerance", Patient: pdstest.Patients.Minimal, Params: url.Values{"_count": {"1"}},
	})
	require.NoError(t, err)
	assert.Equal(t, 2, c.Pages, "one resource a page, two resources")
	total, ids := searchset(t, c.Resource)
	assert.Equal(t, 2, total)
	assert.Len(t, ids, 2)
	for _, id := range ids {
		assert.True(t, strings.HasPrefix(id, "AllergyIntolerance/"), id)
	}
	reqs := region.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/fhir/AllergyIntolerance", reqs[0].Path)
	assert.Equal(t, "https://fhir.nhs.uk/Id/nhs-number|"+string(pdstest.Patients.Minimal), reqs[0].Query.Get("patient.identifier"))
	idents := region.Identities()
	require.Len(t, idents, 2, "an identity token with every page")
	assert.Equal(t, "AllergyIntolerance", idents[0].Search)
	assert.Equal(t, w.Requester.UserID, idents[0].Subject)
}

func TestRemoteSearchRefusesBeforeAnyConnection(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	remote, err := shcr.NewRemote(w.Directory, shcr.RemoteConfig{})
	require.NoError(t, err)
	base := shcr.SearchRequest{Requester: w.Requester, Purpose: shcrkit.PurposeDirectCare, Custodian: nrlstest.CustodianNorth,
		ResourceType: "Condition", Patient: pdstest.Patients.Minimal}
	tests := []struct {
		name string
		edit func(*shcr.SearchRequest)
		want error
	}{
		{"resource type", func(r *shcr.SearchRequest) { r.ResourceType = "../records/x" }, shcrkit.ErrInvalidRequest},
		{"lower-case type", func(r *shcr.SearchRequest) { r.ResourceType = "condition" }, shcrkit.ErrInvalidRequest},
		{"another patient", func(r *shcr.SearchRequest) { r.Params = url.Values{"patient": {"Patient/1"}} }, shcrkit.ErrInvalidRequest},
		{"subject", func(r *shcr.SearchRequest) { r.Params = url.Values{"subject:identifier": {"x"}} }, shcrkit.ErrInvalidRequest},
		{"include", func(r *shcr.SearchRequest) { r.Params = url.Values{"_include": {"*"}} }, shcrkit.ErrInvalidRequest},
		{"named query", func(r *shcr.SearchRequest) { r.Params = url.Values{"_query": {"everything"}} }, shcrkit.ErrInvalidRequest},
		{"filter", func(r *shcr.SearchRequest) { r.Params = url.Values{"_filter": {"code eq x"}} }, shcrkit.ErrInvalidRequest},
		{"list", func(r *shcr.SearchRequest) { r.Params = url.Values{"_list": {"$current-allergies"}} }, shcrkit.ErrInvalidRequest},
		{"other types", func(r *shcr.SearchRequest) { r.Params = url.Values{"_type": {"Patient"}} }, shcrkit.ErrInvalidRequest},
		{"space before the name", func(r *shcr.SearchRequest) { r.Params = url.Values{" patient": {"Patient/1"}} }, shcrkit.ErrInvalidRequest},
		{"upper case", func(r *shcr.SearchRequest) { r.Params = url.Values{"Patient.identifier": {"x"}} }, shcrkit.ErrInvalidRequest},
		{"empty name", func(r *shcr.SearchRequest) { r.Params = url.Values{"": {"x"}} }, shcrkit.ErrInvalidRequest},
		{"no patient", func(r *shcr.SearchRequest) { r.Patient = "" }, shcrkit.ErrInvalidRequest},
		{"unknown custodian", func(r *shcr.SearchRequest) { r.Custodian = "ZZZ" }, shcr.ErrUnknownCustodian},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base
			tt.edit(&req)
			_, err := remote.Search(context.Background(), req)
			require.ErrorIs(t, err, tt.want)
		})
	}
	for _, r := range w.Regions {
		assert.Empty(t, r.Requests())
	}
}

func TestClientSearchDecidesByCategoryAndAudits(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rec := audittest.NewRecorder()
	c := newJourney(t, w, rec)
	req := encounter(w, pdstest.Patients.Minimal)
	ctx := shcrkit.WithCorrelationID(context.Background(), "search-journey-1")

	res, err := c.Search(ctx, req, shcr.Search{Custodian: nrlstest.CustodianNorth, ResourceType: "MedicationStatement"})
	require.NoError(t, err)
	assert.True(t, res.Decision.Allowed)
	assert.Equal(t, "clinical-summary", res.Decision.Category)
	_, ids := searchset(t, res.Bundle)
	assert.Len(t, ids, 2)
	searches := rec.Find(audit.Filter{})
	var decision, search *audit.Event
	for i := range searches {
		e := &searches[i]
		if stepOf(*e) == stepDecision {
			decision = e
		}
		if stepOf(*e) == stepRetrieval {
			search = e
		}
	}
	require.NotNil(t, decision)
	require.NotNil(t, search)
	assert.Equal(t, audit.ActionSearch, search.Action)
	assert.Equal(t, "MedicationStatement", search.Resource)
	assert.Contains(t, search.Query, "patient.identifier=")
	assert.NotContains(t, search.Query, string(pdstest.Patients.Minimal), "the NHS number is kept as the event's patient")
	assert.Equal(t, res.RequestID, search.RequestID)
	assert.Empty(t, decision.RequestID, "a decision sends nothing")
	assert.Equal(t, search.DecisionID, decision.DecisionID, "the search names the decision that authorised it")
	assert.Equal(t, "search-journey-1", search.CorrelationID)
	assert.Equal(t, nrlstest.CustodianNorth, search.Custodian)

	// Fenland Coast's agreement does not cover the clinical summary.
	w.Region(nrlstest.CustodianEast).ResetRequests()
	_, err = c.Search(ctx, req, shcr.Search{Custodian: nrlstest.CustodianEast, ResourceType: "AllergyIntolerance"})
	require.ErrorIs(t, err, shcr.ErrRefused)
	// A resource type in no category.
	_, err = c.Search(ctx, req, shcr.Search{Custodian: nrlstest.CustodianNorth, ResourceType: "Procedure"})
	require.ErrorIs(t, err, shcr.ErrRefused)
	assert.Empty(t, w.Region(nrlstest.CustodianEast).Requests(), "a refused search sends nothing")
	refused := rec.Find(audit.Filter{Outcome: audit.OutcomeRefused})
	assert.Len(t, refused, 2, "both refusals are recorded")
}

func TestNewChecksResourceCategories(t *testing.T) {
	w := newWorld(t)
	_, err := w.Client(audittest.NewRecorder(), func(c *shcr.Config) {
		c.ResourceCategories = map[string]string{"Condition": "no-such-category"}
	})
	require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
}
