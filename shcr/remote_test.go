package shcr_test

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// provider is a minimal remote ShCR for the transport tests: it records
// what it received and answers through a handler the test sets.
type provider struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newProvider(t *testing.T, h http.HandlerFunc) *provider {
	p := &provider{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.reqs = append(p.reqs, r.Clone(context.Background()))
		p.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *provider) requests() []*http.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*http.Request(nil), p.reqs...)
}

// newRemote builds a Remote over eps and ssp, configured by cfg (at most
// one; none takes the defaults).
func newRemote(t *testing.T, eps []shcr.Endpoint, ssp *shcr.SSP, cfg ...shcr.RemoteConfig) *shcr.Remote {
	t.Helper()
	require.LessOrEqual(t, len(cfg), 1)
	dir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: eps, SSP: ssp})
	require.NoError(t, err)
	r, err := shcr.NewRemote(dir, append(cfg, shcr.RemoteConfig{})[0])
	require.NoError(t, err)
	return r
}

func fetchReq(t *testing.T, custodian shcrkit.ODSCode, url, ct, asid string) shcr.FetchRequest {
	return shcr.FetchRequest{
		Requester: testRequester(),
		Purpose:   shcrkit.PurposeDirectCare,
		Pointer:   testPointer(t, string(custodian)+"-1", custodian, url, ct, asid),
	}
}

func writeFHIR(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/fhir+json")
	_ = json.NewEncoder(w).Encode(v)
}

func TestNewDirectoryRefusesBadEndpoints(t *testing.T) {
	rk, _ := testKeys(t)
	good := shcr.Endpoint{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: "https://north.example/fhir"}
	tests := []struct {
		name string
		edit func(*shcr.DirectoryConfig)
		want string
	}{
		{"no custodian", func(c *shcr.DirectoryConfig) { c.Endpoints[0].Custodians = nil }, "no custodian"},
		{"bad custodian", func(c *shcr.DirectoryConfig) { c.Endpoints[0].Custodians = []shcrkit.ODSCode{"r!"} }, "not a valid ODS code"},
		{"relative base URL", func(c *shcr.DirectoryConfig) { c.Endpoints[0].BaseURL = "/fhir" }, "absolute http or https"},
		{"base URL with user", func(c *shcr.DirectoryConfig) { c.Endpoints[0].BaseURL = "https://u:p@north.example" }, "user information"},
		{"ftp content host", func(c *shcr.DirectoryConfig) { c.Endpoints[0].ContentHosts = []string{"ftp://docs.example"} }, "content host"},
		{"short ASID", func(c *shcr.DirectoryConfig) { c.Endpoints[0].ASID = "123" }, "ASID must be 12 digits"},
		{"duplicate custodian", func(c *shcr.DirectoryConfig) {
			c.Endpoints = append(c.Endpoints, shcr.Endpoint{Name: "south", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: "https://south.example"})
		}, "already served by north"},
		{"RS256 without key", func(c *shcr.DirectoryConfig) { c.Endpoints[0].Identity.Signing = auth.RS256 }, "need a key"},
		{"ES256 with an RSA key", func(c *shcr.DirectoryConfig) {
			c.Endpoints[0].Identity = shcr.Identity{Signing: auth.ES256, Key: rk}
		}, "P-256"},
		{"unknown method", func(c *shcr.DirectoryConfig) { c.Endpoints[0].Identity.Signing = "HS256" }, "unknown signing method"},
		{"identity in Authorization", func(c *shcr.DirectoryConfig) { c.Endpoints[0].Identity.Header = "authorization" }, "not a usable header"},
		{"SSP without ASID", func(c *shcr.DirectoryConfig) { c.SSP = &shcr.SSP{ProxyURL: "https://proxy.example"} }, "consumer ASID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := shcr.DirectoryConfig{Endpoints: []shcr.Endpoint{good}}
			tt.edit(&cfg)
			_, err := shcr.NewDirectory(cfg)
			require.ErrorIs(t, err, shcr.ErrInvalidDirectory)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDirectoryAllows(t *testing.T) {
	dir, err := shcr.NewDirectory(shcr.DirectoryConfig{
		Endpoints: []shcr.Endpoint{
			{Name: "north", Custodians: []shcrkit.ODSCode{"RN1", "RN2"}, BaseURL: "https://north.example/fhir",
				ContentHosts: []string{"https://docs.north.example:8443"}, ASID: "100000000001"},
			{Name: "south", Custodians: []shcrkit.ODSCode{"RS1"}, BaseURL: "http://127.0.0.1:9000/fhir"},
		},
		SSP: &shcr.SSP{ProxyURL: "https://proxy.example/ssp", ConsumerASID: "200000000101"},
	})
	require.NoError(t, err)
	tests := []struct {
		custodian shcrkit.ODSCode
		url       string
		want      bool
	}{
		{"RN1", "https://north.example/fhir/CarePlan/1", true},
		{"RN2", "https://NORTH.example:443/other/path", true},
		{"RN1", "https://docs.north.example:8443/doc.pdf", true},
		{"RN1", "https://docs.north.example/doc.pdf", false}, // port 443, not 8443
		{"RN1", "http://north.example/fhir/CarePlan/1", false},
		{"RN1", "https://north.example.evil.example/fhir", false},
		{"RN1", "https://user@north.example/fhir/x", false},
		{"RS1", "https://north.example/fhir/CarePlan/1", false}, // another custodian's host
		{"RS1", "http://127.0.0.1:9000/fhir/x", true},
		{"RS1", "http://127.0.0.1:9001/fhir/x", false},
		{"ZZ9", "https://north.example/fhir/x", false},
		{"RN1", "ssp://north.example/fhir/CarePlan/1", true},
		{"RN1", "ssp://proxy.national.example/https%3A%2F%2Fnorth.example%2Ffhir%2FCarePlan%2F1", true},
		{"RN1", "ssp://evil.example/fhir/CarePlan/1", false},
		{"RN1", "https://proxy.example/ssp/https%3A%2F%2Fnorth.example%2Ffhir%2Fx", true},
		{"RN1", "https://proxy.example/ssp/https%3A%2F%2Fevil.example%2Ffhir%2Fx", false},
		{"RS1", "ssp://127.0.0.1:9000/fhir/x", false}, // https after ssp, and no ASID
		{"RN1", "mailto:records@north.example", false},
		{"RN1", "", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, dir.Allows(tt.custodian, tt.url), "%s %s", tt.custodian, tt.url)
	}
	assert.Equal(t, []shcrkit.ODSCode{"RN1", "RN2", "RS1"}, dir.Custodians())
}

func TestFetchNeverConnectsToUnregisteredHosts(t *testing.T) {
	stranger := untouchable(t)
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) { writeFHIR(w, map[string]any{"resourceType": "CarePlan"}) })
	r := newRemote(t, []shcr.Endpoint{
		{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL, TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "north-secret"})},
		{Name: "west", Custodians: []shcrkit.ODSCode{"RW1"}, BaseURL: stranger + "/fhir"},
	}, nil)
	tests := []struct {
		name      string
		custodian shcrkit.ODSCode
		url       string
		want      error
	}{
		{"unregistered host", "RN1", stranger + "/CarePlan/1", shcr.ErrHostNotAllowed},
		{"unknown custodian", "ZZ9", stranger + "/CarePlan/1", shcr.ErrUnknownCustodian},
		{"another custodian's host", "RW1", p.URL + "/CarePlan/1", shcr.ErrHostNotAllowed},
		{"SSP without a proxy", "RN1", "ssp://" + strings.TrimPrefix(stranger, "http://") + "/x", shcr.ErrInvalidPointer},
		{"unsupported scheme", "RN1", "file:///etc/passwd", shcr.ErrInvalidPointer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Fetch(context.Background(), fetchReq(t, tt.custodian, tt.url, "application/fhir+json", ""))
			require.ErrorIs(t, err, tt.want)
			assert.NotContains(t, err.Error(), "north-secret")
		})
	}
	assert.Empty(t, p.requests(), "a refused pointer must not reach the registered host either")
}

func TestFetchDoesNotFollowRedirectsToAnotherHost(t *testing.T) {
	stranger := untouchable(t)
	var p *provider
	p = newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, stranger+"/steal", http.StatusFound)
		case "/moved":
			http.Redirect(w, r, p.URL+"/here", http.StatusMovedPermanently)
		default:
			writeFHIR(w, map[string]any{"resourceType": "CarePlan", "id": "cp1"})
		}
	})
	r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL,
		TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "north-secret"})}}, nil)

	_, err := r.Fetch(context.Background(), fetchReq(t, "RN1", p.URL+"/away", "application/fhir+json", ""))
	require.ErrorIs(t, err, shcrkit.ErrRedirectRefused)

	c, err := r.Fetch(context.Background(), fetchReq(t, "RN1", p.URL+"/moved", "application/fhir+json", ""))
	require.NoError(t, err, "a redirect within the same origin is followed")
	assert.Equal(t, "CarePlan", c.ResourceType)
	reqs := p.requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, "/here", reqs[2].URL.Path)
	assert.Equal(t, "Bearer north-secret", reqs[2].Header.Get("Authorization"))
}

func TestFetchSendsAccessAndIdentityTokens(t *testing.T) {
	rk, ek := testKeys(t)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		ident  shcr.Identity
		pub    crypto.PublicKey
		access bool
	}{
		{"unsigned in Authorization, GP Connect style", shcr.Identity{}, nil, false},
		{"RS256 beside an access token", shcr.Identity{Signing: auth.RS256, Key: rk, KeyID: "k1"}, &rk.PublicKey, true},
		{"RS512 in a named header", shcr.Identity{Signing: auth.RS512, Key: rk, Header: "NHSD-Identity"}, &rk.PublicKey, true},
		{"ES256", shcr.Identity{Signing: auth.ES256, Key: ek}, &ek.PublicKey, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
				writeFHIR(w, map[string]any{"resourceType": "Composition"})
			})
			ep := shcr.Endpoint{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL + "/fhir", Identity: tt.ident}
			if tt.access {
				ep.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "access-123"})
			}
			r := newRemote(t, []shcr.Endpoint{ep}, nil, shcr.RemoteConfig{Now: func() time.Time { return now }, Issuer: "https://epr.riverside.example"})
			req := fetchReq(t, "RN1", p.URL+"/fhir/Composition/c1", "application/fhir+json", "")
			req.Restricted = true
			req.Purpose = shcrkit.PurposeEmergency
			_, err := r.Fetch(context.Background(), req)
			require.NoError(t, err)

			h := p.requests()[0].Header
			var tok string
			if tt.access {
				assert.Equal(t, "Bearer access-123", h.Get("Authorization"))
				hdr := tt.ident.Header
				if hdr == "" {
					hdr = identitytoken.DefaultHeader
				}
				tok = h.Get(hdr)
			} else {
				tok = strings.TrimPrefix(h.Get("Authorization"), "Bearer ")
				assert.True(t, strings.HasSuffix(tok, "."), "an unsigned JWT ends with an empty signature")
			}
			check := identitytoken.Check{Audience: p.URL + "/fhir", Signing: tt.ident.Signing, Key: tt.pub, Now: func() time.Time { return now.Add(time.Minute) }}
			claims, err := check.Verify(tok)
			require.NoError(t, err)
			assert.Equal(t, "https://epr.riverside.example", claims.Issuer)
			assert.Equal(t, "555021935107", claims.Subject)
			assert.Equal(t, now.Unix(), claims.IssuedAt)
			assert.Equal(t, now.Add(5*time.Minute).Unix(), claims.ExpiresAt)
			assert.Equal(t, "directcare", claims.ReasonForRequest)
			assert.Equal(t, identitytoken.ScopeRestricted, claims.RequestedScope)
			assert.Equal(t, "ETREAT", claims.PurposeOfUse)
			assert.Equal(t, "RX1", claims.RequestingOrganization.IdentifierValue(codesystem.ODS))
			assert.Equal(t, "555021936108", claims.RequestingPractitioner.IdentifierValue(identitytoken.SDSRoleProfileIDSystem))
			assert.Equal(t, "Riverside EPR", claims.RequestingDevice.Model)
			assert.Equal(t, "RX1", h.Get("NHSD-End-User-Organisation-ODS"))

			// The same token must fail a provider that expects otherwise.
			wrongAud := check
			wrongAud.Audience = "https://elsewhere.example"
			_, err = wrongAud.Verify(tok)
			require.ErrorIs(t, err, shcr.ErrIdentityToken)
			late := check
			late.Now = func() time.Time { return now.Add(6 * time.Minute) }
			_, err = late.Verify(tok)
			require.ErrorIs(t, err, shcr.ErrIdentityToken)
			assert.Contains(t, err.Error(), "expired")
		})
	}
}

func TestFetchFollowsBundlePages(t *testing.T) {
	stranger := untouchable(t)
	var p *provider
	p = newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		page := r.URL.Query().Get("page")
		b := map[string]any{"resourceType": "Bundle", "type": "searchset", "total": 5,
			"link": []any{map[string]any{"relation": "self", "url": p.URL + r.URL.String()}}}
		entries := func(ids ...string) []any {
			var out []any
			for _, id := range ids {
				out = append(out, map[string]any{"resource": map[string]any{"resourceType": "CarePlan", "id": id}})
			}
			return out
		}
		link := func(u string) {
			b["link"] = append(b["link"].([]any), map[string]any{"relation": "next", "url": u})
		}
		switch {
		case r.URL.Path == "/fhir/escape":
			b["entry"] = entries("e1")
			link(stranger + "/fhir/next")
		case page == "":
			b["entry"] = entries("a", "b")
			link("CarePlan?page=2") // relative: resolved against the page's URL
		case page == "2":
			b["entry"] = entries("c", "d")
			link(p.URL + "/fhir/CarePlan?page=3")
		case page == "3":
			b["entry"] = entries("e")
		}
		writeFHIR(w, b)
	})
	r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL + "/fhir"}}, nil)

	c, err := r.Fetch(shcrkit.WithRequestID(context.Background(), "6d3a2ea5-1d4f-4c8b-9a35-3c1bd2a7f001"),
		fetchReq(t, "RN1", p.URL+"/fhir/CarePlan", "application/fhir+json", ""))
	require.NoError(t, err)
	assert.Equal(t, 3, c.Pages)
	assert.Equal(t, "Bundle", c.ResourceType)
	assert.Equal(t, "6d3a2ea5-1d4f-4c8b-9a35-3c1bd2a7f001", c.RequestID)
	var merged struct {
		Entry []struct {
			Resource struct{ ID string } `json:"resource"`
		} `json:"entry"`
		Link []struct{ Relation string } `json:"link"`
	}
	require.NoError(t, json.Unmarshal(c.Resource, &merged))
	var ids []string
	for _, e := range merged.Entry {
		ids = append(ids, e.Resource.ID)
	}
	assert.Equal(t, []string{"a", "b", "c", "d", "e"}, ids)
	for _, l := range merged.Link {
		assert.NotEqual(t, "next", l.Relation)
	}
	reqs := p.requests()
	require.Len(t, reqs, 3)
	assert.NotEqual(t, reqs[0].Header.Get("X-Request-ID"), reqs[1].Header.Get("X-Request-ID"), "each page is its own request")
	tokens := map[string]bool{}
	for _, q := range reqs {
		tokens[q.Header.Get("Authorization")] = true
	}
	assert.Len(t, tokens, 3, "each page has an identity token of its own")

	_, err = r.Fetch(context.Background(), fetchReq(t, "RN1", p.URL+"/fhir/escape", "application/fhir+json", ""))
	require.ErrorIs(t, err, shcr.ErrHostNotAllowed, "a next link to another host is refused")

	short := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL + "/fhir"}}, nil, shcr.RemoteConfig{MaxPages: 2})
	_, err = short.Fetch(context.Background(), fetchReq(t, "RN1", p.URL+"/fhir/CarePlan", "application/fhir+json", ""))
	require.ErrorIs(t, err, shcr.ErrTooManyPages)
}

// A request's identity token is made before it waits for its endpoint's
// place; one that waited past half its lifetime is made again.
func TestFetchMakesAgainATokenThatWaitedTooLong(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	var now atomic.Int64
	now.Store(t0.UnixNano())
	read := make(chan struct{}, 16)
	clock := func() time.Time {
		select {
		case read <- struct{}{}:
		default:
		}
		return time.Unix(0, now.Load()).UTC()
	}
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write([]byte("%PDF-1.7\n"))
	})
	r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL + "/fhir", Parallelism: 1}},
		nil, shcr.RemoteConfig{Now: clock})
	req := fetchReq(t, "RN1", p.URL+"/fhir/doc.pdf", "application/pdf", "")
	first, err := r.Fetch(context.Background(), req)
	require.NoError(t, err)
	for len(read) > 0 {
		<-read
	}
	done := make(chan error, 1)
	go func() {
		c, err := r.Fetch(context.Background(), req)
		if err == nil {
			err = c.Close()
		}
		done <- err
	}()
	<-read // the second request's token is made, at t0
	now.Store(t0.Add(3 * time.Minute).UnixNano())
	require.NoError(t, first.Close()) // its place is given back
	require.NoError(t, <-done)

	reqs := p.requests()
	require.Len(t, reqs, 2)
	check := identitytoken.Check{Audience: p.URL + "/fhir", Now: func() time.Time { return t0.Add(4 * time.Minute) }}
	var issued []int64
	for _, q := range reqs {
		claims, err := check.Verify(strings.TrimPrefix(q.Header.Get("Authorization"), "Bearer "))
		require.NoError(t, err)
		issued = append(issued, claims.IssuedAt)
	}
	assert.Equal(t, []int64{t0.Unix(), t0.Add(3 * time.Minute).Unix()}, issued,
		"the token made before a wait of 3 minutes is made again when the request goes")
}

func TestFetchStreamsDocumentsWithACap(t *testing.T) {
	pdf := append([]byte("%PDF-1.7\n"), []byte(strings.Repeat("x", 8000))...)
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/doc.pdf", "/big.pdf":
			w.Header().Set("Content-Type", "application/pdf")
			if r.URL.Path == "/big.pdf" {
				// No Content-Length: the cap must bite while streaming.
				fl := w.(http.Flusher)
				for range 10 {
					_, _ = w.Write(pdf)
					fl.Flush()
				}
				return
			}
			w.Header().Set("Content-Length", fmt.Sprint(len(pdf)))
			_, _ = w.Write(pdf)
		case "/wrong.pdf":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, "<html>login page</html>")
		}
	})
	r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL}}, nil,
		shcr.RemoteConfig{MaxDocumentBytes: 20000})

	c, err := r.Fetch(context.Background(), fetchReq(t, "RN1", p.URL+"/doc.pdf", "application/pdf", ""))
	require.NoError(t, err)
	require.NotNil(t, c.Body, "an attachment streams; it is not FHIR JSON")
	assert.Equal(t, "application/pdf", c.ContentType)
	assert.Equal(t, int64(len(pdf)), c.Size)
	got, err := io.ReadAll(c.Body)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	assert.Equal(t, pdf, got)
	assert.Equal(t, "application/pdf", p.requests()[0].Header.Get("Accept"))

	c, err = r.Fetch(context.Background(), fetchReq(t, "RN1", p.URL+"/big.pdf", "application/pdf", ""))
	require.NoError(t, err)
	n, err := io.Copy(io.Discard, c.Body)
	require.ErrorIs(t, err, shcrkit.ErrResponseTooLarge)
	assert.LessOrEqual(t, n, int64(20000))
	c.Close()

	_, err = r.Fetch(context.Background(), fetchReq(t, "RN1", p.URL+"/wrong.pdf", "application/pdf", ""))
	require.ErrorIs(t, err, shcr.ErrUnsupportedContent)

	before := len(p.requests())
	_, err = r.Fetch(context.Background(), fetchReq(t, "RN1", p.URL+"/x.exe", "application/x-msdownload", ""))
	require.ErrorIs(t, err, shcr.ErrUnsupportedContent)
	assert.Len(t, p.requests(), before, "an unaccepted type is refused before any request")
}

func TestFetchChecksFHIRAnswers(t *testing.T) {
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html></html>")
		case "/truncated":
			w.Header().Set("Content-Type", "application/fhir+json")
			_, _ = io.WriteString(w, `{"resourceType":"CarePl`)
		case "/gone":
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","details":{"coding":[{"code":"NO_RECORD_FOUND"}]}}]}`)
		case "/notfhir":
			writeFHIR(w, map[string]any{"hello": "world"})
		}
	})
	r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL}}, nil, shcr.RemoteConfig{MaxAttempts: 1})
	tests := []struct {
		path string
		want error
	}{
		{"/html", shcr.ErrUnsupportedContent}, // HTML where FHIR JSON was declared
		{"/truncated", shcrkit.ErrMalformedResponse},
		{"/gone", shcrkit.ErrNotFound},
		{"/notfhir", shcrkit.ErrMalformedResponse},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := r.Fetch(context.Background(), fetchReq(t, "RN1", p.URL+tt.path, "application/fhir+json", ""))
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestFetchTimeout(t *testing.T) {
	release := make(chan struct{})
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL}}, nil)
	for _, ct := range []string{"application/fhir+json", "application/pdf"} {
		req := fetchReq(t, "RN1", p.URL+"/slow", ct, "")
		req.Timeout = 50 * time.Millisecond
		_, err := r.Fetch(context.Background(), req)
		require.ErrorIs(t, err, shcrkit.ErrUnavailable, ct)
		require.ErrorIs(t, err, context.DeadlineExceeded, ct)
	}
}

func TestFetchThroughSSP(t *testing.T) {
	target := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		writeFHIR(w, map[string]any{"resourceType": "CarePlan", "id": "cp1"})
	})
	targetHost := strings.TrimPrefix(target.URL, "http://")
	var mu sync.Mutex
	var seen []http.Header
	var forwarded []string
	proxy := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		raw := strings.TrimPrefix(r.URL.EscapedPath(), "/ssp/")
		dest, err := url.PathUnescape(raw)
		if err != nil {
			http.Error(w, "bad target", http.StatusBadRequest)
			return
		}
		mu.Lock()
		forwarded = append(forwarded, dest)
		mu.Unlock()
		// The fake proxy forwards to plain http, since the test provider
		// has no certificate; a real one speaks TLS both ways.
		resp, err := http.Get(strings.Replace(dest, "https://", "http://", 1))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		_, _ = io.Copy(w, resp.Body)
	})
	r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"},
		BaseURL: "https://" + targetHost + "/fhir", ASID: "100000000001"}},
		&shcr.SSP{ProxyURL: proxy.URL + "/ssp", ConsumerASID: "200000000101"})

	c, err := r.Fetch(context.Background(), fetchReq(t, "RN1", "ssp://"+targetHost+"/fhir/CarePlan/cp1?_format=json", "application/fhir+json", "100000000001"))
	require.NoError(t, err)
	assert.True(t, c.ViaSSP)
	assert.Equal(t, "CarePlan", c.ResourceType)
	require.Len(t, seen, 1)
	assert.Equal(t, "200000000101", seen[0].Get("Ssp-From"))
	assert.Equal(t, "100000000001", seen[0].Get("Ssp-To"))
	assert.Equal(t, nrls.SSPInteractionRead, seen[0].Get("Ssp-InteractionID"))
	assert.NotEmpty(t, seen[0].Get("Ssp-TraceID"))
	assert.True(t, strings.HasPrefix(seen[0].Get("Authorization"), "Bearer "), "the identity token travels in Authorization")
	assert.Equal(t, "https://"+targetHost+"/fhir/CarePlan/cp1?_format=json", forwarded[0])
	assert.Len(t, target.requests(), 1)

	_, err = r.Fetch(context.Background(), fetchReq(t, "RN1", "ssp://"+targetHost+"/fhir/CarePlan/cp1", "application/fhir+json", "100000000009"))
	require.ErrorIs(t, err, shcr.ErrInvalidPointer, "a pointer ASID that contradicts the directory is refused")
}

func TestFetchWithMutualTLS(t *testing.T) {
	clientCert, clientPool := selfSigned(t, "riverside-epr")
	p := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no client certificate", http.StatusUnauthorized)
			return
		}
		writeFHIR(w, map[string]any{"resourceType": "CarePlan", "id": r.TLS.PeerCertificates[0].Subject.CommonName})
	}))
	p.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientPool}
	p.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	p.StartTLS()
	defer p.Close()
	roots := x509.NewCertPool()
	roots.AddCert(p.Certificate())

	r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL,
		Certificate: &clientCert, RootCAs: roots}}, nil)
	c, err := r.Fetch(context.Background(), fetchReq(t, "RN1", p.URL+"/CarePlan/1", "application/fhir+json", ""))
	require.NoError(t, err)
	assert.Contains(t, string(c.Resource), "riverside-epr")

	noCert := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL, RootCAs: roots}}, nil,
		shcr.RemoteConfig{MaxAttempts: 1})
	_, err = noCert.Fetch(context.Background(), fetchReq(t, "RN1", p.URL+"/CarePlan/1", "application/fhir+json", ""))
	require.Error(t, err)
}

// selfSigned makes a client certificate and a pool that trusts it.
func selfSigned(t *testing.T, cn string) (tls.Certificate, *x509.CertPool) {
	_, ek := testKeys(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, &ek.PublicKey, ek)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: ek, Leaf: leaf}, pool
}

func TestNewRemoteOptions(t *testing.T) {
	dir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: []shcr.Endpoint{{Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: "https://n.example"}}})
	require.NoError(t, err)
	for _, cfg := range []shcr.RemoteConfig{
		{MaxAttempts: 11}, {MaxAttempts: -1}, {MaxResponseBytes: 10}, {UserAgent: "two\nlines"},
		{MaxDocumentBytes: 1}, {MaxPages: 1001}, {MaxPages: -1}, {Parallelism: 257}, {Issuer: " "},
		{ContentTypes: []string{}}, {ContentTypes: []string{"not a type/"}},
	} {
		_, err := shcr.NewRemote(dir, cfg)
		require.ErrorIs(t, err, shcrkit.ErrInvalidOption, "%+v", cfg)
	}
	_, err = shcr.NewRemote(nil, shcr.RemoteConfig{})
	require.ErrorIs(t, err, shcrkit.ErrInvalidOption)

	custom := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("unused") })}
	cert, _ := selfSigned(t, "x")
	mtlsDir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: []shcr.Endpoint{{Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: "https://n.example", Certificate: &cert}}})
	require.NoError(t, err)
	_, err = shcr.NewRemote(mtlsDir, shcr.RemoteConfig{HTTPClient: custom})
	require.ErrorIs(t, err, shcrkit.ErrInvalidOption, "mutual TLS needs an *http.Transport to clone")
	_, err = shcr.NewRemote(mtlsDir, shcr.WithHTTPClient(custom))
	require.ErrorIs(t, err, shcrkit.ErrInvalidOption, "WithHTTPClient sets the same field")
}

func TestNewRemoteSharedOptionNames(t *testing.T) {
	dir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: []shcr.Endpoint{{Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: "https://n.example"}}})
	require.NoError(t, err)
	for name, opt := range map[string]shcr.Option{
		"max attempts":       shcr.WithMaxAttempts(11),
		"max response bytes": shcr.WithMaxResponseBytes(10),
		"user agent":         shcr.WithUserAgent("two\nlines"),
		"nil":                nil,
	} {
		_, err := shcr.NewRemote(dir, opt)
		require.ErrorIs(t, err, shcrkit.ErrInvalidOption, name)
	}
	_, err = shcr.NewRemote(dir, shcr.WithHTTPClient(&http.Client{}), shcr.WithLogger(nil), shcr.WithMaxAttempts(2),
		shcr.WithMaxResponseBytes(1<<20), shcr.WithUserAgent("epr/1.0"))
	require.NoError(t, err)
	// Later options override earlier ones, a whole RemoteConfig included.
	_, err = shcr.NewRemote(dir, shcr.RemoteConfig{MaxAttempts: 11}, shcr.WithMaxAttempts(3))
	require.NoError(t, err)
	_, err = shcr.NewRemote(dir, shcr.WithMaxAttempts(11), shcr.RemoteConfig{})
	require.NoError(t, err)
	_, err = shcr.NewRemote(dir, shcr.WithMaxAttempts(3), shcr.WithMaxAttempts(11))
	require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestFetchErrorsNameNoPatient(t *testing.T) {
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","diagnostics":"no access to %s"}]}`, testNHS)
	})
	r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL}}, nil)
	_, err := r.Fetch(context.Background(), fetchReq(t, "RN1", p.URL+"/Patient/"+string(testNHS)+"/CarePlan", "application/fhir+json", ""))
	require.ErrorIs(t, err, shcrkit.ErrForbidden)
	assert.NotContains(t, err.Error(), string(testNHS))
}
