package shcr_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// WithTokenSource gives the endpoints with no access token of their own
// the Remote's; an endpoint's own is kept.
func TestWithTokenSourceIsTheDefaultAccessToken(t *testing.T) {
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		writeFHIR(w, map[string]any{"resourceType": "Composition"})
	})
	eps := []shcr.Endpoint{
		{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL + "/north"},
		{Name: "south", Custodians: []shcrkit.ODSCode{"RS1"}, BaseURL: p.URL + "/south",
			TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "south-own-123"})},
	}
	dir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: eps})
	require.NoError(t, err)
	r, err := shcr.NewRemote(dir, shcr.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "default-456"})))
	require.NoError(t, err)
	for _, c := range []struct {
		custodian shcrkit.ODSCode
		path      string
		want      string
	}{{"RN1", "/north/Composition/c1", "Bearer default-456"}, {"RS1", "/south/Composition/c1", "Bearer south-own-123"}} {
		_, err := r.Fetch(context.Background(), fetchReq(t, c.custodian, p.URL+c.path, "application/fhir+json", ""))
		require.NoError(t, err)
		reqs := p.requests()
		h := reqs[len(reqs)-1].Header
		assert.Equal(t, c.want, h.Get("Authorization"), c.custodian)
		assert.NotEmpty(t, h.Get(identitytoken.DefaultHeader), "the identity token moves to its own header beside an access token")
	}
}

// WithEndUserOrganisation pins the Remote to one organisation: a
// retrieval for a requester of another is refused before anything is
// sent.
func TestWithEndUserOrganisationRefusesAnotherOrganisation(t *testing.T) {
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		writeFHIR(w, map[string]any{"resourceType": "Composition"})
	})
	eps := []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL + "/fhir"}}
	dir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: eps})
	require.NoError(t, err)

	_, err = shcr.NewRemote(dir, shcr.WithEndUserOrganisation("not an ODS code"))
	require.ErrorIs(t, err, shcrkit.ErrInvalidOption)

	req := fetchReq(t, "RN1", p.URL+"/fhir/Composition/c1", "application/fhir+json", "")
	other, err := shcr.NewRemote(dir, shcr.WithEndUserOrganisation("Y12345"))
	require.NoError(t, err)
	_, err = other.Fetch(context.Background(), req)
	var mismatch *shcrkit.IdentityMismatchError
	require.True(t, errors.As(err, &mismatch), "%v", err)
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	assert.Empty(t, p.requests(), "nothing is sent")

	same, err := shcr.NewRemote(dir, shcr.WithEndUserOrganisation(req.Requester.Organisation))
	require.NoError(t, err)
	_, err = same.Fetch(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, string(req.Requester.Organisation), p.requests()[0].Header.Get("NHSD-End-User-Organisation-ODS"))
}
