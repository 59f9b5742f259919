package rbac_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Decide refuses a requester whose role code is malformed; DecideIncoming
// must too, rather than let activity codes alone grant access under a role
// code that is no role code at all.
func TestDecideIncomingRefusesAMalformedRoleCode(t *testing.T) {
	p := samplepolicy.Load()
	for _, code := range []string{"not-a-role", "S8000:G8000", "S8000:G8000:R8000:R8001", "S8000:G8000:X8000", "R80000000"} {
		t.Run(code, func(t *testing.T) {
			in := incoming()
			in.Requester.RoleCode = code
			in.Requester.Activities = []string{"B1611"} // an activities-only role grants the sensitive level
			in.RecordType = typeLloydGeorge
			d := p.DecideIncoming(in)
			assert.False(t, d.Allowed, "%s", d)
			assert.Equal(t, "requester", d.Rule)
			assert.Contains(t, d.Reason(), "is malformed")
		})
	}
}

// "Local" is the host's own time zone: a policy in it would put the
// first and last day of its agreements at different instants on hosts
// set to different zones. The policy's dates must not depend on the host.
func TestLoadPolicyRefusesTheHostTimeZone(t *testing.T) {
	text := string(samplepolicy.YAML())
	require.Contains(t, text, "timezone: Europe/London\n")
	_, err := rbac.LoadPolicy(strings.NewReader(strings.Replace(text, "timezone: Europe/London\n", "timezone: Local\n", 1)))
	require.Error(t, err)
	assert.True(t, errors.Is(err, rbac.ErrInvalidPolicy))
	var pe *rbac.PolicyError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "timezone", pe.Path)
}

// A verification status outside the four defined (a verifier of the
// caller's own that returns garbage, a zero-value mix-up) says nothing
// about the relationship: it must fail closed as a failed verification,
// not pass as an optional one that was merely unverified.
func TestDecideUnknownVerificationStatusFailsClosed(t *testing.T) {
	p := samplepolicy.Load()
	req := baseRequest()
	req.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipEncounter} // verification: optional
	req.Verification = rbac.Verification{Status: rbac.VerificationFailed + 1, Verifier: "encounter"}
	d := p.Decide(req)
	assert.False(t, d.Allowed, "%s", d)
	assert.Equal(t, "relationships/encounter", d.Rule)
}

// An allowed decision's slices are shared with every decision of the same
// outcome: they have no room past their length, so that a caller's append
// copies them rather than writing where another caller's append goes.
func TestAllowedDecisionsLeaveNoRoomToAppendInto(t *testing.T) {
	p := samplepolicy.Load()
	allowed := 0
	for _, kind := range []shcrkit.RelationshipKind{shcrkit.RelationshipRegistered, shcrkit.RelationshipEncounter,
		shcrkit.RelationshipReferral, shcrkit.RelationshipCareTeam, shcrkit.RelationshipSelfClaimed, shcrkit.RelationshipEmergency} {
		for _, purpose := range []shcrkit.Purpose{shcrkit.PurposeDirectCare, shcrkit.PurposeEmergency, shcrkit.PurposeBreakGlass} {
			for _, conf := range []shcrkit.Confidentiality{shcrkit.ConfidentialityUnrestricted, shcrkit.ConfidentialityRestricted} {
				req := baseRequest()
				req.Relationship = rbac.Relationship{Kind: kind, Reason: "asked by the patient at the front desk", Evidence: "E-1"}
				req.Purpose = purpose
				req.Patient.Confidentiality = conf
				d := p.Decide(req)
				if !d.Allowed {
					continue
				}
				allowed++
				assert.Equal(t, len(d.Reasons), cap(d.Reasons), "%s", d)
				assert.Equal(t, len(d.Obligations), cap(d.Obligations), "%s", d)
			}
		}
	}
	require.Positive(t, allowed)
}
