package shcrtest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func summaryPointer(t *testing.T) nrls.Pointer {
	t.Helper()
	p, err := nrls.NewPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Normal, Custodian: "RKS", Type: nrls.TypeSummaryRecord,
		URL: "https://x.example/fhir/records/RKS-s1", Format: nrls.FormatStructured, LocalID: "s1",
		PracticeSetting: nrls.Concept{Code: "224891009", Display: "Healthcare services"}})
	require.NoError(t, err)
	return p
}

// TestServeBehindProxy: behind a proxy that says where the client called,
// the fake holds identity tokens to that address and links there; without
// it, forwarded headers change nothing.
func TestServeBehindProxy(t *testing.T) {
	p := summaryPointer(t)
	srv := shcrtest.NewServer(shcrtest.WithCustodian("RKS"), shcrtest.WithPointers([]nrls.Pointer{p}))
	defer srv.Close()
	const public = "http://sandbox.test:8700/shcr/RKS/fhir"
	fwd := map[string]string{"X-Forwarded-Proto": "http", "X-Forwarded-Host": "sandbox.test:8700", "X-Forwarded-Prefix": "/shcr/RKS"}
	with := func(tok string) map[string]string {
		h := map[string]string{"Authorization": "Bearer " + tok}
		for k, v := range fwd {
			h[k] = v
		}
		return h
	}
	toPublic := identity(t, shcr.Identity{}, public, time.Now())
	toServer := identity(t, shcr.Identity{}, srv.URL, time.Now())

	resp, _ := get(t, srv.HTTPClient(), srv.URL+"/records/"+p.ID, with(toPublic))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "not behind a proxy: the audience is URL")
	resp, _ = get(t, srv.HTTPClient(), srv.URL+"/records/"+p.ID, with(toServer))
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	srv.ServeBehindProxy(true)
	resp, body := get(t, srv.HTTPClient(), srv.URL+"/records/"+p.ID, with(toPublic))
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var b struct {
		Type  string                           `json:"type"`
		Link  []struct{ Relation, URL string } `json:"link"`
		Entry []struct {
			FullURL  string         `json:"fullUrl"`
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(body, &b))
	for _, l := range b.Link {
		assert.True(t, strings.HasPrefix(l.URL, public+"/records/"+p.ID), l.URL)
	}
	resp, _ = get(t, srv.HTTPClient(), srv.URL+"/records/"+p.ID, with(toServer))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "behind the proxy, the audience is the address called")
	resp, _ = get(t, srv.HTTPClient(), srv.URL+"/records/"+p.ID, map[string]string{"Authorization": "Bearer " + toServer})
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a request that did not come through the proxy is still held to URL")
}

var uuidURN = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestSummaryIsACollection: a summary is a collection Bundle, composition
// first, each entry's fullUrl a urn:uuid that the references inside use.
func TestSummaryIsACollection(t *testing.T) {
	r := shcrtest.RecordFor(summaryPointer(t))
	var b struct {
		Type       string `json:"type"`
		Identifier struct{ System, Value string }
		Timestamp  string `json:"timestamp"`
		Entry      []struct {
			FullURL  string         `json:"fullUrl"`
			Resource map[string]any `json:"resource"`
			Search   any            `json:"search"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &b))
	assert.Equal(t, "collection", b.Type)
	assert.Regexp(t, uuidURN, b.Identifier.Value)
	assert.NotEmpty(t, b.Timestamp)
	require.NotEmpty(t, b.Entry)
	assert.Equal(t, "Composition", b.Entry[0].Resource["resourceType"])
	urls := map[string]string{}
	for _, e := range b.Entry {
		assert.Regexp(t, uuidURN, e.FullURL)
		assert.Nil(t, e.Search, "search is only for searchset entries")
		urls[e.FullURL] = e.Resource["resourceType"].(string)
	}
	assert.Len(t, urls, len(b.Entry), "fullUrls are distinct")
	subject := b.Entry[0].Resource["subject"].(map[string]any)["reference"].(string)
	assert.Equal(t, "Patient", urls[subject], "the subject resolves in the Bundle")
	for _, s := range b.Entry[0].Resource["section"].([]any) {
		for _, e := range s.(map[string]any)["entry"].([]any) {
			assert.Contains(t, urls, e.(map[string]any)["reference"], "each section entry resolves in the Bundle")
		}
	}
	again := shcrtest.RecordFor(summaryPointer(t))
	assert.Equal(t, r.Body, again.Body, "the same record always has the same fullUrls")
}

// TestSearchFullURLsResolve follows the fullUrl of every entry of a search
// to the resource it names.
func TestSearchFullURLsResolve(t *testing.T) {
	srv := shcrtest.NewServer(shcrtest.WithCustodian("RKS"))
	defer srv.Close()
	auth := map[string]string{"Authorization": "Bearer " + identity(t, shcr.Identity{}, srv.URL, time.Now())}
	for rt := range shcrtest.SearchResourceTypes {
		resp, body := get(t, srv.HTTPClient(), srv.URL+"/"+rt+"?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|"+string(pdstest.Patients.Normal)+"&_count=10", auth)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		var b struct {
			Entry []struct {
				FullURL  string         `json:"fullUrl"`
				Resource map[string]any `json:"resource"`
			} `json:"entry"`
		}
		require.NoError(t, json.Unmarshal(body, &b))
		require.NotEmpty(t, b.Entry, rt)
		for _, e := range b.Entry {
			resp, one := get(t, srv.HTTPClient(), e.FullURL, auth)
			require.Equal(t, http.StatusOK, resp.StatusCode, e.FullURL)
			var res map[string]any
			require.NoError(t, json.Unmarshal(one, &res))
			assert.Equal(t, e.Resource, res, e.FullURL)
		}
		resp, body = get(t, srv.HTTPClient(), srv.URL+"/"+rt+"/no-such-id", auth)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		assert.Equal(t, "NO_RECORD_FOUND", outcomeCode(t, body))
		resp, _ = get(t, srv.HTTPClient(), srv.URL+"/"+rt+"/"+strings.TrimPrefix(b.Entry[0].FullURL, srv.URL+"/"+rt+"/"), nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a read needs the identity token too")
	}
}

// TestTrustIdentityKey: a tester's own key signs identity tokens the fake
// takes once trusted, beside the key it was made with.
func TestTrustIdentityKey(t *testing.T) {
	made, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tester, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p := summaryPointer(t)
	srv := shcrtest.NewServer(shcrtest.WithCustodian("RKS"), shcrtest.WithPointers([]nrls.Pointer{p}), shcrtest.WithIdentitySigning(auth.RS256, &made.PublicKey))
	defer srv.Close()
	own := map[string]string{"Authorization": "Bearer " + identity(t, shcr.Identity{Signing: auth.RS256, Key: tester}, srv.URL, time.Now())}
	resp, _ := get(t, srv.HTTPClient(), srv.RecordURL(p.ID), own)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "not yet trusted")

	require.NoError(t, srv.TrustIdentityKey(&tester.PublicKey))
	resp, _ = get(t, srv.HTTPClient(), srv.RecordURL(p.ID), own)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = get(t, srv.HTTPClient(), srv.RecordURL(p.ID),
		map[string]string{"Authorization": "Bearer " + identity(t, shcr.Identity{Signing: auth.RS256, Key: made}, srv.URL, time.Now())})
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the key it was made with still works")

	assert.ErrorIs(t, srv.TrustIdentityKey(&ec.PublicKey), shcrkit.ErrInvalidOption, "an EC key does not fit RS256")
	assert.ErrorIs(t, srv.TrustIdentityKey("key"), shcrkit.ErrInvalidOption)
	var nilKey *rsa.PublicKey
	assert.ErrorIs(t, srv.TrustIdentityKey(nilKey), shcrkit.ErrInvalidOption)
	unsigned := shcrtest.NewServer(shcrtest.WithCustodian("RKS"))
	defer unsigned.Close()
	assert.ErrorIs(t, unsigned.TrustIdentityKey(&tester.PublicKey), shcrkit.ErrInvalidOption, "an unsigned fake takes no key")
	es := shcrtest.NewServer(shcrtest.WithCustodian("RKS"), shcrtest.WithIdentitySigning(auth.ES256, &ec.PublicKey))
	defer es.Close()
	assert.NoError(t, es.TrustIdentityKey(ec), "a private key's public half is used")
}
