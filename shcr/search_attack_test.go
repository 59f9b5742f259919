package shcr_test

// Hostile answers to a search: resources of another patient or type, next
// links and redirects leaving the service root, loops, oversized paging
// and error texts that would name a patient.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// searchProvider is a remote ShCR at <url>/fhir whose answer to the first
// search request is first; any further request is answered with an empty
// searchset page.
func searchProvider(t *testing.T, first func(p *provider) map[string]any) (*provider, *shcr.Remote) {
	t.Helper()
	var p *provider
	p = newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fhir/AllergyIntolerance" && r.URL.Query().Get("page") == "" {
			writeFHIR(w, first(p))
			return
		}
		writeFHIR(w, map[string]any{"resourceType": "Bundle", "type": "searchset"})
	})
	r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL + "/fhir"}}, nil,
		shcr.RemoteConfig{MaxAttempts: 1})
	return p, r
}

func allergySearch() shcr.SearchRequest {
	return shcr.SearchRequest{Requester: testRequester(), Purpose: shcrkit.PurposeDirectCare, Custodian: "RN1",
		ResourceType: "AllergyIntolerance", Patient: testNHS}
}

func allergy(id string, nhs shcrkit.NHSNumber) map[string]any {
	return map[string]any{"resource": map[string]any{"resourceType": "AllergyIntolerance", "id": id,
		"patient": map[string]any{"identifier": map[string]any{"system": codesystem.NHSNumber, "value": string(nhs)}}},
		"search": map[string]any{"mode": "match"}}
}

// A search's next link must stay within the endpoint's service root
// (BaseURL): another path on the same origin is not part of the FHIR
// service the identity token was made for, and gets neither the request
// nor the token.
func TestSearchRefusesNextLinkOutsideTheServiceRoot(t *testing.T) {
	for _, next := range []string{
		"/admin/export",
		"/fhirx/AllergyIntolerance?page=2",
		"/fhir/../admin/export",
		"/fhir/%2e%2e/admin/export",
		"/fhir%2F..%2Fadmin/export",
	} {
		t.Run(next, func(t *testing.T) {
			p, r := searchProvider(t, func(p *provider) map[string]any {
				return map[string]any{"resourceType": "Bundle", "type": "searchset",
					"link":  []any{map[string]any{"relation": "next", "url": p.URL + next}},
					"entry": []any{allergy("a1", testNHS)}}
			})
			_, err := r.Search(context.Background(), allergySearch())
			require.Error(t, err)
			require.ErrorIs(t, err, shcr.ErrHostNotAllowed)
			reqs := p.requests()
			require.Len(t, reqs, 1, "nothing is sent outside the service root")
		})
	}
}

// A search answer holding a resource of a type that was not searched for
// (and so not decided on by the policy) is not handed back.
func TestSearchRefusesResourcesOfAnotherType(t *testing.T) {
	for _, rt := range []string{"Patient", "DocumentReference", "Condition"} {
		t.Run(rt, func(t *testing.T) {
			_, r := searchProvider(t, func(p *provider) map[string]any {
				return map[string]any{"resourceType": "Bundle", "type": "searchset",
					"entry": []any{allergy("a1", testNHS), map[string]any{"resource": map[string]any{"resourceType": rt, "id": "x1"},
						"search": map[string]any{"mode": "include"}}}}
			})
			c, err := r.Search(context.Background(), allergySearch())
			require.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
			assert.Nil(t, c)
		})
	}
}

// A search answer holding a resource for another patient is not handed
// back.
func TestSearchRefusesResourcesOfAnotherPatient(t *testing.T) {
	other := shcrkit.NHSNumber("9000000009")
	require.NotEqual(t, testNHS, other)
	for _, field := range []string{"patient", "subject"} {
		t.Run(field, func(t *testing.T) {
			_, r := searchProvider(t, func(p *provider) map[string]any {
				res := map[string]any{"resourceType": "AllergyIntolerance", "id": "a2",
					field: map[string]any{"identifier": map[string]any{"system": codesystem.NHSNumber, "value": string(other)}}}
				return map[string]any{"resourceType": "Bundle", "type": "searchset",
					"entry": []any{allergy("a1", testNHS), map[string]any{"resource": res}}}
			})
			c, err := r.Search(context.Background(), allergySearch())
			require.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
			assert.Nil(t, c)
			assert.NotContains(t, err.Error(), string(other))
			assert.NotContains(t, err.Error(), string(testNHS))
		})
	}
}

// A search answered with another kind of Bundle (a document, a
// transaction) is not a search answer.
func TestSearchRefusesABundleThatIsNotASearchset(t *testing.T) {
	_, r := searchProvider(t, func(p *provider) map[string]any {
		return map[string]any{"resourceType": "Bundle", "type": "collection", "entry": []any{allergy("a1", testNHS)}}
	})
	_, err := r.Search(context.Background(), allergySearch())
	require.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
}

// The search's own resources, and an OperationOutcome entry about the
// search, come back.
func TestSearchKeepsMatchesAndOutcomeEntries(t *testing.T) {
	_, r := searchProvider(t, func(p *provider) map[string]any {
		return map[string]any{"resourceType": "Bundle", "type": "searchset", "total": 1,
			"link": []any{map[string]any{"relation": "next", "url": p.URL + "/fhir/AllergyIntolerance?page=2"}},
			"entry": []any{allergy("a1", testNHS),
				map[string]any{"resource": map[string]any{"resourceType": "OperationOutcome",
					"issue": []any{map[string]any{"severity": "warning", "code": "informational"}}},
					"search": map[string]any{"mode": "outcome"}}}}
	})
	c, err := r.Search(context.Background(), allergySearch())
	require.NoError(t, err)
	assert.Equal(t, 2, c.Pages)
	var b struct {
		Entry []json.RawMessage `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(c.Resource, &b))
	assert.Len(t, b.Entry, 2)
}

// An answer that is not a Bundle fails without quoting what it named
// itself, which may be the patient's NHS number.
func TestSearchNonBundleErrorNamesNoPatient(t *testing.T) {
	_, r := searchProvider(t, func(p *provider) map[string]any {
		return map[string]any{"resourceType": "Patient" + string(testNHS)}
	})
	_, err := r.Search(context.Background(), allergySearch())
	require.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
	assert.NotContains(t, err.Error(), string(testNHS))
}

// Parameter values cannot add parameters or cut the query.
func TestSearchParamsCannotInjectIntoTheQuery(t *testing.T) {
	p, r := searchProvider(t, func(p *provider) map[string]any {
		return map[string]any{"resourceType": "Bundle", "type": "searchset"}
	})
	req := allergySearch()
	req.Params = url.Values{"clinical-status": {"active&patient.identifier=x|9000000009#frag"}}
	_, err := r.Search(context.Background(), req)
	require.NoError(t, err)
	reqs := p.requests()
	require.Len(t, reqs, 1)
	q := reqs[0].URL.Query()
	assert.Equal(t, []string{codesystem.NHSNumber + "|" + string(testNHS)}, q["patient.identifier"])
	assert.Equal(t, "active&patient.identifier=x|9000000009#frag", q.Get("clinical-status"))
	assert.False(t, strings.Contains(reqs[0].URL.RawQuery, "#"))
}

// A journey's search whose answer fails the checks on a later page
// hands nothing back, and records both requests as failed; one whose next
// link leaves the service root records the refusal and sends nothing
// there.
func TestClientSearchTamperedAnswerIsAuditedAndWithheld(t *testing.T) {
	w := newWorld(t)
	nhs := pdstest.Patients.Minimal
	other := pdstest.Patients.Normal
	var p *provider
	p = newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		b := map[string]any{"resourceType": "Bundle", "type": "searchset"}
		switch {
		case r.URL.Path == "/fhir/Condition" && r.URL.Query().Get("page") == "":
			b["entry"] = []any{condition("c1", nhs)}
			b["link"] = []any{map[string]any{"relation": "next", "url": p.URL + "/fhir/Condition?page=2"}}
		case r.URL.Path == "/fhir/Condition":
			b["entry"] = []any{condition("c2", other)}
		case r.URL.Path == "/fhir/AllergyIntolerance":
			b["link"] = []any{map[string]any{"relation": "next", "url": p.URL + "/private/export"}}
		}
		writeFHIR(w, b)
	})
	dir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: []shcr.Endpoint{
		{Name: "tampered", Custodians: []shcrkit.ODSCode{nrlstest.CustodianNorth}, BaseURL: p.URL + "/fhir"}}})
	require.NoError(t, err)
	rec := audittest.NewRecorder()
	c := newJourney(t, w, rec, func(cfg *shcr.Config) { cfg.Directory = dir })
	req := encounter(w, nhs)

	res, err := c.Search(context.Background(), req, shcr.Search{Custodian: nrlstest.CustodianNorth, ResourceType: "Condition"})
	require.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
	assert.Nil(t, res)
	assert.NotContains(t, err.Error(), string(other))
	var sent []string
	for _, q := range p.requests() {
		sent = append(sent, q.Header.Get("X-Request-ID"))
	}
	require.Len(t, sent, 2)
	var failed []string
	for _, e := range rec.Find(audit.Filter{Outcome: audit.OutcomeFailed}) {
		if e.Action == audit.ActionSearch {
			failed = append(failed, e.RequestID)
			assert.NotContains(t, e.Reason, string(other))
		}
	}
	assert.ElementsMatch(t, sent, failed, "each page's request is recorded as failed")

	_, err = c.Search(context.Background(), req, shcr.Search{Custodian: nrlstest.CustodianNorth, ResourceType: "AllergyIntolerance"})
	require.ErrorIs(t, err, shcr.ErrHostNotAllowed)
	for _, q := range p.requests() {
		assert.NotEqual(t, "/private/export", q.URL.Path, "nothing, and no identity token, goes outside the service root")
	}
	var refused int
	for _, e := range rec.Find(audit.Filter{Outcome: audit.OutcomeRefused}) {
		if e.Action == audit.ActionSearch && e.Resource == "AllergyIntolerance" && e.RequestID != "" {
			refused++
		}
	}
	assert.Equal(t, 1, refused, "the search is recorded as refused")
}

func condition(id string, nhs shcrkit.NHSNumber) map[string]any {
	return map[string]any{"resource": map[string]any{"resourceType": "Condition", "id": id,
		"subject": map[string]any{"reference": "Patient/" + string(nhs),
			"identifier": map[string]any{"system": codesystem.NHSNumber, "value": string(nhs)}}}}
}

// A redirect within the origin but outside the service root is not
// followed either: the identity token would go with it.
func TestSearchDoesNotFollowRedirectOutsideTheServiceRoot(t *testing.T) {
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fhir/AllergyIntolerance":
			http.Redirect(w, r, "/admin/export", http.StatusFound)
		default:
			writeFHIR(w, map[string]any{"resourceType": "Bundle", "type": "searchset"})
		}
	})
	r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL + "/fhir"}}, nil,
		shcr.RemoteConfig{MaxAttempts: 1})
	_, err := r.Search(context.Background(), allergySearch())
	require.ErrorIs(t, err, shcrkit.ErrRedirectRefused)
	for _, q := range p.requests() {
		assert.NotEqual(t, "/admin/export", q.URL.Path)
	}
}

// A next link back to a page already read is a loop: it fails at once
// rather than being read again up to the page limit.
func TestSearchStopsAtANextLinkLoop(t *testing.T) {
	var p *provider
	p = newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		writeFHIR(w, map[string]any{"resourceType": "Bundle", "type": "searchset",
			"link": []any{map[string]any{"relation": "next", "url": p.URL + r.URL.String()}}})
	})
	r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL + "/fhir"}}, nil)
	_, err := r.Search(context.Background(), allergySearch())
	require.ErrorIs(t, err, shcr.ErrTooManyPages)
	assert.Len(t, p.requests(), 1, "the same page is not asked for again")
}

// The fake answers a search whose paging parameters overflow with an
// error, not a panic that drops the connection.
func TestFakeSearchSurvivesHugePaging(t *testing.T) {
	w := newWorld(t)
	remote, err := shcr.NewRemote(w.Directory, shcr.RemoteConfig{MaxAttempts: 1})
	require.NoError(t, err)
	for _, params := range []url.Values{
		{"_count": {"4611686018427387904"}, "page": {"3"}},
		{"_count": {"2"}, "page": {"9223372036854775807"}},
	} {
		_, err = remote.Search(context.Background(), shcr.SearchRequest{
			Requester: w.Requester, Purpose: shcrkit.PurposeDirectCare, Custodian: nrlstest.CustodianNorth,
			ResourceType: "Condition", Patient: pdstest.Patients.Minimal, Params: params,
		})
		if err != nil {
			require.NotErrorIs(t, err, shcrkit.ErrUnavailable, "the fake must answer: %v", err)
		}
	}
}

// Closing the Content of a failed call (nil) is safe, as closing a nil
// Record is.
func TestNilContentCloses(t *testing.T) {
	var c *shcr.Content
	assert.NotPanics(t, func() { assert.NoError(t, c.Close()) })
}

// A refused search request's error quotes no NHS number from it.
func TestSearchRequestErrorsNameNoPatient(t *testing.T) {
	_, r := searchProvider(t, func(p *provider) map[string]any { return nil })
	for _, edit := range []func(*shcr.SearchRequest){
		func(q *shcr.SearchRequest) { q.ResourceType = string(testNHS) },
		func(q *shcr.SearchRequest) { q.Params = url.Values{"patient:" + string(testNHS): {"x"}} },
	} {
		req := allergySearch()
		edit(&req)
		_, err := r.Search(context.Background(), req)
		require.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
		assert.NotContains(t, err.Error(), string(testNHS))
	}
}
