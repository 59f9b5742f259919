package shcrkit

import (
	"encoding/base64"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redaction. Everything that came from outside the SDK (a service's
// diagnostics, an OAuth error_description, a plain-text or HTML body, an
// echoed header or resource type, a URL) passes through Redact (after a client removes its own secrets)
// before it enters an error text, a log line or an audit field.

// maxRedactInput is the longest text Redact reads; the rest is cut off.
const maxRedactInput = 8 << 10

// maxSeparators is how many separator characters may stand between two
// digits of one NHS number ("943 - 476 - 5919" has three).
const maxSeparators = 3

// MaskNHSNumbers returns s with every NHS number replaced by its masked
// form, "943****919". It looks at runs of digits (ASCII, full-width or any
// other Unicode decimal digits) in groups joined by up to three separators
// each: spaces, tabs, no-break and other Unicode spaces, hyphens and
// dashes, dots, slashes, underscores and plus signs, invisible format
// characters (zero-width space, soft hyphen), and these as a URL
// percent-encodes them ("%20"). Within a run it masks any ten digits in a
// row that pass the modulus-11 check, however they are grouped, unless
// they take in a date (so "2025-01-01 09:00" stays), and any ten that
// stand alone or grouped 3-3-4 even when the check fails (a mistyped
// number is still a patient's). So "9434765919",
// "943 476 5919", "943-476-5919", "943.476.5919", "943/476/5919",
// "943\t476\t5919", "943\u00a0476\u00a05919", "9434 765 919" and
// "９４３４７６５９１９" are all masked, an NHS number glued to other digits
// is masked with them, and a 12-digit ASID or a date is left alone.
func MaskNHSNumbers(s string) string {
	if isASCII(s) && !mayHoldNHSNumber(s) {
		return s
	}
	var out []byte
	last := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsDigit(r) {
			i += size
			continue
		}
		run := readRun(s, i)
		mask := run.mask()
		if mask == nil {
			i = run.end
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(s))
		}
		out = append(out, s[last:i]...)
		out = run.appendMasked(out, s, mask)
		last, i = run.end, run.end
	}
	if out == nil {
		return s
	}
	return string(append(out, s[last:]...))
}

// digitRun is a run of digit groups joined by separators.
type digitRun struct {
	end    int    // byte offset just after the last digit
	digits []byte // the digits as ASCII
	pos    []int  // byte offset of each digit
	size   []int  // byte length of each digit
	groups []int  // the number of digits in each group
	// buf backs the slices of a run as long as an NHS number written
	// out, so that reading one allocates once.
	buf struct {
		digits    [16]byte
		pos, size [16]int
		groups    [4]int
	}
}

// readRun reads the run that starts with the digit at i.
func readRun(s string, i int) *digitRun {
	d := &digitRun{end: i}
	d.digits, d.pos, d.size, d.groups = d.buf.digits[:0], d.buf.pos[:0], d.buf.size[:0], d.buf.groups[:0]
	inGroup := 0
	for j := i; j < len(s); {
		r, size := utf8.DecodeRuneInString(s[j:])
		if unicode.IsDigit(r) {
			d.digits = append(d.digits, byte(asciiDigit(r)))
			d.pos = append(d.pos, j)
			d.size = append(d.size, size)
			inGroup++
			j += size
			d.end = j
			continue
		}
		// Separators count only when a digit follows them soon enough.
		k, n := j, 0
		for k < len(s) && n < maxSeparators {
			size2 := separatorLen(s, k)
			if size2 == 0 {
				break
			}
			k += size2
			n++
		}
		if n == 0 || k >= len(s) {
			break
		}
		if r2, _ := utf8.DecodeRuneInString(s[k:]); !unicode.IsDigit(r2) {
			break
		}
		d.groups = append(d.groups, inGroup)
		inGroup = 0
		j = k
	}
	d.groups = append(d.groups, inGroup)
	return d
}

// mask marks the digits to mask, or returns nil when there are none.
func (d *digitRun) mask() []bool {
	if len(d.digits) < 10 {
		return nil
	}
	var m []bool
	set := func(a int) {
		if m == nil {
			m = make([]bool, len(d.digits))
		}
		for k := a; k < a+10; k++ {
			m[k] = true
		}
	}
	// A date followed by a clock time ("2025-01-01 09:00") is ten digits
	// in groups too, and one in eleven passes the check: ten digits that
	// take in a date are not taken for a number unless grouped as one.
	dateEnd := d.dateDigits()
	for a := 0; a+10 <= len(d.digits); a++ {
		if dateEnd != nil && a < dateEnd[a+9] {
			continue
		}
		if checkDigitOK(d.digits[a : a+10]) {
			set(a)
		}
	}
	// Ten digits alone, or grouped 3-3-4, whatever their check digit.
	at := 0
	for g, n := range d.groups {
		if n == 10 {
			set(at)
		}
		if n == 3 && g+2 < len(d.groups) && d.groups[g+1] == 3 && d.groups[g+2] == 4 {
			set(at)
		}
		at += n
	}
	return m
}

// dateDigits returns, for each digit k, the furthest end (one past the
// last digit) of a date among the digits up to k, or 0; nil when the run
// has too few groups to hold a date. A date is three
// groups in a row, year-month-day (4-2-2) or day-month-year (2-2-4), with
// a year from 1900 to 2099, a month from 1 to 12 and a day from 1 to 31.
// NHS numbers do not start with 19 or 20, and a number written 2-2-4...
// is not how any is printed.
func (d *digitRun) dateDigits() []int {
	if len(d.groups) < 3 {
		return nil
	}
	ends := make([]int, len(d.digits))
	num := func(a, n int) int {
		v := 0
		for _, c := range d.digits[a : a+n] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	at, last := 0, 0
	for g := range d.groups {
		if g+2 < len(d.groups) {
			a, b, c := d.groups[g], d.groups[g+1], d.groups[g+2]
			var y, m, dd int
			switch {
			case a == 4 && b == 2 && c == 2:
				y, m, dd = num(at, 4), num(at+4, 2), num(at+6, 2)
			case a == 2 && b == 2 && c == 4:
				dd, m, y = num(at, 2), num(at+2, 2), num(at+4, 4)
			}
			if y >= 1900 && y <= 2099 && m >= 1 && m <= 12 && dd >= 1 && dd <= 31 {
				for k := at; k < at+8; k++ {
					ends[k] = at + 8
				}
			}
		}
		at += d.groups[g]
	}
	// Carry each date's end forward, so that ends[k] > a says whether the
	// digits a..k hold any of a date.
	for k := range ends {
		last = max(last, ends[k])
		ends[k] = last
	}
	return ends
}

// appendMasked appends the run to out with each stretch of masked digits
// (and the separators inside it) written as its first three digits, four
// stars and its last three digits.
func (d *digitRun) appendMasked(out []byte, s string, m []bool) []byte {
	from := d.pos[0]
	for k := 0; k < len(d.digits); {
		if !m[k] {
			k++
			continue
		}
		e := k
		for e < len(d.digits) && m[e] {
			e++
		}
		out = append(out, s[from:d.pos[k]]...)
		out = append(out, d.digits[k:k+3]...)
		out = append(out, "****"...)
		out = append(out, d.digits[e-3:e]...)
		from = d.pos[e-1] + d.size[e-1]
		k = e
	}
	return append(out, s[from:d.end]...)
}

// asciiDigit maps any Unicode decimal digit to '0'..'9'.
func asciiDigit(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	if r >= '０' && r <= '９' {
		return '0' + (r - '０')
	}
	// Every stretch of decimal digits in Unicode is one or more whole
	// 0..9 sets (Arabic-Indic U+0660, Devanagari U+0966, ...; the
	// mathematical digits U+1D7CE..U+1D7FF are five sets in a row), so a
	// digit's value is its distance from the stretch's start, modulo 10.
	z := r
	for z > 0 && unicode.IsDigit(z-1) {
		z--
	}
	return '0' + (r-z)%10
}

// separatorLen returns the length in bytes of the separator at s[k], or 0
// when there is none: a character isSeparator accepts, or a separator
// percent-encoded as a URL or a form writes it ("%20", "%2D", "%C2%A0").
func separatorLen(s string, k int) int {
	if s[k] == '%' {
		for _, esc := range percentSeparators {
			if len(s)-k >= len(esc) && strings.EqualFold(s[k:k+len(esc)], esc) {
				return len(esc)
			}
		}
		return 0
	}
	r, size := utf8.DecodeRuneInString(s[k:])
	if !isSeparator(r) {
		return 0
	}
	return size
}

// percentSeparators are the separators of isSeparator as URLs encode them
// (space, plus, hyphen, dot, slash, backslash, underscore, no-break and
// narrow no-break space).
var percentSeparators = [...]string{"%20", "%2B", "%2D", "%2E", "%2F", "%5C", "%5F", "%C2%A0", "%E2%80%AF"}

// isSeparator reports whether r may stand between the digits of a
// written NHS number.
func isSeparator(r rune) bool {
	switch r {
	case '-', '.', '/', '_', '\\', '+', '‐', '‑', '‒', '–', '—', '−', '－', '．', '／', '・':
		return true
	}
	// Format characters (zero-width space, soft hyphen, word joiner,
	// bidi marks) are invisible: digits they split read as one number.
	return unicode.IsSpace(r) || unicode.Is(unicode.Zs, r) || unicode.Is(unicode.Cf, r)
}

var (
	// bearerToken is an Authorization credential written out.
	bearerToken = regexp.MustCompile(`(?i)(bearer)(?:\s+|%20|\+)[A-Za-z0-9._~+/=%-]+`)
	// basicCredentials is a Basic Authorization credential written out:
	// base64 of "user:password". See redactBasicCredentials.
	basicCredentials = regexp.MustCompile(`(?i)\b(basic)(?:\s+|%20|\+)([A-Za-z0-9+/]{4,}={0,2})`)
	// jwtShape is a compact JWS or JWE: a base64url JSON header (which
	// starts "eyJ", "eyAi", "ewo", "ew0" or "ewk") and at least one more
	// dot-separated segment, or three long base64url segments whatever the
	// header.
	jwtShape = regexp.MustCompile(`(?:eyJ|eyAi|ew[o0k])[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)*|[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}`)
	// secretField is a credential named in a form, a query or JSON: the
	// name not inside a longer word ("statusCode", "postcode"), though it
	// may end one after a '_' or '-' ("db_password"); the value a JSON
	// string, escapes and all, or everything up to a delimiter.
	secretField = regexp.MustCompile(`(?i)((?:^|[^A-Za-z])"?(?:access_token|refresh_token|id_token|subject_token|client_assertion|client_secret|password|apikey|api_key|code)"?\s*[=:]\s*)("(?:[^"\\]|\\.)*"|"?[^\s&,;"]+)`)
	// apiKeyPhrase is an API key named in words ("api key", "API-Key:",
	// "x-api-key") and written after its name, as a gateway or a hostile
	// service may echo the one it was sent. See redactAPIKeys.
	apiKeyPhrase = regexp.MustCompile(`(?i)(api[ _-]?key)(\s*[=:]?\s*)([A-Za-z0-9._~+/=-]{8,})`)
	// queryString is the query part of a URL or a form-encoded body:
	// from a '?' to the next space or quote, when it holds a '='.
	queryString = regexp.MustCompile(`\?[^\s"'<>?]*=[^\s"'<>]*`)
)

// Redact returns s fit for an error text, a log line or an audit field:
// NHS numbers masked (in any of the forms MaskNHSNumbers knows), bearer
// and basic credentials, anything shaped like a JWT and credentials named
// in a form or JSON replaced by "[redacted]", query strings replaced by
// "?…", and control characters (line breaks included, U+2028 and U+2029
// too) and bidirectional controls turned into spaces so that a hostile
// value cannot forge a log line. Text longer than
// 8 KiB is cut to that length first (and marked "…"), so that a
// hostile answer cannot make redaction expensive; error texts and log
// lines are shorter than that.
func Redact(s string) string {
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
	s = strings.Map(neutraliseControl, s)
	// Each pattern is looked for only in text that has what it needs
	// (in ASCII text: "bearer", a dot, '=' or ':', '?', ten digits), so
	// that the short identifiers and codes of attribute values cost a
	// scan, not four regular expressions. Non-ASCII text takes every
	// step: case folding and Unicode digits reach beyond the scans.
	ascii := isASCII(s)
	if !ascii || containsFoldASCII(s, "bearer") {
		s = bearerToken.ReplaceAllString(s, "$1 [redacted]")
	}
	if !ascii || containsFoldASCII(s, "basic") {
		s = redactBasicCredentials(s)
	}
	if !ascii || strings.IndexByte(s, '.') >= 0 {
		s = jwtShape.ReplaceAllString(s, "[redacted]")
	}
	if !ascii || strings.ContainsAny(s, "=:") {
		s = secretField.ReplaceAllString(s, "${1}[redacted]")
	}
	if !ascii || containsFoldASCII(s, "key") {
		s = redactAPIKeys(s)
	}
	if strings.IndexByte(s, '?') >= 0 {
		s = queryString.ReplaceAllString(s, "?…")
	}
	return MaskNHSNumbers(s)
}

// neutraliseControl turns a character that could break or disguise a log
// line into a space: control characters but the tab, the Unicode line
// and paragraph separators (which some viewers break lines at) and the
// bidirectional controls (which make a line read other than it is
// stored), and an invalid byte.
func neutraliseControl(r rune) rune {
	if r == utf8.RuneError || (unicode.IsControl(r) && r != '\t') ||
		unicode.In(r, unicode.Zl, unicode.Zp, unicode.Bidi_Control) {
		return ' '
	}
	return r
}

// redactBasicCredentials replaces the credential after "Basic" when it is
// one: base64 of printable text with a colon ("user:password"). A word
// ("Basic authentication required") is kept.
func redactBasicCredentials(s string) string {
	return basicCredentials.ReplaceAllStringFunc(s, func(m string) string {
		sub := basicCredentials.FindStringSubmatch(m)
		b, err := base64.StdEncoding.DecodeString(sub[2])
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(sub[2], "="))
		}
		if err != nil || !isUserPassword(b) {
			return m
		}
		return sub[1] + " [redacted]"
	})
}

// isUserPassword reports whether b is printable ASCII holding a colon.
func isUserPassword(b []byte) bool {
	colon := false
	for _, c := range b {
		if c < ' ' || c > '~' {
			return false
		}
		colon = colon || c == ':'
	}
	return colon
}

// redactAPIKeys replaces the value after an API key's name when it looks
// like a key: eight or more key characters, a digit among them. A word
// ("API key missing", "API key expired") is kept, so that a gateway's
// refusal still reads.
func redactAPIKeys(s string) string {
	return apiKeyPhrase.ReplaceAllStringFunc(s, func(m string) string {
		sub := apiKeyPhrase.FindStringSubmatch(m)
		if !strings.ContainsAny(sub[3], "0123456789") {
			return m
		}
		return sub[1] + sub[2] + "[redacted]"
	})
}

// mayHoldNHSNumber reports whether ASCII text has ten digits in a run
// that only separators interrupt, which an NHS number needs; it counts
// more generously than MaskNHSNumbers (any number of separators), so it
// never says no where that would mask. A letter, as in a UUID, ends a
// run.
func mayHoldNHSNumber(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			if n++; n >= 10 {
				return true
			}
		case c == '%':
			if k := separatorLen(s, i); k > 0 {
				i += k - 1
			} else {
				n = 0
			}
		case !isSeparator(rune(c)):
			n = 0
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// containsFoldASCII reports whether s holds lower, an ASCII lower-case
// word, in any case.
func containsFoldASCII(s, lower string) bool {
	for i := 0; i+len(lower) <= len(s); i++ {
		j := 0
		for j < len(lower) && s[i+j]|0x20 == lower[j] {
			j++
		}
		if j == len(lower) {
			return true
		}
	}
	return false
}
