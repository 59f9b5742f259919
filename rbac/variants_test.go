package rbac_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/require"
)

// variantPolicy is smallPolicy with break-glass overriding dissent and
// missing agreements, activity requirements on a relationship and a
// confidentiality level, and an activity-only role.
func variantPolicy(t *testing.T) *rbac.Policy {
	t.Helper()
	text := strings.NewReplacer(
		"    obligations:\n      alert_privacy_officer: B0015\n",
		"    requires_activities: [B0168]\n    obligations:\n      alert_privacy_officer: B0015\n",
		"agreements:\n",
		`confidentiality:
  restricted:
    allowed: true
    requires_activities: [B1611]
  very_restricted:
    allowed: true
    relationships: [registered]
    obligations:
      redact: [address]
      time_box: 1h
break_glass:
  overrides_dissent: true
  overrides_missing_agreement: true
  obligations:
    alert_privacy_officer: B0018
    enhanced_audit: true
agreements:
`,
		"  - id: admin\n    job_roles: [R8008]\n    access_levels: [admin]\n",
		"  - id: admin\n    job_roles: [R8008]\n    access_levels: [admin]\n  - id: sensitive-viewers\n    activities: [B1611]\n    access_levels: [clinical]\n",
	).Replace(smallPolicy)
	p, err := rbac.LoadPolicy(strings.NewReader(text))
	require.NoError(t, err)
	return p
}

func variantRequest() rbac.Request {
	r := baseRequest()
	r.Requester.Organisation = "RA1"
	r.Requester.AssuranceLevel = 0
	return r
}

func TestDecidePolicyVariants(t *testing.T) {
	p := variantPolicy(t)
	emergency := []func(*rbac.Request){
		relationship(shcrkit.RelationshipEmergency, "found collapsed"), purpose(shcrkit.PurposeBreakGlass),
		role("R8000", "B0168"),
	}
	dissent := func(r *rbac.Request) { r.Patient.Dissent = true }
	alertBG := rbac.Obligation{Kind: rbac.ObligationAlertPrivacyOfficer, Activity: "B0015", Rule: "relationships/emergency"}
	alertSealing := rbac.Obligation{Kind: rbac.ObligationAlertPrivacyOfficer, Activity: "B0018", Rule: "break_glass"}
	auditBG := rbac.Obligation{Kind: rbac.ObligationEnhancedAudit, Rule: "break_glass"}

	cases := []decideCase{
		{
			name: "policy without an assurance requirement", allowed: true,
			edits: []func(*rbac.Request){role("R8000")},
		},
		{
			name: "emergency relationship needs its activity", rule: "relationships/emergency",
			edits:   append(append([]func(*rbac.Request){}, emergency...), role("R8000")),
			reasons: []string{"an emergency relationship needs activity B0168"},
		},
		{
			name: "break-glass overrides dissent when the policy says so", allowed: true, rule: "break_glass",
			edits: append(append([]func(*rbac.Request){}, emergency...), dissent),
			reasons: []string{
				"emergency (break-glass) access with a recorded reason, accepted for purpose break-glass",
				"recorded dissent overridden by break-glass, as the policy allows",
				"role grants access to data categories; each record is decided on its own",
			},
			obligations: []rbac.Obligation{alertBG, alertSealing, auditBG},
		},
		{
			name: "dissent still refuses other relationships", rule: "dissent",
			edits:   []func(*rbac.Request){role("R8000"), dissent},
			reasons: []string{"patient has recorded dissent from sharing"},
		},
		{
			name: "break-glass overrides a missing agreement when the policy says so", allowed: true, rule: "break_glass",
			edits: append(append([]func(*rbac.Request){}, emergency...), func(r *rbac.Request) {
				r.Custodian, r.Category = "QCC", "care-plans"
			}),
			reasons: []string{
				"emergency (break-glass) access with a recorded reason, accepted for purpose break-glass",
				"category care-plans is within the requester's access levels",
				"no sharing agreement in force: overridden by break-glass, as the policy allows",
			},
			obligations: []rbac.Obligation{alertBG, alertSealing, auditBG},
		},
		{
			name: "break-glass uses an agreement when there is one", allowed: true, rule: "agreements/ISA-1", agreement: "ISA-1",
			edits:       append(append([]func(*rbac.Request){}, emergency...), record("RB1", "736366004")),
			obligations: []rbac.Obligation{alertBG},
		},
		{
			name: "no override for an ordinary relationship", rule: "agreements",
			edits:   []func(*rbac.Request){role("R8000"), func(r *rbac.Request) { r.Custodian, r.Category = "QCC", "care-plans" }},
			reasons: []string{"no sharing agreement between QAA and QCC in force on 2026-11-24"},
		},
		{
			name: "category level granted but its activity missing", rule: "categories/sensitive",
			edits:   []func(*rbac.Request){role("R8000"), record("RA1", "16521000000101")},
			reasons: []string{"category sensitive needs activity B1611"},
		},
		{
			name: "category with its activity", allowed: true, rule: "local/QAA",
			edits: []func(*rbac.Request){role("R8000", "B1611"), record("RA1", "16521000000101")},
		},
		{
			name: "an activity-only role grants its level to any job role", allowed: true,
			edits: []func(*rbac.Request){role("R9999", "B1611"), record("RA1", "16521000000101")},
		},
		{
			name: "restricted patient needs the activity", rule: "confidentiality/restricted",
			edits: []func(*rbac.Request){role("R8000"), func(r *rbac.Request) {
				r.Patient.Confidentiality = shcrkit.ConfidentialityRestricted
			}},
			reasons: []string{"a restricted (R) patient needs activity B1611"},
		},
		{
			name: "very restricted patient allowed for registered only", allowed: true,
			edits: []func(*rbac.Request){role("R8000"), func(r *rbac.Request) {
				r.Patient.Confidentiality = shcrkit.ConfidentialityVeryRestricted
			}},
			obligations: []rbac.Obligation{
				{Kind: rbac.ObligationRedact, Fields: []string{"address"}, Rule: "confidentiality/very_restricted"},
				{Kind: rbac.ObligationTimeBox, Duration: time.Hour, Rule: "confidentiality/very_restricted"},
			},
		},
		{
			name: "very restricted patient under break-glass", rule: "confidentiality/very_restricted",
			edits: append(append([]func(*rbac.Request){}, emergency...), func(r *rbac.Request) {
				r.Patient.Confidentiality = shcrkit.ConfidentialityVeryRestricted
			}),
			reasons: []string{"relationship emergency is not accepted for a very restricted (V) patient"},
		},
	}
	for i := range cases {
		cases[i].edits = append([]func(*rbac.Request){func(r *rbac.Request) { *r = variantRequest() }}, cases[i].edits...)
	}
	runDecideCases(t, p, cases)
}

func TestDecideMultiPartyAgreement(t *testing.T) {
	text := strings.Replace(smallPolicy, "parties: [QAA, QBB]", "parties: [QAA, QBB, QCC]", 1)
	p, err := rbac.LoadPolicy(strings.NewReader(text))
	require.NoError(t, err)
	runDecideCases(t, p, []decideCase{
		{
			name: "a third party is covered", allowed: true, agreement: "ISA-1",
			edits: []func(*rbac.Request){func(r *rbac.Request) { *r = variantRequest() }, role("R8000"), func(r *rbac.Request) {
				r.Custodian, r.Category = "QCC", "care-plans"
			}},
			reasons: []string{
				"legitimate relationship registered accepted for purpose direct-care",
				"category care-plans is within the requester's access levels",
				"agreement ISA-1 between QAA, QBB and QCC covers category care-plans for purpose direct-care",
			},
		},
	})
}

func TestAgreementDaysFollowThePolicyTimeZone(t *testing.T) {
	// The agreement's last day is 30 June, in British Summer Time.
	text := strings.Replace(smallPolicy, "valid_to: 2026-12-31", "valid_to: 2026-06-30", 1)
	inLondon, err := rbac.LoadPolicy(strings.NewReader(text))
	require.NoError(t, err)
	inUTC, err := rbac.LoadPolicy(strings.NewReader(strings.Replace(text, "version: 1\n", "version: 1\ntimezone: UTC\n", 1)))
	require.NoError(t, err)

	req := variantRequest()
	req.Requester.RoleCode = "R8000"
	req.Custodian, req.Category = "RB1", "care-plans"
	req.Time = time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC) // 00:30 on 1 July in London
	d := inLondon.Decide(req)
	require.False(t, d.Allowed)
	require.Equal(t, []string{"no sharing agreement between QAA and QBB in force on 2026-07-01", "agreement ISA-1 ended on 2026-06-30"}, d.Reasons)
	require.True(t, inUTC.Decide(req).Allowed)
}
