// Package auditfield works out the fields of a journey's audit events
// that come from what the journey has at hand: the outcome and error code
// of a failed call, the hosts at either end, an endpoint without its
// query, a family name.
package auditfield

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
)

// Known is an error the caller classifies itself: a failure matching Err
// is recorded with Outcome and Code.
type Known struct {
	Err     error
	Outcome audit.Outcome
	Code    string
}

// Outcome classifies a failed call for the audit trail: refused by the
// other side (or by the caller's own checks), or failed, with an error
// code to group by. The first of known that err matches decides;
// otherwise a service's answer gives its Spine error code (redacted) or
// HTTP status, refused on 401 and 403, and the SDK's own errors their
// kind.
func Outcome(err error, known []Known) (audit.Outcome, string) {
	for _, k := range known {
		if errors.Is(err, k.Err) {
			return k.Outcome, k.Code
		}
	}
	var api *shcrkit.APIError
	switch {
	case errors.As(err, &api):
		outcome := audit.OutcomeFailed
		if api.StatusCode == 401 || api.StatusCode == 403 {
			outcome = audit.OutcomeRefused
		}
		if api.Code != "" {
			return outcome, shcrkit.Redact(api.Code)
		}
		return outcome, strconv.Itoa(api.StatusCode)
	case errors.Is(err, context.DeadlineExceeded):
		return audit.OutcomeFailed, "TIMEOUT"
	case errors.Is(err, context.Canceled):
		return audit.OutcomeFailed, "CANCELLED"
	case errors.Is(err, shcrkit.ErrResponseTooLarge):
		return audit.OutcomeFailed, "TOO_LARGE"
	case errors.Is(err, shcrkit.ErrMalformedResponse):
		return audit.OutcomeFailed, "MALFORMED_RESPONSE"
	case errors.Is(err, shcrkit.ErrUnavailable):
		return audit.OutcomeFailed, "UNAVAILABLE"
	}
	return audit.OutcomeFailed, "ERROR"
}

// Host is the host name or IP address of a URL, for Event.ServerAddress;
// "" when it does not parse.
func Host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// LocalHost is this host's name, when the operating system tells it, for
// Event.ClientAddress.
func LocalHost() string {
	h, err := os.Hostname()
	if err != nil || strings.ContainsAny(h, "/?#@ ") {
		return ""
	}
	return h
}

// Endpoint is a URL without query or fragment, for Event.Endpoint.
func Endpoint(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return c.String()
}

// LastWord is the last word of a name, for the family name fields of an
// event: "Dr Asha Patel" gives "Patel".
func LastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// PDSQuery renders a PDS search for the audit trail, with contact details
// masked: the trail keeps identifiers, not more personal data than it
// needs.
func PDSQuery(v url.Values) string {
	c := url.Values{}
	for k, vs := range v {
		switch k {
		case "phone", "email":
			c[k] = []string{"***"}
		default:
			c[k] = vs
		}
	}
	return c.Encode()
}
