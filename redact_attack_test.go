package shcrkit_test

import (
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Attacks on the root package's redaction, masking and parsers: NHS
// numbers hidden by invisible or encoded separators, credentials in other
// forms, text that must be left alone, and inputs that should be refused.

// An NHS number split by invisible format characters (zero-width space,
// soft hyphen, word joiner, BOM, bidi marks: Unicode category Cf) reads as
// the whole number on screen, so it must be masked.
func TestMaskNHSNumbersThroughInvisibleCharacters(t *testing.T) {
	for _, sep := range []string{"\u200b", "\u00ad", "\u2060", "\ufeff", "\u200e", "\u200b\u200b"} {
		for _, in := range []string{
			"943" + sep + "476" + sep + "5919",
			"9434" + sep + "765919",
			"Patient 943 476" + sep + "5919 not found",
		} {
			assert.NotContains(t, shcrkit.MaskNHSNumbers(in), "476", "%q", in)
			out := shcrkit.Redact(in)
			_, leaked := survivingNHSNumber(strings.NewReplacer("\u200b", "", "\u00ad", "", "\u2060", "", "\ufeff", "", "\u200e", "").Replace(out))
			assert.False(t, leaked, "%q became %q", in, out)
		}
	}
}

// A URL path or a form body writes the spaces of "943 476 5919" as %20 or
// '+'.
func TestRedactMasksURLEncodedSeparators(t *testing.T) {
	for _, in := range []string{
		"GET /Patient/943%20476%205919 failed",
		"nhs=943+476+5919",
		"/Patient/943%2D476%2D5919",
		"943%C2%A0476%C2%A05919",
	} {
		out := shcrkit.Redact(in)
		assert.NotContains(t, out, "476", "%q became %q", in, out)
		assert.Contains(t, out, "****", "%q became %q", in, out)
	}
	// Percent escapes that are not separators still end a run.
	assert.Equal(t, "a%41943476", shcrkit.MaskNHSNumbers("a%41943476"))
}

// Redact documents that basic credentials are replaced, like bearer ones.
func TestRedactBasicCredentials(t *testing.T) {
	const creds = "dXNlcjpwYXNzd29yZA==" // user:password
	for _, in := range []string{
		"Authorization: Basic " + creds,
		"sent basic " + creds + " to the token endpoint",
		"authorization=Basic%20" + creds,
	} {
		out := shcrkit.Redact(in)
		assert.NotContains(t, out, "dXNlcjpw", "%q became %q", in, out)
		assert.Contains(t, out, "[redacted]")
	}
	// The word "basic" in ordinary text stays.
	for _, in := range []string{"basic information is missing", "Basic authentication required", "a basic 404 page"} {
		assert.Equal(t, in, shcrkit.Redact(in))
	}
}

// The credential-field pattern matched "code" inside longer words, so
// ordinary diagnostics lost their values.
func TestRedactKeepsWordsEndingInCode(t *testing.T) {
	for _, in := range []string{
		"statusCode: 404",
		"errorCode=INVALID_VALUE",
		"barcode=ABC123",
		"unicode: yes",
		"mypassword_hint=ask", // not a credential name either
	} {
		assert.Equal(t, in, shcrkit.Redact(in))
	}
	// The credential names themselves are still redacted.
	assert.Equal(t, "code=[redacted]&state=x", shcrkit.Redact("code=abc123&state=x"))
	assert.Equal(t, `{"Password":[redacted]}`, shcrkit.Redact(`{"Password":"hunter2"}`))
}

// A JSON credential with an escaped quote was cut at the escape and its
// tail left in clear.
func TestRedactJSONSecretWithEscapedQuote(t *testing.T) {
	out := shcrkit.Redact(`{"client_secret":"ab\"cd-TAIL-of-the-secret","x":1}`)
	assert.NotContains(t, out, "TAIL")
	assert.Equal(t, `{"client_secret":[redacted],"x":1}`, out)
}

// Redact promises that line breaks cannot forge a log line; U+2028 and
// U+2029 are line breaks too, and bidi overrides can make a line read
// as something else.
func TestRedactUnicodeLineBreaksAndBidiControls(t *testing.T) {
	for _, in := range []string{"a\u2028b", "a\u2029b", "a\u202eb", "a\u2066b", "a\u0085b"} {
		assert.Equal(t, "a b", shcrkit.Redact(in), "%q", in)
	}
}

// Mathematical digits come in five adjacent blocks (U+1D7CE..U+1D7FF);
// all but the first were read as the wrong digits, so a number written in
// them and grouped other than 3-3-4 was never recognised.
func TestMaskNHSNumbersMathematicalDigits(t *testing.T) {
	for _, zero := range []rune{0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6} {
		w := func(s string) string {
			return strings.Map(func(r rune) rune { return zero + r - '0' }, s)
		}
		in := w("9434") + " " + w("765") + " " + w("919")
		assert.Equal(t, "943****919", shcrkit.MaskNHSNumbers(in), "%U: %q", zero, in)
	}
}

// A date and a clock time in a row are ten digits in groups; about one in
// eleven passed the checksum and was masked ("2025-01-01 09:00:00" became
// "202****109:00:00"), though the package says a date is left alone.
func TestMaskNHSNumbersLeavesTimestamps(t *testing.T) {
	for _, in := range []string{
		"token expired at 2025-01-01 09:00:00",
		"2025-01-01 09:00:00",
		"01/01/2025 04:00",
		"01/01/2025 12:00",
		"01.01.2025 09.00",
	} {
		assert.Equal(t, in, shcrkit.MaskNHSNumbers(in))
	}
	// A number next to a date is still masked.
	assert.Equal(t, "2025-01-01 943****919", shcrkit.MaskNHSNumbers("2025-01-01 9434 765 919"))
	assert.Equal(t, "on 01/01/2025 943****919", shcrkit.MaskNHSNumbers("on 01/01/2025 943 476 5919"))
}

// ParsePurpose's error repeated its input unmasked; the other parsers of
// the vocabulary mask NHS numbers in theirs.
func TestParsePurposeErrorMasksNHSNumber(t *testing.T) {
	_, err := shcrkit.ParsePurpose("9434765919")
	require.ErrorIs(t, err, shcrkit.ErrInvalidCode)
	assert.NotContains(t, err.Error(), "9434765919")
}

// ParseODSCode upper-cased with Unicode rules before checking for ASCII
// letters, so "ı" (dotless i) and "ſ" (long s) became I and S.
func TestParseODSCodeRejectsNonASCIILetters(t *testing.T) {
	for _, in := range []string{"rıx", "ſ12", "Y0ſ868"} {
		_, err := shcrkit.ParseODSCode(in)
		assert.ErrorIs(t, err, shcrkit.ErrInvalidCode, "%q", in)
	}
}
