package fhirhttp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

const (
	orgHeader  = "NHSD-End-User-Organisation-ODS"
	uridHeader = "NHSD-Session-URID"
)

// sessionTokens hands out "tok-<user>" per session and records
// invalidations.
type sessionTokens struct {
	mu          sync.Mutex
	invalidated []string
	fail        error
}

func (s *sessionTokens) Token() (*oauth2.Token, error) { return nil, errors.New("no session") }

func (s *sessionTokens) SessionToken(_ context.Context, sess shcrkit.Session) (string, error) {
	if s.fail != nil {
		return "", s.fail
	}
	return "tok-" + sess.UserID + "-" + string(sess.Organisation), nil
}

func (s *sessionTokens) InvalidateSessionToken(sess shcrkit.Session, tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated = append(s.invalidated, sess.UserID+":"+tok)
}

func identityServer(t *testing.T, status int) (*httptest.Server, *seen) {
	t.Helper()
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.add(r)
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(patientJSON))
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func withIdentity(org shcrkit.ODSCode, urid string, require bool) func(*fhirhttp.Config) {
	return func(c *fhirhttp.Config) {
		c.Identity = fhirhttp.Identity{OrganisationHeader: orgHeader, URIDHeader: uridHeader,
			Organisation: org, URID: urid, RequireOrganisation: require, Service: "PDS"}
	}
}

func TestCallIdentityHeaders(t *testing.T) {
	alice := shcrkit.Session{ID: "s1", UserID: "555000000001", Organisation: "RX1", RoleProfileID: "100000000001"}
	tests := []struct {
		name     string
		org      shcrkit.ODSCode
		urid     string
		require  bool
		ctx      func(context.Context) context.Context
		wantOrg  string
		wantURID string
		wantErr  error
	}{
		{"defaults without a session", "RX9", "900000000009", false, nil, "RX9", "900000000009", nil},
		{"session without defaults", "", "", false, func(c context.Context) context.Context { return shcrkit.WithSession(c, alice) }, "RX1", "100000000001", nil},
		{"session agreeing with defaults", "RX1", "100000000001", false, func(c context.Context) context.Context { return shcrkit.WithSession(c, alice) }, "RX1", "100000000001", nil},
		{"defaults fill what the session leaves out", "RX1", "100000000001", false,
			func(c context.Context) context.Context { return shcrkit.WithSession(c, shcrkit.Session{UserID: "u"}) }, "RX1", "100000000001", nil},
		{"session of another organisation", "RX9", "", false, func(c context.Context) context.Context { return shcrkit.WithSession(c, alice) }, "", "", shcrkit.ErrInvalidRequest},
		{"session of another role", "", "900000000009", false, func(c context.Context) context.Context { return shcrkit.WithSession(c, alice) }, "", "", shcrkit.ErrInvalidRequest},
		{"no organisation where one is required", "", "", true, nil, "", "", shcrkit.ErrNoSession},
		{"malformed session", "", "", false,
			func(c context.Context) context.Context {
				return shcrkit.WithSession(c, shcrkit.Session{Organisation: "rx1"})
			}, "", "", shcrkit.ErrInvalidRequester},
		{"nothing at all", "", "", false, nil, "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := identityServer(t, http.StatusOK)
			c := newClient(t, srv.URL, withIdentity(tt.org, tt.urid, tt.require))
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}
			// A header the request sets itself never overrides the call's identity.
			_, err := c.Do(ctx, &fhirhttp.Request{Path: "/Patient/9000000009",
				Header: http.Header{orgHeader: {"EVIL"}, uridHeader: {"666"}}})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
				assert.Empty(t, got.all(), "refused before any request")
				return
			}
			require.NoError(t, err)
			reqs := got.all()
			require.Len(t, reqs, 1)
			assert.Equal(t, tt.wantOrg, reqs[0].Header.Get(orgHeader))
			assert.Equal(t, tt.wantURID, reqs[0].Header.Get(uridHeader))
			assert.Len(t, reqs[0].Header.Values(orgHeader), map[bool]int{true: 1}[tt.wantOrg != ""], "one organisation header at most")
			assert.Len(t, reqs[0].Header.Values(uridHeader), map[bool]int{true: 1}[tt.wantURID != ""], "one URID header at most")
		})
	}
}

func TestMismatchErrorNamesBothSides(t *testing.T) {
	c := newClient(t, "https://pds.example", withIdentity("RX9", "", false))
	_, err := c.Do(shcrkit.WithSession(context.Background(), shcrkit.Session{Organisation: "RX1"}), &fhirhttp.Request{Path: "/x"})
	var me *shcrkit.IdentityMismatchError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "organisation", me.Field)
	assert.Equal(t, "RX1", me.Want)
	assert.Equal(t, "RX9", me.Got)
	assert.Contains(t, err.Error(), "the PDS client's WithEndUserOrganisation")
}

func TestSessionTokenSource(t *testing.T) {
	srv, got := identityServer(t, http.StatusOK)
	ts := &sessionTokens{}
	c := newClient(t, srv.URL, withIdentity("", "", true), func(cfg *fhirhttp.Config) { require.NoError(t, cfg.SetTokenSource(ts)) })

	// Without a session there is no token to send.
	_, err := c.Do(shcrkit.WithSession(context.Background(), shcrkit.Session{}), &fhirhttp.Request{Path: "/x"})
	require.ErrorIs(t, err, shcrkit.ErrNoSession, "no organisation")
	_, err = newClient(t, srv.URL, func(cfg *fhirhttp.Config) { require.NoError(t, cfg.SetTokenSource(ts)) }).
		Do(context.Background(), &fhirhttp.Request{Path: "/x"})
	require.ErrorIs(t, err, shcrkit.ErrNoSession, "no session for the token")
	require.Empty(t, got.all())

	for _, s := range []shcrkit.Session{
		{UserID: "u1", Organisation: "RX1", RoleProfileID: "1"},
		{UserID: "u2", Organisation: "RX2", RoleProfileID: "2"},
	} {
		_, err := c.Do(shcrkit.WithSession(context.Background(), s), &fhirhttp.Request{Path: "/x"})
		require.NoError(t, err)
	}
	reqs := got.all()
	require.Len(t, reqs, 2)
	assert.Equal(t, "Bearer tok-u1-RX1", reqs[0].Header.Get("Authorization"))
	assert.Equal(t, "RX1", reqs[0].Header.Get(orgHeader))
	assert.Equal(t, "Bearer tok-u2-RX2", reqs[1].Header.Get("Authorization"))
	assert.Equal(t, "RX2", reqs[1].Header.Get(orgHeader))

	ts.fail = errors.New("exchange refused")
	_, err = c.Do(shcrkit.WithSession(context.Background(), shcrkit.Session{UserID: "u1", Organisation: "RX1"}), &fhirhttp.Request{Path: "/x"})
	require.ErrorContains(t, err, "exchange refused")
	assert.Len(t, got.all(), 2)
}

func TestUnauthorisedInvalidatesTheSessionsTokenOnly(t *testing.T) {
	srv, _ := identityServer(t, http.StatusUnauthorized)
	ts := &sessionTokens{}
	c := newClient(t, srv.URL, func(cfg *fhirhttp.Config) { require.NoError(t, cfg.SetTokenSource(ts)) })
	_, err := c.Do(shcrkit.WithSession(context.Background(), shcrkit.Session{UserID: "u7", Organisation: "RX7"}), &fhirhttp.Request{Path: "/x"})
	require.ErrorIs(t, err, shcrkit.ErrUnauthorized)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	assert.Equal(t, []string{"u7:tok-u7-RX7"}, ts.invalidated)
}

func TestCallSession(t *testing.T) {
	c := newClient(t, "https://nrl.example", withIdentity("RX9", "", true))
	s, err := c.CallSession(context.Background())
	require.NoError(t, err)
	assert.Equal(t, shcrkit.ODSCode("RX9"), s.Organisation)
	_, err = c.CallSession(shcrkit.WithSession(context.Background(), shcrkit.Session{Organisation: "RX1"}))
	assert.ErrorAs(t, err, new(*shcrkit.IdentityMismatchError))
}
