package audit

import (
	"github.com/shcrkit/shcrkit/audit/internal/balp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRelationshipVerificationIsRecordedReportedAndMapped(t *testing.T) {
	e := readEvent(t0, clinician(), patientA)
	e.RelationshipVerification = "not verified by referral: ServiceRequest/sr-9 names organisation RW1, not RX1"

	back, err := DecodeRecord(1, AppendRecord(nil, 1, t0, &e))
	require.NoError(t, err)
	assert.Equal(t, e.RelationshipVerification, back.RelationshipVerification)

	found := false
	for _, x := range ToFHIR(e).Extension {
		if x.Url == balp.ExtensionRelationshipVerification {
			found = x.ValueString != nil && *x.ValueString == e.RelationshipVerification
		}
	}
	assert.True(t, found, "the FHIR AuditEvent carries the verification")

	bad := e
	bad.RelationshipVerification = "verified\x00"
	require.ErrorIs(t, bad.Validate(), ErrInvalidEvent)
	bad.RelationshipVerification = strings.Repeat("x", maxField+1)
	require.ErrorIs(t, bad.Validate(), ErrInvalidEvent)
}

func TestAdHocSharingIsRecordedAndMapped(t *testing.T) {
	e := readEvent(t0, clinician(), patientA)
	e.Kind, e.RequestID, e.DecisionID = KindDecision, "", "d-1"
	e.AdHocSharing = "ad hoc sharing decided by 555000000101: unconscious; basis: ICO data sharing code: emergencies"
	back, err := DecodeRecord(1, AppendRecord(nil, 1, t0, &e))
	require.NoError(t, err)
	assert.Equal(t, e.AdHocSharing, back.AdHocSharing)

	found := false
	for _, x := range ToFHIR(e).Extension {
		if x.Url == balp.ExtensionAdHocSharing {
			found = x.ValueString != nil && *x.ValueString == e.AdHocSharing
		}
	}
	assert.True(t, found, "the FHIR AuditEvent carries the ad hoc decision")
}
