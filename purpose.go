package shcrkit

import (
	"fmt"
)

// Purpose is why a professional asks for a patient's record. The zero value
// is PurposeUnspecified, which no access decision accepts.
type Purpose uint8

// Purposes of use, each mapped to an HL7 v3 ActReason code.
const (
	// PurposeUnspecified is the zero value: no purpose was given.
	PurposeUnspecified Purpose = iota
	// PurposeDirectCare is treatment of the patient (ActReason TREAT).
	PurposeDirectCare
	// PurposeEmergency is emergency treatment (ActReason ETREAT).
	PurposeEmergency
	// PurposeBreakGlass is access that overrides the usual controls in an
	// emergency, with a recorded reason (ActReason BTG).
	PurposeBreakGlass
)

// ActReason returns the HL7 v3 ActReason code: TREAT, ETREAT or BTG, or ""
// for PurposeUnspecified.
func (p Purpose) ActReason() string {
	switch p {
	case PurposeDirectCare:
		return "TREAT"
	case PurposeEmergency:
		return "ETREAT"
	case PurposeBreakGlass:
		return "BTG"
	}
	return ""
}

// String returns the purpose's one name as users see and write it:
// "direct-care", "emergency" or "break-glass" (what ParsePurpose reads and
// the example programs' -purpose flag takes), or "unspecified".
func (p Purpose) String() string {
	switch p {
	case PurposeDirectCare:
		return "direct-care"
	case PurposeEmergency:
		return "emergency"
	case PurposeBreakGlass:
		return "break-glass"
	}
	return "unspecified"
}

// Valid reports whether p is one of the defined purposes (not unspecified).
func (p Purpose) Valid() bool { return p >= PurposeDirectCare && p <= PurposeBreakGlass }

// ParsePurpose accepts a purpose's name ("direct-care", "emergency",
// "break-glass") or its ActReason code (TREAT, ETREAT, BTG), in any case.
// An error matches ErrInvalidCode.
func ParsePurpose(s string) (Purpose, error) {
	switch toUpperASCII(trimSpace(s)) {
	case "TREAT", "DIRECT-CARE", "DIRECTCARE", "DIRECT_CARE":
		return PurposeDirectCare, nil
	case "ETREAT", "EMERGENCY":
		return PurposeEmergency, nil
	case "BTG", "BREAK-GLASS", "BREAKGLASS", "BREAK_GLASS":
		return PurposeBreakGlass, nil
	}
	return PurposeUnspecified, fmt.Errorf("%w: not a purpose of use: %q", ErrInvalidCode, MaskNHSNumbers(s))
}

// MarshalText implements encoding.TextMarshaler with the ActReason code.
func (p Purpose) MarshalText() ([]byte, error) {
	if p == PurposeUnspecified {
		return []byte{}, nil
	}
	if !p.Valid() {
		return nil, fmt.Errorf("%w: not a purpose of use: %d", ErrInvalidCode, uint8(p))
	}
	return []byte(p.ActReason()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; the empty string is
// PurposeUnspecified.
func (p *Purpose) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*p = PurposeUnspecified
		return nil
	}
	v, err := ParsePurpose(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

func toUpperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
