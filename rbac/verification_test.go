package rbac_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func verification(status rbac.VerificationStatus, verifier, evidence, reason string) func(*rbac.Request) {
	return func(r *rbac.Request) {
		r.Verification = rbac.Verification{Status: status, Verifier: verifier, Evidence: evidence, Reason: reason}
	}
}

func TestDecideHonoursTheVerificationSetting(t *testing.T) {
	p := samplepolicy.Load()
	referral := func(r *rbac.Request) {
		r.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipReferral, Evidence: "ServiceRequest/sr-1"}
	}
	encounter := func(r *rbac.Request) {
		r.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipEncounter, Evidence: "Encounter/enc-1"}
	}
	selfClaimed := relationship(shcrkit.RelationshipSelfClaimed, "covering for a colleague")
	selfClaimedObligations := []rbac.Obligation{
		{Kind: rbac.ObligationAlertPrivacyOfficer, Activity: "B0016", Rule: "relationships/self-claimed"},
		{Kind: rbac.ObligationEnhancedAudit, Rule: "relationships/self-claimed"},
		{Kind: rbac.ObligationTimeBox, Duration: 8 * time.Hour, Rule: "relationships/self-claimed"},
	}
	cases := []decideCase{
		// required
		{name: "required and verified", allowed: true, rule: "relationships/registered"},
		{name: "required, no verifier judged it", rule: "relationships/registered",
			edits:   []func(*rbac.Request){verification(rbac.VerificationNone, "", "", "")},
			reasons: []string{"relationship registered must be verified and was not: no verifier judged it"}},
		{name: "required, no GP match", rule: "relationships/registered",
			edits: []func(*rbac.Request){verification(rbac.VerificationUnverified, "registered", "",
				"the patient's GP practice Y99999 is not the requester's organisation RX1 nor one of its sites")},
			reasons: []string{"relationship registered must be verified and was not: not verified by registered: " +
				"the patient's GP practice Y99999 is not the requester's organisation RX1 nor one of its sites"}},
		{name: "required, verifier down", rule: "relationships/registered",
			edits:    []func(*rbac.Request){verification(rbac.VerificationFailed, "registered", "", "context deadline exceeded")},
			contains: []string{"must be verified and was not: verification failed (registered): context deadline exceeded"}},
		{name: "required referral verified", allowed: true, rule: "relationships/referral",
			edits: []func(*rbac.Request){referral, verification(rbac.VerificationVerified, "referral", "ServiceRequest/sr-1", "")}},
		{name: "required referral for another patient", rule: "relationships/referral",
			edits: []func(*rbac.Request){referral, verification(rbac.VerificationUnverified, "referral", "",
				"ServiceRequest/sr-1 is for another patient")},
			contains: []string{"relationship referral must be verified and was not: not verified by referral: ServiceRequest/sr-1 is for another patient"}},
		// optional
		{name: "optional and verified", allowed: true, rule: "relationships/encounter",
			edits: []func(*rbac.Request){encounter, verification(rbac.VerificationVerified, "encounter", "Encounter/enc-1", "")}},
		{name: "optional, unverified is recorded and accepted", allowed: true, rule: "relationships/encounter",
			edits: []func(*rbac.Request){encounter, verification(rbac.VerificationUnverified, "encounter", "", "Encounter/enc-1 ended on 2026-05-01")}},
		{name: "optional, not judged", allowed: true, rule: "relationships/encounter",
			edits: []func(*rbac.Request){encounter, verification(rbac.VerificationNone, "", "", "")}},
		{name: "optional, verifier failed fails closed", rule: "relationships/encounter",
			edits: []func(*rbac.Request){encounter, verification(rbac.VerificationFailed, "encounter", "", "connection refused")},
			reasons: []string{"relationship encounter could not be checked, so access fails closed: " +
				"verification failed (encounter): connection refused"}},
		// not applicable
		{name: "not applicable: self-claimed rests on its reason", allowed: true, rule: "relationships/self-claimed",
			edits: []func(*rbac.Request){selfClaimed, verification(rbac.VerificationUnverified, "claimed", "",
				"self-claimed with a recorded reason; the Privacy Officer is alerted")},
			obligations: selfClaimedObligations},
		{name: "not applicable: even a failed check does not decide", allowed: true, rule: "relationships/self-claimed",
			edits:       []func(*rbac.Request){selfClaimed, verification(rbac.VerificationFailed, "claimed", "", "down")},
			obligations: selfClaimedObligations},
		{name: "not applicable: a reason is still required", rule: "relationships/self-claimed",
			edits:   []func(*rbac.Request){relationship(shcrkit.RelationshipSelfClaimed, ""), verification(rbac.VerificationNone, "", "", "")},
			reasons: []string{"a self-claimed relationship needs a recorded reason"}},
	}
	runDecideCases(t, p, cases)

	t.Run("the decision carries the outcome", func(t *testing.T) {
		for _, tc := range cases {
			req := baseRequest()
			for _, e := range tc.edits {
				e(&req)
			}
			assert.Equal(t, req.Verification, p.Decide(req).Verification, tc.name)
		}
	})
}

func TestVerificationString(t *testing.T) {
	cases := []struct {
		v    rbac.Verification
		want string
	}{
		{rbac.Verification{}, "not verified: no verifier judged the relationship"},
		{rbac.Verification{Status: rbac.VerificationVerified, Verifier: "registered", Evidence: "GP practice Y12345"},
			"verified by registered: GP practice Y12345"},
		{rbac.Verification{Status: rbac.VerificationUnverified, Verifier: "referral", Reason: "no referral for patient 943 476 5919"},
			"not verified by referral: no referral for patient *** *** ****"},
		{rbac.Verification{Status: rbac.VerificationFailed, Verifier: "encounter", Reason: "timeout"},
			"verification failed (encounter): timeout"},
	}
	for _, tc := range cases {
		got := tc.v.String()
		if strings.Contains(tc.want, "*") {
			assert.NotContains(t, got, "943 476 5919")
			assert.True(t, strings.HasPrefix(got, "not verified by referral: no referral for patient "), got)
			continue
		}
		assert.Equal(t, tc.want, got)
	}
	require.Equal(t, "verified", rbac.VerificationVerified.String())
}

func TestAdHocSharing(t *testing.T) {
	p := samplepolicy.Load()
	adHoc := func(a *rbac.AdHoc) func(*rbac.Request) { return func(r *rbac.Request) { r.AdHoc = a } }
	full := &rbac.AdHoc{DecidedBy: "555000000031 Dr Ana Reyes", Reason: "unconscious patient, crisis plan held in Southdale",
		Basis: "ICO data sharing code: data sharing in an urgent situation or in an emergency", Records: []string{"RS1-123"}}
	emergency := purpose(shcrkit.PurposeEmergency)
	southdale := record("RS1", typeEmergencyPlan) // no agreement in force before 2027
	cases := []decideCase{
		{name: "permitted for the purpose", allowed: true, rule: "ad_hoc_sharing",
			edits:       []func(*rbac.Request){southdale, emergency, adHoc(full)},
			obligations: []rbac.Obligation{{Kind: rbac.ObligationEnhancedAudit, Rule: "ad_hoc_sharing"}},
			contains:    []string{"shared ad hoc, outside any agreement, as the policy permits for purpose emergency; flagged for review"}},
		{name: "not permitted for direct care", rule: "ad_hoc_sharing",
			edits: []func(*rbac.Request){southdale, adHoc(full)},
			reasons: []string{"the policy does not permit ad hoc sharing for purpose direct-care",
				"no sharing agreement between QRX and QSD in force on 2026-11-24", "agreement ISA-QRX-QSD-2027 begins on 2027-01-01"}},
		{name: "must record who, why and the basis", rule: "ad_hoc_sharing",
			edits: []func(*rbac.Request){southdale, emergency, adHoc(&rbac.AdHoc{Reason: "urgent"})},
			contains: []string{"ad hoc sharing must record who decided and the ICO code principle or professional guidance relied on",
				"no sharing agreement between QRX and QSD in force on 2026-11-24"}},
		{name: "an agreement in force is used, not ad hoc sharing", allowed: true, rule: "agreements/ISA-QRX-QEM-2025",
			edits: []func(*rbac.Request){record("RE1", typeEmergencyPlan), emergency, adHoc(full)}, agreement: "ISA-QRX-QEM-2025"},
		{name: "without the ad hoc record, no agreement refuses", rule: "agreements",
			edits: []func(*rbac.Request){southdale, emergency}},
	}
	runDecideCases(t, p, cases)
	req := baseRequest()
	southdale(&req)
	emergency(&req)
	req.AdHoc = full
	d := p.Decide(req)
	require.True(t, d.Allowed, d.String())
	assert.True(t, d.AdHoc)
	assert.Empty(t, d.Agreement)
	assert.True(t, full.Covers("RS1-123"))
	assert.False(t, full.Covers("RS1-999"))
	assert.Equal(t, []shcrkit.Purpose{shcrkit.PurposeEmergency}, p.AdHocPurposes())

	noAdHoc, err := rbac.LoadPolicy(strings.NewReader(strings.Replace(string(samplepolicy.YAML()), "ad_hoc_sharing:\n  purposes: [ETREAT]\n", "", 1)))
	require.NoError(t, err)
	d = noAdHoc.Decide(req)
	require.False(t, d.Allowed)
	assert.Contains(t, d.Reasons, "the policy does not permit ad hoc sharing outside an agreement")
}
