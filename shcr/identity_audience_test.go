package shcr_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The aud of an identity token is the provider's service root, which the
// provider states in its canonical form and compares exactly. A base URL
// written with another case of scheme or host, a default port or a
// trailing slash names the same service (the directory's origin checks
// treat it so), and its tokens must carry the same aud. Before, the host's
// case and the default port went into aud as written, and the provider
// refused every request.
func TestIdentityTokenAudienceIsTheCanonicalServiceRoot(t *testing.T) {
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		writeFHIR(w, map[string]any{"resourceType": "Composition", "id": "c1",
			"subject": map[string]any{"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}}})
	})
	u, err := url.Parse(p.URL)
	require.NoError(t, err)
	port := u.Port()
	canonical := "http://localhost:" + port + "/fhir"

	for _, base := range []string{
		"http://localhost:" + port + "/fhir",
		"HTTP://LocalHost:" + port + "/fhir/",
	} {
		t.Run(base, func(t *testing.T) {
			r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: base}}, nil)
			_, err := r.Fetch(context.Background(), fetchReq(t, "RN1", base+"/Composition/c1", "application/fhir+json", ""))
			require.NoError(t, err)
			reqs := p.requests()
			tok := strings.TrimPrefix(reqs[len(reqs)-1].Header.Get("Authorization"), "Bearer ")
			_, err = identitytoken.Check{Audience: canonical}.Verify(tok)
			assert.NoError(t, err, "a provider whose service root is %s", canonical)
		})
	}

	d, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"},
		BaseURL: "HTTPS://North.Example:443/fhir/"}}})
	require.NoError(t, err)
	ep, _ := d.Endpoint("RN1")
	assert.Equal(t, "https://north.example/fhir", ep.Audience)
}
