package shcr

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/rbac"
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
//     nil). It needs no I/O.
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
	vs := []RelationshipVerifier{registeredGP(sites)}
	if lookup != nil {
		vs = append(vs, evidenceVerifier(lookup, sites))
	}
	vs = append(vs, claimedRelationships())
	return verifierFunc(func(ctx context.Context, claim RelationshipClaim) (rbac.Verification, error) {
		for _, v := range vs {
			out, err := v.VerifyRelationship(ctx, claim)
			if err != nil || out.Status != rbac.VerificationNone {
				return out, err
			}
		}
		return rbac.Verification{}, nil
	})
}

// SiteLister names the sites of an organisation (the GP practices of a
// primary care network, say) whose patients and evidence count as the
// organisation's own. *rbac.Policy and *rbac.Holder implement it from the
// policy's local.members[].sites.
type SiteLister interface {
	SitesOf(org shcrkit.ODSCode) []shcrkit.ODSCode
}

// ownOrganisations is the requester's organisation and its sites.
func ownOrganisations(sites SiteLister, org shcrkit.ODSCode) []shcrkit.ODSCode {
	own := []shcrkit.ODSCode{org}
	if sites != nil {
		own = append(own, sites.SitesOf(org)...)
	}
	return own
}

// registeredGP verifies registered relationships (see StandardVerifiers).
func registeredGP(sites SiteLister) RelationshipVerifier {
	return verifierFunc(func(_ context.Context, c RelationshipClaim) (rbac.Verification, error) {
		if c.Relationship.Kind != shcrkit.RelationshipRegistered {
			return rbac.Verification{}, nil
		}
		v := rbac.Verification{Status: rbac.VerificationUnverified, Verifier: "registered"}
		if c.Patient == nil {
			v.Reason = "the patient's PDS record is not known, so neither is their GP practice"
			return v, nil
		}
		gp := c.Patient.GPPractice()
		org := c.Requester.Organisation
		switch {
		case gp == "":
			v.Reason = "PDS records no registered GP practice for the patient"
		case gp == org:
			v.Status, v.Evidence = rbac.VerificationVerified, "registered GP practice "+string(gp)+" (PDS)"
		case slices.Contains(ownOrganisations(sites, org), gp):
			v.Status, v.Evidence = rbac.VerificationVerified, "registered GP practice "+string(gp)+" (PDS), a site of "+string(org)
		default:
			v.Reason = "the patient's registered GP practice " + string(gp) + " is not the requester's organisation " +
				string(org) + " nor one of its sites"
		}
		return v, nil
	})
}

// claimedRelationships judges self-claimed and emergency relationships
// (see StandardVerifiers).
func claimedRelationships() RelationshipVerifier {
	return verifierFunc(func(_ context.Context, c RelationshipClaim) (rbac.Verification, error) {
		k := c.Relationship.Kind
		if k != shcrkit.RelationshipSelfClaimed && k != shcrkit.RelationshipEmergency {
			return rbac.Verification{}, nil
		}
		v := rbac.Verification{Status: rbac.VerificationUnverified, Verifier: "claimed"}
		if strings.TrimSpace(c.Relationship.Reason) == "" {
			v.Reason = k.String() + " with no reason recorded"
		} else {
			v.Reason = k.String() + ": rests on the requester's recorded reason; the Privacy Officer is alerted"
		}
		return v, nil
	})
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

// evidenceVerifier verifies referral, encounter and care-team
// relationships through lookup (see StandardVerifiers).
func evidenceVerifier(lookup EvidenceLookup, sites SiteLister) RelationshipVerifier {
	return verifierFunc(func(ctx context.Context, c RelationshipClaim) (rbac.Verification, error) {
		k := c.Relationship.Kind
		if k != shcrkit.RelationshipReferral && k != shcrkit.RelationshipEncounter && k != shcrkit.RelationshipCareTeam {
			return rbac.Verification{}, nil
		}
		if lookup == nil {
			return rbac.Verification{Status: rbac.VerificationFailed, Verifier: k.String()}, errors.New("shcr: no evidence lookup configured")
		}
		ref := strings.TrimSpace(c.Relationship.Evidence)
		q := EvidenceQuery{Kind: k, Patient: c.NHSNumber, Organisation: c.Requester.Organisation, Reference: ref, Time: c.Time}
		found, err := lookup.FindEvidence(ctx, q)
		v := rbac.Verification{Verifier: k.String()}
		if err == nil {
			err = ctx.Err() // an answer after the deadline does not count
		}
		if err != nil {
			v.Status = rbac.VerificationFailed
			return v, err
		}
		own := ownOrganisations(sites, c.Requester.Organisation)
		var why []string
		for _, e := range found {
			if ref != "" && !sameReference(e.Reference, ref) {
				continue
			}
			if problem := judgeEvidence(e, k, c.NHSNumber, own, c.Requester.Organisation, c.Time); problem != "" {
				why = append(why, problem)
				continue
			}
			v.Status, v.Evidence = rbac.VerificationVerified, e.Reference
			return v, nil
		}
		v.Status = rbac.VerificationUnverified
		switch {
		case len(why) > 0:
			if len(why) > 3 {
				why = append(why[:3], "…")
			}
			v.Reason = strings.Join(why, "; ")
		case ref != "":
			v.Reason = "no " + k.String() + " " + shcrkit.Redact(ref) + " found"
		default:
			v.Reason = "no " + k.String() + " found for the patient"
		}
		return v, nil
	})
}

// sameReference matches the evidence a requester gave to a record's
// reference: the same "Type/id", or the id alone.
func sameReference(have, want string) bool {
	if have == want {
		return true
	}
	_, id, ok := strings.Cut(have, "/")
	return ok && id == want
}

// judgeEvidence says what stops e backing the claim, or "".
func judgeEvidence(e Evidence, kind shcrkit.RelationshipKind, patient shcrkit.NHSNumber, own []shcrkit.ODSCode, org shcrkit.ODSCode, t time.Time) string {
	name := shcrkit.Redact(e.Reference)
	switch {
	case e.Kind != kind:
		return name + " is evidence of " + withArticle(e.Kind.String()) + ", not " + withArticle(kind.String())
	case e.Patient != patient:
		return name + " is for another patient"
	}
	mine := false
	for _, o := range e.Organisations {
		if slices.Contains(own, o) {
			mine = true
			break
		}
	}
	if !mine {
		names := make([]string, len(e.Organisations))
		for i, o := range e.Organisations {
			names[i] = string(o)
		}
		if len(names) == 0 {
			return name + " names no organisation"
		}
		return name + " is another organisation's (" + strings.Join(names, ", ") + "), not " + string(org) + "'s"
	}
	switch {
	case !e.Active:
		return name + " is not in force (status " + shcrkit.Redact(e.Status) + ")"
	case !e.Start.IsZero() && t.Before(e.Start):
		return name + " begins on " + e.Start.UTC().Format(time.DateOnly)
	case !e.End.IsZero() && !t.Before(e.End):
		return name + " ended on " + e.End.UTC().Format(time.DateOnly)
	}
	return ""
}

func withArticle(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
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
	vctx, cancel := context.WithTimeout(ctx, j.c.relTimeout)
	defer cancel()
	type answer struct {
		v   rbac.Verification
		err error
	}
	done := make(chan answer, 1)
	go func() {
		out, err := v.VerifyRelationship(vctx, claim)
		done <- answer{out, err}
	}()
	var a answer
	select {
	case a = <-done:
	case <-vctx.Done():
		a.err = vctx.Err()
	}
	if a.err == nil && a.v.Status == rbac.VerificationFailed {
		a.err = errors.New("the verifier reported a failure")
	}
	if a.err != nil {
		reason := shcrkit.Redact(a.err.Error())
		if errors.Is(a.err, context.DeadlineExceeded) {
			reason = "no answer within " + j.c.relTimeout.String()
		}
		a.v = rbac.Verification{Status: rbac.VerificationFailed, Verifier: a.v.Verifier, Reason: clip(reason, 300)}
	}
	a.v.Evidence = clip(shcrkit.Redact(a.v.Evidence), 300)
	a.v.Reason = clip(shcrkit.Redact(a.v.Reason), 500)
	j.verification = a.v
}

// decideBoundary verifies the claimed relationship and makes the boundary
// decision with its outcome.
func (j *journey) decideBoundary(ctx context.Context) {
	j.verify(ctx)
	j.boundary = j.policy.Decide(j.decisionRequest(nil))
	j.c.tel.decided(ctx, j.boundary, nil)
}

// currentPolicy is the policy a journey starting now decides on.
func (c *Client) currentPolicy() *rbac.Policy {
	if c.policies != nil {
		return c.policies.Policy()
	}
	return c.policy
}
