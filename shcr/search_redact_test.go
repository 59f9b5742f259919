package shcr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Patient.Record is documented as the PDS record "with any field the
// boundary decision obliges the caller to redact removed". Discover
// honours that; Search, which makes and records the same boundary
// decision, handed the PDS record back untouched.
func TestSearchRedactsTheDemographicsAsTheBoundaryObliges(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// The world's policy, with self-claimed access obliged to hide the
	// patient's address and telecom.
	text := samplepolicy.WorldYAML()
	old := []byte("      alert_privacy_officer: B0016\n      enhanced_audit: true\n      time_box: 8h\n")
	require.True(t, bytes.Contains(text, old))
	text = bytes.Replace(text, old, append(bytes.Clone(old), "      redact: [address, telecom]\n"...), 1)
	p, err := rbac.LoadPolicy(bytes.NewReader(text))
	require.NoError(t, err)
	c := newJourney(t, w, audittest.NewRecorder(), func(cfg *shcr.Config) {
		cfg.Policy, cfg.Policies = p, nil
		cfg.Alert = func(context.Context, shcr.Alert) error { return nil }
	})
	req := encounter(w, pdstest.Patients.Normal)
	req.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipSelfClaimed, Reason: "Patient asked me to review their plan by phone"}

	d, err := c.Discover(context.Background(), req)
	require.NoError(t, err)
	discovered, err := json.Marshal(d.Patient.Record.Resource)
	require.NoError(t, err)
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(discovered, &top))
	require.NotContains(t, top, "address", "Discover redacts")
	require.NotContains(t, top, "telecom", "Discover redacts")

	res, err := c.Search(context.Background(), req, shcr.Search{Custodian: nrlstest.CustodianNorth, ResourceType: "MedicationStatement"})
	require.NoError(t, err)
	require.NotNil(t, res.Patient.Record)
	searched, err := json.Marshal(res.Patient.Record.Resource)
	require.NoError(t, err)
	assert.JSONEq(t, string(discovered), string(searched), "Search hands back the demographics as Discover does")
}
