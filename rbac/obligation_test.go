package rbac

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestMergeObligations(t *testing.T) {
	a := &obligationSet{alert: "B0016", audit: true, redact: []string{"address"}, timeBox: 8 * time.Hour, rule: "a", nonEmpty: true}
	b := &obligationSet{alert: "B0015", audit: true, redact: []string{"telecom", "address"}, timeBox: 4 * time.Hour, rule: "b", nonEmpty: true}
	c := &obligationSet{alert: "B0016", timeBox: 12 * time.Hour, rule: "c", nonEmpty: true}
	got := mergeObligations(nil, a, nil, b, c, &obligationSet{})
	assert.Equal(t, []Obligation{
		{Kind: ObligationAlertPrivacyOfficer, Activity: "B0016", Rule: "a"},
		{Kind: ObligationEnhancedAudit, Rule: "a"},
		{Kind: ObligationRedact, Fields: []string{"address", "telecom"}, Rule: "a"},
		{Kind: ObligationTimeBox, Duration: 4 * time.Hour, Rule: "b"},
		{Kind: ObligationAlertPrivacyOfficer, Activity: "B0015", Rule: "b"},
	}, got)
	// The sets themselves are not changed.
	assert.Equal(t, []string{"address"}, a.redact)
	assert.Nil(t, mergeObligations(nil))
}

func TestObligationText(t *testing.T) {
	cases := []struct {
		o    Obligation
		want string
	}{
		{Obligation{Kind: ObligationAlertPrivacyOfficer, Activity: "B0015"}, "alert-privacy-officer B0015"},
		{Obligation{Kind: ObligationEnhancedAudit}, "enhanced-audit"},
		{Obligation{Kind: ObligationRedact, Fields: []string{"address", "telecom"}}, "redact address,telecom"},
		{Obligation{Kind: ObligationTimeBox, Duration: 90 * time.Minute}, "time-box 1h30m0s"},
		{Obligation{Kind: 9}, "ObligationKind(9)"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.o.String())
	}
	b, err := ObligationTimeBox.MarshalText()
	assert.NoError(t, err)
	assert.Equal(t, "time-box", string(b))
}

func TestVocabularyText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Confidentiality
	}{{"U", ConfidentialityUnrestricted}, {"n", ConfidentialityUnrestricted}, {" R ", ConfidentialityRestricted}, {"V", ConfidentialityVeryRestricted}} {
		got, err := ParseConfidentiality(tc.in)
		assert.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
	for _, bad := range []string{"", "REDACTED", "X"} {
		_, err := ParseConfidentiality(bad)
		assert.ErrorIs(t, err, ErrInvalidConfidentiality)
	}
	assert.Equal(t, "R", ConfidentialityRestricted.Code())
	assert.Equal(t, "very restricted", ConfidentialityVeryRestricted.String())
	assert.Equal(t, "?", Confidentiality(9).Code())
	var c Confidentiality
	assert.NoError(t, c.UnmarshalText([]byte("V")))
	assert.Equal(t, ConfidentialityVeryRestricted, c)
	text, err := c.MarshalText()
	assert.NoError(t, err)
	assert.Equal(t, "V", string(text))
	assert.NoError(t, c.UnmarshalText(nil))
	assert.Equal(t, ConfidentialityUnrestricted, c)
	assert.ErrorIs(t, c.UnmarshalText([]byte("Q")), ErrInvalidConfidentiality)
	_, err = Confidentiality(5).MarshalText()
	assert.ErrorIs(t, err, ErrInvalidConfidentiality)

	for in, want := range map[string]RelationshipKind{
		"registered": RelationshipRegistered, "Referral": RelationshipReferral, "encounter": RelationshipEncounter,
		"care_team": RelationshipCareTeam, "self-claimed": RelationshipSelfClaimed, "break-glass": RelationshipEmergency,
	} {
		got, err := ParseRelationshipKind(in)
		assert.NoError(t, err)
		assert.Equal(t, want, got)
		var k RelationshipKind
		assert.NoError(t, k.UnmarshalText([]byte(in)))
		assert.Equal(t, want, k)
		text, _ := k.MarshalText()
		back, err := ParseRelationshipKind(string(text))
		assert.NoError(t, err)
		assert.Equal(t, want, back)
	}
	_, err = ParseRelationshipKind("friend")
	assert.ErrorIs(t, err, ErrInvalidRelationship)
	var k RelationshipKind = RelationshipCareTeam
	assert.NoError(t, k.UnmarshalText([]byte("none")))
	assert.Equal(t, RelationshipNone, k)
	assert.Error(t, k.UnmarshalText([]byte("friend")))
	assert.Equal(t, "boundary", StageBoundary.String())
	assert.Equal(t, "record", StageRecord.String())
	assert.Equal(t, "Stage(0)", Stage(0).String())
}
