package shcr_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A redirect from the Spine Secure Proxy to another path of the proxy
// names another provider: following it would have the proxy hand our
// identity token and the proxy's access token to a host the directory
// does not register for the custodian.
func TestFetchThroughSSPDoesNotFollowRedirects(t *testing.T) {
	var proxy *provider
	proxy = newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.EscapedPath(), "evil.example") {
			writeFHIR(w, map[string]any{"resourceType": "CarePlan", "id": "stolen"})
			return
		}
		http.Redirect(w, r, proxy.URL+"/ssp/"+url.QueryEscape("https://evil.example/fhir/CarePlan/1"), http.StatusFound)
	})
	r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"},
		BaseURL: "https://north.example/fhir", ASID: "100000000001"}},
		&shcr.SSP{ProxyURL: proxy.URL + "/ssp", ConsumerASID: "200000000101", TokenSource: auth.StaticToken("proxy-secret")})

	for _, ct := range []string{"application/fhir+json", "application/pdf"} {
		_, err := r.Fetch(context.Background(), fetchReq(t, "RN1", "ssp://north.example/fhir/CarePlan/1", ct, "100000000001"))
		require.ErrorIs(t, err, shcr.ErrRedirectRefused, ct)
	}
	for _, req := range proxy.requests() {
		assert.NotContains(t, req.URL.EscapedPath(), "evil.example", "the redirect was followed")
	}
}
