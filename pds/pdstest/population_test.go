package pdstest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func TestSyntheticNHSNumber(t *testing.T) {
	seen := map[shcrkit.NHSNumber]bool{}
	for n := 1; n <= 2000; n++ {
		nhs := pdstest.SyntheticNHSNumber(n)
		require.True(t, nhs.Valid(), "number %d", n)
		require.Equal(t, "949", nhs.String()[:3])
		require.False(t, seen[nhs], "number %d repeats", n)
		seen[nhs] = true
	}
	assert.True(t, pdstest.SyntheticNHSNumber(0).IsZero())
	assert.True(t, pdstest.SyntheticNHSNumber(-3).IsZero())
	assert.Less(t, pdstest.SyntheticNHSNumber(1).String(), pdstest.SyntheticNHSNumber(2).String())

	// The well-known numbers are the generator's.
	for n, nhs := range map[int]shcrkit.NHSNumber{
		1: pdstest.PatientNormal, 2: pdstest.PatientRestricted, 3: pdstest.PatientVeryRestricted,
		4: pdstest.PatientDeceased, 5: pdstest.PatientSuperseded, 6: pdstest.PatientSurviving,
		7: pdstest.PatientInvalidated, 8: pdstest.PatientRedacted, 9: pdstest.PatientMinimal, 999: pdstest.PatientUnknown,
		5000: pdstest.CheckPatient,
	} {
		assert.Equal(t, pdstest.SyntheticNHSNumber(n), nhs, "number %d", n)
	}
}

func TestPopulation(t *testing.T) {
	pop := pdstest.Population()
	require.GreaterOrEqual(t, len(pop), 50)

	regions := map[string]pdstest.Region{}
	practices := map[shcrkit.ODSCode]string{}
	for _, r := range pdstest.Regions() {
		require.True(t, r.ShCR.Valid())
		require.NotEmpty(t, r.Practices)
		regions[r.Name] = r
		for _, p := range r.Practices {
			require.True(t, p.ODS.Valid())
			practices[p.ODS] = r.Name
		}
	}
	require.GreaterOrEqual(t, len(regions), 3)

	byNumber := map[shcrkit.NHSNumber]pdstest.Person{}
	surnames := map[string]int{}
	kinds := map[string]int{}
	for _, p := range pop {
		require.True(t, p.NHSNumber.Valid())
		require.Equal(t, byte('9'), p.NHSNumber.String()[0])
		_, dup := byNumber[p.NHSNumber]
		require.False(t, dup, "NHS numbers are unique")
		byNumber[p.NHSNumber] = p
		switch {
		case !p.SupersededBy.IsZero():
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
	assert.GreaterOrEqual(t, surnames[pdstest.SharedSurname], 4)
	assert.Equal(t, 1, kinds["superseded"])
	assert.Equal(t, 1, kinds["invalidated"])
	assert.GreaterOrEqual(t, kinds["deceased"], 1)
	assert.Equal(t, 1, kinds[shcrkit.ConfidentialityRestricted.Code()])
	assert.Equal(t, 1, kinds[shcrkit.ConfidentialityVeryRestricted.Code()])
	assert.Equal(t, 1, kinds["redacted"])
	assert.Equal(t, pdstest.PatientSurviving, byNumber[pdstest.PatientSuperseded].SupersededBy)
	_, unknown := byNumber[pdstest.PatientUnknown]
	assert.False(t, unknown)
	_, found := pdstest.FindPerson(pdstest.PatientUnknown)
	assert.False(t, found)
	deceased, found := pdstest.FindPerson(pdstest.PatientDeceased)
	require.True(t, found)
	assert.Equal(t, "2023-02-11", deceased.DeathDate)

	// Population returns a copy.
	pop[0].Given[0] = "Changed"
	assert.NotEqual(t, "Changed", pdstest.Population()[0].Given[0])
}

func TestAddPatientErrors(t *testing.T) {
	srv := pdstest.NewUnstartedServer(pdstest.WithPopulation(nil))
	tests := []struct {
		name string
		p    pdstest.Person
	}{
		{"invalid NHS number", pdstest.Person{NHSNumber: "9490000010"}},
		{"superseded by itself", pdstest.Person{NHSNumber: pdstest.PatientNormal, SupersededBy: pdstest.PatientNormal}},
		{"superseded by an invalid number", pdstest.Person{NHSNumber: pdstest.PatientNormal, SupersededBy: "123"}},
		{"bad gender", pdstest.Person{NHSNumber: pdstest.PatientNormal, Gender: "mal"}},
		{"bad birth date", pdstest.Person{NHSNumber: pdstest.PatientNormal, BirthDate: "14/03/1984"}},
		{"bad death date", pdstest.Person{NHSNumber: pdstest.PatientNormal, DeathDate: "2023-02-30"}},
		{"bad GP", pdstest.Person{NHSNumber: pdstest.PatientNormal, GP: "y1"}},
		{"bad confidentiality", pdstest.Person{NHSNumber: pdstest.PatientNormal, Confidentiality: shcrkit.Confidentiality(7)}},
		{"relation without relationship", pdstest.Person{NHSNumber: pdstest.PatientNormal, Related: []pdstest.Relation{{Family: "A"}}}},
		{"relation with invalid number", pdstest.Person{NHSNumber: pdstest.PatientNormal, Related: []pdstest.Relation{{Relationship: "SPS", NHSNumber: "1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := srv.AddPatient(tt.p)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), string(tt.p.NHSNumber))
			_, _, ok := srv.Record(tt.p.NHSNumber)
			assert.False(t, ok)
		})
	}
}
