package rbac

import (
	"fmt"
	"strings"

	"github.com/shcrkit/shcrkit"
)

// verifySetting is what a policy asks of the verification of one kind of
// legitimate relationship (its relationships[].verification).
type verifySetting uint8

const (
	// verifyNotApplicable: the kind is not verified (self-claimed and
	// emergency relationships, which rest on a recorded reason and an
	// alert to the Privacy Officer). Any outcome is recorded, none
	// decides. The default for self-claimed and emergency.
	verifyNotApplicable verifySetting = iota + 1
	// verifyOptional: the outcome is recorded; an unverified relationship
	// is still accepted, but a verifier that failed refuses (fail closed).
	// The default for the other kinds.
	verifyOptional
	// verifyRequired: only a verified relationship is accepted.
	verifyRequired
)

// VerificationStatus is the outcome of checking a claimed relationship.
type VerificationStatus uint8

// Verification statuses. The zero value says no verifier judged the claim.
const (
	// VerificationNone: no verifier judged the claim (none is configured,
	// or none judges its kind).
	VerificationNone VerificationStatus = iota
	// VerificationVerified: a verifier found what establishes the
	// relationship.
	VerificationVerified
	// VerificationUnverified: a verifier judged the claim and could not
	// confirm it; Reason says what was missing.
	VerificationUnverified
	// VerificationFailed: the verifier failed or ran out of time, so
	// nothing is known; access fails closed.
	VerificationFailed
)

// String returns "none", "verified", "unverified" or "failed".
func (s VerificationStatus) String() string {
	switch s {
	case VerificationNone:
		return "none"
	case VerificationVerified:
		return "verified"
	case VerificationUnverified:
		return "unverified"
	case VerificationFailed:
		return "failed"
	}
	return fmt.Sprintf("VerificationStatus(%d)", uint8(s))
}

// Verification is the outcome of checking the relationship a requester
// claims: verified or not, by which verifier, on which evidence, or why
// not. A Request carries it into the decision, which carries it out
// again for the audit record.
type Verification struct {
	// Status of the check.
	Status VerificationStatus `json:"status"`
	// Verifier names the verifier that judged the claim ("registered",
	// "encounter", ...), or "".
	Verifier string `json:"verifier,omitempty"`
	// Evidence identifies what established the relationship (the GP
	// practice, the Encounter), when verified.
	Evidence string `json:"evidence,omitempty"`
	// Reason says why the claim was not verified, or what the verifier
	// noted; it holds no NHS number.
	Reason string `json:"reason,omitempty"`
}

// String summarises the outcome for an audit record: "verified by
// registered: GP practice Y12345", "not verified by encounter: …",
// "verification failed (referral): …" or "not verified: no verifier
// judged the relationship".
func (v Verification) String() string {
	var s string
	switch v.Status {
	case VerificationVerified:
		s = "verified by " + v.Verifier
		if v.Evidence != "" {
			s += ": " + v.Evidence
		}
		if v.Reason != "" {
			s += " (" + v.Reason + ")"
		}
		return shcrkit.MaskNHSNumbers(s)
	case VerificationUnverified:
		s = "not verified by " + v.Verifier
	case VerificationFailed:
		s = "verification failed"
		if v.Verifier != "" {
			s += " (" + v.Verifier + ")"
		}
	default:
		s = "not verified"
		if v.Reason == "" {
			return s + ": no verifier judged the relationship"
		}
	}
	if v.Reason != "" {
		s += ": " + v.Reason
	}
	return shcrkit.MaskNHSNumbers(s)
}

// checkVerification refuses a relationship whose verification the policy
// requires and that was not verified, and any whose verifier failed
// unless the policy does not apply verification to the kind.
func checkVerification(v *verdict, rr *relRule, ver *Verification) bool {
	switch rr.verify {
	case verifyRequired:
		if ver.Status == VerificationVerified {
			return true
		}
		what := "no verifier judged it"
		if ver.Status != VerificationNone {
			what = ver.String()
		}
		v.deny(rr.rule, "relationship "+rr.kind.String()+" must be verified and was not: "+clipReason(what))
		return false
	case verifyOptional:
		// Anything but none, verified or unverified is no judgement at
		// all: fail closed as for a verifier that failed.
		if ver.Status >= VerificationFailed {
			v.deny(rr.rule, "relationship "+rr.kind.String()+" could not be checked, so access fails closed: "+clipReason(ver.String()))
			return false
		}
	}
	return true
}

// clipReason keeps a verifier's text in a reason short and free of NHS
// numbers.
func clipReason(s string) string {
	s = shcrkit.MaskNHSNumbers(s)
	if len(s) > 300 {
		cut := 300
		for cut > 0 && (s[cut]&0xC0) == 0x80 {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strings.TrimSpace(s)
}

// verificationSetting reads relationships[].verification; "" takes the
// kind's default.
func (c *checker) verificationSetting(at path, kind shcrkit.RelationshipKind, s string) verifySetting {
	claimed := kind == shcrkit.RelationshipSelfClaimed || kind == shcrkit.RelationshipEmergency
	switch strings.TrimSpace(s) {
	case "":
		if claimed {
			return verifyNotApplicable
		}
		return verifyOptional
	case "not_applicable":
		return verifyNotApplicable
	case "optional":
		return verifyOptional
	case "required":
		if claimed {
			c.add(at, "%s relationship cannot be verified: it rests on a recorded reason (use not_applicable or optional)", withArticle(kind.String()))
		}
		return verifyRequired
	}
	c.add(at, "verification %q is not one of required, optional or not_applicable", s)
	return verifyOptional
}
