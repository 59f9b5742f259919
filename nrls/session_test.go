package nrls_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func TestClientWithoutOrganisationTakesTheSessions(t *testing.T) {
	srv := newFake(t)
	c, err := nrls.NewClient(srv.URL+nrls.ConsumerPath, nrls.WithHTTPClient(srv.HTTPClient()))
	require.NoError(t, err)
	assert.Empty(t, c.EndUserOrganisation())

	_, err = c.Search(context.Background(), pdstest.Patients.Normal)
	require.ErrorIs(t, err, shcrkit.ErrNoSession)
	require.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	require.Empty(t, srv.Requests(), "refused before any request")

	for _, org := range []shcrkit.ODSCode{"RX1", "Y90001"} {
		ctx := shcrkit.WithSession(context.Background(), shcrkit.Session{UserID: "555000000001", Organisation: org})
		_, err := c.Search(ctx, pdstest.Patients.Normal)
		require.NoError(t, err)
		reqs := srv.Requests()
		assert.Equal(t, string(org), reqs[len(reqs)-1].Header.Get("NHSD-End-User-Organisation-ODS"))
	}
}

func TestFixedOrganisationRefusesAnotherSession(t *testing.T) {
	srv := newFake(t)
	c := consumer(t, srv) // fixed to nrlstest.ConsumerODS
	ctx := shcrkit.WithSession(context.Background(), shcrkit.Session{Organisation: "RX1"})
	_, err := c.Search(ctx, pdstest.Patients.Normal)
	require.ErrorAs(t, err, new(*shcrkit.IdentityMismatchError))
	assert.Empty(t, srv.Requests())
	// The same organisation is fine.
	ctx = shcrkit.WithSession(context.Background(), shcrkit.Session{Organisation: nrlstest.ConsumerODS})
	_, err = c.Search(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
}

func TestProducerOwnsTheSessionsPointers(t *testing.T) {
	srv := newFake(t)
	prod, err := nrls.NewClient((srv.URL + nrls.ProducerPath))
	require.NoError(t, err)
	p := mustPointer(t, directSpec()) // custodian testODS

	other := shcrkit.WithSession(context.Background(), shcrkit.Session{Organisation: "RX1"})
	_, err = prod.Create(other, p)
	var ve *nrls.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Error(), "custodian")
	err = prod.Delete(other, string(testODS)+"-1")
	require.ErrorAs(t, err, &ve)
	require.Empty(t, srv.Requests())

	own := shcrkit.WithSession(context.Background(), shcrkit.Session{Organisation: testODS})
	id, err := prod.Create(own, p)
	require.NoError(t, err)
	require.NoError(t, prod.Delete(own, id))

	_, err = prod.Create(context.Background(), p)
	require.ErrorIs(t, err, shcrkit.ErrNoSession)
}

func TestFakeRefusesATokenOfAnotherOrganisation(t *testing.T) {
	srv := newFake(t)
	srv.BindToken("token-rx1", shcrkit.Session{UserID: "555000000001", Organisation: "RX1"})
	search := func(tok string, org shcrkit.ODSCode) error {
		c, err := nrls.NewClient(srv.URL+nrls.ConsumerPath, nrls.WithHTTPClient(srv.HTTPClient()), nrls.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})))
		require.NoError(t, err)
		_, err = c.Search(shcrkit.WithSession(context.Background(), shcrkit.Session{Organisation: org}), pdstest.Patients.Normal)
		return err
	}
	require.NoError(t, search("token-rx1", "RX1"))
	for _, tt := range []struct {
		name, tok string
		org       shcrkit.ODSCode
	}{
		{"another organisation", "token-rx1", "RX2"},
		{"a token of no known user", "token-unknown", "RX1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := search(tt.tok, tt.org)
			require.ErrorIs(t, err, shcrkit.ErrForbidden)
			var ae *shcrkit.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, http.StatusForbidden, ae.StatusCode)
			assert.Equal(t, "ACCESS DENIED", ae.Code)
			assert.NotContains(t, ae.Error(), tt.tok)
		})
	}
}
