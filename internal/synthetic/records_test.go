package synthetic_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shcrkit/shcrkit/internal/synthetic"
)

func TestResources(t *testing.T) {
	for _, typ := range []string{"AllergyIntolerance", "MedicationStatement", "Condition"} {
		res := synthetic.Resources(typ, synthetic.PatientNormal)
		assert.Len(t, res, 2, typ)
		for _, r := range res {
			assert.Equal(t, typ, r["resourceType"])
		}
	}
	assert.Empty(t, synthetic.Resources("Observation", synthetic.PatientNormal), "a type the records do not hold")
	assert.Empty(t, synthetic.Resources("Condition", synthetic.PatientUnknown), "a patient outside the population")
}

func TestPDF(t *testing.T) {
	b := synthetic.PDF("Care plan (draft)", "line one", "naïve")
	assert.True(t, bytes.HasPrefix(b, []byte("%PDF-1.4\n")))
	assert.True(t, bytes.HasSuffix(b, []byte("%%EOF\n")))
	assert.Contains(t, string(b), `(Care plan \(draft\)) Tj`, "parentheses are escaped")
	assert.Contains(t, string(b), "(na?ve) Tj", "text outside printable ASCII is replaced")
}
