package nrls_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

// TestPointersAreClearedOfTheConsumersToken checks that an NRL writing
// the consumer's own access token into a pointer, bare or URL-encoded,
// where Redact would not know it, does not hand it on: a pointer is kept,
// shown and audited.
func TestPointersAreClearedOfTheConsumersToken(t *testing.T) {
	const token = "opaque-consumer-token-7Hq2"
	srv := newFake(t, nrlstest.WithTokenValidator(func(string) error { return nil }))
	spec := nrls.PointerSpec{
		NHSNumber: pdstest.Patients.Normal, Custodian: "RX1", Type: nrls.TypeContingencyPlan,
		URL: "https://records.example/doc/1", PracticeSetting: nrls.Concept{Code: "1060971000000108", Display: "General practice service"},
		Title: "Plan written for " + token, Description: "see " + url.QueryEscape(token+"/x"),
	}
	p, err := nrls.NewPointer(spec)
	require.NoError(t, err)
	id, err := srv.AddPointer(p)
	require.NoError(t, err)
	c := consumer(t, srv, nrls.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})))

	res, err := c.SearchAll(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	got := fmt.Sprintf("%+v", res)
	assert.NotContains(t, got, token)
	var title string
	for _, q := range res.Pointers {
		if q.ID == id {
			title = q.Title
		}
	}
	assert.Equal(t, "Plan written for [redacted]", title)

	one, err := c.Get(ctx, id)
	require.NoError(t, err)
	assert.NotContains(t, fmt.Sprintf("%+v", one), token)
}
