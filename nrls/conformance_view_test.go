package nrls_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/nrls"
)

// TestConformancePointerViewComplete reads every published pointer (the
// files, the Bundles' entries and the specifications' examples) through
// the client's Get, and checks every field of the view against the raw
// JSON, read without the FHIR model.
func TestConformancePointerViewComplete(t *testing.T) {
	dir := conformanceDir(t)
	var pointers []map[string]any
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	for _, path := range files {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		var doc any
		switch filepath.Ext(path) {
		case ".json":
			require.NoError(t, json.Unmarshal(b, &doc))
		case ".yaml":
			require.NoError(t, yaml.Unmarshal(b, &doc))
		default:
			continue
		}
		if l, ok := doc.([]any); ok { // the legacy seed: documents as strings
			for _, it := range l {
				var m map[string]any
				require.NoError(t, json.Unmarshal([]byte(it.(map[string]any)["document"].(string)), &m))
				pointers = append(pointers, m)
			}
			continue
		}
		collectPointers(doc, &pointers)
	}
	require.Greater(t, len(pointers), 10)
	for i, raw := range pointers {
		id, _ := raw["id"].(string)
		t.Run(id, func(t *testing.T) {
			body, err := json.Marshal(raw)
			require.NoError(t, err)
			c := rawServer(t, http.StatusOK, "application/fhir+json;version=1", string(body))
			if id == "" {
				t.Skipf("example %d has no id", i)
			}
			p, err := c.Get(ctx, id)
			require.NoError(t, err)
			checkPointerView(t, p, raw)
		})
	}
}

func collectPointers(n any, out *[]map[string]any) {
	switch v := n.(type) {
	case map[string]any:
		if v["resourceType"] == "DocumentReference" {
			*out = append(*out, v)
			return
		}
		for _, c := range v {
			collectPointers(c, out)
		}
	case []any:
		for _, c := range v {
			collectPointers(c, out)
		}
	}
}

func jm(v any) map[string]any { x, _ := v.(map[string]any); return x }
func jl(v any) []any          { x, _ := v.([]any); return x }
func js(v any) string         { x, _ := v.(string); return x }

func firstCodingOf(cc any) nrls.Concept {
	c := jl(jm(cc)["coding"])
	if len(c) == 0 {
		return nrls.Concept{}
	}
	return nrls.Concept{Code: js(jm(c[0])["code"]), Display: js(jm(c[0])["display"])}
}

func checkPointerView(t *testing.T, p nrls.Pointer, raw map[string]any) {
	t.Helper()
	assert.Equal(t, js(raw["id"]), p.ID)
	assert.Equal(t, js(raw["status"]), p.Status)
	subj := jm(jm(raw["subject"])["identifier"])
	if js(subj["system"]) == "https://fhir.nhs.uk/Id/nhs-number" && shcrkit.NHSNumber(js(subj["value"])).Valid() {
		assert.Equal(t, shcrkit.NHSNumber(js(subj["value"])), p.NHSNumber)
	} else {
		assert.Empty(t, p.NHSNumber)
	}
	ods := func(ref any) shcrkit.ODSCode {
		v := js(jm(jm(ref)["identifier"])["value"])
		if i := strings.LastIndexByte(v, '/'); i >= 0 {
			v = v[i+1:]
		}
		return shcrkit.ODSCode(v)
	}
	assert.Equal(t, ods(raw["custodian"]), p.Custodian)
	if a := jl(raw["author"]); len(a) > 0 {
		assert.Equal(t, ods(a[0]), p.Author)
	} else {
		assert.Empty(t, p.Author)
	}
	assert.Equal(t, firstCodingOf(raw["type"]), p.Type)
	if cat := jl(raw["category"]); len(cat) > 0 {
		assert.Equal(t, firstCodingOf(cat[0]), p.Category)
	}
	var stab, retr string
	if c := jl(raw["content"]); len(c) > 0 {
		c0 := jm(c[0])
		att := jm(c0["attachment"])
		assert.Equal(t, js(att["url"]), p.URL)
		assert.Equal(t, js(att["contentType"]), p.ContentType)
		assert.Equal(t, js(att["title"]), p.Title)
		assert.Equal(t, nrls.Format(js(jm(c0["format"])["code"])), p.Format)
		for _, e := range jl(c0["extension"]) {
			code := firstCodingOf(jm(e)["valueCodeableConcept"]).Code
			switch js(jm(e)["url"]) {
			case "https://fhir.nhs.uk/England/StructureDefinition/Extension-England-ContentStability":
				if stab == "" {
					stab = code
				}
			case "https://fhir.nhs.uk/England/StructureDefinition/Extension-England-NRLRetrievalMechanism":
				if retr == "" {
					retr = code
				}
			}
		}
	}
	assert.Equal(t, nrls.Stability(stab), p.Stability)
	assert.Equal(t, nrls.RetrievalMechanism(retr), p.Retrieval)
	ctxm := jm(raw["context"])
	assert.Equal(t, firstCodingOf(ctxm["practiceSetting"]), p.PracticeSetting)
	var asid string
	for _, r := range jl(ctxm["related"]) {
		id := jm(jm(r)["identifier"])
		if js(id["system"]) == "https://fhir.nhs.uk/Id/nhsSpineASID" {
			asid = js(id["value"])
			break
		}
	}
	assert.Equal(t, asid, p.ProviderASID)
	if d := js(raw["date"]); d != "" {
		want, err := time.Parse(time.RFC3339Nano, d)
		if assert.NoError(t, err) {
			assert.True(t, want.Equal(p.Date), "date %s read as %s", d, p.Date)
		}
	} else {
		assert.True(t, p.Date.IsZero())
	}
	conf := shcrkit.ConfidentialityUnrestricted
	for _, sl := range jl(raw["securityLabel"]) {
		for _, c := range jl(jm(sl)["coding"]) {
			switch js(jm(c)["code"]) {
			case "V":
				conf = shcrkit.ConfidentialityVeryRestricted
			case "R":
				if conf != shcrkit.ConfidentialityVeryRestricted {
					conf = shcrkit.ConfidentialityRestricted
				}
			}
		}
	}
	assert.Equal(t, conf, p.Confidentiality)
	var replaces []string
	for _, r := range jl(raw["relatesTo"]) {
		if js(jm(r)["code"]) != "replaces" {
			continue
		}
		tg := jm(jm(r)["target"])
		id := js(jm(tg["identifier"])["value"])
		if id == "" {
			id = js(tg["reference"])
			id = id[strings.LastIndexByte(id, '/')+1:]
		}
		replaces = append(replaces, id)
	}
	assert.Equal(t, replaces, p.Replaces)
	assert.Equal(t, js(raw["description"]), p.Description)
}
