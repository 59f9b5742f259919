package shcr_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	lrPatient      = shcrkit.NHSNumber("9434765919")
	lrOtherPatient = shcrkit.NHSNumber("9434765870")
	lrOrg          = shcrkit.ODSCode("U12345") // a primary care network with sites Y12345, Y12346
)

var lrNow = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func patientWithGP(gp string) *pds.Patient {
	p := &pds.Patient{}
	if gp != "" {
		sys := codesystem.ODS
		p.Resource.GeneralPractitioner = []fhir.Reference{{Identifier: &fhir.Identifier{System: &sys, Value: &gp}}}
	}
	return p
}

type sitesOf map[shcrkit.ODSCode][]shcrkit.ODSCode

func (s sitesOf) SitesOf(org shcrkit.ODSCode) []shcrkit.ODSCode { return s[org] }

var pcnSites = sitesOf{lrOrg: {"Y12345", "Y12346"}}

func claim(kind shcrkit.RelationshipKind, evidence string) shcr.RelationshipClaim {
	return shcr.RelationshipClaim{
		Requester:    shcrkit.Requester{UserID: "555000000101", Organisation: lrOrg},
		NHSNumber:    lrPatient,
		Patient:      patientWithGP("Y12345"),
		Relationship: rbac.Relationship{Kind: kind, Evidence: evidence},
		Purpose:      shcrkit.PurposeDirectCare,
		Time:         lrNow,
	}
}

func TestRegisteredGPVerifier(t *testing.T) {
	cases := []struct {
		name     string
		edit     func(*shcr.RelationshipClaim)
		sites    shcr.SiteLister
		status   rbac.VerificationStatus
		evidence string
		reason   string
	}{
		{name: "GP practice is the requester's organisation", status: rbac.VerificationVerified,
			edit:     func(c *shcr.RelationshipClaim) { c.Requester.Organisation = "Y12345" },
			evidence: "registered GP practice Y12345 (PDS)"},
		{name: "GP practice is a site of the requester's organisation", sites: pcnSites, status: rbac.VerificationVerified,
			evidence: "registered GP practice Y12345 (PDS), a site of U12345"},
		{name: "no GP match", sites: pcnSites, status: rbac.VerificationUnverified,
			edit:   func(c *shcr.RelationshipClaim) { c.Patient = patientWithGP("Y99999") },
			reason: "the patient's registered GP practice Y99999 is not the requester's organisation U12345 nor one of its sites"},
		{name: "sites not listed", status: rbac.VerificationUnverified,
			reason: "the patient's registered GP practice Y12345 is not the requester's organisation U12345 nor one of its sites"},
		{name: "no GP recorded", sites: pcnSites, status: rbac.VerificationUnverified,
			edit:   func(c *shcr.RelationshipClaim) { c.Patient = patientWithGP("") },
			reason: "PDS records no registered GP practice for the patient"},
		{name: "no PDS record", sites: pcnSites, status: rbac.VerificationUnverified,
			edit:   func(c *shcr.RelationshipClaim) { c.Patient = nil },
			reason: "the patient's PDS record is not known, so neither is their GP practice"},
		{name: "another kind is not judged", sites: pcnSites, status: rbac.VerificationNone,
			edit: func(c *shcr.RelationshipClaim) { c.Relationship.Kind = shcrkit.RelationshipEncounter }},
		{name: "a self-claimed relationship is never upgraded", sites: pcnSites, status: rbac.VerificationNone,
			edit: func(c *shcr.RelationshipClaim) {
				c.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipSelfClaimed, Reason: "r"}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := claim(shcrkit.RelationshipRegistered, "")
			if tc.edit != nil {
				tc.edit(&c)
			}
			v, err := shcr.RegisteredGP(tc.sites).VerifyRelationship(t.Context(), c)
			require.NoError(t, err)
			assert.Equal(t, tc.status, v.Status)
			assert.Equal(t, tc.evidence, v.Evidence)
			assert.Equal(t, tc.reason, v.Reason)
			if tc.status != rbac.VerificationNone {
				assert.Equal(t, shcr.VerifierRegistered, v.Verifier)
			}
		})
	}
}

func TestClaimedRelationshipsAreRecordedNeverVerified(t *testing.T) {
	cases := []struct {
		kind   shcrkit.RelationshipKind
		reason string
		status rbac.VerificationStatus
		want   string
	}{
		{shcrkit.RelationshipSelfClaimed, "covering a colleague's list", rbac.VerificationUnverified,
			"self-claimed: rests on the requester's recorded reason; the Privacy Officer is alerted"},
		{shcrkit.RelationshipSelfClaimed, " ", rbac.VerificationUnverified, "self-claimed with no reason recorded"},
		{shcrkit.RelationshipEmergency, "unconscious on arrival", rbac.VerificationUnverified,
			"emergency: rests on the requester's recorded reason; the Privacy Officer is alerted"},
		{shcrkit.RelationshipRegistered, "", rbac.VerificationNone, ""},
	}
	for _, tc := range cases {
		c := claim(tc.kind, "")
		c.Relationship.Reason = tc.reason
		v, err := shcr.ClaimedRelationships().VerifyRelationship(t.Context(), c)
		require.NoError(t, err)
		assert.Equal(t, tc.status, v.Status, tc.kind.String())
		assert.Equal(t, tc.want, v.Reason)
	}
}

// evidenceWorld is a store with one record of each kind for lrPatient at
// lrOrg's site Y12346, and the near misses every failure needs.
func evidenceWorld(t *testing.T) *shcrtest.EvidenceStore {
	t.Helper()
	since := lrNow.AddDate(0, -1, 0)
	s, err := shcrtest.NewEvidenceStore(
		shcr.Evidence{Kind: shcrkit.RelationshipEncounter, Reference: "Encounter/enc-1", Patient: lrPatient,
			Organisations: []shcrkit.ODSCode{"Y12346"}, Start: since, Active: true},
		shcr.Evidence{Kind: shcrkit.RelationshipReferral, Reference: "ServiceRequest/ref-1", Patient: lrPatient,
			Organisations: []shcrkit.ODSCode{lrOrg}, Start: since, End: lrNow.AddDate(0, 2, 0), Active: true},
		shcr.Evidence{Kind: shcrkit.RelationshipCareTeam, Reference: "CareTeam/team-1", Patient: lrPatient,
			Organisations: []shcrkit.ODSCode{"RX2", lrOrg}, Start: since, Active: true},
		// Near misses.
		shcr.Evidence{Kind: shcrkit.RelationshipReferral, Reference: "ServiceRequest/ref-other-patient", Patient: lrOtherPatient,
			Organisations: []shcrkit.ODSCode{lrOrg}, Start: since, Active: true},
		shcr.Evidence{Kind: shcrkit.RelationshipReferral, Reference: "ServiceRequest/ref-other-org", Patient: lrPatient,
			Organisations: []shcrkit.ODSCode{"RW1"}, Start: since, Active: true},
		shcr.Evidence{Kind: shcrkit.RelationshipReferral, Reference: "ServiceRequest/ref-expired", Patient: lrPatient,
			Organisations: []shcrkit.ODSCode{lrOrg}, Start: since.AddDate(-1, 0, 0), End: since, Active: true},
		shcr.Evidence{Kind: shcrkit.RelationshipEncounter, Reference: "Encounter/enc-future", Patient: lrPatient,
			Organisations: []shcrkit.ODSCode{lrOrg}, Start: lrNow.AddDate(0, 0, 7), Active: true},
		shcr.Evidence{Kind: shcrkit.RelationshipEncounter, Reference: "Encounter/enc-cancelled", Patient: lrPatient,
			Organisations: []shcrkit.ODSCode{lrOrg}, Start: since, Status: "cancelled"},
	)
	require.NoError(t, err)
	return s
}

type evidenceCase struct {
	name     string
	kind     shcrkit.RelationshipKind
	evidence string
	patient  shcrkit.NHSNumber
	status   rbac.VerificationStatus
	found    string // Verification.Evidence when verified
	reason   string
}

var evidenceCases = []evidenceCase{
	{name: "encounter at a site, by reference", kind: shcrkit.RelationshipEncounter, evidence: "Encounter/enc-1",
		status: rbac.VerificationVerified, found: "Encounter/enc-1"},
	{name: "encounter by id alone", kind: shcrkit.RelationshipEncounter, evidence: "enc-1",
		status: rbac.VerificationVerified, found: "Encounter/enc-1"},
	{name: "any referral of the patient", kind: shcrkit.RelationshipReferral,
		status: rbac.VerificationVerified, found: "ServiceRequest/ref-1"},
	{name: "care team", kind: shcrkit.RelationshipCareTeam, evidence: "CareTeam/team-1",
		status: rbac.VerificationVerified, found: "CareTeam/team-1"},
	{name: "evidence for another patient", kind: shcrkit.RelationshipReferral, evidence: "ServiceRequest/ref-other-patient",
		status: rbac.VerificationUnverified, reason: "ServiceRequest/ref-other-patient is for another patient"},
	{name: "another organisation's evidence", kind: shcrkit.RelationshipReferral, evidence: "ServiceRequest/ref-other-org",
		status: rbac.VerificationUnverified, reason: "ServiceRequest/ref-other-org is another organisation's (RW1), not U12345's"},
	{name: "expired evidence", kind: shcrkit.RelationshipReferral, evidence: "ServiceRequest/ref-expired",
		status: rbac.VerificationUnverified, reason: "ServiceRequest/ref-expired ended on 2026-10-24"},
	{name: "evidence not yet begun", kind: shcrkit.RelationshipEncounter, evidence: "Encounter/enc-future",
		status: rbac.VerificationUnverified, reason: "Encounter/enc-future begins on 2026-12-01"},
	{name: "cancelled evidence", kind: shcrkit.RelationshipEncounter, evidence: "Encounter/enc-cancelled",
		status: rbac.VerificationUnverified, reason: "Encounter/enc-cancelled is not in force (status cancelled)"},
	{name: "evidence of another kind", kind: shcrkit.RelationshipEncounter, evidence: "ServiceRequest/ref-1",
		status: rbac.VerificationUnverified, reason: "no encounter ServiceRequest/ref-1 found"},
	{name: "no such evidence", kind: shcrkit.RelationshipCareTeam, evidence: "CareTeam/team-9",
		status: rbac.VerificationUnverified, reason: "no care-team CareTeam/team-9 found"},
	{name: "nothing for the patient", kind: shcrkit.RelationshipCareTeam, patient: lrOtherPatient,
		status: rbac.VerificationUnverified, reason: "no care-team found for the patient"},
	{name: "registered is not judged", kind: shcrkit.RelationshipRegistered, status: rbac.VerificationNone},
}

func runEvidenceCases(t *testing.T, lookup shcr.EvidenceLookup) {
	t.Helper()
	v := shcr.EvidenceVerifier(lookup, pcnSites)
	for _, tc := range evidenceCases {
		t.Run(tc.name, func(t *testing.T) {
			c := claim(tc.kind, tc.evidence)
			if tc.patient != "" {
				c.NHSNumber = tc.patient
			}
			got, err := v.VerifyRelationship(t.Context(), c)
			require.NoError(t, err)
			assert.Equal(t, tc.status, got.Status, got.String())
			assert.Equal(t, tc.found, got.Evidence)
			assert.Equal(t, tc.reason, got.Reason)
			if tc.status != rbac.VerificationNone {
				assert.Equal(t, tc.kind.String(), got.Verifier)
			}
		})
	}
}

func TestEvidenceVerifier(t *testing.T) {
	runEvidenceCases(t, evidenceWorld(t))
}

func TestFHIREvidenceAgainstTheFakeFHIRServer(t *testing.T) {
	store := evidenceWorld(t)
	srv := httptest.NewServer(store.Handler())
	t.Cleanup(srv.Close)
	lookup, err := shcr.NewFHIREvidence(srv.URL, srv.Client())
	require.NoError(t, err)
	runEvidenceCases(t, lookup)

	t.Run("store down", func(t *testing.T) {
		store.SetError(errors.New("PAS offline"))
		t.Cleanup(func() { store.SetError(nil) })
		_, err := lookup.FindEvidence(t.Context(), shcr.EvidenceQuery{Kind: shcrkit.RelationshipEncounter, Patient: lrPatient})
		require.ErrorIs(t, err, shcrkit.ErrUnavailable)
	})
	t.Run("bad input", func(t *testing.T) {
		_, err := shcr.NewFHIREvidence("ftp://pas.example", nil)
		require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
		_, err = lookup.FindEvidence(t.Context(), shcr.EvidenceQuery{Kind: shcrkit.RelationshipRegistered, Patient: lrPatient})
		require.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
		_, err = lookup.FindEvidence(t.Context(), shcr.EvidenceQuery{Kind: shcrkit.RelationshipEncounter})
		require.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
		found, err := lookup.FindEvidence(t.Context(), shcr.EvidenceQuery{Kind: shcrkit.RelationshipEncounter, Reference: "../../Patient/x"})
		require.NoError(t, err)
		assert.Empty(t, found)
	})
}

func TestVerifiersChainAndFailClosed(t *testing.T) {
	store := evidenceWorld(t)
	chain := shcr.StandardVerifiers(pcnSites, store)

	t.Run("the first verifier that judges the kind decides", func(t *testing.T) {
		cases := []struct {
			kind     shcrkit.RelationshipKind
			evidence string
			verifier string
			status   rbac.VerificationStatus
		}{
			{shcrkit.RelationshipRegistered, "", shcr.VerifierRegistered, rbac.VerificationVerified},
			{shcrkit.RelationshipEncounter, "enc-1", "encounter", rbac.VerificationVerified},
			{shcrkit.RelationshipReferral, "ServiceRequest/ref-other-org", "referral", rbac.VerificationUnverified},
			{shcrkit.RelationshipSelfClaimed, "", shcr.VerifierClaimed, rbac.VerificationUnverified},
			{shcrkit.RelationshipNone, "", "", rbac.VerificationNone},
		}
		for _, tc := range cases {
			v, err := chain.VerifyRelationship(t.Context(), claim(tc.kind, tc.evidence))
			require.NoError(t, err)
			assert.Equal(t, tc.status, v.Status, tc.kind.String())
			assert.Equal(t, tc.verifier, v.Verifier, tc.kind.String())
		}
	})
	t.Run("verifier down", func(t *testing.T) {
		store.SetError(errors.New("PAS offline"))
		t.Cleanup(func() { store.SetError(nil) })
		v, err := chain.VerifyRelationship(t.Context(), claim(shcrkit.RelationshipEncounter, "enc-1"))
		require.Error(t, err)
		assert.Equal(t, rbac.VerificationFailed, v.Status)
		// Registered needs no lookup and still verifies.
		v, err = chain.VerifyRelationship(t.Context(), claim(shcrkit.RelationshipRegistered, ""))
		require.NoError(t, err)
		assert.Equal(t, rbac.VerificationVerified, v.Status)
	})
	t.Run("verifier slow past the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store.SetDelay(time.Minute)
			defer store.SetDelay(0)
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			v, err := chain.VerifyRelationship(ctx, claim(shcrkit.RelationshipEncounter, "enc-1"))
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, rbac.VerificationFailed, v.Status)
		})
	})
	t.Run("no lookup", func(t *testing.T) {
		_, err := shcr.EvidenceVerifier(nil, nil).VerifyRelationship(t.Context(), claim(shcrkit.RelationshipEncounter, ""))
		require.Error(t, err)
	})
}
