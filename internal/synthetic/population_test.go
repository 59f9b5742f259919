package synthetic_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/synthetic"
)

func TestSyntheticNHSNumber(t *testing.T) {
	seen := map[shcrkit.NHSNumber]bool{}
	for n := 1; n <= 2000; n++ {
		nhs := synthetic.NHSNumber(n)
		require.True(t, nhs.Valid(), "number %d", n)
		require.Equal(t, "949", nhs.String()[:3])
		require.False(t, seen[nhs], "number %d repeats", n)
		seen[nhs] = true
	}
	assert.Empty(t, synthetic.NHSNumber(0))
	assert.Empty(t, synthetic.NHSNumber(-3))
	assert.Less(t, synthetic.NHSNumber(1).String(), synthetic.NHSNumber(2).String())

	// The well-known numbers are the generator's.
	for n, nhs := range map[int]shcrkit.NHSNumber{
		1: synthetic.PatientNormal, 2: synthetic.PatientRestricted, 3: synthetic.PatientVeryRestricted,
		4: synthetic.PatientDeceased, 5: synthetic.PatientSuperseded, 6: synthetic.PatientSurviving,
		7: synthetic.PatientInvalidated, 8: synthetic.PatientRedacted, 9: synthetic.PatientMinimal, 999: synthetic.PatientUnknown,
	} {
		assert.Equal(t, synthetic.NHSNumber(n), nhs, "number %d", n)
	}
}

func TestRegionsShCRs(t *testing.T) {
	rs := synthetic.Regions()
	require.Len(t, rs, 4)
	asids := map[string]bool{}
	for _, r := range rs {
		assert.True(t, r.ShCR.Valid(), r.ShCR)
		assert.NotEmpty(t, r.ShCRName)
		assert.NotEmpty(t, r.Name)
		assert.True(t, strings.HasPrefix(r.ShCRBaseURL, "https://") && strings.Contains(r.ShCRBaseURL, ".example"), r.ShCRBaseURL)
		assert.Len(t, r.ShCRASID, 12)
		assert.False(t, asids[r.ShCRASID])
		asids[r.ShCRASID] = true
	}
}

func TestPopulation(t *testing.T) {
	pop := synthetic.Population[string]()
	require.GreaterOrEqual(t, len(pop), 50)

	regions := map[string]synthetic.Region{}
	practices := map[shcrkit.ODSCode]string{}
	for _, r := range synthetic.Regions() {
		require.True(t, r.ShCR.Valid())
		require.NotEmpty(t, r.Practices)
		regions[r.Name] = r
		for _, p := range r.Practices {
			require.True(t, p.ODS.Valid())
			practices[p.ODS] = r.Name
		}
	}
	require.GreaterOrEqual(t, len(regions), 3)

	byNumber := map[shcrkit.NHSNumber]synthetic.Person[string]{}
	surnames := map[string]int{}
	kinds := map[string]int{}
	for _, p := range pop {
		require.True(t, p.NHSNumber.Valid())
		require.Equal(t, byte('9'), p.NHSNumber.String()[0])
		_, dup := byNumber[p.NHSNumber]
		require.False(t, dup, "NHS numbers are unique")
		byNumber[p.NHSNumber] = p
		switch {
		case p.SupersededBy != "":
			kinds["superseded"]++
			continue
		case p.Invalidated:
			kinds["invalidated"]++
			continue
		case p.DeathDate != "":
			kinds["deceased"]++
		}
		if p.Redacted {
			kinds["redacted"]++
		} else {
			kinds[p.Confidentiality.Code()]++
		}
		surnames[p.Family]++
		if p.GP != "" {
			assert.Equal(t, p.Region, practices[p.GP], "a patient's GP is in their region")
			assert.Equal(t, regions[p.Region].ShCR, p.HomeShCR)
		}
	}
	assert.GreaterOrEqual(t, surnames[synthetic.SharedSurname], 4)
	assert.Equal(t, 1, kinds["superseded"])
	assert.Equal(t, 1, kinds["invalidated"])
	assert.GreaterOrEqual(t, kinds["deceased"], 1)
	assert.Equal(t, 1, kinds[shcrkit.ConfidentialityRestricted.Code()])
	assert.Equal(t, 1, kinds[shcrkit.ConfidentialityVeryRestricted.Code()])
	assert.Equal(t, 1, kinds["redacted"])
	assert.Equal(t, synthetic.PatientSurviving, byNumber[synthetic.PatientSuperseded].SupersededBy)
	_, unknown := byNumber[synthetic.PatientUnknown]
	assert.False(t, unknown)
	_, found := synthetic.Find[string](synthetic.PatientUnknown)
	assert.False(t, found)
	deceased, found := synthetic.Find[string](synthetic.PatientDeceased)
	require.True(t, found)
	assert.Equal(t, "2023-02-11", deceased.DeathDate)

	// Population returns a copy.
	pop[0].Given[0] = "Changed"
	assert.NotEqual(t, "Changed", synthetic.Population[string]()[0].Given[0])
}
