package shcr_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
)

// TestValuesNotMadeByTheirConstructors: a nil or zero Client, Remote or
// CustodianAudit fails every call with a typed error instead of
// panicking, and New refuses service clients that NewClient did not make.
func TestValuesNotMadeByTheirConstructors(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	req := encounter(w, pdstest.Patients.Normal)
	for name, c := range map[string]*shcr.Client{"nil": nil, "zero": {}} {
		t.Run("Client/"+name, func(t *testing.T) {
			_, err := c.Records(ctx, req)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			_, err = c.Discover(ctx, req)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			_, err = c.Retrieve(ctx, req, nrls.Pointer{})
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			_, err = c.Search(ctx, req, shcr.Search{})
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
		})
	}
	for name, r := range map[string]*shcr.Remote{"nil": nil, "zero": {}} {
		t.Run("Remote/"+name, func(t *testing.T) {
			_, err := r.Fetch(ctx, shcr.FetchRequest{Requester: w.Requester, Purpose: shcrkit.PurposeDirectCare})
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			_, err = r.Search(ctx, shcr.SearchRequest{Requester: w.Requester, Purpose: shcrkit.PurposeDirectCare})
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			assert.ErrorIs(t, r.Check(nrls.Pointer{}), shcrkit.ErrInvalidOption)
		})
	}
	for name, a := range map[string]*shcr.CustodianAudit{"nil": nil, "zero": {}} {
		t.Run("CustodianAudit/"+name, func(t *testing.T) {
			e := audit.Event{Service: audit.ServiceShCR, Custodian: "RX1"}
			assert.ErrorIs(t, a.Write(ctx, e), audit.ErrClosed, "no event is taken and lost")
			_, err := a.Flush(ctx)
			assert.ErrorIs(t, err, audit.ErrClosed)
			assert.Zero(t, a.Pending())
			assert.ErrorIs(t, a.Close(), audit.ErrClosed)
		})
	}
	t.Run("New", func(t *testing.T) {
		cfg, err := w.Config(audittest.NewRecorder())
		require.NoError(t, err)
		bad := cfg
		bad.PDS = &pds.Client{}
		_, err = shcr.New(bad)
		assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
		bad = cfg
		bad.NRL = &nrls.Client{}
		_, err = shcr.New(bad)
		assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
		c, err := shcr.New(cfg)
		require.NoError(t, err)
		//lint:ignore SA1012 a nil context is the input under test
		_, err = c.Records(nil, req)
		assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	})
}

// Closing what was never had is a no-op, as closing a nil Record is.
func TestNilResultsClose(t *testing.T) {
	var res *shcr.Result
	assert.NoError(t, res.Close())
	var c *shcr.Content
	assert.NoError(t, c.Close())
	var rec *shcr.Record
	assert.NoError(t, rec.Close())
}
