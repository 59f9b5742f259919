package nrls_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/nrls"
)

// pointerJSON is a pointer written the way the service writes one, with
// the fields the view reads.
const pointerJSON = `{
  "resourceType": "DocumentReference",
  "id": "RNR-7d1f",
  "status": "current",
  "docStatus": "final",
  "type": {"coding": [{"system": "http://snomed.info/sct", "code": "736253002", "display": "Mental health crisis plan"}]},
  "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "734163000", "display": "Care plan"}]}],
  "subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9490000019"}},
  "date": "2025-02-03T10:15:00+00:00",
  "author": [{"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Organization/Y10001"}}],
  "custodian": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RNR"}},
  "relatesTo": [
    {"code": "replaces", "target": {"identifier": {"value": "RNR-5a0c"}}},
    {"code": "appends", "target": {"identifier": {"value": "RNR-9999"}}},
    {"code": "replaces", "target": {"reference": "DocumentReference/RNR-6b1d"}}
  ],
  "description": "Agreed at review",
  "securityLabel": [
    {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R", "display": "restricted"}]},
    {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "V", "display": "very restricted"}]},
    {"coding": [{"system": "urn:other", "code": "U"}]}
  ],
  "content": [{
    "attachment": {"contentType": "application/pdf", "url": "ssp://north.shcr.example/records/7d1f", "title": "Crisis plan"},
    "format": {"system": "https://fhir.nhs.uk/England/CodeSystem/England-NRLFormatCode", "code": "urn:nhs-ic:unstructured", "display": "Unstructured Document"},
    "extension": [
      {"url": "https://fhir.nhs.uk/England/StructureDefinition/Extension-England-ContentStability",
       "valueCodeableConcept": {"coding": [{"system": "https://fhir.nhs.uk/England/CodeSystem/England-NRLContentStability", "code": "static", "display": "Static"}]}},
      {"url": "https://fhir.nhs.uk/England/StructureDefinition/Extension-England-NRLRetrievalMechanism",
       "valueCodeableConcept": {"coding": [{"system": "https://fhir.nhs.uk/England/CodeSystem/England-NRLRetrievalMechanism", "code": "SSP", "display": "Spine Secure Proxy"}]}}
    ]
  }],
  "context": {
    "practiceSetting": {"coding": [{"system": "http://snomed.info/sct", "code": "788002001", "display": "Adult mental health service"}]},
    "related": [
      {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RNR"}},
      {"identifier": {"system": "https://fhir.nhs.uk/Id/nhsSpineASID", "value": "900000000101"}}
    ]
  }
}`

func TestParsePointerView(t *testing.T) {
	p, err := nrls.ParsePointer([]byte(pointerJSON))
	require.NoError(t, err)
	assert.Equal(t, "RNR-7d1f", p.ID)
	assert.Equal(t, testNHS, p.NHSNumber)
	assert.Equal(t, shcrkit.ODSCode("RNR"), p.Custodian)
	assert.Equal(t, shcrkit.ODSCode("Y10001"), p.Author, "Organization/ prefix dropped")
	assert.Equal(t, nrls.Concept{Code: "736253002", Display: "Mental health crisis plan"}, p.Type)
	assert.Equal(t, nrls.Concept{Code: "734163000", Display: "Care plan"}, p.Category)
	assert.Equal(t, "ssp://north.shcr.example/records/7d1f", p.URL)
	assert.Equal(t, "application/pdf", p.ContentType)
	assert.Equal(t, nrls.FormatUnstructured, p.Format)
	assert.Equal(t, nrls.StabilityStatic, p.Stability)
	assert.Equal(t, nrls.RetrievalSSP, p.Retrieval)
	assert.Equal(t, nrls.Concept{Code: "788002001", Display: "Adult mental health service"}, p.PracticeSetting)
	assert.Equal(t, "900000000101", p.ProviderASID, "the ASID, not the other related identifier")
	assert.Equal(t, time.Date(2025, 2, 3, 10, 15, 0, 0, time.UTC), p.Date.UTC())
	assert.Equal(t, "current", p.Status)
	assert.Equal(t, shcrkit.ConfidentialityVeryRestricted, p.Confidentiality, "the most restrictive label wins")
	assert.True(t, p.Confidentiality.Restricted())
	assert.Equal(t, "V", p.Confidentiality.Code())
	assert.Equal(t, []string{"RNR-5a0c", "RNR-6b1d"}, p.Replaces, "replaces only, by identifier or reference")
	assert.Equal(t, "Crisis plan", p.Title)
	assert.Equal(t, "Agreed at review", p.Description)
	assert.True(t, p.IsSSP())
	rt, ok := nrls.LookupType(p.Type.Code)
	require.True(t, ok)
	assert.Equal(t, nrls.CategoryCarePlan, rt.Category)
}

// TestConfidentialityFailsClosed checks that a confidentiality label the
// view cannot read never makes a pointer look unrestricted.
func TestConfidentialityFailsClosed(t *testing.T) {
	label := func(system, code string) string {
		return `{"resourceType":"DocumentReference","status":"current","securityLabel":[` +
			`{"coding":[{"system":"` + codesystem.Confidentiality + `","code":"N"}]},` +
			`{"coding":[{"system":"` + system + `","code":"` + code + `"}]}]}`
	}
	tests := []struct {
		name, system, code string
		want               shcrkit.Confidentiality
	}{
		{"known code", codesystem.Confidentiality, "R", shcrkit.ConfidentialityRestricted},
		{"unknown code", codesystem.Confidentiality, "X", shcrkit.ConfidentialityVeryRestricted},
		{"lower-case code", codesystem.Confidentiality, "v", shcrkit.ConfidentialityVeryRestricted},
		{"code with a space", codesystem.Confidentiality, "V ", shcrkit.ConfidentialityVeryRestricted},
		{"empty code", codesystem.Confidentiality, "", shcrkit.ConfidentialityVeryRestricted},
		{"older FHIR system", "http://hl7.org/fhir/v3/Confidentiality", "V", shcrkit.ConfidentialityVeryRestricted},
		{"OID system", "urn:oid:2.16.840.1.113883.5.25", "R", shcrkit.ConfidentialityRestricted},
		{"another system", "urn:other", "V", shcrkit.ConfidentialityUnrestricted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := nrls.ParsePointer([]byte(label(tt.system, tt.code)))
			require.NoError(t, err)
			assert.Equal(t, tt.want, p.Confidentiality)
		})
	}
}

func TestParsePointerIsLenient(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		check func(t *testing.T, p nrls.Pointer)
	}{
		{"bare pointer", `{"resourceType":"DocumentReference","status":"current","content":[]}`, func(t *testing.T, p nrls.Pointer) {
			assert.Empty(t, p.ID)
			assert.Empty(t, p.NHSNumber)
			assert.Empty(t, p.Confidentiality)
			assert.True(t, p.Date.IsZero())
			assert.False(t, p.IsSSP())
		}},
		{"invalid NHS number", `{"resourceType":"DocumentReference","status":"current","content":[],
			"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"1234567890"}}}`,
			func(t *testing.T, p nrls.Pointer) { assert.Empty(t, p.NHSNumber) }},
		{"NHS number of another system", `{"resourceType":"DocumentReference","status":"current","content":[],
			"subject":{"identifier":{"system":"urn:other","value":"9490000019"}}}`,
			func(t *testing.T, p nrls.Pointer) { assert.Empty(t, p.NHSNumber) }},
		{"date only", `{"resourceType":"DocumentReference","status":"current","content":[],"date":"2024-05-06"}`,
			func(t *testing.T, p nrls.Pointer) {
				assert.Equal(t, time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC), p.Date)
			}},
		{"unreadable date", `{"resourceType":"DocumentReference","status":"current","content":[],"date":"soon"}`,
			func(t *testing.T, p nrls.Pointer) { assert.True(t, p.Date.IsZero()) }},
		{"codes with stray spaces", `{"resourceType":"DocumentReference","status":" current","docStatus":"preliminary ","content":[],
			"relatesTo":[{"code":"replaces ","target":{"identifier":{"value":"RNR-1"}}}]}`,
			func(t *testing.T, p nrls.Pointer) {
				assert.Equal(t, "current", p.Status)
				assert.Equal(t, fhir.CompositionStatusPreliminary, *p.Resource.DocStatus)
				assert.Equal(t, []string{"RNR-1"}, p.Replaces)
			}},
		{"docStatus outside its value set", `{"resourceType":"DocumentReference","status":"current","docStatus":"draft","content":[]}`,
			func(t *testing.T, p nrls.Pointer) { assert.Nil(t, p.Resource.DocStatus) }},
		{"ssp URL without extension", `{"resourceType":"DocumentReference","status":"current",
			"content":[{"attachment":{"url":"SSP://host/x"}}]}`,
			func(t *testing.T, p nrls.Pointer) {
				assert.Empty(t, p.Retrieval)
				assert.True(t, p.IsSSP())
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := nrls.ParsePointer([]byte(tt.json))
			require.NoError(t, err)
			tt.check(t, p)
		})
	}
}

func TestParsePointerRejectsNonPointers(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":            `{"resourceType":`,
		"array":               `[1,2]`,
		"outcome":             `{"resourceType":"OperationOutcome","issue":[]}`,
		"no resource type":    `{"id":"RNR-1"}`,
		"unknown status code": `{"resourceType":"DocumentReference","status":"archived"}`,
		"unknown relatesTo":   `{"resourceType":"DocumentReference","status":"current","relatesTo":[{"code":"replaced-by"}]}`,
		"wrong field type":    `{"resourceType":"DocumentReference","status":"current","content":"9490000019"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := nrls.ParsePointer([]byte(body))
			require.Error(t, err)
			assert.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
			assert.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
			assert.NotContains(t, err.Error(), "9490000019")
		})
	}
}

func TestPointerFromFollowsResource(t *testing.T) {
	p := mustPointer(t, sspSpec())
	p.Resource.Description = s("changed")
	assert.Equal(t, "Plan agreed with the patient", p.Description, "the view is not live")
	assert.Equal(t, "changed", nrls.PointerFrom(p.Resource).Description)
}

func TestPointerJSONKeepsResource(t *testing.T) {
	p := mustPointer(t, sspSpec())
	b, err := json.Marshal(p)
	require.NoError(t, err)
	var back struct {
		Resource json.RawMessage `json:"resource"`
		URL      string          `json:"url"`
	}
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, sspURL, back.URL)
	q, err := nrls.ParsePointer(back.Resource)
	require.NoError(t, err)
	assert.Equal(t, p.Type, q.Type)
}

func TestCodes(t *testing.T) {
	for _, f := range []nrls.Format{nrls.FormatContactDetails, nrls.FormatUnstructured, nrls.FormatStructured} {
		assert.NotEmpty(t, nrls.FormatDisplay(f), f)
	}
	assert.Empty(t, nrls.FormatDisplay("urn:x"))
	for _, st := range []nrls.Stability{nrls.StabilityStatic, nrls.StabilityDynamic} {
		assert.NotEmpty(t, nrls.StabilityDisplay(st))
	}
	assert.Empty(t, nrls.StabilityDisplay("Static"), "codes are lower case")
	for _, m := range []nrls.RetrievalMechanism{nrls.RetrievalSSP, nrls.RetrievalDirect, nrls.RetrievalLDR,
		nrls.RetrievalInContext, nrls.RetrievalNDR, nrls.RetrievalDirectInContext} {
		assert.NotEmpty(t, nrls.RetrievalDisplay(m), m)
	}
	assert.Empty(t, nrls.RetrievalDisplay("ssp"))
}
