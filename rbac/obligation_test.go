package rbac

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
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
		{Obligation{Kind: "notify-patient"}, "notify-patient"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.o.String())
	}
	b, err := json.Marshal(Obligation{Kind: ObligationTimeBox, Duration: time.Minute, Rule: "r"})
	assert.NoError(t, err)
	assert.JSONEq(t, `{"kind":"time-box","duration":60000000000,"rule":"r"}`, string(b))
}

// A request is the boundary question until it names anything of a
// record: its custodian, type, category or confidentiality.
func TestRequestStage(t *testing.T) {
	boundary := Request{Patient: Subject{NHSNumber: "9434765919", Confidentiality: shcrkit.ConfidentialityRestricted}}
	assert.Equal(t, stageBoundary, boundary.stage())
	for _, edit := range []func(*Request){
		func(r *Request) { r.Custodian = "RE1" },
		func(r *Request) { r.RecordType = "1363501000000100" },
		func(r *Request) { r.Category = "demographics" },
		func(r *Request) { r.RecordConfidentiality = shcrkit.ConfidentialityRestricted },
	} {
		r := boundary
		edit(&r)
		assert.Equal(t, stageRecord, r.stage())
	}
}
