package nrls_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func ids(ps []nrls.Pointer) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func TestSearchPostsByDefault(t *testing.T) {
	srv := newFake(t)
	c := consumer(t, srv)
	ps, err := c.Search(ctx, pdstest.Patients.Normal, nrls.WithCustodian(nrlstest.CustodianNorth),
		nrls.WithTypes(nrls.TypeMentalHealthCrisisPlan, "http://snomed.info/sct|1363501000000100"),
		nrls.WithCategories("734163000", nrls.CategoryObservations.Code))
	require.NoError(t, err)
	assert.Equal(t, []string{"RNR-000001", "RNR-000005"}, ids(ps))

	req := srv.Requests()[0]
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, nrls.ConsumerPath+"/DocumentReference/_search", req.Path)
	assert.Empty(t, req.Query, "nothing in the query string")
	assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
	var body map[string]string
	require.NoError(t, json.Unmarshal(req.Body, &body))
	assert.Equal(t, map[string]string{
		"subject:identifier":   "https://fhir.nhs.uk/Id/nhs-number|9490000019",
		"custodian:identifier": "https://fhir.nhs.uk/Id/ods-organization-code|RNR",
		"type":                 "http://snomed.info/sct|736253002,http://snomed.info/sct|1363501000000100",
		"category":             "http://snomed.info/sct|734163000,http://snomed.info/sct|1102421000000108",
	}, body)
}

func TestSearchViaGET(t *testing.T) {
	srv := newFake(t)
	ps, err := consumer(t, srv, nrls.WithSearchGET()).Search(ctx, pdstest.Patients.Normal, nrls.WithTypes(nrls.TypeEmergencyHealthCarePlan))
	require.NoError(t, err)
	assert.Equal(t, []string{"RWV-000003"}, ids(ps))
	req := srv.Requests()[0]
	assert.Equal(t, http.MethodGet, req.Method)
	assert.Equal(t, nrls.ConsumerPath+"/DocumentReference", req.Path)
	assert.Equal(t, "https://fhir.nhs.uk/Id/nhs-number|9490000019", req.Query.Get("subject:identifier"))
	assert.Equal(t, "http://snomed.info/sct|887701000000100", req.Query.Get("type"))
	assert.Empty(t, req.Body)
}

func TestSearchAllReturnsEveryPointer(t *testing.T) {
	srv := newFake(t)
	res, err := consumer(t, srv).SearchAll(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	assert.Len(t, res.Pointers, 5)
	assert.Equal(t, 5, res.Total)
	assert.Empty(t, res.Problems)
	assert.Equal(t, srv.Requests()[0].Header.Get("X-Request-ID"), res.RequestID)
	custodians := map[shcrkit.ODSCode]bool{}
	for _, p := range res.Pointers {
		assert.Equal(t, pdstest.Patients.Normal, p.NHSNumber)
		custodians[p.Custodian] = true
	}
	assert.Len(t, custodians, 3, "pointers held in three regions")
}

func TestSearchFindingNothing(t *testing.T) {
	t.Run("empty bundle", func(t *testing.T) {
		srv := newFake(t)
		ps, err := consumer(t, srv).Search(ctx, pdstest.Patients.Minimal)
		require.NoError(t, err)
		assert.Empty(t, ps)
		assert.NotNil(t, ps)
	})
	t.Run("NO_RECORD_FOUND", func(t *testing.T) {
		srv := newFake(t, nrlstest.WithEmptySearchNotFound())
		c := consumer(t, srv)
		res, err := c.SearchAll(ctx, pdstest.Patients.Minimal)
		require.NoError(t, err)
		assert.Empty(t, res.Pointers)
		assert.NotEmpty(t, res.RequestID)
		n, err := c.Count(ctx, pdstest.Patients.Minimal)
		require.NoError(t, err)
		assert.Zero(t, n)
	})
	t.Run("NO_RECORD_FOUND in place of the Bundle", func(t *testing.T) {
		body := `{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"not-found",
			"details":{"coding":[{"system":"https://fhir.nhs.uk/ValueSet/Spine-ErrorOrWarningCode-1","code":"NO_RECORD_FOUND"}]}}]}`
		c := rawServer(t, http.StatusOK, "application/fhir+json", body)
		ps, err := c.Search(ctx, testNHS)
		require.NoError(t, err)
		assert.Empty(t, ps)
		n, err := c.Count(ctx, testNHS)
		require.NoError(t, err)
		assert.Zero(t, n)
	})
	t.Run("other outcomes in place of the Bundle are errors", func(t *testing.T) {
		body := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden",
			"details":{"coding":[{"code":"ACCESS DENIED"}]}}]}`
		_, err := rawServer(t, http.StatusOK, "application/fhir+json", body).Search(ctx, testNHS)
		var ae *shcrkit.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "ACCESS DENIED", ae.Code)
	})
	t.Run("other 404s are errors", func(t *testing.T) {
		body := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found",
			"details":{"coding":[{"code":"RESOURCE_NOT_FOUND"}]}}]}`
		_, err := rawServer(t, http.StatusNotFound, "application/fhir+json", body).Search(ctx, testNHS)
		assert.ErrorIs(t, err, shcrkit.ErrNotFound)
	})
}

// TestSearchLeavesOutBadEntries files an OperationOutcome, a pointer of
// another patient, a pointer with no valid subject and junk among a
// patient's pointers: the good pointers come back, the rest as problems.
func TestSearchLeavesOutBadEntries(t *testing.T) {
	srv := newFake(t)
	outcome := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception",
		"details":{"coding":[{"system":"https://fhir.nhs.uk/ValueSet/Spine-ErrorOrWarningCode-1","code":"INTERNAL_SERVER_ERROR"}]},
		"diagnostics":"Stored pointer for 9490000019 could not be parsed"}]}`
	require.NoError(t, srv.InjectEntry(pdstest.Patients.Normal, json.RawMessage(outcome)))

	other := roundTrip(t, mustPointer(t, sspSpec()))
	other.Resource.Id = s("RNR-misfiled")
	other.Resource.Subject.Identifier.Value = s(string(otherNHS))
	b, err := json.Marshal(other.Resource)
	require.NoError(t, err)
	require.NoError(t, srv.InjectEntry(pdstest.Patients.Normal, b))

	noSubject := roundTrip(t, other)
	noSubject.Resource.Id = s("RNR-nosubject")
	noSubject.Resource.Subject = nil
	b, err = json.Marshal(noSubject.Resource)
	require.NoError(t, err)
	require.NoError(t, srv.InjectEntry(pdstest.Patients.Normal, b))

	require.NoError(t, srv.InjectEntry(pdstest.Patients.Normal, json.RawMessage(`{"resourceType":"Patient","id":"p1"}`)))
	require.NoError(t, srv.InjectEntry(pdstest.Patients.Normal,
		json.RawMessage(`{"resourceType":"DocumentReference","id":"RNR-bad","status":"lost","custodian":{"identifier":{"value":"RNR"}}}`)))

	var logs bytes.Buffer
	c := consumer(t, srv, nrls.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	res, err := c.SearchAll(ctx, pdstest.Patients.Normal)
	require.NoError(t, err, "bad entries do not fail the search")
	ps, problems := res.Pointers, res.Problems
	assert.Len(t, ps, 5)
	for _, p := range ps {
		assert.Equal(t, pdstest.Patients.Normal, p.NHSNumber)
		assert.NotEqual(t, "RNR-misfiled", p.ID)
	}
	require.Len(t, problems, 5)
	byKind := map[nrls.ProblemKind][]nrls.Problem{}
	for _, p := range problems {
		byKind[p.Kind] = append(byKind[p.Kind], p)
	}
	require.Len(t, byKind[nrls.ProblemOutcome], 1)
	o := byKind[nrls.ProblemOutcome][0]
	assert.Equal(t, "INTERNAL_SERVER_ERROR", o.Code)
	assert.Equal(t, 5, o.Entry)
	assert.Contains(t, o.Detail, "949****019")
	assert.NotContains(t, o.Detail, "9490000019")

	require.Len(t, byKind[nrls.ProblemWrongPatient], 2)
	assert.Equal(t, "RNR-misfiled", byKind[nrls.ProblemWrongPatient][0].PointerID)
	assert.Equal(t, nrlstest.CustodianNorth, byKind[nrls.ProblemWrongPatient][0].Custodian)
	assert.Equal(t, "RNR-nosubject", byKind[nrls.ProblemWrongPatient][1].PointerID)

	require.Len(t, byKind[nrls.ProblemMalformed], 2)
	assert.Equal(t, "RNR-bad", byKind[nrls.ProblemMalformed][1].PointerID)
	assert.Equal(t, nrlstest.CustodianNorth, byKind[nrls.ProblemMalformed][1].Custodian)

	for _, p := range problems {
		assert.NotContains(t, p.String(), "9490000019")
		assert.NotContains(t, p.String(), string(otherNHS))
	}
	assert.Contains(t, logs.String(), "search entry left out")
	assert.NotContains(t, logs.String(), "9490000019")

	res, err = c.SearchAll(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	assert.Len(t, res.Problems, 5)
	assert.Equal(t, 10, res.Total, "the service's total counts every entry")

	// The other patient's own search does not see the misfiled pointer
	// either: it was never filed under them.
	ps, err = c.Search(ctx, otherNHS)
	require.NoError(t, err)
	assert.NotContains(t, ids(ps), "RNR-misfiled")
}

func TestSearchOptionErrors(t *testing.T) {
	srv := newFake(t)
	c := consumer(t, srv)
	tests := []struct {
		name string
		nhs  shcrkit.NHSNumber
		opts []nrls.SearchOption
	}{
		{"invalid NHS number", "9490000018", nil},
		{"no NHS number", "", nil},
		{"bad custodian", testNHS, []nrls.SearchOption{nrls.WithCustodian("rnr")}},
		{"no types", testNHS, []nrls.SearchOption{nrls.WithTypes()}},
		{"empty type", testNHS, []nrls.SearchOption{nrls.WithTypes("")}},
		{"type with comma", testNHS, []nrls.SearchOption{nrls.WithTypes("1,2")}},
		{"token without code", testNHS, []nrls.SearchOption{nrls.WithTypes("http://snomed.info/sct|")}},
		{"token without system", testNHS, []nrls.SearchOption{nrls.WithCategories("|734163000")}},
		{"category with space", testNHS, []nrls.SearchOption{nrls.WithCategories("734163000 1")}},
		{"nil option", testNHS, []nrls.SearchOption{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Search(ctx, tt.nhs, tt.opts...)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
			_, err = c.Count(ctx, tt.nhs, tt.opts...)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
		})
	}
	assert.Empty(t, srv.Requests(), "nothing was sent")
}

func TestSearchServiceErrors(t *testing.T) {
	srv := newFake(t)
	c := consumer(t, srv)
	_, err := c.Search(ctx, testNHS, nrls.WithTypes("http://loinc.org|68552-9"))
	var ae *shcrkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	assert.Equal(t, "INVALID_CODE_SYSTEM", ae.Code)
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)

	_, err = consumer(t, srv, nrls.WithSearchGET()).Search(ctx, testNHS, nrls.WithTypes("410970009"))
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "INVALID_CODE_SYSTEM", ae.Code, "an unknown type is not among the organisation's types")
}

func TestSearchRetriesTransientFailures(t *testing.T) {
	srv := newFake(t)
	srv.InjectFault(http.MethodPost, nrls.ConsumerPath+"/DocumentReference/_search", 2,
		nrlstest.Fault{Status: http.StatusServiceUnavailable, Code: "SERVICE_UNAVAILABLE"})
	ps, err := consumer(t, srv).Search(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	assert.Len(t, ps, 5)
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, reqs[0].Header.Get("X-Request-ID"), reqs[2].Header.Get("X-Request-ID"), "one request ID across retries")

	srv.InjectFault("", "", 3, nrlstest.Fault{Status: http.StatusTooManyRequests, Code: "TOO_MANY_REQUESTS", RetryAfter: "0"})
	_, err = consumer(t, srv).Search(ctx, pdstest.Patients.Normal)
	assert.ErrorIs(t, err, shcrkit.ErrRateLimited)
}

func TestSearchMalformedAnswers(t *testing.T) {
	tests := []struct {
		name, ct, body string
		want           error
	}{
		{"not a bundle", "application/fhir+json", pointerJSON, shcrkit.ErrMalformedResponse},
		{"truncated", "application/fhir+json", `{"resourceType":"Bundle","entry":[{"resource":`, shcrkit.ErrMalformedResponse},
		{"HTML", "text/html", "<p>gateway</p>", shcrkit.ErrMalformedResponse},
		{"outcome sent with 200", "application/fhir+json",
			`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","details":{"coding":[{"code":"INVALID_PARAMETER"}]}}]}`,
			shcrkit.ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rawServer(t, http.StatusOK, tt.ct, tt.body).Search(ctx, testNHS)
			assert.ErrorIs(t, err, tt.want)
			_, err = rawServer(t, http.StatusOK, tt.ct, tt.body).Count(ctx, testNHS)
			assert.Error(t, err)
		})
	}

	srv := newFake(t)
	srv.InjectFault("", "", 1, nrlstest.Fault{Truncate: 300})
	_, err := consumer(t, srv, nrls.WithMaxAttempts(1)).Search(ctx, pdstest.Patients.Normal)
	assert.ErrorIs(t, err, shcrkit.ErrMalformedResponse)

	srv.InjectFault("", "", 1, nrlstest.Fault{Oversize: 8192})
	_, err = consumer(t, srv, nrls.WithMaxResponseBytes(4096)).Search(ctx, pdstest.Patients.Normal)
	assert.ErrorIs(t, err, shcrkit.ErrResponseTooLarge)
}

func TestSearchReadsPointersWithStrayCodes(t *testing.T) {
	stray := strings.Replace(pointerJSON, `"docStatus": "final"`, `"docStatus": "final "`, 1)
	body := `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"resource":` + stray + `}]}`
	res, err := rawServer(t, http.StatusOK, "application/fhir+json", body).SearchAll(ctx, testNHS)
	require.NoError(t, err)
	assert.Empty(t, res.Problems)
	assert.Equal(t, []string{"RNR-7d1f"}, ids(res.Pointers))
}

func TestSearchEntryWithoutResource(t *testing.T) {
	body := `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"x"}]}`
	res, err := rawServer(t, http.StatusOK, "application/fhir+json", body).SearchAll(ctx, testNHS)
	require.NoError(t, err)
	assert.Empty(t, res.Pointers)
	require.Len(t, res.Problems, 1)
	assert.Equal(t, nrls.ProblemMalformed, res.Problems[0].Kind)
	assert.Equal(t, 1, res.Total)
}

func TestCount(t *testing.T) {
	srv := newFake(t)
	c := consumer(t, srv)
	n, err := c.Count(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	var body map[string]string
	require.NoError(t, json.Unmarshal(srv.Requests()[0].Body, &body))
	assert.Equal(t, "count", body["_summary"])

	n, err = consumer(t, srv, nrls.WithSearchGET()).Count(ctx, pdstest.Patients.Normal, nrls.WithCustodian(nrlstest.CustodianNorth))
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, "count", srv.Requests()[1].Query.Get("_summary"))

	n, err = c.Count(ctx, pdstest.Patients.Minimal)
	require.NoError(t, err)
	assert.Zero(t, n)

	_, err = rawServer(t, http.StatusOK, "application/fhir+json", `{"resourceType":"Bundle","type":"searchset"}`).Count(ctx, testNHS)
	assert.ErrorIs(t, err, shcrkit.ErrMalformedResponse, "a count with no total")
}

func TestMaxAttemptsOneDoesNotRetry(t *testing.T) {
	srv := newFake(t)
	srv.InjectFault("", "", 1, nrlstest.Fault{Status: http.StatusBadGateway, Code: "BAD_GATEWAY"})
	_, err := consumer(t, srv, nrls.WithMaxAttempts(1)).Search(ctx, pdstest.Patients.Normal)
	assert.ErrorIs(t, err, shcrkit.ErrUnavailable)
	assert.Len(t, srv.Requests(), 1)
}

func TestProblemString(t *testing.T) {
	p := nrls.Problem{Entry: 3, Kind: nrls.ProblemOutcome, PointerID: "RNR-9490000019-x", Custodian: "RNR",
		Code: "INTERNAL_SERVER_ERROR", Detail: "could not parse"}
	assert.Equal(t, "entry 3: outcome pointer RNR-949****019-x custodian RNR (INTERNAL_SERVER_ERROR): could not parse", p.String())
}
