package shcrtest_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/synthetic"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newWorld(t *testing.T) *shcrtest.World {
	t.Helper()
	w, err := shcrtest.NewWorld()
	require.NoError(t, err)
	t.Cleanup(w.Close)
	return w
}

// Every seed pointer of the world leads to a record that the world's
// directory lets the SDK fetch, through SSP or directly, with every
// region's way of authenticating.
func TestWorldEveryPointerCanBeFetched(t *testing.T) {
	w := newWorld(t)
	remote, err := shcr.NewRemote(w.Directory, shcr.RemoteConfig{})
	require.NoError(t, err)
	seen := map[shcrkit.ODSCode]int{}
	ssp := 0
	for _, nhs := range synthetic.Numbers() {
		for _, p := range w.NRL.Pointers(nhs) {
			require.NoError(t, remote.Check(p), p.ID)
			c, err := remote.Fetch(context.Background(), shcr.FetchRequest{Requester: w.Requester, Purpose: shcrkit.PurposeDirectCare, Pointer: p})
			require.NoError(t, err, p.ID)
			if c.Body != nil {
				_, err = io.Copy(io.Discard, c.Body)
				require.NoError(t, err)
				c.Close()
			} else {
				assert.NotEmpty(t, c.Resource)
			}
			seen[p.Custodian]++
			if c.ViaSSP {
				ssp++
			}
		}
	}
	assert.Len(t, seen, 4, "the seed spreads over the four NRL custodians")
	assert.Positive(t, ssp)
	for _, r := range w.Regions {
		for _, id := range r.Identities() {
			assert.Equal(t, w.Requester.UserID, id.Subject)
		}
	}
	assert.Positive(t, len(w.Proxy.Requests()))
}

func TestWorldPolicyFitsTheWorld(t *testing.T) {
	w := newWorld(t)
	shcrOf, ok := w.Policy.ShCROf(w.Requester.Organisation)
	assert.True(t, ok && shcrOf == w.Policy.Local(), "the requester's organisation is a member of the local ShCR")
	require.NoError(t, w.Requester.Validate())
	d := w.Policy.Decide(rbac.Request{Requester: w.Requester, Patient: rbac.Subject{NHSNumber: pdstest.Patients.Normal},
		Relationship: rbac.Relationship{Kind: shcrkit.RelationshipEncounter}, Purpose: shcrkit.PurposeDirectCare})
	require.True(t, d.Allowed, d.String())
	for _, r := range w.Regions {
		_, ok := w.Policy.ShCROf(r.Custodian())
		assert.True(t, ok, "region %s is a remote ShCR of the policy", r.Custodian())
		_, ok = w.Directory.Endpoint(r.Custodian())
		assert.True(t, ok)
	}
}

func TestWorldAddPointerAndLatency(t *testing.T) {
	w := newWorld(t)
	w.SetLatency(30 * time.Millisecond)
	remote, err := shcr.NewRemote(w.Directory, shcr.RemoteConfig{})
	require.NoError(t, err)
	for _, retrieval := range []nrls.RetrievalMechanism{nrls.RetrievalDirect, nrls.RetrievalSSP} {
		p, err := w.AddPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Minimal, Custodian: shcrtest.CustodianKestrel,
			Type: nrls.TypeContingencyPlan, Retrieval: retrieval})
		require.NoError(t, err)
		start := time.Now()
		c, err := remote.Fetch(context.Background(), shcr.FetchRequest{Requester: w.Requester, Purpose: shcrkit.PurposeDirectCare, Pointer: p})
		require.NoError(t, err)
		c.Close()
		assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
		assert.Equal(t, retrieval == nrls.RetrievalSSP, c.ViaSSP)
	}
	ptrs := w.NRL.Pointers(pdstest.Patients.Minimal)
	assert.Len(t, ptrs, 2)
	_, err = w.AddPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Minimal, Custodian: "ZZZ", Type: nrls.TypeContingencyPlan})
	require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
}
