package shcr_test

import (
	"context"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A RelationshipVerifier is called on a goroutine of the journey's own:
// a panic there would take the whole process down. It must fail the
// verification closed instead, and the refusal be recorded.
func TestJourneyPanickingVerifierFailsClosed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rec := audittest.NewRecorder()
	c := newJourney(t, w, rec, func(cfg *shcr.Config) {
		cfg.Relationships = shcr.RelationshipVerifierFunc(func(context.Context, shcr.RelationshipClaim) (rbac.Verification, error) {
			panic("verifier bug")
		})
	})
	before := regionRequests(w)
	_, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Normal))
	var re *shcr.RefusedError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, rbac.VerificationFailed, re.Decision.Verification.Status)
	assert.Equal(t, audit.OutcomeRefused, boundaryEvent(t, rec.Events()).Outcome)
	assert.Equal(t, before, regionRequests(w), "nothing is retrieved")
	require.NoError(t, rec.Check())
}

// An Alert hook that panics has not delivered the alert: the data is
// withheld, as for an alert hook that returns an error, and the process
// goes on.
func TestJourneyPanickingAlertHookWithholdsTheData(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := newJourney(t, w, audittest.NewRecorder(), func(cfg *shcr.Config) {
		cfg.Alert = func(context.Context, shcr.Alert) error { panic("mail relay bug") }
	})
	req := encounter(w, pdstest.Patients.Normal)
	req.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipSelfClaimed, Reason: "Patient asked me to review their plan by phone"}
	before := regionRequests(w)
	var err error
	require.NotPanics(t, func() { _, err = c.Records(context.Background(), req) })
	require.ErrorIs(t, err, shcr.ErrObligation)
	assert.Equal(t, before, regionRequests(w), "nothing is retrieved")
}
