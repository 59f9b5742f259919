package pdstest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

const jsonPatch = "application/json-patch+json"

func TestPatchOnTheWire(t *testing.T) {
	normal := "/Patient/" + pdstest.Patients.Normal.String()
	tests := []struct {
		name    string
		path    string
		body    string
		headers []string
		status  int
		code    string
		check   func(t *testing.T, a answer)
	}{
		{name: "replace gender", body: `{"patches":[{"op":"replace","path":"/gender","value":"male"}]}`, status: 200,
			check: func(t *testing.T, a answer) {
				assert.Equal(t, "male", a.body["gender"])
				assert.Equal(t, `W/"2"`, a.header.Get("ETag"))
				assert.Equal(t, "2", a.body["meta"].(map[string]any)["versionId"])
			}},
		{name: "content type with charset", body: `{"patches":[{"op":"replace","path":"/gender","value":"male"}]}`,
			headers: []string{"Content-Type", jsonPatch + "; charset=utf-8"}, status: 200},
		{name: "add a name at the end", body: `{"patches":[{"op":"add","path":"/name/-","value":{"use":"nickname","given":["Millie"]}}]}`, status: 200,
			check: func(t *testing.T, a answer) {
				names := a.body["name"].([]any)
				require.Len(t, names, 3)
				assert.NotEmpty(t, names[2].(map[string]any)["id"], "the service assigns an id")
			}},
		{name: "add inside an item", body: `{"patches":[{"op":"test","path":"/name/0/id","value":"NAME0"},{"op":"add","path":"/name/0/given/0","value":"Millie"}]}`, status: 200,
			check: func(t *testing.T, a answer) {
				assert.Equal(t, []any{"Millie", "Amelia", "Rose"}, a.body["name"].([]any)[0].(map[string]any)["given"])
			}},
		{name: "test then remove a name", body: `{"patches":[{"op":"test","path":"/name/1/use","value":"old"},{"op":"remove","path":"/name/1"}]}`,
			status: 400, code: "INVALID_UPDATE"},
		{name: "test whole item then remove", body: `{"patches":[{"op":"test","path":"/telecom/1/system","value":"email"},{"op":"remove","path":"/telecom/1"}]}`,
			status: 400, code: "INVALID_UPDATE"},
		{name: "test id then remove telecom", body: `{"patches":[{"op":"test","path":"/telecom/1/id","value":"TELECOM1"},{"op":"remove","path":"/telecom/1"}]}`,
			status: 400, code: "INVALID_UPDATE"},
		{name: "add deceased date", body: `{"patches":[{"op":"add","path":"/deceasedDateTime","value":"2024-01-01T00:00:00+00:00"}]}`, status: 200,
			check: func(t *testing.T, a answer) { assert.Equal(t, "2024-01-01T00:00:00+00:00", a.body["deceasedDateTime"]) }},
		{name: "bare array", body: `[{"op":"replace","path":"/gender","value":"male"}]`, status: 400, code: "INVALID_UPDATE"},
		{name: "no patches", body: `{}`, status: 400, code: "INVALID_UPDATE"},
		{name: "empty patches", body: `{"patches":[]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "not JSON", body: `patches`, status: 400, code: "INVALID_UPDATE"},
		{name: "move is not supported", body: `{"patches":[{"op":"move","from":"/gender","path":"/x"}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "unknown key", body: `{"patches":[{"op":"replace","path":"/gender","value":"male","extra":1}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "add without value", body: `{"patches":[{"op":"add","path":"/gender"}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "remove with value", body: `{"patches":[{"op":"remove","path":"/deceasedDateTime","value":"x"}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "unknown field", body: `{"patches":[{"op":"add","path":"/pets","value":"cat"}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "read-only field", body: `{"patches":[{"op":"replace","path":"/id","value":"9490000027"}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "bad pointer", body: `{"patches":[{"op":"replace","path":"gender","value":"male"}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "add at an index", body: `{"patches":[{"op":"add","path":"/name/0","value":{"use":"nickname"}}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "add with an id", body: `{"patches":[{"op":"add","path":"/address/-","value":{"id":"X1","use":"temp"}}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "replace without the id", body: `{"patches":[{"op":"replace","path":"/address/0","value":{"use":"home","line":["1 A Street"]}}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "remove without test", body: `{"patches":[{"op":"remove","path":"/telecom/0"}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "test fails", body: `{"patches":[{"op":"test","path":"/gender","value":"male"}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "index out of range", body: `{"patches":[{"op":"replace","path":"/name/9/family","value":"X"}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "model rejects the result", body: `{"patches":[{"op":"replace","path":"/gender","value":"mal"}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "gender other", body: `{"patches":[{"op":"replace","path":"/gender","value":"other"}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "second usual name", body: `{"patches":[{"op":"add","path":"/name/-","value":{"use":"usual","family":"X"}}]}`, status: 403, code: "FORBIDDEN_UPDATE"},
		{name: "remove the only usual name", body: `{"patches":[{"op":"test","path":"/name/0/id","value":"NAME0"},{"op":"remove","path":"/name/0"}]}`, status: 403, code: "FORBIDDEN_UPDATE"},
		{name: "usual name made old", body: `{"patches":[{"op":"test","path":"/name/0/id","value":"NAME0"},{"op":"replace","path":"/name/0/use","value":"old"}]}`, status: 403, code: "FORBIDDEN_UPDATE"},
		{name: "part of an item without its id", body: `{"patches":[{"op":"replace","path":"/address/0/postalCode","value":"LS1 4AP"}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "part of an item after testing another's id", body: `{"patches":[{"op":"test","path":"/name/0/id","value":"NAME0"},{"op":"replace","path":"/address/0/postalCode","value":"LS1 4AP"}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "part of an item after testing its id", body: `{"patches":[{"op":"test","path":"/address/0/id","value":"ADDR0"},{"op":"replace","path":"/address/0/postalCode","value":"LS1 4AP"}]}`, status: 200,
			check: func(t *testing.T, a answer) {
				assert.Equal(t, "LS1 4AP", a.body["address"].([]any)[0].(map[string]any)["postalCode"])
			}},
		{name: "part of an item after mirroring its id", body: `{"patches":[{"op":"replace","path":"/address/0/id","value":"ADDR0"},{"op":"replace","path":"/address/0/postalCode","value":"LS1 4AP"}]}`, status: 200},
		{name: "an item's id cannot change", body: `{"patches":[{"op":"replace","path":"/address/0/id","value":"OTHER"},{"op":"replace","path":"/address/0/postalCode","value":"LS1 4AP"}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "second home address", body: `{"patches":[{"op":"add","path":"/address/-","value":{"use":"home","line":["1 A Street"]}}]}`, status: 400, code: "INVALID_UPDATE"},
		{name: "remove gender", body: `{"patches":[{"op":"remove","path":"/gender"}]}`, status: 403, code: "FORBIDDEN_UPDATE"},
		{name: "missing If-Match", body: `{"patches":[{"op":"replace","path":"/gender","value":"male"}]}`, headers: []string{"If-Match", ""}, status: 412, code: "PRECONDITION_FAILED"},
		{name: "If-Match without W/", body: `{"patches":[{"op":"replace","path":"/gender","value":"male"}]}`, headers: []string{"If-Match", `"1"`}, status: 412, code: "PRECONDITION_FAILED"},
		{name: "stale If-Match", body: `{"patches":[{"op":"replace","path":"/gender","value":"male"}]}`, headers: []string{"If-Match", `W/"0"`}, status: 409, code: "RESOURCE_VERSION_MISMATCH"},
		{name: "application/json is accepted", body: `{"patches":[{"op":"replace","path":"/gender","value":"male"}]}`, headers: []string{"Content-Type", "application/json"}, status: 200},
		{name: "other content type", body: `{"patches":[{"op":"replace","path":"/gender","value":"male"}]}`, headers: []string{"Content-Type", "text/plain"}, status: 400, code: "UNSUPPORTED_SERVICE"},
		{name: "no content type", body: `{"patches":[{"op":"replace","path":"/gender","value":"male"}]}`, headers: []string{"Content-Type", ""}, status: 400, code: "UNSUPPORTED_SERVICE"},
		{name: "restricted patient", path: "/Patient/" + pdstest.Patients.Restricted.String(), body: `{"patches":[{"op":"replace","path":"/gender","value":"male"}]}`, status: 403, code: "FORBIDDEN_UPDATE"},
		{name: "unknown patient", path: "/Patient/" + pdstest.Patients.Unknown.String(), body: `{"patches":[{"op":"replace","path":"/gender","value":"male"}]}`, status: 404, code: "RESOURCE_NOT_FOUND"},
		{name: "invalid NHS number", path: "/Patient/9490000010", body: `{"patches":[{"op":"replace","path":"/gender","value":"male"}]}`, status: 400, code: "INVALID_RESOURCE_ID"},
		{name: "superseded number updates the surviving record", path: "/Patient/" + pdstest.Patients.Superseded.String(),
			body: `{"patches":[{"op":"replace","path":"/gender","value":"male"}]}`, status: 200,
			check: func(t *testing.T, a answer) { assert.Equal(t, pdstest.Patients.Surviving.String(), a.body["id"]) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := pdstest.NewServer()
			defer srv.Close()
			path := tt.path
			if path == "" {
				path = normal
			}
			hs := append([]string{"Content-Type", jsonPatch, "If-Match", `W/"1"`}, tt.headers...)
			before, beforeVersion, _ := srv.Record(pdstest.Patients.Normal)
			body := strings.NewReplacer("NAME0", *before.Name[0].Id, "ADDR0", *before.Address[0].Id).Replace(tt.body)
			a := call(t, srv, http.MethodPatch, path, body, hs...)
			assert.Equal(t, tt.status, a.status, string(a.raw))
			assert.Equal(t, tt.code, a.code())
			if tt.check != nil {
				tt.check(t, a)
			}
			if tt.status != 200 {
				after, afterVersion, _ := srv.Record(pdstest.Patients.Normal)
				assert.Equal(t, beforeVersion, afterVersion, "a refused update changes nothing")
				assert.Equal(t, before, after)
			}
		})
	}
}

func TestPatchApplicationRestricted(t *testing.T) {
	srv := pdstest.NewServer(pdstest.WithAccessMode(pds.AccessApplicationRestricted))
	defer srv.Close()
	a := call(t, srv, http.MethodPatch, "/Patient/"+pdstest.Patients.Normal.String(),
		`{"patches":[{"op":"replace","path":"/gender","value":"male"}]}`, "Content-Type", jsonPatch, "If-Match", `W/"1"`)
	assert.Equal(t, http.StatusForbidden, a.status)
	assert.Equal(t, "INVALID_METHOD", a.code())
}

func TestPatchDeduplicatesByRequestID(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	path := "/Patient/" + pdstest.Patients.Normal.String()
	body := `{"patches":[{"op":"add","path":"/telecom/-","value":{"system":"phone","use":"mobile","value":"07700 900001"}}]}`
	const id = "7b0c1c2e-9f1a-4d0e-8a3b-2c1d0e9f8a7b"
	srv.InjectFault(http.MethodPatch, "/Patient/", 1, pdstest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "1", AfterServing: true})
	first := call(t, srv, http.MethodPatch, path, body, "Content-Type", jsonPatch, "If-Match", `W/"1"`, "X-Request-ID", id)
	assert.Equal(t, http.StatusServiceUnavailable, first.status)
	assert.Equal(t, "SERVICE_UNAVAILABLE", first.code())
	assert.Equal(t, "1", first.header.Get("Retry-After"))

	// Re-sent with the same ID and the same (now stale) version: answered
	// with the applied result, not applied again.
	again := call(t, srv, http.MethodPatch, path, body, "Content-Type", jsonPatch, "If-Match", `W/"1"`, "X-Request-ID", id)
	require.Equal(t, http.StatusOK, again.status)
	assert.Equal(t, `W/"2"`, again.header.Get("ETag"))
	assert.Len(t, again.body["telecom"].([]any), 3)

	// A new request with the stale version is a conflict.
	other := call(t, srv, http.MethodPatch, path, body, "Content-Type", jsonPatch, "If-Match", `W/"1"`)
	assert.Equal(t, http.StatusConflict, other.status)
	_, version, _ := srv.Record(pdstest.Patients.Normal)
	assert.Equal(t, "2", version)
}

func TestPatchStartsMissingList(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	a := call(t, srv, http.MethodPatch, "/Patient/"+pdstest.Patients.Minimal.String(),
		`{"patches":[{"op":"add","path":"/telecom/-","value":{"system":"email","value":"new@example.com"}},
		  {"op":"add","path":"/gender","value":"female"}]}`, "Content-Type", jsonPatch, "If-Match", `W/"1"`)
	require.Equal(t, http.StatusOK, a.status, string(a.raw))
	assert.Len(t, a.body["telecom"].([]any), 1)
	assert.Equal(t, "female", a.body["gender"])
}

func TestPatchRemovesTestedItems(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	rec, _, ok := srv.Record(pdstest.Patients.Normal)
	require.True(t, ok)
	emailID := *rec.Telecom[1].Id
	oldName := `{"id":"` + *rec.Name[1].Id + `","use":"old","given":["Amelia","Rose"],"family":"Calloway"}`
	path := "/Patient/" + pdstest.Patients.Normal.String()

	a := call(t, srv, http.MethodPatch, path,
		`{"patches":[{"op":"test","path":"/telecom/1/id","value":"`+emailID+`"},{"op":"remove","path":"/telecom/1"},
		  {"op":"test","path":"/name/1","value":`+oldName+`},{"op":"remove","path":"/name/1"}]}`,
		"Content-Type", jsonPatch, "If-Match", `W/"1"`)
	require.Equal(t, http.StatusOK, a.status, string(a.raw))
	assert.Len(t, a.body["telecom"].([]any), 1)
	assert.Len(t, a.body["name"].([]any), 1)
	after, version, _ := srv.Record(pdstest.Patients.Normal)
	assert.Equal(t, "2", version)
	assert.Len(t, after.Telecom, 1)
}
