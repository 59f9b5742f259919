package nrlstest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

const subjectNormal = "https://fhir.nhs.uk/Id/nhs-number|9490000019"

func TestHeaderChecks(t *testing.T) {
	srv := newServer(t)
	path := consumerPath("/DocumentReference?subject:identifier=" + url.QueryEscape(subjectNormal))
	tests := []struct {
		name   string
		edit   func(h http.Header)
		status int
		code   string
	}{
		{"no request ID", func(h http.Header) { h.Del("X-Request-ID") }, 400, "MISSING_OR_INVALID_HEADER"},
		{"request ID not a UUID", func(h http.Header) { h.Set("X-Request-ID", "req-1") }, 400, "MISSING_OR_INVALID_HEADER"},
		{"no organisation", func(h http.Header) { h.Del("NHSD-End-User-Organisation-ODS") }, 401, "MISSING_OR_INVALID_HEADER"},
		{"organisation not an ODS code", func(h http.Header) { h.Set("NHSD-End-User-Organisation-ODS", "Y9-0001") }, 401, "MISSING_OR_INVALID_HEADER"},
		{"lower-case organisation", func(h http.Header) { h.Set("NHSD-End-User-Organisation-ODS", "y90001") }, 401, "MISSING_OR_INVALID_HEADER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := headers(nrlstest.ConsumerODS)
			tt.edit(h)
			a := send(t, srv, http.MethodGet, path, h, "")
			assert.Equal(t, tt.status, a.status)
			assert.Equal(t, tt.code, a.code(t))
		})
	}

	h := headers(nrlstest.ConsumerODS)
	h.Set("X-Correlation-ID", "corr-1")
	a := send(t, srv, http.MethodGet, path, h, "")
	require.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, h.Get("X-Request-ID"), a.header.Get("X-Request-Id"))
	assert.Equal(t, "corr-1", a.header.Get("X-Correlation-Id"))
	assert.Equal(t, "application/fhir+json;version=1", a.header.Get("Content-Type"))
}

func TestSearchParameterChecks(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name   string
		query  url.Values
		status int
		code   string
	}{
		{"no subject", url.Values{"type": {"http://snomed.info/sct|736253002"}}, 400, "INVALID_PARAMETER"},
		{"subject of another system", url.Values{"subject:identifier": {"urn:other|9490000019"}}, 400, "INVALID_PARAMETER"},
		{"subject with bad check digit", url.Values{"subject:identifier": {"https://fhir.nhs.uk/Id/nhs-number|9490000018"}}, 400, "INVALID_NHS_NUMBER"},
		{"unknown parameter", url.Values{"subject:identifier": {subjectNormal}, "patient": {"x"}}, 400, "INVALID_PARAMETER"},
		{"repeated parameter", url.Values{"subject:identifier": {subjectNormal, subjectNormal}}, 400, "INVALID_PARAMETER"},
		{"bad custodian", url.Values{"subject:identifier": {subjectNormal}, "custodian:identifier": {"https://fhir.nhs.uk/Id/another-code|XYZ"}}, 400, "INVALID_PARAMETER"},
		{"type of another system", url.Values{"subject:identifier": {subjectNormal}, "type": {"http://loinc.org|68552-9"}}, 400, "INVALID_CODE_SYSTEM"},
		{"unknown type", url.Values{"subject:identifier": {subjectNormal}, "type": {"http://snomed.info/sct|410970009"}}, 400, "INVALID_CODE_SYSTEM"},
		{"type without system", url.Values{"subject:identifier": {subjectNormal}, "type": {"736253002"}}, 400, "INVALID_PARAMETER"},
		{"category of another system", url.Values{"subject:identifier": {subjectNormal}, "category": {"http://loinc.org|55112-7"}}, 400, "INVALID_CODE_SYSTEM"},
		{"unknown category", url.Values{"subject:identifier": {subjectNormal}, "category": {"http://snomed.info/sct|410970009"}}, 400, "INVALID_CODE_SYSTEM"},
		{"summary other than count", url.Values{"subject:identifier": {subjectNormal}, "_summary": {"data"}}, 400, "INVALID_PARAMETER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := send(t, srv, http.MethodGet, consumerPath("/DocumentReference?"+tt.query.Encode()), headers(nrlstest.ConsumerODS), "")
			assert.Equal(t, tt.status, a.status)
			assert.Equal(t, tt.code, a.code(t))
			assert.NotContains(t, string(a.body), "9490000019", "the answer does not echo the NHS number")
		})
	}
}

func TestSearchBodyChecks(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"no body", "", 400, "BAD_REQUEST"},
		{"not JSON", "subject=1", 400, "MESSAGE_NOT_WELL_FORMED"},
		{"JSON array", "[]", 400, "MESSAGE_NOT_WELL_FORMED"},
		{"number value", `{"subject:identifier":9490000019}`, 400, "MESSAGE_NOT_WELL_FORMED"},
		{"unknown field", `{"subject:identifier":"` + subjectNormal + `","nhs":"1"}`, 400, "MESSAGE_NOT_WELL_FORMED"},
		{"no subject", `{"type":"http://snomed.info/sct|736253002"}`, 400, "MESSAGE_NOT_WELL_FORMED"},
		{"bad check digit", `{"subject:identifier":"https://fhir.nhs.uk/Id/nhs-number|9490000018"}`, 400, "INVALID_NHS_NUMBER"},
		{"type of another system", `{"subject:identifier":"` + subjectNormal + `","type":"http://loinc.org|1"}`, 400, "INVALID_CODE_SYSTEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := send(t, srv, http.MethodPost, consumerPath("/DocumentReference/_search"), headers(nrlstest.ConsumerODS), tt.body)
			assert.Equal(t, tt.status, a.status)
			assert.Equal(t, tt.code, a.code(t))
		})
	}
}

func TestRoutes(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, consumerPath("/DocumentReference/_search"), 405},
		{http.MethodHead, consumerPath("/DocumentReference/RNR-000001"), 405},
		{http.MethodPost, consumerPath("/DocumentReference"), 405},
		{http.MethodPut, consumerPath("/DocumentReference/RNR-000001"), 405},
		{http.MethodDelete, consumerPath("/DocumentReference/RNR-000001"), 405},
		{http.MethodPatch, producerPath("/DocumentReference/RNR-000001"), 405},
		{http.MethodGet, consumerPath("/Patient/1"), 404},
		{http.MethodGet, "/record-locator/other/FHIR/R4/DocumentReference", 404},
		{http.MethodGet, consumerPath("/DocumentReference/RNR_000001!"), 400},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			a := send(t, srv, tt.method, tt.path, headers(nrlstest.ConsumerODS), "")
			assert.Equal(t, tt.status, a.status)
		})
	}
}

func TestSearchBundleShape(t *testing.T) {
	srv := newServer(t)
	q := url.Values{"subject:identifier": {subjectNormal}, "custodian:identifier": {"https://fhir.nhs.uk/Id/ods-organization-code|RNR"}}
	a := send(t, srv, http.MethodGet, consumerPath("/DocumentReference?"+q.Encode()), headers(nrlstest.ConsumerODS), "")
	require.Equal(t, http.StatusOK, a.status)
	var b struct {
		ResourceType, Type string
		Total              int
		Link               []struct{ Relation, URL string }
		Entry              []struct {
			Resource json.RawMessage
		}
	}
	require.NoError(t, json.Unmarshal(a.body, &b))
	assert.Equal(t, "Bundle", b.ResourceType)
	assert.Equal(t, "searchset", b.Type)
	assert.Equal(t, 3, b.Total)
	require.Len(t, b.Entry, 3)
	require.Len(t, b.Link, 1)
	assert.Equal(t, "self", b.Link[0].Relation)
	u, err := url.Parse(b.Link[0].URL)
	require.NoError(t, err)
	assert.Equal(t, subjectNormal, u.Query().Get("subject:identifier"))
	assert.Equal(t, "https://fhir.nhs.uk/Id/ods-organization-code|RNR", u.Query().Get("custodian:identifier"))
	for _, e := range b.Entry {
		p, err := nrls.ParsePointer(e.Resource)
		require.NoError(t, err)
		assert.Equal(t, nrlstest.CustodianNorth, p.Custodian)
	}

	q.Set("_summary", "count")
	a = send(t, srv, http.MethodGet, consumerPath("/DocumentReference?"+q.Encode()), headers(nrlstest.ConsumerODS), "")
	require.Equal(t, http.StatusOK, a.status)
	var count map[string]any
	require.NoError(t, json.Unmarshal(a.body, &count))
	assert.EqualValues(t, 3, count["total"])
	assert.NotContains(t, count, "entry")

	a = send(t, srv, http.MethodPost, consumerPath("/DocumentReference/_search"), headers(nrlstest.ConsumerODS),
		`{"subject:identifier":"https://fhir.nhs.uk/Id/nhs-number|9490000108"}`)
	require.Equal(t, http.StatusOK, a.status)
	require.NoError(t, json.Unmarshal(a.body, &b))
	assert.Zero(t, b.Total)
	assert.Empty(t, b.Entry)
}

func TestRead(t *testing.T) {
	srv := newServer(t)
	a := send(t, srv, http.MethodGet, consumerPath("/DocumentReference/RNR-000001"), headers(nrlstest.ConsumerODS), "")
	require.Equal(t, http.StatusOK, a.status)
	p, err := nrls.ParsePointer(a.body)
	require.NoError(t, err)
	assert.Equal(t, "RNR-000001", p.ID)

	a = send(t, srv, http.MethodGet, consumerPath("/DocumentReference/RNR-999999"), headers(nrlstest.ConsumerODS), "")
	assert.Equal(t, http.StatusNotFound, a.status)
	assert.Equal(t, "NO_RECORD_FOUND", a.code(t))
}

func TestConsumerTypes(t *testing.T) {
	srv := newServer(t, nrlstest.WithConsumerTypes(nrlstest.ConsumerODS, nrls.TypeMentalHealthCrisisPlan, nrls.TypeNEWS2Chart))
	c, err := srv.NewClient()
	require.NoError(t, err)
	ps, err := c.Search(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	require.Len(t, ps, 2, "other types are left out")
	for _, p := range ps {
		assert.Contains(t, []string{nrls.TypeMentalHealthCrisisPlan, nrls.TypeNEWS2Chart}, p.Type.Code)
	}
	n, err := c.Count(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	a := send(t, srv, http.MethodGet, consumerPath("/DocumentReference/RWV-000003"), headers(nrlstest.ConsumerODS), "")
	assert.Equal(t, http.StatusForbidden, a.status)
	assert.Equal(t, "ACCESS DENIED", a.code(t), "spelt with a space, as the service does here")

	// A search for a type the organisation may not use is a bad
	// parameter, as the service answers it, not a refusal.
	q := url.Values{"subject:identifier": {subjectNormal}, "type": {"http://snomed.info/sct|" + nrls.TypeEmergencyHealthCarePlan}}
	a = send(t, srv, http.MethodGet, consumerPath("/DocumentReference?"+q.Encode()), headers(nrlstest.ConsumerODS), "")
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, "INVALID_CODE_SYSTEM", a.code(t))
	assert.Equal(t, []string{"type"}, a.outcome(t).Issue[0].Expression)
	body := `{"subject:identifier":"` + subjectNormal + `","type":"http://snomed.info/sct|` + nrls.TypeMentalHealthCrisisPlan +
		`,http://snomed.info/sct|` + nrls.TypeEmergencyHealthCarePlan + `"}`
	a = send(t, srv, http.MethodPost, consumerPath("/DocumentReference/_search"), headers(nrlstest.ConsumerODS), body)
	assert.Equal(t, http.StatusBadRequest, a.status, "one type it may not use spoils the list")
	assert.Equal(t, "INVALID_CODE_SYSTEM", a.code(t))

	// Another organisation is not restricted.
	other, err := srv.NewClient(nrls.WithEndUserOrganisation("Y90002"))
	require.NoError(t, err)
	ps, err = other.Search(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	assert.Len(t, ps, 5)
}

func TestEmptySearchNotFound(t *testing.T) {
	srv := newServer(t, nrlstest.WithEmptySearchNotFound())
	a := send(t, srv, http.MethodPost, consumerPath("/DocumentReference/_search"), headers(nrlstest.ConsumerODS),
		`{"subject:identifier":"https://fhir.nhs.uk/Id/nhs-number|9490000108"}`)
	assert.Equal(t, http.StatusNotFound, a.status)
	assert.Equal(t, "NO_RECORD_FOUND", a.code(t))
	a = send(t, srv, http.MethodPost, consumerPath("/DocumentReference/_search"), headers(nrlstest.ConsumerODS),
		`{"subject:identifier":"`+subjectNormal+`"}`)
	assert.Equal(t, http.StatusOK, a.status)
}

func TestInjectEntry(t *testing.T) {
	srv := newServer(t)
	require.Error(t, srv.InjectEntry("123", json.RawMessage(`{}`)))
	require.Error(t, srv.InjectEntry(pdstest.Patients.Normal, json.RawMessage(`{`)))

	require.NoError(t, srv.InjectEntry(pdstest.Patients.Normal, json.RawMessage(`{"resourceType":"OperationOutcome","issue":[]}`)))
	misfiled := pointerBody(t, nrlstest.CustodianEast, func(m map[string]any) {
		m["id"] = "RFC-misfiled"
		m["subject"] = map[string]any{"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9490000027"}}
	})
	require.NoError(t, srv.InjectEntry(pdstest.Patients.Normal, json.RawMessage(misfiled)))

	c, err := srv.NewClient()
	require.NoError(t, err)
	res, err := c.SearchAll(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	assert.Len(t, res.Pointers, 5)
	assert.Len(t, res.Problems, 2)
	assert.Len(t, srv.Pointers(pdstest.Patients.Normal), 5, "injected entries are not pointers")

	// A pointer entry is filtered like the others; an outcome is not.
	res, err = c.SearchAll(ctx, pdstest.Patients.Normal, nrls.WithCustodian(nrlstest.CustodianNorth))
	require.NoError(t, err)
	require.Len(t, res.Problems, 1)
	assert.Equal(t, nrls.ProblemOutcome, res.Problems[0].Kind)
	n, err := c.Count(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	assert.Equal(t, 7, n)
}

func TestEveryRequestIsRecorded(t *testing.T) {
	srv := newServer(t)
	for i := 0; i < 20; i++ {
		h := headers(nrlstest.ConsumerODS)
		send(t, srv, http.MethodGet, consumerPath("/DocumentReference/RNR-000001"), h, "")
		reqs := srv.Requests()
		require.Len(t, reqs, i+1, "the request is recorded before its answer arrives")
		assert.Equal(t, http.StatusOK, reqs[i].Status)
		assert.Equal(t, h.Get("X-Request-ID"), reqs[i].Header.Get("X-Request-ID"))
	}
	reqs := srv.Requests()
	reqs[0].Header.Set("X-Request-ID", uuid.NewString())
	assert.NotEqual(t, reqs[0].Header.Get("X-Request-ID"), srv.Requests()[0].Header.Get("X-Request-ID"), "copies")
	srv.ResetRequests()
	assert.Empty(t, srv.Requests())
}
