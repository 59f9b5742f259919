package pds_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

const sessionNHS = shcrkit.NHSNumber("9490000019")

func TestSessionIdentityPerCall(t *testing.T) {
	srv := pdstest.NewServer()
	t.Cleanup(srv.Close)
	c, err := srv.NewClient()
	require.NoError(t, err)
	assert.Empty(t, c.EndUserOrganisation())
	assert.Empty(t, c.SessionURID())
	for _, s := range []shcrkit.Session{
		{UserID: "555000000001", Organisation: "RX1", RoleProfileID: "100000000001"},
		{UserID: "555000000002", Organisation: "Y90001", RoleProfileID: "100000000002"},
	} {
		_, err := c.Get(shcrkit.WithSession(context.Background(), s), sessionNHS)
		require.NoError(t, err)
		reqs := srv.Requests()
		last := reqs[len(reqs)-1]
		assert.Equal(t, string(s.Organisation), last.Header.Get("NHSD-End-User-Organisation-ODS"))
		assert.Equal(t, s.RoleProfileID, last.Header.Get("NHSD-Session-URID"))
	}
}

func TestFixedClientOptionsAreDefaults(t *testing.T) {
	srv := pdstest.NewServer()
	t.Cleanup(srv.Close)
	c, err := srv.NewClient(pds.WithEndUserOrganisation("RX1"), pds.WithSessionURID("100000000001"))
	require.NoError(t, err)
	assert.Equal(t, shcrkit.ODSCode("RX1"), c.EndUserOrganisation())
	assert.Equal(t, "100000000001", c.SessionURID())

	// No session: the defaults are sent, as before.
	_, err = c.Get(context.Background(), sessionNHS)
	require.NoError(t, err)
	last := srv.Requests()[0]
	assert.Equal(t, "RX1", last.Header.Get("NHSD-End-User-Organisation-ODS"))
	assert.Equal(t, "100000000001", last.Header.Get("NHSD-Session-URID"))

	for _, s := range []shcrkit.Session{{Organisation: "RX2"}, {RoleProfileID: "100000000009"}} {
		_, err := c.Get(shcrkit.WithSession(context.Background(), s), sessionNHS)
		require.ErrorAs(t, err, new(*shcrkit.IdentityMismatchError))
	}
	assert.Len(t, srv.Requests(), 1, "mismatches are refused before any request")
}

func TestFakeRefusesCrossedTokens(t *testing.T) {
	alice := shcrkit.Session{UserID: "555000000001", Organisation: "RX1", RoleProfileID: "100000000001"}
	srv := pdstest.NewServer(pdstest.WithTokenIdentities(func(tok string) (shcrkit.Session, bool) {
		if tok == "token-alice" {
			return alice, true
		}
		return shcrkit.Session{}, false
	}))
	t.Cleanup(srv.Close)
	srv.BindToken("token-bob", shcrkit.Session{UserID: "555000000002", Organisation: "RX2", RoleProfileID: "100000000002"})
	get := func(tok string, s shcrkit.Session) error {
		c, err := srv.NewClient(pds.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})))
		require.NoError(t, err)
		_, err = c.Get(shcrkit.WithSession(context.Background(), s), sessionNHS)
		return err
	}
	require.NoError(t, get("token-alice", shcrkit.Session{Organisation: "RX1", RoleProfileID: "100000000001"}))
	require.NoError(t, get("token-bob", shcrkit.Session{Organisation: "RX2", RoleProfileID: "100000000002"}))
	tests := []struct {
		name string
		tok  string
		s    shcrkit.Session
	}{
		{"alice's token for bob's organisation", "token-alice", shcrkit.Session{Organisation: "RX2", RoleProfileID: "100000000001"}},
		{"alice's token with bob's role", "token-alice", shcrkit.Session{Organisation: "RX1", RoleProfileID: "100000000002"}},
		{"bob's token for alice", "token-bob", shcrkit.Session{Organisation: "RX1", RoleProfileID: "100000000001"}},
		{"a token of nobody known", "token-eve", shcrkit.Session{Organisation: "RX1", RoleProfileID: "100000000001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := get(tt.tok, tt.s)
			require.ErrorIs(t, err, shcrkit.ErrForbidden)
			var ae *shcrkit.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, http.StatusForbidden, ae.StatusCode)
			assert.Equal(t, "ACCESS_DENIED", ae.Code)
		})
	}
}
