package shcr_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
)

// TestJourneyCarriesTheRequestersIdentity: PDS and the NRL hear the
// requester's organisation and role, whatever the clients were built
// with, and each journey's own.
func TestJourneyCarriesTheRequestersIdentity(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := newJourney(t, w, audittest.NewRecorder())
	for _, org := range []shcrkit.ODSCode{"RX1", "Y90001"} {
		req := encounter(w, pdstest.Patients.Normal)
		req.Requester.Organisation = org
		w.PDS.ResetRequests()
		w.NRL.ResetRequests()
		_, err := c.Discover(context.Background(), req)
		require.NoError(t, err)
		for _, r := range w.PDS.Requests() {
			assert.Equal(t, string(org), r.Header.Get("NHSD-End-User-Organisation-ODS"))
			assert.Equal(t, req.Requester.RoleProfileID, r.Header.Get("NHSD-Session-URID"))
		}
		require.NotEmpty(t, w.NRL.Requests())
		for _, r := range w.NRL.Requests() {
			assert.Equal(t, string(org), r.Header.Get("NHSD-End-User-Organisation-ODS"))
		}
	}
}

func TestJourneyRefusesCrossedIdentity(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	fixedPDS, err := w.PDS.NewClient(pds.WithTokenSource(w.TokenSource), pds.WithEndUserOrganisation(w.Requester.Organisation)) // fixed to the world requester's organisation
	require.NoError(t, err)
	uridPDS, err := w.PDS.NewClient(pds.WithTokenSource(w.TokenSource), pds.WithEndUserOrganisation(w.Requester.Organisation), pds.WithSessionURID("999999999999"))
	require.NoError(t, err)
	fixedNRL, err := w.NRL.NewClient(nrls.WithTokenSource(w.TokenSource), nrls.WithEndUserOrganisation(w.Requester.Organisation))
	require.NoError(t, err)
	other := w.Requester
	other.Organisation = "RX9"

	tests := []struct {
		name   string
		edit   func(*shcr.Config)
		req    func(shcr.Request) shcr.Request
		ctx    func(context.Context) context.Context
		source string
	}{
		{"PDS client fixed to another organisation", func(c *shcr.Config) { c.PDS = fixedPDS },
			func(r shcr.Request) shcr.Request { r.Requester = other; return r }, nil, "PDS client's WithEndUserOrganisation"},
		{"NRL client fixed to another organisation", func(c *shcr.Config) { c.NRL = fixedNRL },
			func(r shcr.Request) shcr.Request { r.Requester = other; return r }, nil, "NRL client's WithEndUserOrganisation"},
		{"PDS client fixed to another role", func(c *shcr.Config) { c.PDS = uridPDS }, nil, nil, "PDS client's WithSessionURID"},
		{"context session of another user", nil, nil, func(ctx context.Context) context.Context {
			return shcrkit.WithSession(ctx, shcrkit.Session{ID: "s", UserID: "555000999999"})
		}, "session in the context"},
		{"context session of another organisation", nil, nil, func(ctx context.Context) context.Context {
			return shcrkit.WithSession(ctx, shcrkit.Session{ID: "s", Organisation: "RX9"})
		}, "session in the context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := audittest.NewRecorder()
			var edits []func(*shcr.Config)
			if tt.edit != nil {
				edits = append(edits, tt.edit)
			}
			c := newJourney(t, w, rec, edits...)
			req := encounter(w, pdstest.Patients.Normal)
			if tt.req != nil {
				req = tt.req(req)
			}
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}
			pdsBefore, nrlBefore := len(w.PDS.Requests()), len(w.NRL.Requests())
			for _, call := range []func() error{
				func() error { _, err := c.Records(ctx, req); return err },
				func() error { _, err := c.Discover(ctx, req); return err },
			} {
				err := call()
				require.ErrorAs(t, err, new(*shcrkit.IdentityMismatchError))
				require.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
				var me *shcrkit.IdentityMismatchError
				require.ErrorAs(t, err, &me)
				assert.Contains(t, me.Source, tt.source)
			}
			assert.Equal(t, pdsBefore, len(w.PDS.Requests()), "no call to PDS")
			assert.Equal(t, nrlBefore, len(w.NRL.Requests()), "no call to the NRL")
		})
	}
}

func TestJourneyAcceptsAgreeingSessionAndFixedClients(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	fixedPDS, err := w.PDS.NewClient(pds.WithTokenSource(w.TokenSource), pds.WithEndUserOrganisation(w.Requester.Organisation))
	require.NoError(t, err)
	fixedNRL, err := w.NRL.NewClient(nrls.WithTokenSource(w.TokenSource), nrls.WithEndUserOrganisation(w.Requester.Organisation))
	require.NoError(t, err)
	c := newJourney(t, w, audittest.NewRecorder(), func(cfg *shcr.Config) { cfg.PDS, cfg.NRL = fixedPDS, fixedNRL })
	ctx := shcrkit.WithSession(context.Background(), shcrkit.Session{ID: "session-1", UserID: w.Requester.UserID, Organisation: w.Requester.Organisation, RoleProfileID: w.Requester.RoleProfileID})
	res, err := c.Records(ctx, encounter(w, pdstest.Patients.Normal))
	require.NoError(t, err)
	defer res.Close()
	assert.NotEmpty(t, res.Records)
}

func TestJourneyRefusesNonNumericRoleProfileID(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := newJourney(t, w, audittest.NewRecorder())
	req := encounter(w, pdstest.Patients.Normal)
	req.Requester.RoleProfileID = "role-1"
	_, err := c.Records(context.Background(), req)
	require.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequester)
}
