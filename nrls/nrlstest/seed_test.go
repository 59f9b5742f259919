package nrlstest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/synthetic"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func TestPopulation(t *testing.T) {
	pop := synthetic.Numbers()
	require.Len(t, pop, 58)
	seen := map[shcrkit.NHSNumber]bool{}
	for i, nhs := range pop {
		assert.True(t, nhs.Valid(), nhs)
		assert.True(t, strings.HasPrefix(string(nhs), "949"), "synthetic range")
		assert.False(t, seen[nhs], "repeated %s", nhs)
		seen[nhs] = true
		if i > 0 {
			assert.Greater(t, string(nhs), string(pop[i-1]), "in the order of the synthetic range")
		}
	}
	for _, nhs := range []shcrkit.NHSNumber{pdstest.Patients.Normal, pdstest.Patients.Restricted, pdstest.Patients.VeryRestricted,
		pdstest.Patients.Deceased, pdstest.Patients.Superseded, pdstest.Patients.Surviving, pdstest.Patients.Invalidated,
		pdstest.Patients.Redacted, pdstest.Patients.Minimal} {
		assert.True(t, seen[nhs], nhs)
	}
	assert.True(t, pdstest.Patients.Unknown.Valid())
	assert.False(t, seen[pdstest.Patients.Unknown])
	pop[0] = ""
	assert.Equal(t, pdstest.Patients.Normal, synthetic.Numbers()[0], "a fresh copy each call")
}

// TestSeedPointers checks the seed data covers what tests of the journey
// need.
func TestSeedPointers(t *testing.T) {
	srv := newServer(t)
	bases := map[shcrkit.ODSCode]synthetic.Region{}
	for _, r := range synthetic.Regions() {
		bases[r.ShCR] = r
	}
	custodians := map[shcrkit.ODSCode]int{}
	types := map[string]bool{}
	retrieval := map[nrls.RetrievalMechanism]bool{}
	formats := map[nrls.Format]bool{}
	labels := map[shcrkit.Confidentiality]bool{}
	total := 0
	for _, nhs := range synthetic.Numbers() {
		for _, p := range srv.Pointers(nhs) {
			total++
			require.NoError(t, p.Validate(), p.ID)
			assert.Equal(t, nhs, p.NHSNumber)
			assert.True(t, strings.HasPrefix(p.ID, string(p.Custodian)+"-"))
			c, ok := bases[p.Custodian]
			require.True(t, ok, "custodian %s is a seed custodian", p.Custodian)
			custodians[p.Custodian]++
			types[p.Type.Code] = true
			retrieval[p.Retrieval] = true
			formats[p.Format] = true
			labels[p.Confidentiality] = true
			host := strings.TrimPrefix(c.ShCRBaseURL, "https://")
			if p.Retrieval == nrls.RetrievalSSP {
				assert.Equal(t, "ssp://"+host+"/records/"+p.ID, p.URL)
				assert.Equal(t, c.ShCRASID, p.ProviderASID)
			} else {
				assert.Equal(t, c.ShCRBaseURL+"/records/"+p.ID, p.URL)
			}
			assert.False(t, p.Date.IsZero())
			assert.NotContains(t, p.URL, string(nhs), "no patient identifier in a URL")
		}
	}
	assert.GreaterOrEqual(t, total, 40)
	assert.Len(t, custodians, 4)
	assert.GreaterOrEqual(t, len(types), 8)
	for _, m := range []nrls.RetrievalMechanism{nrls.RetrievalSSP, nrls.RetrievalDirect, nrls.RetrievalInContext} {
		assert.True(t, retrieval[m], m)
	}
	for _, f := range []nrls.Format{nrls.FormatUnstructured, nrls.FormatStructured, nrls.FormatContactDetails} {
		assert.True(t, formats[f], f)
	}
	assert.True(t, labels[shcrkit.ConfidentialityVeryRestricted])
	assert.True(t, labels[shcrkit.ConfidentialityRestricted])

	normal := srv.Pointers(pdstest.Patients.Normal)
	assert.Len(t, normal, 5)
	assert.Empty(t, srv.Pointers(pdstest.Patients.Minimal))
	assert.Empty(t, srv.Pointers(pdstest.Patients.Unknown))
	assert.Len(t, srv.Pointers(pdstest.Patients.Superseded), 1, "a pointer still filed under the old number")
	assert.NotEmpty(t, srv.Pointers(pdstest.Patients.Surviving))
}

func TestWithoutSeed(t *testing.T) {
	srv := newServer(t, nrlstest.WithoutSeed())
	assert.Empty(t, srv.Pointers(pdstest.Patients.Normal))
}

func TestSeedIsTheSameEachTime(t *testing.T) {
	a, b := newServer(t), newServer(t)
	for _, nhs := range synthetic.Numbers() {
		pa, pb := a.Pointers(nhs), b.Pointers(nhs)
		require.Len(t, pb, len(pa))
		for i := range pa {
			assert.Equal(t, pa[i].ID, pb[i].ID)
			assert.Equal(t, pa[i].URL, pb[i].URL)
			assert.Equal(t, pa[i].Date, pb[i].Date)
		}
	}
}
