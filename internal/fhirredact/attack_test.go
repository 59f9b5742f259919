package fhirredact_test

import (
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirredact"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The secret address and telephone number must not survive redaction
// wherever they sit in the document.
const (
	secretLine  = "1 Hidden Road"
	secretPhone = "01632 960999"
)

func TestElementsRemovesTheFieldWhereverItSits(t *testing.T) {
	addr := `{"line":["` + secretLine + `"]}`
	tel := `{"value":"` + secretPhone + `"}`
	for name, in := range map[string]string{
		// encoding/json reads "ResourceType" as resourceType (the
		// consumer's decodePage accepts it); the redaction must not skip it.
		"resourceType in another case": `{"ResourceType":"CarePlan","address":[` + addr + `]}`,
		"entry without resourceType":   `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"id":"x","address":[` + addr + `]}}]}`,
		"contact address and telecom":  `{"resourceType":"Patient","contact":[{"address":` + addr + `,"telecom":[` + tel + `]}]}`,
		"organization contact":         `{"resourceType":"Organization","contact":[{"address":` + addr + `}]}`,
		"key in another case":          `{"resourceType":"Patient","Address":[` + addr + `],"TELECOM":[` + tel + `]}`,
		"extension valueAddress":       `{"resourceType":"Patient","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthPlace","valueAddress":` + addr + `}]}`,
		"extension valueContactPoint":  `{"resourceType":"Patient","extension":[{"url":"u","valueContactPoint":` + tel + `}]}`,
		"contained narrative":          `{"resourceType":"Patient","text":{"status":"generated","div":"<div>` + secretLine + `</div>"},"contained":[{"resourceType":"RelatedPerson","address":[` + addr + `]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			out, err := fhirredact.Elements([]byte(in), []string{"address", "telecom"})
			if err != nil {
				require.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
				assert.Nil(t, out)
				return
			}
			assert.NotContains(t, string(out), secretLine)
			assert.NotContains(t, string(out), secretPhone)
		})
	}
}

func TestElementsChoiceTypeField(t *testing.T) {
	in := `{"resourceType":"Patient","deceasedDateTime":"2020-01-01T00:00:00Z","multipleBirthInteger":2}`
	out, err := fhirredact.Elements([]byte(in), []string{"deceased", "multiple-birth"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"resourceType":"Patient"}`, string(out))
}

func TestElementsFailsClosedOnWhatIsNotAResource(t *testing.T) {
	for _, in := range []string{
		`"` + secretLine + `"`, `null`, `[]`, `{"address":[{"line":["` + secretLine + `"]}]}`,
		`{"resourceType":7,"address":[]}`,
		`{"resourceType":"Patient"} {"address":[{"line":["` + secretLine + `"]}]}`,
		strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
	} {
		out, err := fhirredact.Elements([]byte(in), []string{"address"})
		require.ErrorIs(t, err, shcrkit.ErrMalformedResponse, "%.60s", in)
		assert.Nil(t, out)
	}
}
