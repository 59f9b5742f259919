package pds_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit/internal/conformance"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
)

// conformanceDir returns the shared conformance material for pds, skipping
// the test when it is absent.
func conformanceDir(t *testing.T) string { return conformance.Dir(t, "pds") }

// TestConformanceExamples feeds every JSON file of the service's published
// examples to the client, as the answer to the request it answers, and
// checks the view against the raw JSON.
func TestConformanceExamples(t *testing.T) {
	root := conformanceDir(t)
	var files []string
	require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return err
	}))
	require.NotEmpty(t, files)
	counts := map[string]int{}
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		t.Run(rel, func(t *testing.T) {
			body, err := os.ReadFile(path)
			require.NoError(t, err)
			var raw map[string]any
			require.NoError(t, json.Unmarshal(body, &raw))
			kind := str(raw["resourceType"])
			switch {
			case strings.Contains(rel, "PatientPatch"):
				kind = "patch"
				checkPatchExample(t, body)
			case strings.Contains(rel, "PatientCreate") || strings.Contains(strings.ToLower(rel), "coverage"):
				t.Skip("patient creation and coverage are not part of the client")
			case kind == "Patient":
				checkPatientExample(t, body, raw)
			case kind == "Bundle" && bundleOf(raw) == "RelatedPerson":
				kind = "RelatedPerson bundle"
				checkRelatedExample(t, body, raw)
			case kind == "Bundle":
				kind = "Patient bundle"
				checkSearchExample(t, body, raw)
			case kind == "OperationOutcome":
				checkOutcomeExample(t, body, raw)
			default:
				t.Fatalf("unexpected example of resource type %q", kind)
			}
			counts[kind]++
		})
	}
	t.Logf("checked: %v", counts)
}

func str(v any) string { s, _ := v.(string); return s }

func list(v any) []any { l, _ := v.([]any); return l }

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

func bundleOf(raw map[string]any) string {
	for _, e := range list(raw["entry"]) {
		return str(obj(obj(e)["resource"])["resourceType"])
	}
	return ""
}

func checkPatchExample(t *testing.T, body []byte) {
	var p struct {
		Patches []pds.PatchOp `json:"patches"`
	}
	require.NoError(t, json.Unmarshal(body, &p))
	require.NotEmpty(t, p.Patches)
	assert.NoError(t, pds.ValidatePatch(p.Patches...), "the specification's example must pass the client's checks")
	out, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, string(body), string(out), "the body the client would send is the example")
}

func checkPatientExample(t *testing.T, body []byte, raw map[string]any) {
	id := str(raw["id"])
	require.True(t, shcrkit.NHSNumber(id).Valid(), "example patient id")
	version := str(obj(raw["meta"])["versionId"])
	headers := []string{}
	if version != "" {
		headers = append(headers, "ETag", `W/"`+version+`"`)
	}
	f := newFixture(t, reply(http.StatusOK, string(body), headers...))
	p, err := f.client(t).Get(context.Background(), shcrkit.NHSNumber(id))
	require.NoError(t, err)
	assert.Equal(t, version, p.Version())
	checkPatientView(t, p, raw)
}

// checkPatientView compares the view with the raw JSON, read without the
// FHIR model.
func checkPatientView(t *testing.T, p *pds.Patient, raw map[string]any) {
	t.Helper()
	id := str(raw["id"])
	if shcrkit.NHSNumber(id).Valid() {
		assert.Equal(t, shcrkit.NHSNumber(id), p.NHSNumber())
	} else {
		assert.Empty(t, p.NHSNumber(), "an invalid id gives no NHS number")
	}
	assert.Equal(t, id, *p.Resource.Id)
	var conf string
	for _, s := range list(obj(raw["meta"])["security"]) {
		conf = str(obj(s)["code"])
	}
	if conf != "" {
		assert.Equal(t, conf, p.Confidentiality().Code())
	}
	assert.Equal(t, conf == "R" || conf == "V", p.Confidentiality().Restricted())
	if conf == "R" || conf == "V" {
		assert.Empty(t, p.Resource.Address, "PDS removes a restricted patient's address")
		assert.Empty(t, p.Resource.Telecom)
		assert.Empty(t, p.GPPractice())
	}
	assert.Equal(t, str(raw["gender"]), p.Gender())
	assert.Equal(t, str(raw["birthDate"]), p.BirthDate())
	death := str(raw["deceasedDateTime"])
	date, dead := p.Deceased()
	assert.Equal(t, death != "", dead)
	if i := strings.IndexByte(death, 'T'); i >= 0 {
		death = death[:i]
	}
	assert.Equal(t, death, date)

	var usual map[string]any
	for _, n := range list(raw["name"]) {
		if str(obj(n)["use"]) == "usual" {
			usual = obj(n)
			break
		}
	}
	name, ok := p.UsualName()
	assert.Equal(t, usual != nil, ok)
	if usual != nil {
		assert.Equal(t, str(usual["family"]), name.Family)
		assert.Equal(t, strs(usual["given"]), name.Given)
	}

	var home map[string]any
	for _, a := range list(raw["address"]) {
		if str(obj(a)["use"]) == "home" {
			home = obj(a)
			break
		}
	}
	addr, ok := p.HomeAddress()
	assert.Equal(t, home != nil, ok)
	if home != nil {
		assert.Equal(t, str(home["postalCode"]), addr.PostalCode)
		assert.Equal(t, strs(home["line"]), addr.Lines)
	}
	assert.Len(t, p.Telecom(), len(list(raw["telecom"])))

	var gp string
	for _, g := range list(raw["generalPractitioner"]) {
		gp = str(obj(obj(g)["identifier"])["value"])
	}
	assert.Equal(t, gp, string(p.GPPractice()))
}

func strs(v any) []string {
	var out []string
	for _, s := range list(v) {
		out = append(out, str(s))
	}
	return out
}

func checkSearchExample(t *testing.T, body []byte, raw map[string]any) {
	f := newFixture(t, reply(http.StatusOK, string(body)))
	ms, err := f.client(t).Search(context.Background(), pds.SearchQuery{Family: "Smith", BirthDate: born("2010-10-22")})
	require.NoError(t, err)
	entries := list(raw["entry"])
	require.Len(t, ms, len(entries))
	for i := 1; i < len(ms); i++ {
		assert.GreaterOrEqual(t, ms[i-1].Score, ms[i].Score, "best first")
	}
	byID := map[string]map[string]any{}
	scores := map[string]float64{}
	for _, e := range entries {
		res := obj(obj(e)["resource"])
		byID[str(res["id"])] = res
		scores[str(res["id"])], _ = obj(obj(e)["search"])["score"].(float64)
	}
	for _, m := range ms {
		res, ok := byID[*m.Patient.Resource.Id]
		require.True(t, ok, "every match comes from an entry")
		assert.Equal(t, scores[*m.Patient.Resource.Id], m.Score)
		checkPatientView(t, m.Patient, res)
	}
}

func checkRelatedExample(t *testing.T, body []byte, raw map[string]any) {
	f := newFixture(t, reply(http.StatusOK, string(body)))
	rs, err := f.client(t).RelatedPersons(context.Background(), "9000000009")
	require.NoError(t, err)
	entries := list(raw["entry"])
	require.Len(t, rs, len(entries))
	for i, e := range entries {
		res := obj(obj(e)["resource"])
		assert.Equal(t, str(res["id"]), *rs[i].Resource.Id)
		linked := str(obj(obj(res["patient"])["identifier"])["value"])
		assert.Equal(t, linked, rs[i].NHSNumber().String())
		var codes []string
		for _, cc := range list(res["relationship"]) {
			for _, c := range list(obj(cc)["coding"]) {
				codes = append(codes, str(obj(c)["code"]))
			}
		}
		assert.Equal(t, codes, rs[i].Relationships())
		name, ok := rs[i].Name()
		assert.Equal(t, len(list(res["name"])) > 0, ok)
		if ok {
			assert.Equal(t, str(obj(list(res["name"])[0])["family"]), name.Family)
		}
	}
}

// statusOf is the status the service sends each error code with, from the
// specification's tables.
var statusOf = map[string]int{
	"RESOURCE_NOT_FOUND": 404, "INVALIDATED_RESOURCE": 404, "ACCESS_DENIED": 401, "INVALID_METHOD": 403,
	"FORBIDDEN_UPDATE": 403, "RESOURCE_VERSION_MISMATCH": 409, "PRECONDITION_FAILED": 412,
	"TOO_MANY_MATCHES": 200, "": 200,
}

func checkOutcomeExample(t *testing.T, body []byte, raw map[string]any) {
	issue := obj(list(raw["issue"])[0])
	var code string
	if coding := list(obj(issue["details"])["coding"]); len(coding) > 0 {
		code = str(obj(coding[0])["code"])
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusBadRequest
	}
	f := newFixture(t, reply(status, string(body)))
	c := f.client(t)
	var err error
	if status == http.StatusOK {
		_, err = c.Search(context.Background(), pds.SearchQuery{Family: "Smith", BirthDate: born("2010-10-22")})
	} else {
		_, err = c.Update(context.Background(), "9000000009", "2", pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"})
	}
	require.Error(t, err)
	var apiErr *shcrkit.APIError
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, status, apiErr.StatusCode)
	if code != "" {
		assert.Equal(t, code, apiErr.Code)
	}
	assert.NotNil(t, apiErr.Outcome, "the outcome decodes as FHIR")
	want := map[string][]error{
		"RESOURCE_NOT_FOUND":        {shcrkit.ErrNotFound},
		"INVALIDATED_RESOURCE":      {shcrkit.ErrNotFound, shcrkit.ErrInvalidated},
		"ACCESS_DENIED":             {shcrkit.ErrUnauthorized},
		"INVALID_METHOD":            {shcrkit.ErrForbidden},
		"FORBIDDEN_UPDATE":          {shcrkit.ErrForbidden},
		"RESOURCE_VERSION_MISMATCH": {shcrkit.ErrVersionMismatch},
		"PRECONDITION_FAILED":       {shcrkit.ErrInvalidRequest},
		"TOO_MANY_MATCHES":          {pds.ErrTooManyMatches},
	}[code]
	if want == nil && status == http.StatusBadRequest {
		want = []error{shcrkit.ErrInvalidRequest}
	}
	for _, w := range want {
		assert.ErrorIs(t, err, w)
	}
	if code != "TOO_MANY_MATCHES" {
		assert.NotErrorIs(t, err, pds.ErrTooManyMatches)
	}
	assert.NotContains(t, err.Error(), "9000000009")
}
