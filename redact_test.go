package shcrkit_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testJWT    = "eyJhbGciOiJSUzUxMiIsImtpZCI6InRlc3QtMSJ9.eyJpc3MiOiJhcGkta2V5Iiwic3ViIjoiOTQzNDc2NTkxOSJ9.c2lnbmF0dXJlLWJ5dGVz"
	testBearer = "Bearer 6JHq8Rc0aJxQ2ZcLyRfoVHcUVZw3"
)

// maxRedactInput is the longest text Redact reads.
const maxRedactInput = 8 << 10

func TestRedact(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"bearer", "sent Authorization: " + testBearer + " to it", "sent Authorization: Bearer [redacted] to it"},
		{"bearer lower case", "bearer abcd1234efgh", "bearer [redacted]"},
		{"jwt", "bad assertion " + testJWT + " refused", "bad assertion [redacted] refused"},
		{"unsigned jwt", "token eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "token [redacted]"},
		{"jwt glued to a word", "x" + testJWT, "[redacted]"},
		{"query", "GET https://pds.example/Patient?family=SMITH&birthdate=2010-10-22 failed", "GET https://pds.example/Patient?… failed"},
		{"form field", "access_token=abcdef123456&expires_in=599", "access_token=[redacted]&expires_in=599"},
		{"json field", `{"refresh_token":"r-123456","x":1}`, `{"refresh_token":[redacted],"x":1}`},
		{"nhs number", "subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919", "subject:identifier=https://fhir.nhs.uk/Id/nhs-number|943****919"},
		{"line breaks", "a\nb\r\nc", "a b  c"},
		{"plain text kept", "Resource not found: token expired at 2026-12-05 00:55", "Resource not found: token expired at 2026-12-05 00:55"},
		{"hostnames kept", "dial tcp journey-service.example:443: refused", "dial tcp journey-service.example:443: refused"},
		{"asid kept", "ASID 200000000117", "ASID 200000000117"},
		{"api key in words", "rejected api key ak-H7gT2mQ9xZ4pL6nBv3Sd for this app", "rejected api key [redacted] for this app"},
		{"api key header echoed", "got X-API-Key: 7f3kQ92mZpL0 twice", "got X-API-Key: [redacted] twice"},
		{"api key refusal kept", "Invalid API key. API key missing or expired", "Invalid API key. API key missing or expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, shcrkit.Redact(tt.in))
		})
	}
}

// nhsForms writes n in the forms people and systems write it in.
func nhsForms(n string) []string {
	full := strings.Map(func(r rune) rune { return r - '0' + '０' }, n)
	g := func(sep string) string { return n[:3] + sep + n[3:6] + sep + n[6:] }
	return []string{
		n, g(" "), g("-"), g("."), g("/"), g("\t"), g("\u00a0"), g("\u202f"), g(" - "), g("–"),
		full, full[:9] + " " + full[9:18] + " " + full[18:],
		n[:4] + " " + n[4:7] + " " + n[7:], n[:2] + " " + n[2:4] + " " + n[4:6] + " " + n[6:8] + " " + n[8:],
		n[:3] + " " + n[3:6] + "-" + n[6:],
	}
}

// validNHS makes a valid NHS number in the test range from seed.
func validNHS(seed uint32) string {
	for {
		d := []byte("9" + strings.Repeat("0", 8))
		x := seed
		for i := 8; i >= 1; i-- {
			d[i] = byte('0' + x%10)
			x /= 10
		}
		sum := 0
		for i := 0; i < 9; i++ {
			sum += int(d[i]-'0') * (10 - i)
		}
		check := 11 - sum%11
		if check == 11 {
			check = 0
		}
		if check != 10 {
			return string(append(d, byte('0'+check)))
		}
		seed++
	}
}

// survivingNHSNumber finds a valid NHS number left in s, read the way a
// person would: digits of any script, up to three separators between two.
// It is written independently of the redactor on purpose.
func survivingNHSNumber(s string) (string, bool) {
	var digits []byte
	gap := 0
	flush := func() (string, bool) {
		for a := 0; a+10 <= len(digits); a++ {
			if shcrkit.NHSNumber(string(digits[a : a+10])).Valid() {
				return string(digits[a : a+10]), true
			}
		}
		digits = digits[:0]
		return "", false
	}
	for _, r := range s {
		switch {
		case unicode.IsDigit(r):
			var v byte
			for z := r; unicode.IsDigit(z); z-- {
				v++
			}
			digits = append(digits, '0'+(v-1)%10)
			gap = 0
		case len(digits) > 0 && gap < 3 && (unicode.IsSpace(r) || unicode.Is(unicode.Zs, r) || strings.ContainsRune("-./_\\‐‑‒–—−－．／・", r)):
			gap++
		default:
			if n, ok := flush(); ok {
				return n, true
			}
			gap = 0
		}
	}
	return flush()
}

func TestMaskNHSNumbersEveryForm(t *testing.T) {
	n := validNHS(12345678)
	for _, form := range nhsForms(n) {
		for _, ctx := range []string{"%s", "Patient %s not found", "nhs-number|%s", "x%sy", "12 %s 34"} {
			in := strings.Replace(ctx, "%s", form, 1)
			out := shcrkit.Redact(in)
			_, leaked := survivingNHSNumber(out)
			assert.False(t, leaked, "%q became %q", in, out)
			assert.NotContains(t, out, form)
		}
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("Patient ", " not found", uint8(0), uint32(1))
	f.Add("subject:identifier=x|", "&_count=1", uint8(3), uint32(77))
	f.Add("9", "1", uint8(10), uint32(4242))
	f.Add("\u00a0", "\t", uint8(6), uint32(99999999))
	f.Fuzz(func(t *testing.T, prefix, suffix string, form uint8, seed uint32) {
		forms := nhsForms(validNHS(seed % 100000000))
		nhs := forms[int(form)%len(forms)]
		secret := "Sx9-secret-" + validNHS(seed)[4:]
		in := prefix + nhs + " " + testBearer + " " + testJWT + " https://h.example/p?q=" + secret + "&x=1 " + suffix
		out := shcrkit.Redact(in)
		if n, ok := survivingNHSNumber(out); ok {
			t.Fatalf("NHS number %s survived: %q -> %q", n, in, out)
		}
		require.NotContains(t, out, testJWT[10:40])
		require.NotContains(t, out, strings.TrimPrefix(testBearer, "Bearer "))
		require.NotContains(t, out, secret)
		require.True(t, utf8.ValidString(out))
		require.NotContains(t, out, "\n")
		// Redacting twice changes nothing more.
		again := shcrkit.Redact(out)
		if _, ok := survivingNHSNumber(again); ok {
			t.Fatalf("second pass let a number through: %q", again)
		}
	})
}

func TestRedactCutsLongInput(t *testing.T) {
	long := strings.Repeat("x", maxRedactInput) + " 9434765919 " + testBearer
	out := shcrkit.Redact(long)
	assert.LessOrEqual(t, len(out), maxRedactInput+len("…"))
	assert.True(t, strings.HasSuffix(out, "…"))
	assert.NotContains(t, out, "9434765919")
}

// redactEveryStep is Redact as it reads without the scans that skip
// patterns: every replacement, on every text.
func redactEveryStep(s string) string {
	if s == "" {
		return s
	}
	if len(s) > maxRedactInput {
		cut := maxRedactInput
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	s = strings.Map(shcrkit.NeutraliseControl, s)
	s = shcrkit.BearerTokenPattern.ReplaceAllString(s, "$1 [redacted]")
	s = shcrkit.RedactBasic(s)
	s = shcrkit.JWTShapePattern.ReplaceAllString(s, "[redacted]")
	s = shcrkit.SecretFieldPattern.ReplaceAllString(s, "${1}[redacted]")
	s = shcrkit.RedactAPIKeys(s)
	s = shcrkit.QueryStringPattern.ReplaceAllString(s, "?…")
	return shcrkit.MaskNHSNumbers(s)
}

// TestRedactSkipsOnlyWhatCannotMatch checks that skipping the patterns a
// text cannot hold changes no answer.
func TestRedactSkipsOnlyWhatCannotMatch(t *testing.T) {
	ins := []string{
		"734163000", "RX1", "Y05868", "6f1c1a52-0a4b-4c3e-9d52-1a2b3c4d5e6f", "127.0.0.1", "region-1.example",
		"9434765919", "943 476 5919", "943-476-5919", "９４３４７６５９１９", "BEARER abc", "bEaReR%20abc", "Bearer+x",
		"api\u212aey=x", "pa\u017fsword=x", "client_secret:abc", "x?a=b", "?", "eyJabcd.efg", "a\x00b",
		"AAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBB.CCCCCCCCCCCCCCCCCC", "12345678901", "1-2-3-4-5-6-7-8-9-0", "943 - 476 - 5919", "943\t476\\5919", "94a3476591977",
		"6f1c1a52-0a4b-4c3e-9d52-123456789012", "943_476/5919", "9434765919a",
		"Basic dXNlcjpwYXNzd29yZA==", "BASIC%20dXNlcjpw", "ba\u017fic dXNlcjpw", "943%20476%205919", "943+476+5919", "a\u2028b",
		strings.Repeat("7", maxRedactInput+5), testJWT, testBearer,
	}
	for _, a := range ins {
		for _, b := range []string{"", " ", "=", ".", "é", "\n", "1"} {
			in := a + b + a
			assert.Equal(t, redactEveryStep(in), shcrkit.Redact(in), "%q", in)
		}
	}
}
