package shcrkit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// ODSSystem is the FHIR identifier system of ODS organisation codes.
const ODSSystem = "https://fhir.nhs.uk/Id/ods-organization-code"

// ErrInvalidODSCode is matched by every error that ParseODSCode returns.
var ErrInvalidODSCode = errors.New("shcrkit: invalid ODS code")

// ODSCode is an Organisation Data Service code naming an organisation: a
// trust, a practice, a region's shared care record. Codes are upper case
// letters and digits, 3 to 12 characters.
type ODSCode string

// ParseODSCode validates s as an ODS code and returns it upper-cased.
// Surrounding white space is ignored.
func ParseODSCode(s string) (ODSCode, error) {
	s = strings.ToUpper(trimSpace(s))
	if len(s) < 3 || len(s) > 12 {
		return "", fmt.Errorf("%w: want 3 to 12 characters, got %d", ErrInvalidODSCode, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return "", fmt.Errorf("%w: %q is not a letter or digit", ErrInvalidODSCode, c)
		}
	}
	return ODSCode(s), nil
}

// MustParseODSCode is like ParseODSCode but panics on an invalid code; for
// constants in tests and examples.
func MustParseODSCode(s string) ODSCode {
	c, err := ParseODSCode(s)
	if err != nil {
		panic(err)
	}
	return c
}

// String returns the code.
func (c ODSCode) String() string { return string(c) }

// IsZero reports whether c is the zero value.
func (c ODSCode) IsZero() bool { return c == "" }

// Valid reports whether c is a well-formed, upper-case ODS code.
func (c ODSCode) Valid() bool {
	v, err := ParseODSCode(string(c))
	return err == nil && v == c
}

// Identifier returns the FHIR identifier of the code, with system
// https://fhir.nhs.uk/Id/ods-organization-code.
func (c ODSCode) Identifier() fhir.Identifier {
	system, value := ODSSystem, string(c)
	return fhir.Identifier{System: &system, Value: &value}
}

// Token returns the FHIR search token "system|value" for the code.
func (c ODSCode) Token() string { return ODSSystem + "|" + string(c) }

// MarshalText implements encoding.TextMarshaler.
func (c ODSCode) MarshalText() ([]byte, error) { return []byte(c), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it validates like
// ParseODSCode and accepts the empty string as the zero value.
func (c *ODSCode) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*c = ""
		return nil
	}
	v, err := ParseODSCode(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
