package shcrtest_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var requester = shcrkit.Requester{
	UserID: "555000000201", Name: "Nurse Ada Quaye", RoleProfileID: "555000000202", RoleCode: "S8000:G8000:R8001",
	Organisation: "Y90001", OrganisationName: "Riverside Emergency Department",
	System: shcrkit.System{Name: "Riverside ED EPR", Version: "3.1"},
}

func identity(t *testing.T, id shcr.Identity, aud string, now time.Time) string {
	t.Helper()
	tok, err := identitytoken.Sign(id.Signing, id.Key, id.KeyID, identitytoken.New(requester, shcrkit.PurposeDirectCare, aud, "", false, now))
	require.NoError(t, err)
	return tok
}

func get(t *testing.T, c *http.Client, u string, h map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func outcomeCode(t *testing.T, body []byte) string {
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Details struct {
				Coding []struct{ Code string } `json:"coding"`
			} `json:"details"`
		} `json:"issue"`
	}
	require.NoError(t, json.Unmarshal(body, &oo))
	require.Equal(t, "OperationOutcome", oo.ResourceType)
	require.NotEmpty(t, oo.Issue)
	require.NotEmpty(t, oo.Issue[0].Details.Coding)
	return oo.Issue[0].Details.Coding[0].Code
}

func TestServerChecksTokens(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	validate := func(tok string) error {
		if tok != "good-access" {
			return errors.New("unknown token")
		}
		return nil
	}
	srv := shcrtest.NewServer(shcrtest.WithCustodian(nrlstest.CustodianNorth), shcrtest.WithTokenValidator(validate),
		shcrtest.WithIdentitySigning(auth.RS256, &rk.PublicKey), shcrtest.WithClock(func() time.Time { return now }))
	defer srv.Close()
	seed, err := shcrtest.SeedPointers(nrlstest.CustodianNorth)
	require.NoError(t, err)
	require.NotEmpty(t, seed)
	u := srv.RecordURL(seed[0].ID)
	good := identity(t, shcr.Identity{Signing: auth.RS256, Key: rk}, srv.URL, now)
	marketing := identitytoken.New(requester, shcrkit.PurposeDirectCare, srv.URL, "", false, now)
	marketing.PurposeOfUse = "MARKETING"
	badPurpose, err := identitytoken.Sign(auth.RS256, rk, "", marketing)
	require.NoError(t, err)

	tests := []struct {
		name   string
		header map[string]string
		status int
		code   string
	}{
		{"no access token", map[string]string{identitytoken.DefaultHeader: good}, 401, "ACCESS_DENIED"},
		{"refused access token", map[string]string{"Authorization": "Bearer stolen", identitytoken.DefaultHeader: good}, 401, "ACCESS_DENIED"},
		{"no identity token", map[string]string{"Authorization": "Bearer good-access"}, 401, "ACCESS_DENIED"},
		{"unsigned identity", map[string]string{"Authorization": "Bearer good-access",
			identitytoken.DefaultHeader: identity(t, shcr.Identity{}, srv.URL, now)}, 403, "ACCESS_DENIED"},
		{"signed by another key", map[string]string{"Authorization": "Bearer good-access",
			identitytoken.DefaultHeader: identity(t, shcr.Identity{Signing: auth.ES256, Key: other}, srv.URL, now)}, 403, "ACCESS_DENIED"},
		{"another audience", map[string]string{"Authorization": "Bearer good-access",
			identitytoken.DefaultHeader: identity(t, shcr.Identity{Signing: auth.RS256, Key: rk}, "https://elsewhere.example/fhir", now)}, 403, "ACCESS_DENIED"},
		{"expired", map[string]string{"Authorization": "Bearer good-access",
			identitytoken.DefaultHeader: identity(t, shcr.Identity{Signing: auth.RS256, Key: rk}, srv.URL, now.Add(-10*time.Minute))}, 403, "ACCESS_DENIED"},
		{"organisation header disagrees", map[string]string{"Authorization": "Bearer good-access", identitytoken.DefaultHeader: good,
			"NHSD-End-User-Organisation-ODS": "RX9"}, 403, "ACCESS_DENIED"},
		{"unknown purpose of use", map[string]string{"Authorization": "Bearer good-access", identitytoken.DefaultHeader: badPurpose}, 403, "ACCESS_DENIED"},
		{"good", map[string]string{"Authorization": "Bearer good-access", identitytoken.DefaultHeader: good}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, srv.HTTPClient(), u, tt.header)
			require.Equal(t, tt.status, resp.StatusCode, string(body))
			if tt.code != "" {
				assert.Equal(t, tt.code, outcomeCode(t, body))
				assert.Equal(t, "application/fhir+json", resp.Header.Get("Content-Type"))
			}
		})
	}
	ids := srv.Identities()
	require.Len(t, ids, 1, "only the accepted identity is kept")
	assert.Equal(t, seed[0].ID, ids[0].PointerID)
	assert.Equal(t, requester.UserID, ids[0].Subject)
	assert.Equal(t, requester.UserID, ids[0].Requester.UserID)
	assert.Equal(t, requester.Organisation, ids[0].Requester.Organisation)
	assert.Equal(t, requester.RoleCode, ids[0].Requester.RoleCode)
	assert.Equal(t, shcrkit.PurposeDirectCare, ids[0].Purpose)
	assert.False(t, ids[0].Restricted)
	assert.Equal(t, now.Add(identitytoken.Lifetime).Unix(), ids[0].Expires.Unix())
	assert.NotEmpty(t, ids[0].TokenID)
	assert.Len(t, srv.Requests(), len(tests))
}

func TestServerServesRecordsByContentType(t *testing.T) {
	srv := shcrtest.NewServer(shcrtest.WithCustodian(nrlstest.CustodianNorth))
	defer srv.Close()
	seed, err := shcrtest.SeedPointers(nrlstest.CustodianNorth)
	require.NoError(t, err)
	now := time.Now()
	auth := map[string]string{"Authorization": "Bearer " + identity(t, shcr.Identity{}, srv.URL, now)}
	kinds := map[string]int{}
	for _, p := range seed {
		resp, body := get(t, srv.HTTPClient(), srv.RecordURL(p.ID), auth)
		require.Equal(t, 200, resp.StatusCode, p.ID)
		mt := strings.Split(resp.Header.Get("Content-Type"), ";")[0]
		kinds[mt]++
		switch mt {
		case "application/pdf":
			checkPDF(t, body)
		case "application/fhir+json":
			var r struct{ ResourceType string }
			require.NoError(t, json.Unmarshal(body, &r))
			assert.Contains(t, []string{"Bundle", "CarePlan"}, r.ResourceType)
		case "text/html":
			assert.Contains(t, string(body), "<!DOCTYPE html>")
		default:
			t.Errorf("unexpected content type %s", mt)
		}
	}
	assert.Positive(t, kinds["application/pdf"])
	assert.Positive(t, kinds["application/fhir+json"])

	resp, body := get(t, srv.HTTPClient(), srv.RecordURL("RNR-nothing"), auth)
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "NO_RECORD_FOUND", outcomeCode(t, body))

	pdf := seedOf(t, seed, "application/pdf")
	resp, body = get(t, srv.HTTPClient(), srv.RecordURL(pdf.ID), map[string]string{"Authorization": auth["Authorization"], "Accept": "application/fhir+json"})
	assert.Equal(t, 406, resp.StatusCode, "a PDF is not served to a client that accepts only FHIR")
	assert.Equal(t, "NOT_ACCEPTABLE", outcomeCode(t, body))
}

func seedOf(t *testing.T, ps []nrls.Pointer, ct string) nrls.Pointer {
	for _, p := range ps {
		if p.ContentType == ct {
			return p
		}
	}
	t.Fatalf("no seed pointer of type %s", ct)
	return nrls.Pointer{}
}

// checkPDF checks the document's structure: header, trailer and a
// cross-reference table whose offsets point at the objects.
func checkPDF(t *testing.T, b []byte) {
	t.Helper()
	require.True(t, bytes.HasPrefix(b, []byte("%PDF-1.4\n")))
	require.True(t, bytes.HasSuffix(b, []byte("%%EOF\n")))
	m := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(b)
	require.NotNil(t, m)
	xref, _ := strconv.Atoi(string(m[1]))
	require.True(t, bytes.HasPrefix(b[xref:], []byte("xref\n")))
	for i, line := range strings.Split(string(b[xref:]), "\n")[3:8] {
		off, err := strconv.Atoi(line[:10])
		require.NoError(t, err)
		assert.True(t, bytes.HasPrefix(b[off:], []byte(fmt.Sprintf("%d 0 obj", i+1))), "object %d offset", i+1)
	}
}

func TestServerPagesBundles(t *testing.T) {
	p, err := nrls.NewPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Normal, Custodian: "RKS", Type: nrls.TypeSummaryRecord,
		URL: "https://x.example/fhir/records/RKS-s1", Format: nrls.FormatStructured, LocalID: "s1",
		PracticeSetting: nrls.Concept{Code: "224891009", Display: "Healthcare services"}})
	require.NoError(t, err)
	srv := shcrtest.NewServer(shcrtest.WithCustodian("RKS"), shcrtest.WithPointers([]nrls.Pointer{p}), shcrtest.WithPageSize(2))
	defer srv.Close()
	auth := map[string]string{"Authorization": "Bearer " + identity(t, shcr.Identity{}, srv.URL, time.Now())}
	var ids []string
	next := srv.RecordURL(p.ID)
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 10)
		resp, body := get(t, srv.HTTPClient(), next, auth)
		require.Equal(t, 200, resp.StatusCode)
		var b struct {
			Entry []struct {
				Resource struct{ ID string } `json:"resource"`
			} `json:"entry"`
			Link []struct{ Relation, URL string } `json:"link"`
		}
		require.NoError(t, json.Unmarshal(body, &b))
		assert.LessOrEqual(t, len(b.Entry), 2)
		for _, e := range b.Entry {
			ids = append(ids, e.Resource.ID)
		}
		next = ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				next = l.URL
			}
		}
	}
	assert.Len(t, ids, 7)
	resp, _ := get(t, srv.HTTPClient(), srv.RecordURL(p.ID)+"?page=9", auth)
	assert.Equal(t, 400, resp.StatusCode)
}

func TestServerFaults(t *testing.T) {
	srv := shcrtest.NewServer(shcrtest.WithCustodian(nrlstest.CustodianSouth))
	defer srv.Close()
	seed, err := shcrtest.SeedPointers(nrlstest.CustodianSouth)
	require.NoError(t, err)
	auth := map[string]string{"Authorization": "Bearer " + identity(t, shcr.Identity{}, srv.URL, time.Now())}
	srv.InjectFault(http.MethodGet, "/records/", 1, shcrtest.Fault{Status: 503, Code: "SERVICE_UNAVAILABLE", RetryAfter: "1"})
	resp, body := get(t, srv.HTTPClient(), srv.RecordURL(seed[0].ID), auth)
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, "SERVICE_UNAVAILABLE", outcomeCode(t, body))
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))

	srv.InjectFault("", "", 1, shcrtest.Fault{Oversize: 5000})
	_, body = get(t, srv.HTTPClient(), srv.RecordURL(seed[0].ID), auth)
	rec, _ := srv.Document(seed[0].ID)
	assert.Equal(t, len(rec.Body)+5000, len(body))

	srv.InjectFault("", "", 1, shcrtest.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.RecordURL(seed[0].ID), nil)
	req.Header.Set("Authorization", auth["Authorization"])
	_, err = srv.HTTPClient().Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestProxyForwardsOnlyToRegisteredProviders(t *testing.T) {
	proxy, err := shcrtest.NewProxy("200000000001")
	require.NoError(t, err)
	defer proxy.Close()
	region := shcrtest.NewServer(shcrtest.WithCustodian(nrlstest.CustodianEast), shcrtest.WithASID("900000000103"), shcrtest.WithTrustedProxy(proxy.Certificate()))
	defer region.Close()
	require.NoError(t, proxy.AddProvider(region))
	stranger := shcrtest.NewServer(shcrtest.WithCustodian(nrlstest.CustodianWest), shcrtest.WithASID("900000000104"), shcrtest.WithTLS())
	defer stranger.Close()

	seed, err := shcrtest.SeedPointers(nrlstest.CustodianEast)
	require.NoError(t, err)
	tok := identity(t, shcr.Identity{}, region.URL, time.Now())
	hdr := func(to string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + tok, "Ssp-TraceID": uuid.NewString(), "Ssp-From": "200000000001",
			"Ssp-To": to, "Ssp-InteractionID": nrls.SSPInteractionRead}
	}
	via := func(target string) string { return proxy.URL + "/" + url.QueryEscape(target) }

	resp, body := get(t, http.DefaultClient, via(region.RecordURL(seed[0].ID)), hdr("900000000103"))
	require.Equal(t, 200, resp.StatusCode, string(body))
	ids := region.Identities()
	require.Len(t, ids, 1)
	assert.True(t, ids[0].ViaSSP)

	resp, body = get(t, http.DefaultClient, via(region.RecordURL(seed[0].ID)), hdr("900000000999"))
	assert.Equal(t, 403, resp.StatusCode)
	assert.Contains(t, string(body), "Ssp-To")

	before := len(stranger.Requests())
	resp, _ = get(t, http.DefaultClient, via(stranger.RecordURL("RMH-000001")), hdr("900000000104"))
	assert.Equal(t, 403, resp.StatusCode)
	assert.Len(t, stranger.Requests(), before, "an unregistered provider is never contacted")

	// Straight to the region, without the proxy's certificate, the request
	// is a direct one: the SSP headers give it no standing.
	resp, _ = get(t, region.HTTPClient(), region.RecordURL(seed[0].ID), hdr("900000000103"))
	assert.Equal(t, 200, resp.StatusCode)
	assert.False(t, region.Identities()[1].ViaSSP)
}

func TestNewServerOptions(t *testing.T) {
	for _, opt := range []shcrtest.Option{
		shcrtest.WithTokenValidator(nil), shcrtest.WithIdentitySigning("HS256", nil), shcrtest.WithIdentitySigning(auth.RS256, nil),
		shcrtest.WithIdentityHeader("bad header"), shcrtest.WithASID("12"), shcrtest.WithPageSize(0),
		shcrtest.WithTrustedProxy(nil), shcrtest.WithClock(nil), shcrtest.WithDocuments(shcrtest.Document{}), nil,
	} {
		_, err := shcrtest.NewUnstartedServer(shcrtest.WithCustodian("RNR"), opt)
		require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
	}
	_, err := shcrtest.NewUnstartedServer(shcrtest.WithCustodian("rnr"))
	require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
}
