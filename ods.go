package shcrkit

import (
	"fmt"
)

// ODSCode is an Organisation Data Service code naming an organisation: a
// trust, a practice, a region's shared care record. Codes are upper case
// letters and digits, 3 to 12 characters.
type ODSCode string

// ParseODSCode validates s as an ODS code and returns it upper-cased.
// Surrounding white space is ignored. An error matches ErrInvalidCode.
func ParseODSCode(s string) (ODSCode, error) {
	// ASCII upper-casing only: strings.ToUpper would turn "ı" and "ſ" into
	// I and S, and accept them.
	s = toUpperASCII(trimSpace(s))
	if len(s) < 3 || len(s) > 12 {
		return "", fmt.Errorf("%w: an ODS code has 3 to 12 characters, got %d", ErrInvalidCode, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return "", fmt.Errorf("%w: an ODS code has letters and digits, not %q", ErrInvalidCode, c)
		}
	}
	return ODSCode(s), nil
}

// Valid reports whether c is a well-formed, upper-case ODS code.
func (c ODSCode) Valid() bool {
	v, err := ParseODSCode(string(c))
	return err == nil && v == c
}

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
