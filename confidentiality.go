package shcrkit

import (
	"fmt"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// confidentialitySystem is the HL7 v3 Confidentiality code system in which
// PDS labels a patient (Patient.meta.security) and the NRL labels a pointer
// (DocumentReference.securityLabel).
const confidentialitySystem = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"

// Confidentiality is how closely a patient's record, or one record of
// theirs, is guarded. It is the one type pds, nrls, rbac, audit and shcr
// use. The zero value is ConfidentialityUnrestricted: a missing label is
// unrestricted, while a label that cannot be read is very restricted (see
// ConfidentialityOf), so that nothing unreadable looks open.
type Confidentiality uint8

// Confidentiality levels, in increasing order of restriction.
const (
	// ConfidentialityUnrestricted is the usual case (v3 code U; L, M and N
	// rank below restricted and read as this too).
	ConfidentialityUnrestricted Confidentiality = iota
	// ConfidentialityRestricted (v3 code R): a "sensitive" patient, whose
	// address, telecom, contacts and GP practice PDS removes.
	ConfidentialityRestricted
	// ConfidentialityVeryRestricted (v3 code V), also given to any label
	// that cannot be read.
	ConfidentialityVeryRestricted

	numConfidentiality = 3
)

// parseConfidentiality reads one code of the v3 Confidentiality code
// system, in any case. "" (no label), U, L, M and N give
// ConfidentialityUnrestricted; R and V the restricted levels. Anything else
// (REDACTED included, which PDS never returns) is an error matching
// ErrInvalidCode, returned with ConfidentialityVeryRestricted so
// that a caller ignoring the error still fails closed.
func parseConfidentiality(code string) (Confidentiality, error) {
	switch toUpperASCII(trimSpace(code)) {
	case "", "U", "L", "M", "N":
		return ConfidentialityUnrestricted, nil
	case "R":
		return ConfidentialityRestricted, nil
	case "V":
		return ConfidentialityVeryRestricted, nil
	}
	return ConfidentialityVeryRestricted, fmt.Errorf("%w: not a confidentiality code: %q", ErrInvalidCode, MaskNHSNumbers(code))
}

// confidentialitySystems are the names the v3 Confidentiality code system
// goes by: the FHIR R4 URL, the older FHIR URL and the HL7 OID.
var confidentialitySystems = map[string]bool{
	confidentialitySystem:                    true,
	"http://hl7.org/fhir/v3/Confidentiality": true,
	"urn:oid:2.16.840.1.113883.5.25":         true,
}

// ConfidentialityOf reads a resource's confidentiality labels
// (meta.security or securityLabel codings) the fail-closed way: the most
// restrictive label of the v3 Confidentiality system wins, a label of that
// system whose code cannot be read counts as very restricted, and codings
// of other systems are ignored. No label at all is unrestricted.
func ConfidentialityOf(codings ...fhir.Coding) Confidentiality {
	best := ConfidentialityUnrestricted
	for _, c := range codings {
		if c.System == nil || !confidentialitySystems[*c.System] {
			continue
		}
		code := ""
		if c.Code != nil {
			code = *c.Code
		}
		best = max(best, labelLevel(code))
	}
	return best
}

// labelLevel reads a code as a server sent it. Codes are case-sensitive
// on the wire, so anything but an exact code of the system, an empty one
// included, is a label that could not be understood.
func labelLevel(code string) Confidentiality {
	switch code {
	case "U", "L", "M", "N":
		return ConfidentialityUnrestricted
	case "R":
		return ConfidentialityRestricted
	}
	return ConfidentialityVeryRestricted
}

// Code returns the v3 Confidentiality code: U, R or V.
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

// Restricted reports whether c is restricted or very restricted: the
// record is not for everyone who may see the patient's ordinary records.
func (c Confidentiality) Restricted() bool { return c != ConfidentialityUnrestricted }

// Valid reports whether c is one of the three levels.
func (c Confidentiality) Valid() bool { return c < numConfidentiality }

// Coding returns c as a v3 Confidentiality coding, as PDS and the NRL
// write it.
func (c Confidentiality) Coding() fhir.Coding {
	system, code, display := confidentialitySystem, c.Code(), c.String()
	return fhir.Coding{System: &system, Code: &code, Display: &display}
}

// MarshalText implements encoding.TextMarshaler with the v3 code.
func (c Confidentiality) MarshalText() ([]byte, error) {
	if !c.Valid() {
		return nil, fmt.Errorf("%w: not a confidentiality level: %d", ErrInvalidCode, uint8(c))
	}
	return []byte(c.Code()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler. It reads one code of
// the v3 Confidentiality code system, in any case: "" (no label), U, L, M
// and N are ConfidentialityUnrestricted, R and V the restricted levels.
// Anything else (REDACTED included, which PDS never returns) is an error
// matching ErrInvalidCode, and leaves c very restricted so that
// a caller ignoring the error still fails closed.
func (c *Confidentiality) UnmarshalText(b []byte) error {
	v, err := parseConfidentiality(string(b))
	*c = v
	return err
}
