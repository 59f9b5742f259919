package pdstest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPatientCarriesManagingOrganisationAndMultipleBirth: a record that
// has them answers with managingOrganization and multipleBirthInteger, as
// the service does; a restricted record hides the organisation with the
// other location details.
func TestPatientCarriesManagingOrganisationAndMultipleBirth(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	a := call(t, srv, http.MethodGet, "/Patient/"+pdstest.Patients.Normal.String(), "")
	require.Equal(t, http.StatusOK, a.status)
	org, ok := a.body["managingOrganization"].(map[string]any)
	require.True(t, ok, "managingOrganization")
	gp := a.body["generalPractitioner"].([]any)[0].(map[string]any)["identifier"].(map[string]any)["value"]
	assert.Equal(t, gp, org["identifier"].(map[string]any)["value"], "the GP practice manages the record")
	assert.Equal(t, "Organization", org["type"])
	assert.EqualValues(t, 1, a.body["multipleBirthInteger"])

	a = call(t, srv, http.MethodGet, "/Patient/"+pdstest.Patients.Restricted.String(), "")
	require.Equal(t, http.StatusOK, a.status)
	assert.NotContains(t, a.body, "managingOrganization")
	assert.NotContains(t, a.body, "multipleBirthInteger", "recorded only where the record has it")

	for _, bad := range []pdstest.Person{
		{NHSNumber: pdstest.SyntheticNHSNumber(900), Family: "X", BirthDate: "2000-01-01", MultipleBirth: 12},
		{NHSNumber: pdstest.SyntheticNHSNumber(901), Family: "X", BirthDate: "2000-01-01", ManagingOrganization: "not ods"},
	} {
		assert.Error(t, srv.AddPatient(bad))
	}
}

func TestRelatedPersonAnswersCarryETag(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	path := "/Patient/" + pdstest.Patients.Normal.String()
	a := call(t, srv, http.MethodGet, path+"/RelatedPerson", "")
	require.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, `W/"1"`, a.header.Get("ETag"))
	entries := a.body["entry"].([]any)
	require.NotEmpty(t, entries)
	full := entries[0].(map[string]any)["fullUrl"].(string)
	require.True(t, strings.HasPrefix(full, srv.URL+path+"/RelatedPerson/"), full)
	one := call(t, srv, http.MethodGet, strings.TrimPrefix(full, srv.URL), "")
	assert.Equal(t, http.StatusOK, one.status)
	assert.Equal(t, "RelatedPerson", one.body["resourceType"])
	assert.Equal(t, `W/"1"`, one.header.Get("ETag"))
	missing := call(t, srv, http.MethodGet, path+"/RelatedPerson/NOSUCHID", "")
	assert.Equal(t, http.StatusNotFound, missing.status)
	assert.Equal(t, "RESOURCE_NOT_FOUND", missing.code())
}

// TestMetadata: the capability statement needs no token and no
// X-Request-ID, and takes the address the client called.
func TestMetadata(t *testing.T) {
	srv := pdstest.NewServer(pdstest.WithTokenValidator(func(string) error { return assert.AnError }))
	defer srv.Close()
	a := call(t, srv, http.MethodGet, "/metadata", "", "X-Request-ID", "", "X-Forwarded-Host", "sandbox.test:8700")
	require.Equal(t, http.StatusOK, a.status, string(a.raw))
	assert.Equal(t, "CapabilityStatement", a.body["resourceType"])
	assert.Equal(t, "http://sandbox.test:8700"+pdsPath, a.body["implementation"].(map[string]any)["url"])
	assert.Equal(t, http.StatusUnauthorized, call(t, srv, http.MethodGet, "/Patient/"+pdstest.Patients.Normal.String(), "").status)
	assert.Equal(t, http.StatusMethodNotAllowed, call(t, srv, http.MethodPost, "/metadata", "{}").status)
}
