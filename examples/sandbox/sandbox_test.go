package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/nrls"
)

// inProcess serves a sandbox from an httptest server and returns its base
// URL. corsFlag is the -cors flag, "loopback" when not given.
func inProcess(t *testing.T, corsFlag ...string) (string, *sandbox) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	sb, err := newSandbox(base, 0)
	require.NoError(t, err)
	flag := "loopback"
	if len(corsFlag) > 0 {
		flag = corsFlag[0]
	}
	policy, err := parseCORS(flag)
	require.NoError(t, err)
	srv.Config.Handler = cors(policy, sb)
	srv.Start()
	t.Cleanup(func() { srv.Close(); sb.Close() })
	return base, sb
}

// call makes a request and decodes a JSON answer into a map (nil when
// the answer is not JSON).
func call(t *testing.T, method, url string, headers map[string]string, body io.Reader) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp, m
}

func accessToken(t *testing.T, base string) string {
	t.Helper()
	resp, body := call(t, http.MethodPost, base+"/sandbox/token", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return body["access_token"].(string)
}

func pdsHeaders(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok, "X-Request-ID": uuid.NewString()}
}

func nrlHeaders(tok, org string) map[string]string {
	h := pdsHeaders(tok)
	h["NHSD-End-User-Organisation-ODS"] = org
	return h
}

func links(b map[string]any) map[string]string {
	out := map[string]string{}
	ls, _ := b["link"].([]any)
	for _, l := range ls {
		m := l.(map[string]any)
		out[m["relation"].(string)] = m["url"].(string)
	}
	return out
}

var urnUUID = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestEveryLinkResolvesAtTheCalledAddress follows every link, Location and
// fullUrl the sandbox hands out, and checks each names the address called.
func TestEveryLinkResolvesAtTheCalledAddress(t *testing.T) {
	base, _ := inProcess(t)
	tok := accessToken(t, base)

	// PDS: RelatedPerson fullUrls resolve, with the ETag.
	resp, b := call(t, http.MethodGet, base+"/personal-demographics/FHIR/R4/Patient/9490000019/RelatedPerson", pdsHeaders(tok), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotEmpty(t, resp.Header.Get("ETag"))
	entries := b["entry"].([]any)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		full := e.(map[string]any)["fullUrl"].(string)
		require.True(t, strings.HasPrefix(full, base+"/personal-demographics/FHIR/R4/Patient/9490000019/RelatedPerson/"), full)
		r, rp := call(t, http.MethodGet, full, pdsHeaders(tok), nil)
		assert.Equal(t, http.StatusOK, r.StatusCode, full)
		assert.Equal(t, "RelatedPerson", rp["resourceType"])
		assert.NotEmpty(t, r.Header.Get("ETag"))
	}

	// NRL: the self link repeats the search here.
	q := url.Values{"subject:identifier": {"https://fhir.nhs.uk/Id/nhs-number|9490000019"}}
	resp, b = call(t, http.MethodGet, base+nrls.ConsumerPath+"/DocumentReference?"+q.Encode(), nrlHeaders(tok, "Y90001"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	self := links(b)["self"]
	require.True(t, strings.HasPrefix(self, base+nrls.ConsumerPath+"/DocumentReference?"), self)
	resp, again := call(t, http.MethodGet, self, nrlHeaders(tok, "Y90001"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, b["total"], again["total"])

	// The producer's Location leads to the new pointer.
	spec := nrls.PointerSpec{NHSNumber: "9490000019", Custodian: "RNR", Type: nrls.TypeMentalHealthCrisisPlan,
		URL: base + "/shcr/RNR/fhir/records/RNR-new", ContentType: "application/pdf",
		PracticeSetting: nrls.Concept{Code: "224891009", Display: "Healthcare services"}}
	p, err := nrls.NewPointer(spec)
	require.NoError(t, err)
	raw, err := json.Marshal(p.Resource)
	require.NoError(t, err)
	resp, _ = call(t, http.MethodPost, base+nrls.ProducerPath+"/DocumentReference", nrlHeaders(tok, "RNR"), bytes.NewReader(raw))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	loc := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, base+nrls.ProducerPath+"/DocumentReference/"), loc)
	resp, doc := call(t, http.MethodGet, loc, nrlHeaders(tok, "RNR"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "DocumentReference", doc["resourceType"])

	// A regional record: next links lead through the sandbox, fullUrls are
	// UUIDs, and the identity token is for the address called.
	resp, idt := call(t, http.MethodGet, base+"/sandbox/identity-token?custodian=RNR", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, base+"/shcr/RNR/fhir", idt["audience"])
	h := map[string]string{"Authorization": "Bearer " + tok, "X-Identity-Token": idt["identity_token"].(string)}
	next, pages, seen := base+"/shcr/RNR/fhir/records/RNR-000002", 0, 0
	for next != "" {
		resp, b = call(t, http.MethodGet, next, h, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, next)
		assert.Equal(t, "collection", b["type"])
		for _, e := range b["entry"].([]any) {
			assert.Regexp(t, urnUUID, e.(map[string]any)["fullUrl"])
			seen++
		}
		pages++
		next = links(b)["next"]
		if next != "" {
			require.True(t, strings.HasPrefix(next, base+"/shcr/RNR/fhir/records/"), next)
		}
	}
	assert.Greater(t, pages, 1)
	assert.Equal(t, 7, seen)
}

// TestForwardedAddress: behind a proxy that says where the tester called,
// links and audiences name that address.
func TestForwardedAddress(t *testing.T) {
	base, _ := inProcess(t)
	tok := accessToken(t, base)
	fwd := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sandbox.example:443"}
	resp, idt := call(t, http.MethodGet, base+"/sandbox/identity-token?custodian=RFC", fwd, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "https://sandbox.example:443/shcr/RFC/fhir", idt["audience"])

	h := nrlHeaders(tok, "Y90001")
	for k, v := range fwd {
		h[k] = v
	}
	q := url.Values{"subject:identifier": {"https://fhir.nhs.uk/Id/nhs-number|9490000019"}}
	resp, b := call(t, http.MethodGet, base+nrls.ConsumerPath+"/DocumentReference?"+q.Encode(), h, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasPrefix(links(b)["self"], "https://sandbox.example:443"+nrls.ConsumerPath), links(b)["self"])

	// The Host header alone counts too.
	resp, idt = call(t, http.MethodGet, base+"/sandbox/identity-token?custodian=RFC", map[string]string{"Host": "localhost:9999"}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "http://localhost:9999/shcr/RFC/fhir", idt["audience"])
}

func sspHeaders(asid, identity string) map[string]string {
	return map[string]string{"Ssp-TraceID": uuid.NewString(), "Ssp-From": "200000000001", "Ssp-To": asid,
		"Ssp-InteractionID": nrls.SSPInteractionRead, "Authorization": "Bearer " + identity}
}

// unsignedIdentity builds an unsigned identity token for aud, as a tester
// would, from the claims the sandbox's own token carries.
func unsignedIdentity(t *testing.T, base, ods, aud string) string {
	t.Helper()
	resp, idt := call(t, http.MethodGet, base+"/sandbox/identity-token?custodian="+ods, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	claims := idt["claims"].(map[string]any)
	claims["aud"] = aud
	claims["jti"] = uuid.NewString()
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "."
}

func TestSSPRoute(t *testing.T) {
	base, _ := inProcess(t)
	host := strings.TrimPrefix(base, "http://")
	id := unsignedIdentity(t, base, "RFC", base+"/shcr/RFC/fhir")
	for name, target := range map[string]string{
		"as is, https":    "https://" + host + "/shcr/RFC/fhir/records/RFC-000004",
		"as is, http":     base + "/shcr/RFC/fhir/records/RFC-000004",
		"percent-encoded": url.QueryEscape("https://" + host + "/shcr/RFC/fhir/records/RFC-000004"),
		"localhost":       "https://localhost:" + strings.Split(host, ":")[1] + "/shcr/RFC/fhir/records/RFC-000004",
	} {
		resp, _ := call(t, http.MethodGet, base+"/ssp/"+target, sspHeaders("900000000103", id), nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode, name)
		assert.Equal(t, "application/pdf", resp.Header.Get("Content-Type"), name)
	}
	for _, tt := range []struct {
		name, target, asid, code string
		status                   int
	}{
		{"another host", "https://elsewhere.example/shcr/RFC/fhir/records/RFC-000004", "900000000103", "ACCESS_DENIED", 403},
		{"no region", base + "/shcr/XYZ/fhir/records/RFC-000004", "900000000103", "ACCESS_DENIED", 403},
		{"not a URL", "records", "900000000103", "INVALID_REQUEST", 400},
		{"wrong Ssp-To", base + "/shcr/RFC/fhir/records/RFC-000004", "900000000101", "ACCESS_DENIED", 403},
	} {
		resp, b := call(t, http.MethodGet, base+"/ssp/"+tt.target, sspHeaders(tt.asid, id), nil)
		assert.Equal(t, tt.status, resp.StatusCode, tt.name)
		assert.Contains(t, mustJSON(t, b), tt.code, tt.name)
	}
	// An identity token for another address is refused by the region.
	other := unsignedIdentity(t, base, "RFC", "https://127.0.0.1:1/fhir")
	resp, b := call(t, http.MethodGet, base+"/ssp/"+base+"/shcr/RFC/fhir/records/RFC-000004", sspHeaders("900000000103", other), nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Contains(t, mustJSON(t, b), "ACCESS_DENIED")
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestRegisteredKeysGetTokens registers a tester's key three ways and
// uses each for signed-JWT client credentials at the sandbox's address.
func TestRegisteredKeysGetTokens(t *testing.T) {
	base, _ := inProcess(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	jwks, err := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "jwks-1", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": "AQAB"}}})
	require.NoError(t, err)
	jwksSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(jwks) }))
	defer jwksSrv.Close()

	for _, tt := range []struct{ name, query, kid string }{
		{"PEM", "api_key=pem-app&kid=pem-1", "pem-1"},
		{"JWKS", "api_key=jwks-app", "jwks-1"},
		{"JWKS URL", "api_key=url-app&jwks_url=" + url.QueryEscape(jwksSrv.URL), "jwks-1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			switch tt.name {
			case "PEM":
				body = bytes.NewReader(pemKey)
			case "JWKS":
				body = bytes.NewReader(jwks)
			}
			resp, b := call(t, http.MethodPost, base+"/sandbox/keys?"+tt.query, nil, body)
			require.Equal(t, http.StatusCreated, resp.StatusCode, b)
			assert.Equal(t, base+"/oauth2/token", b["token_url"])
			apiKey := b["api_key"].(string)
			ts, err := auth.NewSignedJWT(auth.SignedJWTConfig{APIKey: apiKey, KeyID: tt.kid, TokenURL: base + "/oauth2/token", PrivateKey: key})
			require.NoError(t, err)
			tok, err := ts.Token()
			require.NoError(t, err)
			resp, _ = call(t, http.MethodGet, base+"/personal-demographics/FHIR/R4/Patient/9490000019", pdsHeaders(tok.AccessToken), nil)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
	for name, query := range map[string]string{
		"no api key":       "kid=x",
		"PEM without kid":  "api_key=a",
		"remote JWKS URL":  "api_key=a&jwks_url=" + url.QueryEscape("http://keys.example/jwks.json"),
		"bad api key":      "api_key=" + url.QueryEscape("a b"),
		"JWKS URL is down": "api_key=a&jwks_url=" + url.QueryEscape("http://127.0.0.1:1/jwks.json"),
	} {
		resp, b := call(t, http.MethodPost, base+"/sandbox/keys?"+query, nil, bytes.NewReader(pemKey))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, name)
		assert.NotEmpty(t, b["error"], name)
	}
	resp, _ := call(t, http.MethodPost, base+"/sandbox/keys?api_key=x&kid=y", nil, strings.NewReader("-----BEGIN JUNK-----\nAAAA\n-----END JUNK-----\n"))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a PEM block that is not a public key")
}

func TestMetadata(t *testing.T) {
	base, _ := inProcess(t)
	for _, path := range []string{"/personal-demographics/FHIR/R4", nrls.ConsumerPath, nrls.ProducerPath} {
		resp, b := call(t, http.MethodGet, base+path+"/metadata", nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Equal(t, "CapabilityStatement", b["resourceType"])
		assert.Equal(t, "4.0.1", b["fhirVersion"])
		assert.Equal(t, base+path, b["implementation"].(map[string]any)["url"])
		rest := b["rest"].([]any)[0].(map[string]any)
		assert.NotEmpty(t, rest["resource"])
	}
}

func TestCORS(t *testing.T) {
	base, _ := inProcess(t)
	preflight := func(origin string) *http.Response {
		resp, _ := call(t, http.MethodOptions, base+"/personal-demographics/FHIR/R4/Patient/9490000019",
			map[string]string{"Origin": origin, "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization, x-request-id, if-match"}, nil)
		return resp
	}
	for _, origin := range []string{"http://127.0.0.1:5173", "http://localhost:3000", "http://[::1]:8080"} {
		resp := preflight(origin)
		assert.Equal(t, http.StatusNoContent, resp.StatusCode, origin)
		assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"), origin)
		assert.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "PATCH")
		assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "if-match")
	}
	resp := preflight("https://evil.example")
	assert.Equal(t, http.StatusNoContent, resp.StatusCode, "a preflight never gets 401")
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

	tok := accessToken(t, base)
	h := pdsHeaders(tok)
	h["Origin"] = "http://localhost:3000"
	resp, _ = call(t, http.MethodGet, base+"/personal-demographics/FHIR/R4/Patient/9490000019", h, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "http://localhost:3000", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Expose-Headers"), "ETag")

	for _, tt := range []struct {
		flag, origin string
		allowed      bool
	}{
		{"none", "http://localhost:3000", false},
		{"https://app.example:8443", "https://app.example:8443", true},
		{"https://app.example:8443", "http://localhost:3000", false},
		{"https://app.example:8443,loopback", "http://localhost:3000", true},
		{"loopback", "http://app.localhost.example", false},
		{"loopback", "null", false},
	} {
		p, err := parseCORS(tt.flag)
		require.NoError(t, err)
		assert.Equal(t, tt.allowed, p.allows(tt.origin), tt.flag+" "+tt.origin)
	}
	for _, bad := range []string{"app.example", "ftp://x", "https://x/path", "https://x?q=1"} {
		_, err := parseCORS(bad)
		assert.Error(t, err, bad)
	}
}

func TestLogMasksNHSNumbers(t *testing.T) {
	var buf bytes.Buffer
	h := logRequests(slog.New(slog.NewTextHandler(&buf, nil)), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/personal-demographics/FHIR/R4/Patient/9490000019?family=Hartley")
	require.NoError(t, err)
	resp.Body.Close()
	assert.NotContains(t, buf.String(), "9490000019")
	assert.Contains(t, buf.String(), "949****019")
	assert.NotContains(t, buf.String(), "Hartley")
	assert.Contains(t, buf.String(), "status=418")
}

// TestGuideSaysWhatATesterNeeds reads the guide the sandbox prints (and
// serves at /) for what each service wants.
func TestGuideSaysWhatATesterNeeds(t *testing.T) {
	base, _ := inProcess(t)
	resp, err := http.Get(base + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	guide := string(b)
	for _, want := range []string{
		base + "/personal-demographics/FHIR/R4", "X-Request-ID (UUID)", `PATCH {"patches":[...]} with If-Match`,
		base + nrls.ConsumerPath, "NHSD-End-User-Organisation-ODS: Y90001", "POST _search takes a JSON body",
		base + nrls.ProducerPath, "NHSD-End-User-Organisation-ODS: the custodian",
		base + "/shcr/RFC/fhir", base + "/sandbox/identity-keys", base + "/ssp/", "Ssp-From: 200000000001", nrls.SSPInteractionRead,
		base + "/sandbox/keys", base + "/oauth2/token", "TOO_MANY_MATCHES", "/metadata",
	} {
		assert.Contains(t, guide, want)
	}
}

// TestOwnIdentityKey: a tester's key, once registered, signs identity
// tokens the signed regions take.
func TestOwnIdentityKey(t *testing.T) {
	base, sb := inProcess(t)
	tok := accessToken(t, base)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})

	aud := base + "/shcr/RNR/fhir"
	own, err := identitytoken.Sign(auth.RS256, key, "", identitytoken.New(sb.world.Requester, shcrkit.PurposeDirectCare, aud, "https://tester.example", false, time.Now()))
	require.NoError(t, err)
	read := func() int {
		resp, _ := call(t, http.MethodGet, aud+"/records/RNR-000002", map[string]string{"Authorization": "Bearer " + tok, "X-Identity-Token": own}, nil)
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusForbidden, read(), "not yet registered")

	resp, b := call(t, http.MethodPost, base+"/sandbox/identity-keys", nil, bytes.NewReader(pemKey))
	require.Equal(t, http.StatusCreated, resp.StatusCode, b)
	var got []string
	for _, e := range b["trusted_by"].([]any) {
		got = append(got, e.(map[string]any)["custodian"].(string))
	}
	assert.ElementsMatch(t, []string{"RNR", "RMH", "RKS"}, got, "the regions signing with RSA")
	assert.Equal(t, http.StatusOK, read())

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err = x509.MarshalPKIXPublicKey(&ec.PublicKey)
	require.NoError(t, err)
	resp, b = call(t, http.MethodPost, base+"/sandbox/identity-keys?custodian=RWV", nil,
		bytes.NewReader(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	require.Equal(t, http.StatusCreated, resp.StatusCode, b)
	assert.Len(t, b["trusted_by"], 1)

	for name, body := range map[string]string{"not PEM": "key", "not a public key": "-----BEGIN JUNK-----\nAAAA\n-----END JUNK-----\n"} {
		resp, _ := call(t, http.MethodPost, base+"/sandbox/identity-keys", nil, strings.NewReader(body))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, name)
	}
	resp, _ = call(t, http.MethodPost, base+"/sandbox/identity-keys?custodian=RFC", nil, bytes.NewReader(pemKey))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "the unsigned region takes no key")
}
