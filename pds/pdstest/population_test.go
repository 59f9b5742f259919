package pdstest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func TestPopulation(t *testing.T) {
	pop := pdstest.Population()
	require.GreaterOrEqual(t, len(pop), 50)
	byNumber := map[shcrkit.NHSNumber]pdstest.Person{}
	for _, p := range pop {
		byNumber[p.NHSNumber] = p
	}
	normal := byNumber[pdstest.Patients.Normal]
	assert.Equal(t, pds.GenderFemale, normal.Gender)
	assert.Equal(t, pdstest.SharedSurname, normal.Family)
	require.Len(t, normal.Related, 2)
	assert.Equal(t, pdstest.SyntheticNHSNumber(10), normal.Related[0].NHSNumber)
	assert.Equal(t, pdstest.Patients.Surviving, byNumber[pdstest.Patients.Superseded].SupersededBy)
	assert.Equal(t, "2023-02-11", byNumber[pdstest.Patients.Deceased].DeathDate)

	// Population returns a copy.
	pop[0].Given[0] = "Changed"
	pop[0].Related[0].Given = []string{"Changed"}
	again := pdstest.Population()
	assert.NotEqual(t, "Changed", again[0].Given[0])
	assert.Empty(t, again[0].Related[0].Given)
}

func TestAddPatientErrors(t *testing.T) {
	srv, err := pdstest.NewUnstartedServer(pdstest.WithPopulation(nil))
	require.NoError(t, err)
	tests := []struct {
		name string
		p    pdstest.Person
	}{
		{"invalid NHS number", pdstest.Person{NHSNumber: "9490000010"}},
		{"superseded by itself", pdstest.Person{NHSNumber: pdstest.Patients.Normal, SupersededBy: pdstest.Patients.Normal}},
		{"superseded by an invalid number", pdstest.Person{NHSNumber: pdstest.Patients.Normal, SupersededBy: "123"}},
		{"bad gender", pdstest.Person{NHSNumber: pdstest.Patients.Normal, Gender: "mal"}},
		{"bad birth date", pdstest.Person{NHSNumber: pdstest.Patients.Normal, BirthDate: "14/03/1984"}},
		{"bad death date", pdstest.Person{NHSNumber: pdstest.Patients.Normal, DeathDate: "2023-02-30"}},
		{"bad GP", pdstest.Person{NHSNumber: pdstest.Patients.Normal, GP: "y1"}},
		{"bad confidentiality", pdstest.Person{NHSNumber: pdstest.Patients.Normal, Confidentiality: shcrkit.Confidentiality(7)}},
		{"relation without relationship", pdstest.Person{NHSNumber: pdstest.Patients.Normal, Related: []pdstest.Relation{{Family: "A"}}}},
		{"relation with invalid number", pdstest.Person{NHSNumber: pdstest.Patients.Normal, Related: []pdstest.Relation{{Relationship: "SPS", NHSNumber: "1"}}}},
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
