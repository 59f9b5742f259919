package pds

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/oauth2"
)

// AccessMode is how the calling application is authorised, which decides
// what the service lets it do. The zero value, AccessApplicationRestricted,
// is the mode that can do least.
type AccessMode int

const (
	// AccessApplicationRestricted is for back-end processes with no end
	// user: get a patient, get their related people, and search for a
	// single unique match. Updates are refused.
	AccessApplicationRestricted AccessMode = iota
	// AccessHealthcareWorker is for a strongly authenticated healthcare
	// worker (NHS CIS2): searches may return up to 50 matches, and
	// patients may be updated.
	AccessHealthcareWorker
)

// String names the mode.
func (m AccessMode) String() string {
	switch m {
	case AccessApplicationRestricted:
		return "application-restricted"
	case AccessHealthcareWorker:
		return "healthcare worker"
	}
	return fmt.Sprintf("AccessMode(%d)", int(m))
}

// Option configures a Client. Options check their input: NewClient fails
// with an error matching shcrkit.ErrInvalidOption on a bad one.
type Option func(*options) error

type options struct {
	cfg  fhirhttp.Config
	mode AccessMode
}

// WithTokenSource sets where bearer tokens come from (see package auth).
// Without it no Authorization header is sent, as the public sandbox
// expects. A source that is also a shcrkit.SessionTokenSource (such as
// auth.SessionTokens, for user-restricted access on behalf of many users)
// supplies each call's token for the session in the call's context, and a
// call without a session is refused with shcrkit.ErrNoSession.
func WithTokenSource(ts oauth2.TokenSource) Option {
	return func(o *options) error { return o.cfg.SetTokenSource(ts) }
}

// WithHTTPClient sets the HTTP client that sends the requests.
// The client is used through a copy with the SDK's redirect policy: a
// redirect to another origin (scheme, host or port) than the request's
// fails with a *shcrkit.RedirectError, and neither the body nor the
// Authorization header is sent there. hc itself is not changed.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error { return o.cfg.SetHTTPClient(hc) }
}

// WithEndUserOrganisation sets the application's default end-user
// organisation, sent in the NHSD-End-User-Organisation-ODS header, which
// the service requires of applications that serve more than one
// organisation. An application serving several organisations leaves it
// out and gives each call its user's session (shcrkit.WithSession): a
// session's organisation is sent instead, and a session of another
// organisation than this default is refused with a
// *shcrkit.IdentityMismatchError before anything is sent.
func WithEndUserOrganisation(ods shcrkit.ODSCode) Option {
	return func(o *options) error { return o.cfg.SetOrganisation(ods) }
}

// WithSessionURID sets the default user role ID of the healthcare
// worker's session, sent in the NHSD-Session-URID header. It must be
// digits only. A call's session (shcrkit.WithSession) carries its own
// RoleProfileID instead; one that differs from this default is refused
// with a *shcrkit.IdentityMismatchError.
func WithSessionURID(urid string) Option {
	return func(o *options) error { return o.cfg.SetURID(urid) }
}

// WithAccessMode says how the application is authorised. The client
// refuses, before sending anything, what the mode cannot do. The default
// is AccessApplicationRestricted.
func WithAccessMode(m AccessMode) Option {
	return func(o *options) error {
		if m != AccessApplicationRestricted && m != AccessHealthcareWorker {
			return fmt.Errorf("%w: unknown access mode %d", shcrkit.ErrInvalidOption, int(m))
		}
		o.mode = m
		return nil
	}
}

// WithLogger sets the logger for one debug line per attempt; identifiers
// are masked. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { return o.cfg.SetLogger(l) }
}

// WithMaxAttempts bounds the attempts of one request, 1 (no retry) to 10.
// The default is 3.
func WithMaxAttempts(n int) Option {
	return func(o *options) error { return o.cfg.SetMaxAttempts(n) }
}

// WithMaxResponseBytes caps the size of a response body, at least 1 KiB.
// The default is 16 MiB.
func WithMaxResponseBytes(n int64) Option {
	return func(o *options) error { return o.cfg.SetMaxResponseBytes(n) }
}

// WithUserAgent puts the calling product's token before shcrkit's own in
// the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(o *options) error { return o.cfg.SetUserAgent(ua) }
}

// WithRetryWait bounds the exponential backoff between attempts and caps
// how long a Retry-After answer may make the client wait.
func WithRetryWait(min, max, maxRetryAfter time.Duration) Option {
	return func(o *options) error { return o.cfg.SetRetryWait(min, max, maxRetryAfter) }
}

// WithTelemetry sends the client's OpenTelemetry data to tp and mp: a
// client span for every HTTP attempt, with W3C trace context sent to the
// service, and measurements of attempt durations and retries. A nil
// provider leaves the global one (which does nothing until the
// application installs an OpenTelemetry SDK).
//
// Mutual TLS and the caller's own instrumentation of the transport
// (otelhttp, say) go in the *http.Client given to WithHTTPClient: its
// transport is traced and measured like the default one.
func WithTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) Option {
	return func(o *options) error { return o.cfg.SetTelemetry(tp, mp) }
}
