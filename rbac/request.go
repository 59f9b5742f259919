package rbac

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
)

// ConfidentialitySystem is the HL7 v3 code system in which PDS labels a
// patient's confidentiality (Patient.meta.security).
const ConfidentialitySystem = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"

// ErrInvalidConfidentiality is matched by errors from ParseConfidentiality.
var ErrInvalidConfidentiality = errors.New("rbac: invalid confidentiality code")

// ErrInvalidRelationship is matched by errors from ParseRelationshipKind.
var ErrInvalidRelationship = errors.New("rbac: invalid relationship kind")

// Confidentiality is how closely a patient's record, or one record of
// theirs, is guarded. The zero value is ConfidentialityUnrestricted.
type Confidentiality uint8

// Confidentiality levels, in increasing order of restriction.
const (
	// ConfidentialityUnrestricted is the usual case (v3 code U).
	ConfidentialityUnrestricted Confidentiality = iota
	// ConfidentialityRestricted is a restricted patient (v3 code R): PDS
	// removes address, telecom, contacts and GP practice.
	ConfidentialityRestricted
	// ConfidentialityVeryRestricted is a very restricted patient (v3 code V).
	ConfidentialityVeryRestricted

	numConfidentiality = 3
)

// ParseConfidentiality reads a code of the v3-Confidentiality code system
// (case-insensitive). U, L (low), M (moderate) and N (normal) all rank below
// restricted and give ConfidentialityUnrestricted; R and V give the
// restricted levels. Anything else is an error matching
// ErrInvalidConfidentiality, including REDACTED, which PDS never returns.
func ParseConfidentiality(code string) (Confidentiality, error) {
	switch strings.ToUpper(strings.TrimSpace(code)) {
	case "U", "L", "M", "N":
		return ConfidentialityUnrestricted, nil
	case "R":
		return ConfidentialityRestricted, nil
	case "V":
		return ConfidentialityVeryRestricted, nil
	}
	return ConfidentialityUnrestricted, fmt.Errorf("%w: %q", ErrInvalidConfidentiality, code)
}

// Code returns the v3-Confidentiality code: U, R or V.
func (c Confidentiality) Code() string {
	switch c {
	case ConfidentialityUnrestricted:
		return "U"
	case ConfidentialityRestricted:
		return "R"
	case ConfidentialityVeryRestricted:
		return "V"
	}
	return "?"
}

// String returns the level's name: "unrestricted", "restricted" or
// "very restricted".
func (c Confidentiality) String() string {
	switch c {
	case ConfidentialityUnrestricted:
		return "unrestricted"
	case ConfidentialityRestricted:
		return "restricted"
	case ConfidentialityVeryRestricted:
		return "very restricted"
	}
	return fmt.Sprintf("Confidentiality(%d)", uint8(c))
}

// MarshalText implements encoding.TextMarshaler with the v3 code.
func (c Confidentiality) MarshalText() ([]byte, error) {
	if c >= numConfidentiality {
		return nil, fmt.Errorf("%w: %d", ErrInvalidConfidentiality, uint8(c))
	}
	return []byte(c.Code()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler like
// ParseConfidentiality; "" gives ConfidentialityUnrestricted.
func (c *Confidentiality) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*c = ConfidentialityUnrestricted
		return nil
	}
	v, err := ParseConfidentiality(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// RelationshipKind is the kind of legitimate relationship (LR) a
// professional claims with a patient. The zero value, RelationshipNone,
// means no relationship: access is refused.
type RelationshipKind uint8

// Relationship kinds.
const (
	// RelationshipNone: no legitimate relationship was given.
	RelationshipNone RelationshipKind = iota
	// RelationshipRegistered: the patient is registered with a service of
	// the requester's organisation.
	RelationshipRegistered
	// RelationshipReferral: the patient was referred to the requester's
	// service.
	RelationshipReferral
	// RelationshipEncounter: the patient is attending, or booked to attend,
	// the requester's service.
	RelationshipEncounter
	// RelationshipCareTeam: the requester is a member of the patient's care
	// team.
	RelationshipCareTeam
	// RelationshipSelfClaimed: the requester claims a relationship that the
	// system cannot verify, with a recorded reason; the Privacy Officer is
	// alerted.
	RelationshipSelfClaimed
	// RelationshipEmergency: emergency (break-glass) access with a recorded
	// reason; the Privacy Officer is alerted.
	RelationshipEmergency

	numRelationshipKinds = 7
)

var relationshipNames = [numRelationshipKinds]string{
	"none", "registered", "referral", "encounter", "care-team", "self-claimed", "emergency",
}

// String returns the kind's name as written in a policy: "registered",
// "referral", "encounter", "care-team", "self-claimed", "emergency", or
// "none".
func (k RelationshipKind) String() string {
	if int(k) < len(relationshipNames) {
		return relationshipNames[k]
	}
	return fmt.Sprintf("RelationshipKind(%d)", uint8(k))
}

// ParseRelationshipKind reads a kind as written in a policy. "break-glass"
// is accepted for "emergency" and "care_team"/"careteam" for "care-team".
func ParseRelationshipKind(s string) (RelationshipKind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "registered", "registration":
		return RelationshipRegistered, nil
	case "referral":
		return RelationshipReferral, nil
	case "encounter":
		return RelationshipEncounter, nil
	case "care-team", "care_team", "careteam":
		return RelationshipCareTeam, nil
	case "self-claimed", "self_claimed", "selfclaimed":
		return RelationshipSelfClaimed, nil
	case "emergency", "break-glass", "break_glass", "breakglass":
		return RelationshipEmergency, nil
	}
	return RelationshipNone, fmt.Errorf("%w: %q", ErrInvalidRelationship, s)
}

// MarshalText implements encoding.TextMarshaler with the kind's name.
func (k RelationshipKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; "" and "none" give
// RelationshipNone.
func (k *RelationshipKind) UnmarshalText(b []byte) error {
	if s := strings.TrimSpace(string(b)); s == "" || strings.EqualFold(s, "none") {
		*k = RelationshipNone
		return nil
	}
	v, err := ParseRelationshipKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Patient is what a decision needs to know about the patient, as traced
// in PDS and the local consent records.
type Patient struct {
	// NHSNumber identifies the patient; a decision without a valid one is
	// refused.
	NHSNumber shcrkit.NHSNumber
	// Confidentiality is the patient's PDS confidentiality label.
	Confidentiality Confidentiality
	// Dissent is true when the patient has a recorded dissent from sharing
	// their record (the national data opt-out does not count: it does not
	// apply to direct care).
	Dissent bool
}

// Relationship is the legitimate relationship the requester claims with
// the patient, and what backs it.
type Relationship struct {
	// Kind of relationship.
	Kind RelationshipKind
	// Reason is the requester's recorded reason: required for self-claimed
	// and emergency relationships.
	Reason string
	// Evidence optionally refers to what establishes the relationship (a
	// referral, encounter or care-team identifier); policies may require it.
	Evidence string
}

// Stage says which of the two questions a Request asks.
type Stage uint8

// Stages of the cross-boundary journey.
const (
	// StageBoundary: may this person look across the boundary for this
	// patient, for this purpose, at all? Asked once, before the record
	// locator is searched. A request is at this stage when it names no
	// custodian, record type or category.
	StageBoundary Stage = iota + 1
	// StageRecord: may this person see this record (its type, held by this
	// custodian)? Asked for each pointer the record locator returned.
	StageRecord
)

// String returns "boundary" or "record".
func (s Stage) String() string {
	switch s {
	case StageBoundary:
		return "boundary"
	case StageRecord:
		return "record"
	}
	return fmt.Sprintf("Stage(%d)", uint8(s))
}

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
	Patient Patient
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
	RecordConfidentiality Confidentiality
	// Time of the access, against which agreements' dates are checked; the
	// zero value means now.
	Time time.Time
}

// ForRecord returns a copy of a boundary request asking about one record:
// held by custodian, of the NRL record type (SNOMED CT code), with the
// record's own confidentiality label.
func (r Request) ForRecord(custodian shcrkit.ODSCode, recordType string, conf Confidentiality) Request {
	r.Custodian, r.RecordType, r.Category, r.RecordConfidentiality = custodian, recordType, "", conf
	return r
}

// Stage reports whether the request is the boundary question or a
// per-record one: it is StageBoundary when Custodian, RecordType and
// Category are empty and RecordConfidentiality is unrestricted.
func (r Request) Stage() Stage {
	if r.Custodian == "" && r.RecordType == "" && r.Category == "" && r.RecordConfidentiality == ConfidentialityUnrestricted {
		return StageBoundary
	}
	return StageRecord
}
