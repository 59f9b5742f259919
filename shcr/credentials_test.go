package shcr_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
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
		&shcr.SSP{ProxyURL: proxy.URL + "/ssp", ConsumerASID: "200000000101", TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "proxy-secret"})})

	for _, ct := range []string{"application/fhir+json", "application/pdf"} {
		_, err := r.Fetch(context.Background(), fetchReq(t, "RN1", "ssp://north.example/fhir/CarePlan/1", ct, "100000000001"))
		require.ErrorIs(t, err, shcrkit.ErrRedirectRefused, ct)
	}
	for _, req := range proxy.requests() {
		assert.NotContains(t, req.URL.EscapedPath(), "evil.example", "the redirect was followed")
	}
}

// A pointer's ID, custodian and URL come from the national index: none of
// them may carry an NHS number into an error's text.
func TestErrorsMaskNHSNumbersFromPointers(t *testing.T) {
	r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: "https://north.example/fhir"}}, nil)
	tests := []struct {
		name      string
		custodian shcrkit.ODSCode
		url       string
		want      error
	}{
		{"unknown custodian", shcrkit.ODSCode(testNHS), "https://north.example/fhir/x", shcr.ErrUnknownCustodian},
		{"host naming the patient", "RN1", "https://" + string(testNHS) + ".evil.example/x", shcr.ErrHostNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := fetchReq(t, tt.custodian, tt.url, "application/fhir+json", "")
			_, err := r.Fetch(context.Background(), req)
			require.ErrorIs(t, err, tt.want)
			assert.NotContains(t, err.Error(), string(testNHS))
		})
	}
	re := &shcr.RetrievalError{Pointer: testPointer(t, "RN1-"+string(testNHS), "RN1", "https://north.example/x", "application/pdf", ""),
		Custodian: "RN1", Err: shcr.ErrHostNotAllowed}
	assert.NotContains(t, re.Error(), string(testNHS))
	ref := &shcr.RefusedError{PointerID: "RN1-" + string(testNHS)}
	assert.NotContains(t, ref.Error(), string(testNHS))
}
