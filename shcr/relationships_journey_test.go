package shcr_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/audit/investigation"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// boundaryEvent returns the audit event of the boundary decision.
func boundaryEvent(t *testing.T, events []audit.Event) audit.Event {
	t.Helper()
	for _, e := range events {
		if stepOf(e) == stepBoundary {
			return e
		}
	}
	t.Fatal("no boundary decision was recorded")
	return audit.Event{}
}

// blockingVerifier never answers and ignores its context: the journey
// must stop waiting on its own. release lets it go at the test's end.
type blockingVerifier struct{ release chan struct{} }

func (b blockingVerifier) VerifyRelationship(context.Context, shcr.RelationshipClaim) (rbac.Verification, error) {
	<-b.release
	return rbac.Verification{Status: rbac.VerificationVerified, Verifier: "too-late"}, nil
}

func TestJourneyVerifiesTheClaimedRelationship(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// A referral to another organisation, and one to the department.
	require.NoError(t, w.Evidence.Add(shcr.Evidence{Kind: shcrkit.RelationshipReferral, Reference: "ServiceRequest/ers-77",
		Patient: pdstest.Patients.Normal, Organisations: []shcrkit.ODSCode{"RW1"}, Status: "active", Active: true}))
	require.NoError(t, w.Evidence.Add(shcr.Evidence{Kind: shcrkit.RelationshipReferral, Reference: "ServiceRequest/ers-78",
		Patient: pdstest.Patients.Normal, Organisations: []shcrkit.ODSCode{nrlstest.ConsumerODS}, Status: "active", Active: true,
		End: time.Now().AddDate(0, 0, -1)}))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })

	cases := []struct {
		name         string
		relationship rbac.Relationship
		edit         func(*shcr.Config)
		allowed      bool
		verification string // the boundary event's RelationshipVerification
		reason       string // in the boundary decision's reasons
	}{
		{name: "attendance verified", relationship: rbac.Relationship{Kind: shcrkit.RelationshipEncounter},
			allowed: true, verification: "verified by encounter: Encounter/ed-1"},
		{name: "unverified encounter is recorded, as the policy's optional setting says",
			relationship: rbac.Relationship{Kind: shcrkit.RelationshipEncounter, Evidence: "Encounter/ed-2"},
			allowed:      true, verification: "not verified by encounter: Encounter/ed-2 is for another patient"},
		{name: "referral to another organisation", relationship: rbac.Relationship{Kind: shcrkit.RelationshipReferral, Evidence: "ServiceRequest/ers-77"},
			verification: "not verified by referral: ServiceRequest/ers-77 is another organisation's (RW1), not Y90001's",
			reason:       "relationship referral must be verified and was not: not verified by referral: ServiceRequest/ers-77 is another organisation's (RW1)"},
		{name: "expired referral", relationship: rbac.Relationship{Kind: shcrkit.RelationshipReferral, Evidence: "ers-78"},
			verification: "not verified by referral: ServiceRequest/ers-78 ended on", reason: "must be verified and was not"},
		{name: "no GP match", relationship: rbac.Relationship{Kind: shcrkit.RelationshipRegistered},
			verification: "not verified by registered: the patient's registered GP practice",
			reason:       "relationship registered must be verified and was not"},
		{name: "verifier down fails closed", relationship: rbac.Relationship{Kind: shcrkit.RelationshipEncounter},
			edit: func(c *shcr.Config) {
				c.Relationships = shcr.RelationshipVerifierFunc(func(context.Context, shcr.RelationshipClaim) (rbac.Verification, error) {
					return rbac.Verification{Verifier: "encounter"}, errors.New("PAS offline")
				})
			},
			verification: "verification failed (encounter): PAS offline", reason: "could not be checked, so access fails closed"},
		{name: "verifier slow past the deadline fails closed", relationship: rbac.Relationship{Kind: shcrkit.RelationshipEncounter},
			edit: func(c *shcr.Config) {
				c.Relationships, c.RelationshipTimeout = blockingVerifier{release}, 20*time.Millisecond
			},
			verification: "verification failed: no answer within 20ms", reason: "could not be checked, so access fails closed"},
		{name: "self-claimed is recorded, never verified", relationship: rbac.Relationship{Kind: shcrkit.RelationshipSelfClaimed, Reason: "GP asked me to review"},
			edit:    func(c *shcr.Config) { c.Alert = func(context.Context, shcr.Alert) error { return nil } },
			allowed: true, verification: "not verified by claimed: self-claimed: rests on the requester's recorded reason; the Privacy Officer is alerted"},
		{name: "no verifier configured", relationship: rbac.Relationship{Kind: shcrkit.RelationshipRegistered},
			edit:         func(c *shcr.Config) { c.Relationships = nil },
			verification: "", reason: "relationship registered must be verified and was not: no verifier judged it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := audittest.NewRecorder()
			var edits []func(*shcr.Config)
			if tc.edit != nil {
				edits = append(edits, tc.edit)
			}
			c := newJourney(t, w, rec, edits...)
			req := encounter(w, pdstest.Patients.Normal)
			req.Relationship = tc.relationship
			d, err := c.Discover(context.Background(), req)
			e := boundaryEvent(t, rec.Events())
			assert.Contains(t, e.RelationshipVerification, tc.verification)
			if tc.verification == "" {
				assert.Empty(t, e.RelationshipVerification)
			}
			if tc.allowed {
				require.NoError(t, err)
				assert.Equal(t, audit.OutcomeSuccess, e.Outcome)
				assert.Contains(t, d.Boundary.Verification.String(), tc.verification)
				for _, p := range d.Pointers {
					assert.Equal(t, d.Boundary.Verification, p.Decision.Verification, "record decisions carry the outcome too")
				}
			} else {
				var re *shcr.RefusedError
				require.ErrorAs(t, err, &re)
				assert.Contains(t, re.Decision.Reason(), tc.reason)
				assert.Equal(t, audit.OutcomeRefused, e.Outcome)
				assert.Contains(t, e.Reason, tc.reason)
			}
			require.NoError(t, rec.Check())
		})
	}
}

func TestAccessReportShowsTheVerifiedRelationship(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	log, err := audit.OpenLog(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = log.Close() })
	c := newJourney(t, w, log)
	req := encounter(w, pdstest.Patients.Normal)
	req.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipEncounter, Evidence: "Encounter/ed-1"}
	res, err := c.Records(context.Background(), req)
	require.NoError(t, err)
	require.NoError(t, res.Close())
	report, err := investigation.QueryAccessReport(context.Background(), log, w.Requester, pdstest.Patients.Normal,
		time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Contains(t, report.Markdown(), "relationship: encounter (verified by encounter: Encounter/ed-1)")
}

func TestJourneysUseThePolicyInForceWhenTheyStart(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h, err := rbac.NewHolder(w.Policy)
	require.NoError(t, err)
	c := newJourney(t, w, audittest.NewRecorder(), func(cfg *shcr.Config) { cfg.Policy, cfg.Policies = nil, h })
	req := encounter(w, pdstest.Patients.Normal)
	req.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipEncounter}

	d, err := c.Discover(context.Background(), req)
	require.NoError(t, err)
	require.NotEmpty(t, d.Pointers)

	// Encounters must now be verified by a referral-only policy: the
	// department no longer accepts attendances.
	text := string(samplepolicy.WorldYAML())
	_, err = h.Reload([]byte(replaceOnce(t, text, "    verification: optional\n  - kind: care-team", "    verification: required\n  - kind: care-team")))
	require.NoError(t, err)
	w.Evidence.SetError(errors.New("PAS offline"))
	_, err = c.Discover(context.Background(), req)
	require.ErrorIs(t, err, shcr.ErrRefused)
	w.Evidence.SetError(nil)

	// Journeys running while the policy is swapped each decide on one
	// policy: all their decisions agree.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if i%2 == 0 {
				_, _ = h.Reload(samplepolicy.WorldYAML())
				return
			}
			d, err := c.Discover(context.Background(), req)
			if err == nil {
				assert.True(t, d.Boundary.Allowed)
			}
		})
	}
	wg.Wait()
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	require.Contains(t, s, old)
	return strings.Replace(s, old, new, 1)
}

func TestAdHocSharingOutsideAnyAgreement(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	nhs := pdstest.Patients.Normal
	// Mercia Hills shares for direct care only: no agreement covers an
	// emergency.
	p, err := w.AddPointer(nrls.PointerSpec{NHSNumber: nhs, Custodian: nrlstest.CustodianWest, Type: nrls.TypeContingencyPlan})
	require.NoError(t, err)
	other, err := w.AddPointer(nrls.PointerSpec{NHSNumber: nhs, Custodian: nrlstest.CustodianWest, Type: nrls.TypeContingencyPlan})
	require.NoError(t, err)
	full := &rbac.AdHoc{DecidedBy: "555000000101 Dr Nia Ferreira", Reason: "unconscious on arrival; contingency plan held in Mercia Hills",
		Basis: "ICO data sharing code: data sharing in an urgent situation or in an emergency", Records: []string{p.ID}}
	cases := []struct {
		name     string
		adHoc    *rbac.AdHoc
		allowed  bool
		reason   string
		flagged  bool
		recorded string // in the decision event's AdHocSharing
	}{
		{name: "permitted for an emergency and recorded", adHoc: full, allowed: true, flagged: true,
			recorded: "ad hoc sharing decided by 555000000101 Dr Nia Ferreira: unconscious on arrival"},
		{name: "a decision that lacks its basis is refused, and recorded", flagged: true,
			adHoc:    &rbac.AdHoc{DecidedBy: "555000000101", Reason: "unconscious", Records: []string{p.ID}},
			reason:   "ad hoc sharing must record the ICO code principle or professional guidance relied on",
			recorded: "ad hoc sharing decided by 555000000101: unconscious; basis: ;"},
		{name: "without a recorded decision there is no agreement", reason: "agreement ISA-QRU-RMH-2025 between QRU and RMH does not cover purpose emergency"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := audittest.NewRecorder()
			c := newJourney(t, w, rec)
			req := encounter(w, nhs)
			req.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipEncounter}
			req.Purpose = shcrkit.PurposeEmergency
			req.AdHoc = tc.adHoc
			res, err := c.Records(context.Background(), req)
			require.NoError(t, err)
			defer res.Close()
			var got *rbac.Decision
			for _, r := range res.Records {
				if r.Pointer.ID == p.ID {
					got = &r.Decision
				}
			}
			for _, r := range res.Refused {
				if r.Pointer.ID == p.ID {
					got = &r.Decision
				}
				if r.Pointer.ID == other.ID {
					assert.NotEqual(t, rbac.RuleAdHocSharing, r.Decision.Rule, "a pointer the decision does not list is not shared ad hoc")
				}
			}
			require.NotNil(t, got, "the pointer was decided")
			assert.Equal(t, tc.allowed, got.Allowed, got.String())
			assert.Equal(t, tc.allowed, got.AdHoc)
			if tc.reason != "" {
				assert.Contains(t, got.Reason(), tc.reason)
			}
			var e audit.Event
			for _, ev := range rec.Events() {
				if ev.Kind == audit.KindDecision && ev.Resource == "DocumentReference/"+p.ID {
					e = ev
				}
			}
			assert.Contains(t, e.AdHocSharing, tc.recorded)
			if tc.recorded == "" {
				assert.Empty(t, e.AdHocSharing)
			}
			flags, err := investigation.QueryReview(context.Background(), eventsReader(rec.Events()), w.Requester, audit.Filter{}, investigation.ReviewConfig{})
			require.NoError(t, err)
			flagged := false
			for _, f := range flags {
				flagged = flagged || f.Kind == investigation.FlagAdHocSharing
			}
			assert.Equal(t, tc.flagged, flagged)
			require.NoError(t, rec.Check())
		})
	}
}
