package pds_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

const relatedBundle = `{"resourceType": "Bundle", "type": "searchset", "total": 2, "entry": [
 {"fullUrl": "https://pds.example.test/Patient/9490000019/RelatedPerson/R1", "resource": {
   "resourceType": "RelatedPerson", "id": "R1", "active": true,
   "patient": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9490000116"}},
   "relationship": [{"coding": [{"system": "http://hl7.org/fhir/ValueSet/relatedperson-relationshiptype", "code": "SPS"},
     {"system": "http://hl7.org/fhir/ValueSet/relatedperson-relationshiptype", "code": "N"}]}]}},
 {"fullUrl": "https://pds.example.test/Patient/9490000019/RelatedPerson/R2", "resource": {
   "resourceType": "RelatedPerson", "id": "R2", "active": false, "patient": {},
   "name": [{"use": "usual", "given": ["Nell"], "family": "Ashby"}],
   "address": [{"use": "home", "line": ["4 Well Lane"], "postalCode": "SP1 1AA"}],
   "telecom": [{"system": "phone", "value": "01632 960777"}],
   "relationship": [{"coding": [{"system": "https://fhir.nhs.uk/R4/CodeSystem/UKCore-AdditionalRelatedPersonRole", "code": "Guardian"}]}]}}
]}`

func TestRelatedPersonsView(t *testing.T) {
	f := newFixture(t, reply(http.StatusOK, relatedBundle))
	rs, err := f.client(t).RelatedPersons(context.Background(), "9490000019")
	require.NoError(t, err)
	require.Len(t, rs, 2)
	assert.Equal(t, "/personal-demographics/FHIR/R4/Patient/9490000019/RelatedPerson", f.requests()[0].URL.Path)

	assert.Equal(t, "R1", *rs[0].Resource.Id)
	assert.Equal(t, shcrkit.NHSNumber("9490000116"), rs[0].NHSNumber())
	assert.Equal(t, []string{"SPS", "N"}, rs[0].Relationships())
	assert.True(t, rs[0].Active())
	_, ok := rs[0].Name()
	assert.False(t, ok)
	assert.Empty(t, rs[0].Resource.Address)

	assert.Empty(t, rs[1].NHSNumber())
	assert.False(t, rs[1].Active())
	n, ok := rs[1].Name()
	require.True(t, ok)
	assert.Equal(t, "Nell Ashby", n.String())
	require.NotEmpty(t, rs[1].Resource.Address)
	assert.Equal(t, "SP1 1AA", *rs[1].Resource.Address[0].PostalCode)
	assert.Equal(t, "01632 960777", rs[1].Telecom()[0].Value)
	assert.Equal(t, []string{"Guardian"}, rs[1].Relationships())
}

func TestRelatedPersonsAnswers(t *testing.T) {
	tests := []struct {
		name    string
		answer  http.HandlerFunc
		n       int
		wantErr error
	}{
		{"none", reply(200, `{"resourceType":"Bundle","type":"searchset","total":0}`), 0, nil},
		{"not found", reply(404, outcomeJSON("not-found", "RESOURCE_NOT_FOUND", "")), 0, shcrkit.ErrNotFound},
		{"invalidated", reply(404, outcomeJSON("processing", "INVALIDATED_RESOURCE", "")), 0, shcrkit.ErrInvalidated},
		{"entry of the wrong type", reply(200, searchsetJSON(entryJSON("1", patientJSON("9490000019", "U", "1")))), 0, shcrkit.ErrMalformedResponse},
		{"not JSON", reply(200, "not json"), 0, shcrkit.ErrMalformedResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.answer)
			rs, err := f.client(t).RelatedPersons(context.Background(), "9490000019")
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.NotNil(t, rs)
			assert.Len(t, rs, tt.n)
		})
	}
}

func TestRelatedPersonsAgainstFake(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	rs, err := c.RelatedPersons(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	assert.Equal(t, pdstest.SyntheticNHSNumber(10), rs[0].NHSNumber())
	assert.Contains(t, rs[0].Relationships(), "N")
	assert.NotEmpty(t, rs[1].Resource.Address)

	rs, err = c.RelatedPersons(ctx, pdstest.Patients.Restricted)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Empty(t, rs[0].Resource.Address, "a restricted patient's related people come without contact details")
	assert.Empty(t, rs[0].Telecom())

	rs, err = c.RelatedPersons(ctx, pdstest.SyntheticNHSNumber(30))
	require.NoError(t, err)
	assert.Empty(t, rs)

	_, err = c.RelatedPersons(ctx, pdstest.Patients.Invalidated)
	assert.ErrorIs(t, err, shcrkit.ErrInvalidated)
	_, err = c.RelatedPersons(ctx, pdstest.Patients.Unknown)
	assert.ErrorIs(t, err, shcrkit.ErrNotFound)
}
