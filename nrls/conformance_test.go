package nrls_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/conformance"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/nrls"
)

// conformanceDir returns the shared conformance material for nrl, skipping
// the test when it is absent.
func conformanceDir(t *testing.T) string { return conformance.Dir(t, "nrl") }

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), path)
	return m
}

// TestConformanceExamplesParse reads every example file: pointers parse
// with their view, search and count Bundles decode through the client,
// value sets agree with the package's codes, and the legacy seed's stored
// documents (R4 pointers kept as JSON strings) parse.
func TestConformanceExamplesParse(t *testing.T) {
	dir := conformanceDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			if strings.HasPrefix(strings.TrimSpace(string(raw)), "[") {
				checkLegacySeed(t, raw)
				return
			}
			m := readJSON(t, path)
			switch m["resourceType"] {
			case "DocumentReference":
				checkExamplePointer(t, name, raw)
			case "Bundle":
				checkExampleBundle(t, raw)
			case "ValueSet":
				checkValueSet(t, m)
			default:
				t.Fatalf("unexpected resource %v", m["resourceType"])
			}
		})
	}
}

func checkExamplePointer(t *testing.T, name string, raw []byte) {
	p, err := nrls.ParsePointer(raw)
	require.NoError(t, err)
	assert.NotEmpty(t, p.ID)
	assert.NotEmpty(t, p.URL)
	assert.NotEmpty(t, p.Type.Code)
	if strings.Contains(string(raw), "/STU3/") {
		// The legacy STU3 pointer names its patient and organisations by
		// reference, not identifier: the R4 view cannot read them.
		assert.Empty(t, p.NHSNumber)
		assert.Empty(t, p.Custodian)
		return
	}
	assert.True(t, p.NHSNumber.Valid(), "subject")
	assert.True(t, p.Custodian.Valid(), "custodian")
	assert.True(t, strings.HasPrefix(p.ID, string(p.Custodian)+"-"), "ID prefixed by the custodian")
	rt, ok := nrls.LookupType(p.Type.Code)
	require.True(t, ok)
	assert.Equal(t, rt.Category.Code, p.Category.Code)
	assert.Equal(t, nrls.StabilityStatic, stabilityOr(p.Stability, nrls.StabilityStatic, name))

	err = p.Validate()
	if strings.Contains(name, "with-ssp-content") {
		// This example carries no content stability extension, which
		// the published specification requires.
		var v *nrls.ValidationError
		require.True(t, errors.As(err, &v))
		assert.Equal(t, []string{"content[0].extension"}, nrls.Fields(v))
		assert.Equal(t, "012345678910", p.ProviderASID)
		assert.True(t, p.IsSSP())
		return
	}
	assert.NoError(t, err)
}

// stabilityOr keeps the in-context example's dynamic stability apart.
func stabilityOr(got, want nrls.Stability, name string) nrls.Stability {
	if strings.Contains(name, "IN_CONTEXT") && got == nrls.StabilityDynamic {
		return want
	}
	if got == "" {
		return want
	}
	return got
}

func checkExampleBundle(t *testing.T, raw []byte) {
	var b struct {
		Total int `json:"total"`
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
		Link []struct {
			URL string `json:"url"`
		} `json:"link"`
	}
	require.NoError(t, json.Unmarshal(raw, &b))
	nhs := shcrkit.NHSNumber("")
	if len(b.Entry) > 0 {
		p, err := nrls.ParsePointer(b.Entry[0].Resource)
		require.NoError(t, err)
		nhs = p.NHSNumber
	} else {
		require.NotEmpty(t, b.Link)
		i := strings.LastIndex(b.Link[0].URL, "|")
		nhs = shcrkit.NHSNumber(b.Link[0].URL[i+1 : i+11])
	}
	require.True(t, nhs.Valid())
	c := rawServer(t, http.StatusOK, "application/fhir+json;version=1", string(raw))
	if len(b.Entry) == 0 {
		n, err := c.Count(ctx, nhs)
		require.NoError(t, err)
		assert.Equal(t, b.Total, n)
		return
	}
	res, err := c.SearchAll(ctx, nhs)
	require.NoError(t, err)
	assert.Empty(t, res.Problems)
	require.Len(t, res.Pointers, len(b.Entry))
	p := res.Pointers[0]
	assert.Equal(t, nrls.StabilityStatic, p.Stability, "read despite the system's stray comma")
	assert.Equal(t, nrls.RetrievalSSP, p.Retrieval)
	assert.Equal(t, shcrkit.ConfidentialityVeryRestricted, p.Confidentiality)
	assert.Len(t, p.ProviderASID, 12)
	assert.NoError(t, p.Validate())
	u, err := p.SSPURL("https://proxy.example")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(u, "https://proxy.example/https%3A%2F%2F"), u)
}

func checkValueSet(t *testing.T, m map[string]any) {
	var concepts []struct{ system, code, display string }
	compose, _ := m["compose"].(map[string]any)
	includes, _ := compose["include"].([]any)
	for _, inc := range includes {
		im := inc.(map[string]any)
		for _, c := range im["concept"].([]any) {
			cm := c.(map[string]any)
			concepts = append(concepts, struct{ system, code, display string }{
				im["system"].(string), cm["code"].(string), cm["display"].(string)})
		}
	}
	require.NotEmpty(t, concepts)
	for _, c := range concepts {
		switch id := m["id"]; id {
		case "NRLF-RecordType":
			if c.system != codesystem.SNOMED {
				continue // imaging codes of another system
			}
			rt, ok := nrls.LookupType(c.code)
			if assert.True(t, ok, c.code) {
				assert.True(t, nrls.DisplayMatches(rt, c.display), "%s: %q", c.code, c.display)
			}
		case "NRLF-RecordCategory":
			cat, ok := nrls.LookupCategory(c.code)
			if assert.True(t, ok, c.code) {
				assert.Equal(t, c.display, cat.Display)
			}
		case "NRLF-FormatCode":
			assert.Equal(t, codesystem.NRLFormat, c.system)
			assert.Equal(t, c.display, nrls.FormatDisplay(nrls.Format(c.code)))
		case "England-RetrievalMechanism":
			assert.Equal(t, c.display, nrls.RetrievalDisplay(nrls.RetrievalMechanism(c.code)), c.code)
		default:
			t.Fatalf("unexpected value set %v", id)
		}
	}
}

// checkLegacySeed parses the stored documents of the service's old
// sandbox seed: R4 pointers of an earlier shape (LOINC categories, IHE
// formats, no extensions).
func checkLegacySeed(t *testing.T, raw []byte) {
	var items []struct {
		ID        string `json:"id"`
		NHSNumber string `json:"nhs_number"`
		Custodian string `json:"custodian"`
		Document  string `json:"document"`
	}
	require.NoError(t, json.Unmarshal(raw, &items))
	require.NotEmpty(t, items)
	for _, it := range items {
		p, err := nrls.ParsePointer([]byte(it.Document))
		require.NoError(t, err, it.ID)
		assert.Equal(t, it.ID, p.ID)
		assert.Equal(t, shcrkit.NHSNumber(it.NHSNumber), p.NHSNumber)
		assert.Equal(t, shcrkit.ODSCode(it.Custodian), p.Custodian)
		assert.NotEmpty(t, p.URL)
		// A legacy pointer breaks today's rules; validation says where.
		var v *nrls.ValidationError
		require.ErrorAs(t, p.Validate(), &v)
		assert.Contains(t, nrls.Fields(v), "category[0].coding[0].system", "LOINC category")
	}
}

// TestConformanceSpecificationExamples parses every pointer and Bundle
// given as an example in the consumer and producer API specifications.
func TestConformanceSpecificationExamples(t *testing.T) {
	dir := conformanceDir(t)
	specs, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, specs)
	seen := 0
	for _, path := range specs {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		var doc any
		require.NoError(t, yaml.Unmarshal(b, &doc), path)
		walkExamples(doc, func(res map[string]any) {
			js, err := json.Marshal(res)
			require.NoError(t, err)
			switch res["resourceType"] {
			case "DocumentReference":
				p, err := nrls.ParsePointer(js)
				require.NoError(t, err, "%s: %s", filepath.Base(path), res["id"])
				assert.NotEmpty(t, p.Type.Code)
				seen++
			case "Bundle":
				var bundle struct {
					Entry []struct {
						Resource json.RawMessage `json:"resource"`
					} `json:"entry"`
				}
				require.NoError(t, json.Unmarshal(js, &bundle))
				for _, e := range bundle.Entry {
					_, err := nrls.ParsePointer(e.Resource)
					require.NoError(t, err, filepath.Base(path))
				}
				seen++
			}
		})
	}
	assert.Greater(t, seen, 5)
}

// walkExamples calls fn for every map under an "example" or "value" key
// (the OpenAPI example forms) that is a FHIR resource.
func walkExamples(n any, fn func(map[string]any)) {
	switch v := n.(type) {
	case map[string]any:
		if _, ok := v["resourceType"].(string); ok {
			fn(v)
			return
		}
		for _, c := range v {
			walkExamples(c, fn)
		}
	case []any:
		for _, c := range v {
			walkExamples(c, fn)
		}
	}
}
