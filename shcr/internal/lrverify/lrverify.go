// Package lrverify holds the verifiers of legitimate relationships that
// shcr.StandardVerifiers chains: the registered GP practice in PDS,
// evidence in the organisation's own records, and the claims nothing can
// verify. Its types have the fields of shcr's in their order, so that one
// converts to the other.
package lrverify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr/internal/auditfield"
	"github.com/shcrkit/shcrkit/shcr/internal/fhirevidence"
)

// Claim is shcr.RelationshipClaim.
type Claim struct {
	Requester    shcrkit.Requester
	NHSNumber    shcrkit.NHSNumber
	Patient      *pds.Patient
	Relationship rbac.Relationship
	Purpose      shcrkit.Purpose
	Time         time.Time
}

// Query is shcr.EvidenceQuery.
type Query struct {
	Kind         shcrkit.RelationshipKind
	Patient      shcrkit.NHSNumber
	Organisation shcrkit.ODSCode
	Reference    string
	Time         time.Time
}

// Evidence is shcr.Evidence.
type Evidence = fhirevidence.Record

// Lookup is shcr.EvidenceLookup.
type Lookup interface {
	FindEvidence(ctx context.Context, q Query) ([]Evidence, error)
}

// Sites is shcr.SiteLister.
type Sites interface {
	SitesOf(org shcrkit.ODSCode) []shcrkit.ODSCode
}

// Verifier is shcr.RelationshipVerifier's method.
type Verifier func(ctx context.Context, c Claim) (rbac.Verification, error)

// Standard chains RegisteredGP, EvidenceVerifier (when lookup is not nil)
// and ClaimedRelationships: the first that judges the claim's kind (with
// a status other than rbac.VerificationNone, or an error) decides.
func Standard(sites Sites, lookup Lookup) Verifier {
	vs := []Verifier{RegisteredGP(sites)}
	if lookup != nil {
		vs = append(vs, EvidenceVerifier(lookup, sites))
	}
	vs = append(vs, ClaimedRelationships())
	return func(ctx context.Context, c Claim) (rbac.Verification, error) {
		for _, v := range vs {
			out, err := v(ctx, c)
			if err != nil || out.Status != rbac.VerificationNone {
				return out, err
			}
		}
		return rbac.Verification{}, nil
	}
}

// ownOrganisations is the requester's organisation and its sites.
func ownOrganisations(sites Sites, org shcrkit.ODSCode) []shcrkit.ODSCode {
	own := []shcrkit.ODSCode{org}
	if sites != nil {
		own = append(own, sites.SitesOf(org)...)
	}
	return own
}

// RegisteredGP verifies registered relationships (see shcr.StandardVerifiers).
func RegisteredGP(sites Sites) Verifier {
	return Verifier(func(_ context.Context, c Claim) (rbac.Verification, error) {
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
		case registrationProblem(c.Patient, c.Time) != "":
			v.Reason = "the patient's registration with GP practice " + string(gp) + " " + registrationProblem(c.Patient, c.Time)
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

// registrationProblem says why the registration with the patient's GP
// practice (the first generalPractitioner, as GPPractice reads it) is not
// in force at t, or "". PDS lists the practice the patient "is, or was,
// registered" with, and the registration's period with it.
func registrationProblem(p *pds.Patient, t time.Time) string {
	if t.IsZero() {
		t = time.Now() // a claim made without its time is made now
	}
	for _, r := range p.Resource.GeneralPractitioner {
		// The entry GPPractice reads: the first with an ODS code.
		id := r.Identifier
		if id == nil || id.Value == nil || (id.System != nil && *id.System != codesystem.ODS) {
			continue
		}
		if _, err := shcrkit.ParseODSCode(*id.Value); err != nil {
			continue
		}
		if id.Period == nil {
			return ""
		}
		start, okStart := fhirevidence.Time(deref(id.Period.Start), false)
		end, okEnd := fhirevidence.Time(deref(id.Period.End), true)
		switch {
		case !okStart || !okEnd:
			return "has a period that cannot be read"
		case !start.IsZero() && t.Before(start):
			return "begins on " + start.Format(time.DateOnly)
		case !end.IsZero() && !t.Before(end):
			return "ended before " + end.Format(time.DateOnly)
		}
		return ""
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ClaimedRelationships judges self-claimed and emergency relationships
// (see shcr.StandardVerifiers).
func ClaimedRelationships() Verifier {
	return Verifier(func(_ context.Context, c Claim) (rbac.Verification, error) {
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

// EvidenceVerifier verifies referral, encounter and care-team
// relationships through lookup (see shcr.StandardVerifiers).
func EvidenceVerifier(lookup Lookup, sites Sites) Verifier {
	return Verifier(func(ctx context.Context, c Claim) (rbac.Verification, error) {
		k := c.Relationship.Kind
		if k != shcrkit.RelationshipReferral && k != shcrkit.RelationshipEncounter && k != shcrkit.RelationshipCareTeam {
			return rbac.Verification{}, nil
		}
		if lookup == nil {
			return rbac.Verification{Status: rbac.VerificationFailed, Verifier: k.String()}, errors.New("shcr: no evidence lookup configured")
		}
		if !c.NHSNumber.Valid() {
			// Evidence whose subject could not be read names no patient
			// either; "" must not match "".
			return rbac.Verification{Status: rbac.VerificationUnverified, Verifier: k.String(),
				Reason: "the claim names no valid NHS number"}, nil
		}
		ref := strings.TrimSpace(c.Relationship.Evidence)
		at := c.Time
		if at.IsZero() {
			at = time.Now() // a claim made without its time is made now
		}
		q := Query{Kind: k, Patient: c.NHSNumber, Organisation: c.Requester.Organisation, Reference: ref, Time: at}
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

// Judge asks a verifier through ask, bounded by timeout, and returns its
// verdict fit for the decisions and audit events of a journey. A verifier
// that errs, reports a failure, or does not answer in time (even one that
// ignores its context) gives a failed verification saying why; reasons
// and evidence are redacted and clipped.
func Judge(ctx context.Context, timeout time.Duration, ask func(ctx context.Context) (rbac.Verification, error)) rbac.Verification {
	vctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type answer struct {
		v   rbac.Verification
		err error
	}
	done := make(chan answer, 1)
	go func() {
		// A verifier that panics has not judged the claim: the access
		// fails closed, and the process goes on (this goroutine is the
		// journey's, where the caller could not recover the panic).
		var a answer
		defer func() {
			if p := recover(); p != nil {
				a = answer{err: fmt.Errorf("the verifier panicked: %s", shcrkit.Redact(fmt.Sprint(p)))}
			}
			done <- a
		}()
		a.v, a.err = ask(vctx)
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
			reason = "no answer within " + timeout.String()
		}
		a.v = rbac.Verification{Status: rbac.VerificationFailed, Verifier: a.v.Verifier, Reason: auditfield.Clip(reason, 300)}
	}
	a.v.Evidence = auditfield.Clip(shcrkit.Redact(a.v.Evidence), 300)
	a.v.Reason = auditfield.Clip(shcrkit.Redact(a.v.Reason), 500)
	return a.v
}
