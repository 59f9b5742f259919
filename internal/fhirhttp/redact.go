package fhirhttp

import (
	"net/url"

	"github.com/shcrkit/shcrkit"
)

// RedactURL renders u for a log line or an error: scheme, host and path
// with NHS numbers masked, and any query replaced by "?…" since query
// strings carry patient identifiers and demographics.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	s := u.Scheme + "://" + u.Host + shcrkit.MaskNHSNumbers(u.EscapedPath())
	if u.RawQuery != "" {
		s += "?…"
	}
	return s
}
