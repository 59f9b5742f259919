package fhirredact_test

import (
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirredact"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestElements(t *testing.T) {
	in := `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"p","address":[{"line":["1 Road"]}],
		"telecom":[{"value":"01632 960000"}],"generalPractitioner":[{"reference":"Organization/Y1"}],"contact":[{}],
		"contained":[{"resourceType":"RelatedPerson","address":[{}]}],"birthDate":"1990-01-01"}}],"total":1}`
	out, err := fhirredact.Elements([]byte(in), []string{"address", "telecom", "contacts", "general-practitioner"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"p",
		"contained":[{"resourceType":"RelatedPerson"}],"birthDate":"1990-01-01"}}],"total":1}`, string(out))

	// The narrative shows what was removed, and a primitive's extensions
	// travel beside it: both go; a resource that loses nothing keeps its
	// narrative.
	in = `{"resourceType":"Bundle","entry":[
		{"resource":{"resourceType":"Patient","text":{"status":"generated","div":"<div>1 Road, 01632 960000</div>"},"birthDate":"1990-01-01",
			"_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1990-01-01T08:30:00Z"}]}}},
		{"resource":{"resourceType":"Condition","text":{"status":"generated","div":"<div>Asthma</div>"}}}]}`
	out, err = fhirredact.Elements([]byte(in), []string{"birth-date"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient"}},
		{"resource":{"resourceType":"Condition","text":{"status":"generated","div":"<div>Asthma</div>"}}}]}`, string(out))

	_, err = fhirredact.Elements([]byte("%PDF-1.4"), []string{"address"})
	require.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
}
