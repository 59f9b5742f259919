package rbac_test

import (
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// incoming is an allowed request to North Riverside (QRX) from a doctor
// at Eastmoor University Hospitals (RE1, of the Eastmoor ShCR QEM), for
// a care plan, for direct care, on 24 November 2026.
func incoming() rbac.Incoming {
	r := clinician()
	r.Organisation, r.OrganisationName = "RE1", "Eastmoor University Hospitals NHS Trust"
	return rbac.Incoming{
		Requester:  r,
		Patient:    rbac.Subject{NHSNumber: shcrkit.NHSNumber("9434765919")},
		Purpose:    shcrkit.PurposeDirectCare,
		RecordType: typeEmergencyPlan,
		Time:       time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
	}
}

func TestDecideIncoming(t *testing.T) {
	p := samplepolicy.Load()
	tests := []struct {
		name      string
		edit      func(*rbac.Incoming)
		allowed   bool
		rule      string
		agreement string
		category  string
		reason    string
	}{
		{name: "agreement in force covers the category", edit: func(*rbac.Incoming) {},
			allowed: true, rule: "agreements/ISA-QRX-QEM-2025", agreement: "ISA-QRX-QEM-2025", category: "care-plans"},
		{name: "search by category", edit: func(r *rbac.Incoming) { r.RecordType, r.Category = "", "clinical-summary" },
			allowed: true, rule: "agreements/ISA-QRX-QEM-2025", agreement: "ISA-QRX-QEM-2025", category: "clinical-summary"},
		{name: "local member needs no agreement", edit: func(r *rbac.Incoming) { r.Requester.Organisation = "RX2" },
			allowed: true, rule: "local/QRX", category: "care-plans"},
		{name: "agreement does not cover the category", edit: func(r *rbac.Incoming) {
			r.Requester.Organisation, r.RecordType = "RW1", typeCrisisPlan
		}, rule: "agreements/ISA-QRX-QWH-2026", category: "mental-health", reason: "does not cover category mental-health"},
		{name: "agreement not yet in force", edit: func(r *rbac.Incoming) { r.Requester.Organisation = "RS1" },
			rule: "agreements", category: "care-plans", reason: "no sharing agreement between QRX and QSD in force on 2026-11-24"},
		{name: "unknown organisation", edit: func(r *rbac.Incoming) { r.Requester.Organisation = "ZZ9" },
			rule: "organisations", category: "care-plans", reason: "belongs to no shared care record"},
		{name: "role lacks the category", edit: func(r *rbac.Incoming) {
			r.Requester.RoleCode, r.Requester.Activities = "S8000:G8000:R8008", nil
		}, rule: "roles", category: "care-plans", reason: "role R8008 lacks category care-plans"},
		{name: "no role at all", edit: func(r *rbac.Incoming) { r.Requester.RoleCode, r.Requester.Activities = "", nil },
			rule: "roles", category: "care-plans", reason: "has no access level"},
		{name: "dissent", edit: func(r *rbac.Incoming) { r.Patient.Dissent = true },
			rule: "dissent", category: "care-plans", reason: "recorded dissent"},
		{name: "restricted record under conf/N", edit: func(r *rbac.Incoming) { r.RecordConfidentiality = shcrkit.ConfidentialityRestricted },
			rule: "scope", category: "care-plans", reason: "under scope conf/N"},
		{name: "restricted record under conf/R", edit: func(r *rbac.Incoming) {
			r.RecordConfidentiality, r.Restricted = shcrkit.ConfidentialityRestricted, true
		}, allowed: true, rule: "agreements/ISA-QRX-QEM-2025", agreement: "ISA-QRX-QEM-2025", category: "care-plans"},
		{name: "very restricted patient", edit: func(r *rbac.Incoming) {
			r.Patient.Confidentiality, r.Restricted = shcrkit.ConfidentialityVeryRestricted, true
		}, rule: "confidentiality/very_restricted", category: "care-plans", reason: "does not allow access"},
		{name: "unknown record type", edit: func(r *rbac.Incoming) { r.RecordType = "123456" },
			rule: "categories", reason: "not in any data category"},
		{name: "sensitive category needs its activity", edit: func(r *rbac.Incoming) { r.RecordType = typeLloydGeorge },
			rule: "roles", category: "sensitive-records", reason: "lacks category sensitive-records"},
		{name: "no purpose", edit: func(r *rbac.Incoming) { r.Purpose = 0 },
			rule: "purposes", category: "care-plans", reason: "no purpose of use"},
		{name: "invalid patient", edit: func(r *rbac.Incoming) { r.Patient.NHSNumber = "" },
			rule: "patient", category: "care-plans", reason: "no valid NHS number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := incoming()
			tt.edit(&req)
			d := p.DecideIncoming(req)
			assert.Equal(t, tt.allowed, d.Allowed, "%s", d)
			assert.Equal(t, tt.rule, d.Rule, "%s", d)
			assert.Equal(t, tt.agreement, d.Agreement)
			assert.Equal(t, tt.category, d.Category)
			if tt.reason != "" {
				assert.Contains(t, d.Reason(), tt.reason)
			}
			if !d.Allowed {
				assert.Nil(t, d.Obligations)
				assert.ErrorIs(t, d.Err(), rbac.ErrDenied)
			}
		})
	}
}

func TestDecideIncomingObligations(t *testing.T) {
	p := samplepolicy.Load()
	req := incoming()
	req.Patient.Confidentiality, req.Restricted = shcrkit.ConfidentialityRestricted, true
	d := p.DecideIncoming(req)
	require.True(t, d.Allowed, "%s", d)
	red, ok := d.Obligation(rbac.ObligationRedact)
	require.True(t, ok)
	assert.ElementsMatch(t, []string{"address", "telecom", "contacts", "general-practitioner"}, red.Fields)
	_, ok = d.Obligation(rbac.ObligationEnhancedAudit)
	assert.True(t, ok)
}

func TestDecideIncomingNilPolicy(t *testing.T) {
	var p *rbac.Policy
	d := p.DecideIncoming(incoming())
	assert.False(t, d.Allowed)
	assert.Equal(t, "policy", d.Rule)
}
