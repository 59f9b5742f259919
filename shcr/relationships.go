package shcr

import (
	"context"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr/internal/lrverify"
)

// RelationshipClaim is the legitimate relationship a requester claims with
// a patient, with what a verifier needs to judge it.
type RelationshipClaim struct {
	// Requester is the professional, in the role selected for the session;
	// Requester.Organisation is the organisation the relationship must be
	// with.
	Requester shcrkit.Requester
	// NHSNumber is the traced patient's current NHS number.
	NHSNumber shcrkit.NHSNumber
	// Patient is the patient's PDS record as traced (its registered GP
	// practice among it); nil when there is none.
	Patient *pds.Patient
	// Relationship is the claim: kind, reason and evidence.
	Relationship rbac.Relationship
	// Purpose of use.
	Purpose shcrkit.Purpose
	// Time at which the relationship must be in force.
	Time time.Time
}

// RelationshipVerifier checks a claimed legitimate relationship before the
// boundary decision (Config.Relationships). It returns
//
//   - Status rbac.VerificationNone when it does not judge claims of that
//     kind;
//   - rbac.VerificationVerified, with Verifier and Evidence, when it found
//     what establishes the relationship;
//   - rbac.VerificationUnverified, with a Reason saying what was missing,
//     when it judged the claim and could not confirm it;
//   - an error when it could not judge (its store is down, the context
//     ended): the journey records the verification as failed and the
//     access fails closed.
//
// A verifier never upgrades a claim: a self-claimed relationship is never
// reported verified because another kind could have been. Implementations
// must be safe for concurrent use and honour ctx's deadline.
type RelationshipVerifier interface {
	VerifyRelationship(ctx context.Context, claim RelationshipClaim) (rbac.Verification, error)
}

// verifierFunc adapts a function to RelationshipVerifier.
type verifierFunc func(ctx context.Context, claim RelationshipClaim) (rbac.Verification, error)

func (f verifierFunc) VerifyRelationship(ctx context.Context, claim RelationshipClaim) (rbac.Verification, error) {
	return f(ctx, claim)
}

// StandardVerifiers is the RelationshipVerifier the SDK ships. Each kind
// of relationship is judged by one verifier, named in the Verification:
//
//   - registered ("registered"): the patient's registered GP practice in
//     their PDS record (generalPractitioner) must be the requester's
//     organisation or one of the sites sites lists for it (sites may be
//     nil), and the registration's period there, if PDS gives one, must
//     cover the claim's time. It needs no I/O.
//   - referral, encounter and care team (the kind's name): through
//     lookup, a record of the claimed kind must exist for this patient,
//     naming the requester's organisation (or one of its sites), in force
//     at the claim's time. Otherwise the Reason says what was missing: no
//     record, a record for another patient, another organisation's
//     record, one that has ended, not begun or is not active. With a nil
//     lookup these kinds are not judged (rbac.VerificationNone).
//   - self-claimed and emergency ("claimed"), which nothing can verify:
//     the Verification records that the claim rests on the requester's
//     reason (or that none was given) and is never verified. The policy
//     requires the reason and obliges the alert to the Privacy Officer;
//     the journey withholds the data when the alert cannot be sent.
//
// A verifier of the caller's own may hand the kinds it does not judge on
// to StandardVerifiers.
func StandardVerifiers(sites SiteLister, lookup EvidenceLookup) RelationshipVerifier {
	var l lrverify.Lookup
	if lookup != nil {
		l = evidenceAdapter{lookup}
	}
	return fromInternal(lrverify.Standard(sites, l))
}

// fromInternal makes a verifier of shcr/internal/lrverify a
// RelationshipVerifier.
func fromInternal(v lrverify.Verifier) RelationshipVerifier {
	return verifierFunc(func(ctx context.Context, c RelationshipClaim) (rbac.Verification, error) {
		return v(ctx, lrverify.Claim(c))
	})
}

// evidenceAdapter hands lrverify's queries to an EvidenceLookup.
type evidenceAdapter struct{ lookup EvidenceLookup }

func (a evidenceAdapter) FindEvidence(ctx context.Context, q lrverify.Query) ([]lrverify.Evidence, error) {
	found, err := a.lookup.FindEvidence(ctx, EvidenceQuery(q))
	out := make([]lrverify.Evidence, len(found))
	for i, e := range found {
		out[i] = lrverify.Evidence(e)
	}
	return out, err
}

// SiteLister names the sites of an organisation (the GP practices of a
// primary care network, say) whose patients and evidence count as the
// organisation's own. *rbac.Policy and *rbac.Holder implement it from the
// policy's local.members[].sites.
type SiteLister interface {
	SitesOf(org shcrkit.ODSCode) []shcrkit.ODSCode
}

// EvidenceQuery asks an EvidenceLookup for what backs a claimed referral,
// encounter or care-team relationship.
type EvidenceQuery struct {
	// Kind is RelationshipReferral, RelationshipEncounter or
	// RelationshipCareTeam.
	Kind shcrkit.RelationshipKind
	// Patient is the patient's NHS number.
	Patient shcrkit.NHSNumber
	// Organisation is the requester's organisation.
	Organisation shcrkit.ODSCode
	// Reference is the evidence the requester gave ("Encounter/enc-42",
	// or an identifier the lookup understands), or "" to look for any
	// evidence of Kind for Patient.
	Reference string
	// Time at which the evidence must be in force.
	Time time.Time
}

// Evidence is one record that may back a relationship: a referral
// (FHIR ServiceRequest), an encounter (Encounter) or a care team
// (CareTeam), as the caller's PAS, e-RS or care-team records hold it.
type Evidence struct {
	// Kind of relationship it backs.
	Kind shcrkit.RelationshipKind
	// Reference identifies it, e.g. "Encounter/enc-42".
	Reference string
	// Patient it is about.
	Patient shcrkit.NHSNumber
	// Organisations it names as the service provider, performer, managing
	// organisation or participant.
	Organisations []shcrkit.ODSCode
	// Start and End bound when it is in force; a zero End is open.
	Start, End time.Time
	// Status is the record's status as held ("in-progress", "active",
	// "cancelled"...); Active reports whether that status is in force.
	Status string
	Active bool
}

// EvidenceLookup finds the records that may back a referral, encounter or
// care-team relationship: those named by q.Reference, or when it is empty
// those of q.Kind for q.Patient. It reports what it holds; the verifier
// judges patient, organisation and dates. It returns an error only when it
// cannot answer. Implementations must be safe for concurrent use and
// honour ctx.
type EvidenceLookup interface {
	FindEvidence(ctx context.Context, q EvidenceQuery) ([]Evidence, error)
}

// verify checks the claimed relationship, bounded by the client's
// relationship timeout, and keeps the outcome for the decisions and audit
// events of the journey. A verifier that errs, or does not answer in time
// even though it ignores its context, is recorded as failed.
func (j *journey) verify(ctx context.Context) {
	v := j.c.verifier
	if v == nil {
		return
	}
	claim := RelationshipClaim{
		Requester: j.req.Requester, NHSNumber: j.patient.NHSNumber, Patient: j.patient.Record,
		Relationship: j.req.Relationship, Purpose: j.req.Purpose, Time: j.c.now(),
	}
	j.verification = lrverify.Judge(ctx, j.c.relTimeout, func(ctx context.Context) (rbac.Verification, error) {
		return v.VerifyRelationship(ctx, claim)
	})
}

// decideBoundary verifies the claimed relationship and makes the boundary
// decision with its outcome.
func (j *journey) decideBoundary(ctx context.Context) {
	j.verify(ctx)
	j.boundary = j.policy.Decide(j.decisionRequest(nil))
	j.c.tel.Decided(ctx, j.boundary, nil)
}

// currentPolicy is the policy a journey starting now decides on.
func (c *Client) currentPolicy() *rbac.Policy {
	if c.policies != nil {
		return c.policies.Policy()
	}
	return c.policy
}
