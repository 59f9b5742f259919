package nrlstest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func TestCreateAnswers(t *testing.T) {
	srv := newServer(t, nrlstest.WithClock(func() time.Time { return time.Date(2025, 4, 1, 8, 0, 0, 0, time.UTC) }))
	body := pointerBody(t, nrlstest.CustodianNorth, func(m map[string]any) { m["id"] = "RNR-mine" })
	a := send(t, srv, http.MethodPost, producerPath("/DocumentReference"), headers(nrlstest.CustodianNorth), body)
	require.Equal(t, http.StatusCreated, a.status, string(a.body))
	loc := a.header.Get("Location")
	require.True(t, strings.HasPrefix(loc, "/producer/FHIR/R4/DocumentReference/RNR-"), loc)
	id := strings.TrimPrefix(loc, "/producer/FHIR/R4/DocumentReference/")
	assert.NotEqual(t, "RNR-mine", id, "the service assigns the ID")
	o := a.outcome(t)
	assert.Equal(t, "information", o.Issue[0].Severity)
	assert.Equal(t, "RESOURCE_CREATED", o.Issue[0].Details.Coding[0].Code)

	p, ok := srv.Pointer(id)
	require.True(t, ok)
	assert.Equal(t, time.Date(2025, 4, 1, 8, 0, 0, 0, time.UTC), p.Date)
	assert.Equal(t, "2025-04-01T08:00:00Z", *p.Resource.Meta.LastUpdated)
}

func TestCreateChecks(t *testing.T) {
	srv := newServer(t, nrlstest.WithProducerTypes(nrlstest.CustodianNorth, nrls.TypeMentalHealthCrisisPlan, nrls.TypeRespectForm))
	tests := []struct {
		name       string
		org        string
		body       string
		status     int
		code       string
		expression string
	}{
		{"no body", "RNR", "", 400, "BAD_REQUEST", ""},
		{"not JSON", "RNR", "{", 400, "MESSAGE_NOT_WELL_FORMED", ""},
		{"not a pointer", "RNR", `{"resourceType":"Patient"}`, 400, "MESSAGE_NOT_WELL_FORMED", "resourceType"},
		{"no status", "RNR", pointerBody(t, "RNR", func(m map[string]any) { delete(m, "status") }), 400, "INVALID_RESOURCE", "status"},
		{"no context", "RNR", pointerBody(t, "RNR", func(m map[string]any) { delete(m, "context") }), 400, "INVALID_RESOURCE", "context"},
		{"unknown status", "RNR", pointerBody(t, "RNR", func(m map[string]any) { m["status"] = "draft" }), 400, "INVALID_RESOURCE", ""},
		{"broken rule", "RNR", pointerBody(t, "RNR", func(m map[string]any) {
			m["context"].(map[string]any)["related"] = []any{}
		}), 400, "INVALID_RESOURCE", "context.related"},
		{"subject system", "RNR", pointerBody(t, "RNR", func(m map[string]any) {
			m["subject"].(map[string]any)["identifier"].(map[string]any)["system"] = "urn:other"
		}), 400, "INVALID_IDENTIFIER_SYSTEM", "subject.identifier.system"},
		{"subject check digit", "RNR", pointerBody(t, "RNR", func(m map[string]any) {
			m["subject"].(map[string]any)["identifier"].(map[string]any)["value"] = "9490000018"
		}), 400, "INVALID_NHS_NUMBER", "subject.identifier.value"},
		{"ASID", "RNR", pointerBody(t, "RNR", func(m map[string]any) {
			m["context"].(map[string]any)["related"].([]any)[0].(map[string]any)["identifier"].(map[string]any)["value"] = "1"
		}), 400, "INVALID_IDENTIFIER_VALUE", "context.related[0].identifier.value"},
		{"another custodian", "RNR", pointerBody(t, "RWV", nil), 400, "BAD_REQUEST", "custodian.identifier.value"},
		{"type not onboarded", "RNR", pointerBody(t, "RNR", func(m map[string]any) {
			m["type"] = map[string]any{"coding": []any{map[string]any{"system": codesystem.SNOMED, "code": nrls.TypeContingencyPlan, "display": "Contingency plan"}}}
		}), 403, "AUTHOR_CREDENTIALS_ERROR", "type.coding[0].code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := headers(nrlstest.CustodianNorth)
			h.Set("NHSD-End-User-Organisation-ODS", tt.org)
			a := send(t, srv, http.MethodPost, producerPath("/DocumentReference"), h, tt.body)
			assert.Equal(t, tt.status, a.status, string(a.body))
			assert.Equal(t, tt.code, a.code(t))
			if tt.expression != "" {
				assert.Equal(t, []string{tt.expression}, a.outcome(t).Issue[0].Expression)
			}
		})
	}
	assert.Empty(t, srv.Pointers("9490000019")[5:], "nothing was created")
}

func TestCreateListsEveryBrokenRule(t *testing.T) {
	srv := newServer(t)
	body := pointerBody(t, "RNR", func(m map[string]any) {
		m["category"] = []any{}
		delete(m["context"].(map[string]any), "practiceSetting")
	})
	a := send(t, srv, http.MethodPost, producerPath("/DocumentReference"), headers(nrlstest.CustodianNorth), body)
	require.Equal(t, http.StatusBadRequest, a.status)
	var fields []string
	for _, is := range a.outcome(t).Issue {
		assert.Equal(t, "error", is.Severity)
		fields = append(fields, is.Expression...)
	}
	assert.Equal(t, []string{"category", "context.practiceSetting"}, fields)
}

func TestSupersedeChecks(t *testing.T) {
	srv := newServer(t)
	replaces := func(target string) func(m map[string]any) {
		return func(m map[string]any) {
			m["relatesTo"] = []any{map[string]any{"code": "replaces", "target": map[string]any{"identifier": map[string]any{"value": target}}}}
		}
	}
	post := func(body string) answer {
		return send(t, srv, http.MethodPost, producerPath("/DocumentReference"), headers(nrlstest.CustodianNorth), body)
	}
	// RNR-000001 is Patients.Normal's mental health crisis plan.
	a := post(pointerBody(t, "RNR", replaces("RNR-404")))
	assert.Equal(t, "BAD_REQUEST", a.code(t))
	assert.Equal(t, []string{"relatesTo[0].target.identifier.value"}, a.outcome(t).Issue[0].Expression)

	a = post(pointerBody(t, "RNR", func(m map[string]any) {
		replaces("RNR-000001")(m)
		m["subject"].(map[string]any)["identifier"].(map[string]any)["value"] = string(pdstest.Patients.Minimal)
	}))
	assert.Equal(t, "BAD_REQUEST", a.code(t))
	assert.Contains(t, a.outcome(t).Issue[0].Diagnostics, "NHS number does not match")

	a = post(pointerBody(t, "RNR", func(m map[string]any) {
		replaces("RNR-000005")(m) // a NEWS2 chart
	}))
	assert.Equal(t, "BAD_REQUEST", a.code(t))
	assert.Contains(t, a.outcome(t).Issue[0].Diagnostics, "type does not match")

	a = post(pointerBody(t, "RNR", replaces("RNR-000001")))
	require.Equal(t, http.StatusCreated, a.status, string(a.body))
	assert.Equal(t, "RESOURCE_SUPERSEDED", a.code(t))
	_, ok := srv.Pointer("RNR-000001")
	assert.False(t, ok)
}

func TestUpdateChecks(t *testing.T) {
	srv := newServer(t)
	current, ok := srv.Pointer("RNR-000001")
	require.True(t, ok)
	raw, err := json.Marshal(current.Resource)
	require.NoError(t, err)
	edit := func(fn func(m map[string]any)) string {
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		fn(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return string(b)
	}
	tests := []struct {
		name, org, id, body string
		status              int
		code, expression    string
	}{
		{"IDs differ", "RNR", "RNR-000002", edit(func(map[string]any) {}), 400, "BAD_REQUEST", "id"},
		{"broken rule", "RNR", "RNR-000001", edit(func(m map[string]any) { delete(m, "author") }), 400, "INVALID_RESOURCE", "author"},
		{"another organisation's", "RWV", "RNR-000001", edit(func(map[string]any) {}), 403, "AUTHOR_CREDENTIALS_ERROR", "id"},
		{"missing", "RNR", "RNR-404", edit(func(m map[string]any) { m["id"] = "RNR-404" }), 404, "NO_RECORD_FOUND", ""},
		{"immutable type", "RNR", "RNR-000001", edit(func(m map[string]any) {
			m["type"] = map[string]any{"coding": []any{map[string]any{"system": codesystem.SNOMED, "code": nrls.TypeContingencyPlan, "display": "Contingency plan"}}}
		}), 400, "BAD_REQUEST", "type"},
		{"immutable author", "RNR", "RNR-000001", edit(func(m map[string]any) {
			m["author"] = []any{map[string]any{"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y10001"}}}
		}), 400, "BAD_REQUEST", "author"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := headers(nrlstest.CustodianNorth)
			h.Set("NHSD-End-User-Organisation-ODS", tt.org)
			a := send(t, srv, http.MethodPut, producerPath("/DocumentReference/"+tt.id), h, tt.body)
			assert.Equal(t, tt.status, a.status, string(a.body))
			assert.Equal(t, tt.code, a.code(t))
			if tt.expression != "" {
				assert.Equal(t, []string{tt.expression}, a.outcome(t).Issue[0].Expression)
			}
		})
	}

	a := send(t, srv, http.MethodPut, producerPath("/DocumentReference/RNR-000001"), headers(nrlstest.CustodianNorth),
		edit(func(m map[string]any) { m["description"] = "Reviewed"; m["date"] = "2030-01-01T00:00:00Z" }))
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	assert.Equal(t, "RESOURCE_UPDATED", a.code(t))
	p, _ := srv.Pointer("RNR-000001")
	assert.Equal(t, "Reviewed", p.Description)
	assert.Equal(t, current.Date, p.Date, "the date is the service's")
}

func TestDeleteAndProducerReads(t *testing.T) {
	srv := newServer(t)
	a := send(t, srv, http.MethodDelete, producerPath("/DocumentReference/RNR-000001"), headers(nrlstest.CustodianSouth), "")
	assert.Equal(t, http.StatusForbidden, a.status)
	assert.Equal(t, "ACCESS_DENIED", a.code(t), "spelt with an underscore here")

	a = send(t, srv, http.MethodGet, producerPath("/DocumentReference/RNR-000001"), headers(nrlstest.CustodianSouth), "")
	assert.Equal(t, http.StatusForbidden, a.status)
	assert.Equal(t, "AUTHOR_CREDENTIALS_ERROR", a.code(t))

	a = send(t, srv, http.MethodGet, producerPath("/DocumentReference/RNR-000001"), headers(nrlstest.CustodianNorth), "")
	assert.Equal(t, http.StatusOK, a.status)

	q := url.Values{"subject:identifier": {subjectNormal}}
	a = send(t, srv, http.MethodGet, producerPath("/DocumentReference?"+q.Encode()), headers(nrlstest.CustodianNorth), "")
	require.Equal(t, http.StatusOK, a.status)
	var b struct{ Total int }
	require.NoError(t, json.Unmarshal(a.body, &b))
	assert.Equal(t, 3, b.Total, "a producer sees only its own pointers")

	q.Set("custodian:identifier", "https://fhir.nhs.uk/Id/ods-organization-code|RWV")
	a = send(t, srv, http.MethodGet, producerPath("/DocumentReference?"+q.Encode()), headers(nrlstest.CustodianNorth), "")
	assert.Equal(t, "INVALID_PARAMETER", a.code(t))

	a = send(t, srv, http.MethodDelete, producerPath("/DocumentReference/RNR-000001"), headers(nrlstest.CustodianNorth), "")
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "RESOURCE_REMOVED", a.code(t), "as the specification codes a delete")
	a = send(t, srv, http.MethodDelete, producerPath("/DocumentReference/RNR-000001"), headers(nrlstest.CustodianNorth), "")
	assert.Equal(t, http.StatusNotFound, a.status)
	assert.Equal(t, "NO_RECORD_FOUND", a.code(t))
}
