package rbac

import (
	"time"

	"github.com/shcrkit/shcrkit"
)

// Subject is the patient a request is about, as far as a decision needs
// to know them: as traced in PDS and the local consent records.
type Subject struct {
	// NHSNumber identifies the patient; a decision without a valid one is
	// refused.
	NHSNumber shcrkit.NHSNumber
	// Confidentiality is the patient's PDS confidentiality label.
	Confidentiality shcrkit.Confidentiality
	// Dissent is true when the patient has a recorded dissent from sharing
	// their record (the national data opt-out does not count: it does not
	// apply to direct care).
	Dissent bool
}

// Relationship is the legitimate relationship the requester claims with
// the patient, and what backs it.
type Relationship struct {
	// Kind of relationship.
	Kind shcrkit.RelationshipKind
	// Reason is the requester's recorded reason: required for self-claimed
	// and emergency relationships.
	Reason string
	// Evidence optionally refers to what establishes the relationship (a
	// referral, encounter or care-team identifier); policies may require it.
	Evidence string
}

// reqStage says which of the two questions a Request asks.
type reqStage uint8

// Stages of the cross-boundary journey.
const (
	// stageBoundary: may this person look across the boundary for this
	// patient, for this purpose, at all? Asked once, before the record
	// locator is searched. A request is at this stage when it names no
	// custodian, record type or category.
	stageBoundary reqStage = iota + 1
	// stageRecord: may this person see this record (its type, held by this
	// custodian)? Asked for each pointer the record locator returned.
	stageRecord
)

// Request is one access question put to a Policy.
//
// For the first, boundary decision leave Custodian, RecordType, Category
// and RecordConfidentiality zero. For each record pointer set Custodian and
// RecordType (the NRL type's SNOMED code) or, for data that has no record
// type such as demographics, Category; and RecordConfidentiality when the
// pointer carries a label of its own.
type Request struct {
	// Requester is the professional asking, with the role selected for the
	// session.
	Requester shcrkit.Requester
	// Patient the request is about.
	Patient Subject
	// Relationship the requester claims with the patient.
	Relationship Relationship
	// Purpose of use.
	Purpose shcrkit.Purpose
	// Custodian is the ODS code of the organisation holding the record.
	Custodian shcrkit.ODSCode
	// RecordType is the SNOMED CT code of the record's NRL type.
	RecordType string
	// Category is a policy data category ID, for data with no record type.
	// When RecordType is set too, the two must agree.
	Category string
	// RecordConfidentiality is the record's own confidentiality label; the
	// stricter of it and the patient's applies.
	RecordConfidentiality shcrkit.Confidentiality
	// Time of the access, against which agreements' dates are checked; the
	// zero value means now.
	Time time.Time
	// Verification is the outcome of checking Relationship (see
	// shcr.RelationshipVerifier); the policy says per kind whether it must
	// be verified. The zero value means no verifier judged it.
	Verification Verification
	// AdHoc, when set, records a one-off decision to share records that
	// no agreement covers; see AdHoc.
	AdHoc *AdHoc
}

// stage reports whether the request is the boundary question or a
// per-record one: it is the boundary question when Custodian, RecordType
// and Category are empty and RecordConfidentiality is unrestricted.
func (r *Request) stage() reqStage {
	if r.Custodian == "" && r.RecordType == "" && r.Category == "" && r.RecordConfidentiality == shcrkit.ConfidentialityUnrestricted {
		return stageBoundary
	}
	return stageRecord
}

// Sizes of the tables that a compiled policy keeps per confidentiality
// level and per relationship kind.
const (
	numConfidentiality   = int(shcrkit.ConfidentialityVeryRestricted) + 1
	numRelationshipKinds = int(shcrkit.RelationshipEmergency) + 1
)
