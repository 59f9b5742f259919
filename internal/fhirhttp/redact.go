package fhirhttp

import (
	"net/url"
	"strings"

	"github.com/shcrkit/shcrkit"
)

// RedactURL renders u for a log line or an error: scheme, host and path
// through shcrkit.Redact (NHS numbers masked, the host included, and
// tokens removed), and any query replaced by "?…" since query strings
// carry patient identifiers and demographics. The path is shown
// decoded, so that neither an escaped separator nor an escaped digit can
// hide an NHS number, and a URL carried in the path (as the Spine Secure
// Proxy takes its target) loses its query too.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	p := u.Path
	if p == "" && u.Opaque != "" {
		p = u.Opaque
	}
	query := u.RawQuery != "" || u.ForceQuery
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p, query = p[:i], true
	}
	s := u.Scheme + "://" + escapeUnprintable(shcrkit.Redact(u.Host+p))
	if query {
		s += "?…"
	}
	return s
}

// escapeUnprintable percent-encodes spaces, control characters and
// non-ASCII bytes, so that a decoded path stays one readable token.
func escapeUnprintable(s string) string {
	const hex = "0123456789ABCDEF"
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		clean = s[i] > ' ' && s[i] < 0x7f
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}
