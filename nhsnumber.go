package shcrkit

import (
	"errors"
	"fmt"
	"log/slog"
)

// ErrInvalidNHSNumber is matched (with errors.Is) by every error that
// ParseNHSNumber returns.
var ErrInvalidNHSNumber = errors.New("shcrkit: invalid NHS number")

// NHSNumber is a validated 10-digit NHS number. The zero value is "no
// number"; a non-zero NHSNumber made by ParseNHSNumber always passes the
// modulus-11 check.
//
// NHSNumber implements slog.LogValuer and shows itself masked in logs, so a
// patient identifier never reaches a log line by accident.
type NHSNumber string

// ParseNHSNumber parses an NHS number written as ten digits, optionally
// grouped 3-3-4 with single spaces or hyphens ("943 476 5919",
// "943-476-5919"). Surrounding white space is ignored. It rejects a wrong
// length, a non-digit and a failed modulus-11 check with an error that
// matches ErrInvalidNHSNumber. The error never repeats the input.
func ParseNHSNumber(s string) (NHSNumber, error) {
	s = trimSpace(s)
	var digits [10]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == 10 {
				return "", fmt.Errorf("%w: more than 10 digits", ErrInvalidNHSNumber)
			}
			digits[n] = c
			n++
		case (c == ' ' || c == '-') && (n == 3 || n == 6) && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			// A separator is allowed only between the 3-3-4 groups, and the
			// same separator must be used for both.
			if sep := separatorOf(s); sep != c {
				return "", fmt.Errorf("%w: mixed separators", ErrInvalidNHSNumber)
			}
		default:
			return "", fmt.Errorf("%w: unexpected character at position %d", ErrInvalidNHSNumber, i+1)
		}
	}
	if n != 10 {
		return "", fmt.Errorf("%w: want 10 digits, got %d", ErrInvalidNHSNumber, n)
	}
	if !checkDigitOK(digits[:]) {
		return "", fmt.Errorf("%w: check digit does not match", ErrInvalidNHSNumber)
	}
	return NHSNumber(digits[:]), nil
}

// validNHSNumber reports whether s is exactly ten digits with a correct
// modulus-11 check digit.
func validNHSNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	for i := 0; i < 10; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return checkDigitOK([]byte(s))
}

// checkDigitOK applies the NHS modulus-11 rule to ten ASCII digits: weights
// 10..2 on the first nine, check = 11 - (sum mod 11), 11 becomes 0 and 10
// is never valid.
func checkDigitOK(d []byte) bool {
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(d[i]-'0') * (10 - i)
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	return check != 10 && check == int(d[9]-'0')
}

func separatorOf(s string) byte {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '-' {
			return s[i]
		}
	}
	return 0
}

func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// String returns the ten digits, or "" for the zero value.
func (n NHSNumber) String() string { return string(n) }

// Valid reports whether n is ten digits with a correct check digit. Values
// made by ParseNHSNumber are always valid; a converted string may not be.
func (n NHSNumber) Valid() bool { return validNHSNumber(string(n)) }

// Format returns the number in the 3-3-4 spaced form people read,
// "943 476 5919". An invalid value is returned unchanged.
func (n NHSNumber) Format() string {
	if len(n) != 10 {
		return string(n)
	}
	return string(n[:3]) + " " + string(n[3:6]) + " " + string(n[6:])
}

// Masked returns the number with its middle digits hidden, "943****919":
// enough to tell two numbers apart in a log, not enough to identify anyone.
func (n NHSNumber) Masked() string {
	if len(n) != 10 {
		if n == "" {
			return ""
		}
		return "**********"
	}
	return string(n[:3]) + "****" + string(n[7:])
}

// LogValue implements slog.LogValuer: logs show only the masked form.
func (n NHSNumber) LogValue() slog.Value { return slog.StringValue(n.Masked()) }

// GoString keeps %#v from printing the number in full.
func (n NHSNumber) GoString() string { return "shcrkit.NHSNumber(" + n.Masked() + ")" }

// UnmarshalText implements encoding.TextUnmarshaler; it validates like
// ParseNHSNumber and accepts the empty string as the zero value.
func (n *NHSNumber) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*n = ""
		return nil
	}
	v, err := ParseNHSNumber(string(b))
	if err != nil {
		return err
	}
	*n = v
	return nil
}
