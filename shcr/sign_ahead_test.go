package shcr_test

import (
	"context"
	"crypto"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingSigner counts the signatures of the key it wraps and calls
// onSign, when set, before each.
type countingSigner struct {
	crypto.Signer
	n      atomic.Int64
	onSign atomic.Pointer[func()]
}

func (s *countingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.n.Add(1)
	if f := s.onSign.Load(); f != nil {
		(*f)()
	}
	return s.Signer.Sign(r, digest, opts)
}

// heldAnswers passes requests on and, while hold is set, keeps each
// answer back until release is closed or the request is called off.
type heldAnswers struct {
	next    http.RoundTripper
	hold    *atomic.Bool
	release <-chan struct{}
}

func (h heldAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := h.next.RoundTrip(req)
	if err != nil || !h.hold.Load() {
		return resp, err
	}
	select {
	case <-h.release:
		return resp, nil
	case <-req.Context().Done():
		resp.Body.Close()
		return nil, req.Context().Err()
	}
}

// signingWorld is a world whose endpoints accept one identity token per
// journey, with the key of custodian's region counted, and a journey
// client whose PDS answers are held back while hold is set, until
// release is closed.
func signingWorld(t *testing.T, custodian shcrkit.ODSCode, hold *atomic.Bool, release <-chan struct{}) (*shcrtest.World, *countingSigner, *shcr.Client) {
	t.Helper()
	w := newWorld(t)
	eps := w.Directory.Endpoints()
	var key *countingSigner
	for i := range eps {
		eps[i].ReuseIdentity = true
		if slices.Contains(eps[i].Custodians, custodian) {
			key = &countingSigner{Signer: eps[i].Identity.Key}
			eps[i].Identity.Key = key
		}
	}
	require.NotNil(t, key, "the world has a region for %s", custodian)
	ssp, _ := w.Directory.SSP()
	dir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: eps, SSP: &ssp})
	require.NoError(t, err)
	p, err := w.PDS.NewClient(pds.WithTokenSource(w.TokenSource),
		pds.WithHTTPClient(&http.Client{Transport: heldAnswers{next: w.PDS.HTTPClient().Transport, hold: hold, release: release}}))
	require.NoError(t, err)
	c := newJourney(t, w, audittest.NewRecorder(), func(cfg *shcr.Config) {
		cfg.Directory, cfg.PDS = dir, p
	})
	return w, key, c
}

func TestRecordsSignsAheadWhilePDSIsAsked(t *testing.T) {
	var hold atomic.Bool
	release := make(chan struct{})
	w, key, c := signingWorld(t, nrlstest.CustodianNorth, &hold, release)
	nhs := pdstest.Patients.Minimal
	for range 3 {
		_, err := w.AddPointer(nrls.PointerSpec{NHSNumber: nhs, Custodian: nrlstest.CustodianNorth, Type: nrls.TypeContingencyPlan})
		require.NoError(t, err)
	}
	north := w.Region(nrlstest.CustodianNorth)
	journey := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := c.Records(ctx, encounter(w, nhs))
		require.NoError(t, err)
		require.Len(t, res.Records, 3)
		require.Empty(t, res.Failures)
		res.Close()
	}

	// The first journey has no history to go by: it signs North's
	// token when it first needs it, and learns that it did.
	journey()
	require.EqualValues(t, 1, key.n.Load(), "one token for the journey's three requests")
	north.ResetRequests()

	// The second signs North's token while PDS has not yet answered:
	// PDS's answer is held back until a token is signed, so the journey
	// completes only if the token was signed during the wait.
	hold.Store(true)
	var once sync.Once
	onSign := func() { once.Do(func() { close(release) }) }
	key.onSign.Store(&onSign)
	journey()
	assert.EqualValues(t, 2, key.n.Load(), "the token signed ahead is the one the journey used: no other was signed")
	ids := north.Identities()
	require.Len(t, ids, 3)
	for _, id := range ids {
		assert.Equal(t, ids[0].TokenID, id.TokenID, "one token for every request of the journey")
		assert.False(t, id.Restricted)
		assert.Equal(t, w.Requester.UserID, id.Requester.UserID)
		assert.Equal(t, shcrkit.PurposeDirectCare, id.Purpose)
	}
}

func TestRecordsSignsAnewForARestrictedPatient(t *testing.T) {
	var hold atomic.Bool
	w, key, c := signingWorld(t, nrlstest.CustodianSouth, &hold, nil)
	nhs := pdstest.Patients.Restricted
	_, err := w.AddPointer(nrls.PointerSpec{NHSNumber: nhs, Custodian: nrlstest.CustodianSouth,
		Type: nrls.TypeSummaryRecord, Format: nrls.FormatStructured})
	require.NoError(t, err)
	south := w.Region(nrlstest.CustodianSouth)
	for journey := range 3 {
		res, err := c.Records(context.Background(), encounter(w, nhs))
		require.NoError(t, err)
		require.Len(t, res.Records, 1, "journey %d", journey)
		res.Close()
	}
	tokens := map[string]bool{}
	for _, id := range south.Identities() {
		assert.True(t, id.Restricted, "a restricted patient's records are asked for in the restricted scope")
		tokens[id.TokenID] = true
	}
	assert.Len(t, tokens, 3, "one token per journey, for every page")
	// The first journey signs once; each later one signs ahead in the
	// normal scope, which the patient's scope then rules out, and signs
	// the restricted token it sends.
	assert.EqualValues(t, 5, key.n.Load())
}

func TestRetrieveAndSearchSignWhilePDSIsAsked(t *testing.T) {
	// Retrieve and Search know the endpoint they will ask before the
	// trace, so even a client's first call signs during it.
	var hold atomic.Bool
	hold.Store(true)
	for _, tc := range []struct {
		name string
		call func(t *testing.T, w *shcrtest.World, c *shcr.Client, ctx context.Context)
	}{
		{"retrieve", func(t *testing.T, w *shcrtest.World, c *shcr.Client, ctx context.Context) {
			p, err := w.AddPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Minimal, Custodian: nrlstest.CustodianNorth, Type: nrls.TypeContingencyPlan})
			require.NoError(t, err)
			rec, err := c.Retrieve(ctx, encounter(w, pdstest.Patients.Minimal), p)
			require.NoError(t, err)
			rec.Close()
		}},
		{"search", func(t *testing.T, w *shcrtest.World, c *shcr.Client, ctx context.Context) {
			_, err := c.Search(ctx, encounter(w, pdstest.Patients.Normal), shcr.Search{Custodian: nrlstest.CustodianNorth, ResourceType: "MedicationStatement"})
			require.NoError(t, err)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			w, key, c := signingWorld(t, nrlstest.CustodianNorth, &hold, release)
			var once sync.Once
			onSign := func() { once.Do(func() { close(release) }) }
			key.onSign.Store(&onSign)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tc.call(t, w, c, ctx)
			assert.EqualValues(t, 1, key.n.Load(), "the token signed during the trace is the one sent")
			ids := w.Region(nrlstest.CustodianNorth).Identities()
			require.NotEmpty(t, ids)
			for _, id := range ids {
				assert.Equal(t, ids[0].TokenID, id.TokenID)
			}
		})
	}
}
