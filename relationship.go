package shcrkit

import (
	"fmt"
)

// RelationshipKind is the kind of legitimate relationship (LR) a
// professional has with a patient. It is the one type rbac, audit and shcr
// use. The zero value, RelationshipNone, means no relationship: access is
// refused.
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

// String returns the kind's name as a policy and an audit record write it:
// "registered", "referral", "encounter", "care-team", "self-claimed",
// "emergency", or "none".
func (k RelationshipKind) String() string {
	if k.Valid() {
		return relationshipNames[k]
	}
	return fmt.Sprintf("RelationshipKind(%d)", uint8(k))
}

// Valid reports whether k is one of the kinds, RelationshipNone included.
func (k RelationshipKind) Valid() bool { return k < numRelationshipKinds }

// ParseRelationshipKind reads a kind by its name, in any case.
// "registration" is accepted for "registered", "break-glass" for
// "emergency", and underscores or no separator for the hyphen. An error
// matches ErrInvalidCode.
func ParseRelationshipKind(s string) (RelationshipKind, error) {
	switch toUpperASCII(trimSpace(s)) {
	case "NONE":
		return RelationshipNone, nil
	case "REGISTERED", "REGISTRATION":
		return RelationshipRegistered, nil
	case "REFERRAL":
		return RelationshipReferral, nil
	case "ENCOUNTER":
		return RelationshipEncounter, nil
	case "CARE-TEAM", "CARE_TEAM", "CARETEAM":
		return RelationshipCareTeam, nil
	case "SELF-CLAIMED", "SELF_CLAIMED", "SELFCLAIMED":
		return RelationshipSelfClaimed, nil
	case "EMERGENCY", "BREAK-GLASS", "BREAK_GLASS", "BREAKGLASS":
		return RelationshipEmergency, nil
	}
	return RelationshipNone, fmt.Errorf("%w: not a relationship kind: %q", ErrInvalidCode, MaskNHSNumbers(s))
}

// MarshalText implements encoding.TextMarshaler with the kind's name.
func (k RelationshipKind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, fmt.Errorf("%w: not a relationship kind: %d", ErrInvalidCode, uint8(k))
	}
	return []byte(relationshipNames[k]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; "" gives
// RelationshipNone.
func (k *RelationshipKind) UnmarshalText(b []byte) error {
	if len(trimSpace(string(b))) == 0 {
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
