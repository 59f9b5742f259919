package shcrprovider_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/examples/internal/shcrprovider"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWholeLoop runs a consumer's journey into the example provider
// through its guard and joins the two sides' audit trails by request ID.
func TestWholeLoop(t *testing.T) {
	w, err := shcrtest.NewWorld()
	require.NoError(t, err)
	defer w.Close()
	ctx := context.Background()
	providerTrail, consumerTrail := audittest.NewRecorder(), audittest.NewRecorder()
	att, err := shcrprovider.Attach(ctx, w, providerTrail, pdstest.Patients.Normal)
	require.NoError(t, err)
	defer att.Server.Close()
	assert.Len(t, att.Server.Pointers(), 2)
	assert.Zero(t, len(providerTrail.Events()), "publishing is not an access")

	client, err := w.Client(consumerTrail, func(c *shcr.Config) { c.Directory, c.Policy = att.Directory, att.Policy })
	require.NoError(t, err)
	req := shcr.Request{Requester: w.Requester, NHSNumber: pdstest.Patients.Normal, Purpose: shcrkit.PurposeDirectCare,
		Relationship: rbac.Relationship{Kind: shcrkit.RelationshipEncounter, Evidence: "ED-ATTENDANCE-1"}}
	jctx := shcrkit.WithCorrelationID(ctx, "loop-journey-1")
	res, err := client.Records(jctx, req)
	require.NoError(t, err)
	defer res.Close()
	var fromProvider []*shcr.Record
	for _, r := range res.Records {
		if r.Pointer.Custodian == shcrprovider.Custodian {
			fromProvider = append(fromProvider, r)
		}
	}
	require.Len(t, fromProvider, 2, "both of Brackenfield's records come back: %v", res.Failures)

	search, err := client.Search(jctx, req, shcr.Search{Custodian: shcrprovider.Custodian, ResourceType: "AllergyIntolerance"})
	require.NoError(t, err)
	assert.Contains(t, string(search.Bundle), "Allergy to penicillin")

	// Every incoming request is in the provider's trail, joined to the
	// consumer's retrieval or search by request ID and correlation ID.
	consumerByID := map[string]audit.Event{}
	for _, e := range consumerTrail.Events() {
		// The consumer's requests to Brackenfield, not its decisions.
		if e.Custodian == shcrprovider.Custodian && e.Kind != audit.KindDecision && e.RequestID != "" {
			consumerByID[e.RequestID] = e
		}
	}
	incoming := providerTrail.Events()
	require.Len(t, incoming, 3, "two reads and a search")
	for _, pe := range incoming {
		ce, ok := consumerByID[pe.RequestID]
		require.True(t, ok, "provider event %s has no consumer event", pe.RequestID)
		assert.Equal(t, "loop-journey-1", pe.CorrelationID)
		assert.Equal(t, ce.CorrelationID, pe.CorrelationID)
		assert.Equal(t, ce.Requester.UserID, pe.Requester.UserID)
		assert.Equal(t, ce.Patient, pe.Patient)
		assert.Equal(t, audit.OutcomeSuccess, pe.Outcome)
		assert.Equal(t, shcrprovider.Custodian, pe.Custodian)
		if ce.Action == audit.ActionSearch {
			assert.Equal(t, audit.ActionSearch, pe.Action)
			assert.Equal(t, "AllergyIntolerance", pe.Resource)
		} else {
			assert.Equal(t, audit.ActionDisclose, pe.Action)
			assert.Equal(t, "DocumentReference/"+strings.TrimPrefix(ce.Resource, "DocumentReference/"), pe.Resource)
		}
		assert.True(t, strings.HasPrefix(pe.Rule, "agreements/ISA-QRU-RBF"), pe.Rule)
	}
	assert.Len(t, consumerByID, 3)
}

// TestWholeLoopProviderRefusesWhatItsPolicyRefuses sends requests past
// the consumer's own decision (through Remote, which does not decide):
// the provider's guard refuses them with its own policy and records the
// refusal under the request ID the consumer saw.
func TestWholeLoopProviderRefusesWhatItsPolicyRefuses(t *testing.T) {
	w, err := shcrtest.NewWorld()
	require.NoError(t, err)
	defer w.Close()
	ctx := context.Background()
	providerTrail := audittest.NewRecorder()
	att, err := shcrprovider.Attach(ctx, w, providerTrail, pdstest.Patients.Normal)
	require.NoError(t, err)
	defer att.Server.Close()
	remote, err := shcr.NewRemote(att.Directory, shcr.RemoteConfig{})
	require.NoError(t, err)

	clerk := w.Requester
	clerk.RoleCode, clerk.RoleName, clerk.Activities = "S8000:G8000:R8008", "Admin", nil
	_, err = remote.Fetch(ctx, shcr.FetchRequest{Requester: clerk, Purpose: shcrkit.PurposeDirectCare, Pointer: att.Server.Pointers()[0]})
	var api *shcrkit.APIError
	require.True(t, errors.As(err, &api), "%v", err)
	assert.Equal(t, 403, api.StatusCode)
	assert.Equal(t, "ACCESS_DENIED", api.Code)
	require.ErrorIs(t, err, shcrkit.ErrForbidden)

	ev := providerTrail.Events()
	require.Len(t, ev, 1)
	assert.Equal(t, audit.OutcomeRefused, ev[0].Outcome)
	assert.Equal(t, api.RequestID, ev[0].RequestID, "the refusal is recorded under the consumer's request ID")
	assert.Contains(t, ev[0].Reason, "lacks category care-plans")
}
