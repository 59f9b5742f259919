package nrls

import (
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/oauth2"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// Option configures a Client. Options check their input and make NewClient
// fail on a bad value with an error matching shcrkit.ErrInvalidOption.
type Option func(*options) error

type options struct {
	cfg       fhirhttp.Config
	searchGET bool
}

// WithTokenSource sets the source of bearer tokens (an NHS API platform
// token source from package auth). Without it the client sends no
// Authorization header, as the open sandbox expects. A source that is also
// a shcrkit.SessionTokenSource (such as auth.SessionTokens) supplies each
// call's token for the session in the call's context.
func WithTokenSource(ts oauth2.TokenSource) Option {
	return func(o *options) error { return o.cfg.SetTokenSource(ts) }
}

// WithHTTPClient sets the HTTP client; the default is a pooled client with
// a 60 second timeout.
// The client is used through a copy with the SDK's redirect policy: a
// redirect to another origin (scheme, host or port) than the request's
// fails with a *shcrkit.RedirectError, and neither the body nor the
// Authorization header is sent there. hc itself is not changed.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error { return o.cfg.SetHTTPClient(hc) }
}

// WithEndUserOrganisation sets the application's default organisation on
// whose behalf requests are made, sent as NHSD-End-User-Organisation-ODS.
// The service requires the header on every request: each call takes it
// from the session in its context (shcrkit.WithSession) or, when the
// session names none, from this default; a call with neither is refused
// before any request. A session of another organisation than this default
// is refused with a *shcrkit.IdentityMismatchError. A producer may only
// write pointers whose custodian is the call's organisation.
func WithEndUserOrganisation(ods shcrkit.ODSCode) Option {
	return func(o *options) error { return o.cfg.SetOrganisation(ods) }
}

// WithLogger sets the logger, which receives one debug line per attempt
// (URLs redacted) and a warning for each search entry dropped. The default
// discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { return o.cfg.SetLogger(l) }
}

// WithMaxAttempts bounds the attempts of one request, 1 to 10 (default 3).
// Searches and reads are retried on 429, 502, 503, 504 and connection
// failures; writes are not.
func WithMaxAttempts(n int) Option {
	return func(o *options) error { return o.cfg.SetMaxAttempts(n) }
}

// WithMaxResponseBytes caps the size of a response (default 16 MiB).
func WithMaxResponseBytes(n int64) Option {
	return func(o *options) error { return o.cfg.SetMaxResponseBytes(n) }
}

// WithUserAgent names the calling product in the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(o *options) error { return o.cfg.SetUserAgent(ua) }
}

// WithRetryWait bounds the backoff between attempts and caps how long a
// Retry-After answer is honoured.
func WithRetryWait(min, max, maxRetryAfter time.Duration) Option {
	return func(o *options) error { return o.cfg.SetRetryWait(min, max, maxRetryAfter) }
}

// WithSearchGET makes searches and counts use GET /DocumentReference with
// a query string instead of POST /DocumentReference/_search, which the
// service prefers because a query string shows the NHS number to every
// proxy and log on the way.
func WithSearchGET() Option {
	return func(o *options) error { o.searchGET = true; return nil }
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
