package nrls_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit/nrls"
)

// TestTypesHoldsEveryServiceType checks the registry against the record
// types and categories the service documents.
func TestTypesHoldsEveryServiceType(t *testing.T) {
	want := map[string]string{ // type -> category
		"736253002":        "734163000",
		"887701000000100":  "734163000",
		"861421000000109":  "734163000",
		"1382601000000107": "734163000",
		"325691000000100":  "734163000",
		"736373009":        "734163000",
		"16521000000101":   "734163000",
		"736366004":        "734163000",
		"735324008":        "734163000",
		"2181441000000107": "734163000",
		"1363501000000100": "1102421000000108",
		"824321000000109":  "823651000000106",
		"749001000000101":  "419891008",
		"887181000000106":  "716931000000107",
	}
	for code, cat := range want {
		rt, ok := nrls.LookupType(code)
		require.True(t, ok, code)
		assert.Equal(t, code, rt.Code)
		assert.NotEmpty(t, rt.Display)
		assert.Equal(t, cat, rt.Category.Code, code)
		assert.NotEmpty(t, rt.Category.Display)
		c, ok := nrls.LookupCategory(rt.Category.Code)
		require.True(t, ok)
		assert.Equal(t, rt.Category, c)
		assert.True(t, nrls.DisplayMatches(rt, rt.Display))
		assert.Equal(t, "http://snomed.info/sct|"+code, rt.Token())
		assert.Equal(t, nrls.Concept{Code: code, Display: rt.Display}, rt.Concept)
	}
	assert.GreaterOrEqual(t, len(nrls.RecordTypes()), len(want))
}

func TestTypesLookup(t *testing.T) {
	rt, ok := nrls.LookupType("http://snomed.info/sct|1363501000000100")
	require.True(t, ok, "search tokens are accepted")
	assert.Equal(t, nrls.CategoryObservations, rt.Category)
	assert.True(t, nrls.DisplayMatches(rt, "NEWS2 chart"))
	assert.False(t, nrls.DisplayMatches(rt, "News2"))

	_, ok = nrls.LookupType("410970009")
	assert.False(t, ok)
	_, ok = nrls.LookupCategory("410970009")
	assert.False(t, ok)

	acp, _ := nrls.LookupType(nrls.TypeAdvanceCarePlan)
	assert.True(t, nrls.DisplayMatches(acp, "Advanced care plan"))
	assert.True(t, nrls.DisplayMatches(acp, "Advance care plan"))

	c, ok := nrls.LookupCategory("721981007")
	require.True(t, ok)
	assert.Equal(t, "Diagnostic studies report", c.Display)
	assert.Equal(t, "http://snomed.info/sct|721981007", c.Token())
	_, ok = nrls.LookupCategory(nrls.TypeRespectForm)
	assert.False(t, ok, "a type is not a category")

	var care int
	for _, rt := range nrls.RecordTypes() {
		if rt.Category == nrls.CategoryCarePlan {
			care++
		}
	}
	assert.Equal(t, 10, care)
	assert.Len(t, nrls.Categories(), 8)
}

func TestTypesReturnsCopies(t *testing.T) {
	all := nrls.RecordTypes()
	all[0].Display = "changed"
	cats := nrls.Categories()
	cats[0].Display = "changed"
	rt, _ := nrls.LookupType(all[0].Code)
	assert.NotEqual(t, "changed", rt.Display)
	assert.Equal(t, "Care plan", nrls.Categories()[0].Display)
}
