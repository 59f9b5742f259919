package shcr

import (
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Defaults of a Remote.
const (
	// DefaultMaxDocumentBytes caps a streamed attachment (PDF, HTML...).
	DefaultMaxDocumentBytes = 64 << 20
	// DefaultMaxPages bounds the pages of a Bundle followed through next
	// links.
	DefaultMaxPages = 20
)

// DefaultContentTypes are the media types a Remote retrieves unless
// WithContentTypes says otherwise.
var DefaultContentTypes = []string{
	fhirhttp.MediaFHIRJSON, fhirhttp.MediaJSON,
	"application/pdf", "text/html", "text/plain", "application/xml", "text/xml",
	"image/jpeg", "image/png", "image/tiff",
}

// Option configures a Remote. An option checks its input and returns an
// error matching ErrInvalidOption.
type Option func(*options) error

type options struct {
	base             fhirhttp.Config
	maxDocumentBytes int64
	maxPages         int
	issuer           string
	now              func() time.Time
	contentTypes     map[string]bool
	parallelism      int
}

// WithHTTPClient sets the HTTP client that remote requests go through. Its
// redirect policy is replaced by one that never follows a redirect to
// another host, and endpoints with a client certificate get a clone of its
// transport (which must then be an *http.Transport).
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error { return o.base.SetHTTPClient(hc) }
}

// WithLogger sets the logger for debug lines about requests; the default
// discards. No line carries an NHS number or a token.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { return o.base.SetLogger(l) }
}

// WithMaxAttempts bounds the attempts of one request, 1 to 10.
func WithMaxAttempts(n int) Option {
	return func(o *options) error { return o.base.SetMaxAttempts(n) }
}

// WithMaxResponseBytes caps a FHIR JSON answer, all of its Bundle pages
// together (default 16 MiB).
func WithMaxResponseBytes(n int64) Option {
	return func(o *options) error { return o.base.SetMaxResponseBytes(n) }
}

// WithUserAgent puts the caller's product token before shcrkit's own in
// the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(o *options) error { return o.base.SetUserAgent(ua) }
}

// WithMaxDocumentBytes caps a streamed attachment (default 64 MiB): the
// stream fails with shcrkit.ErrResponseTooLarge past it.
func WithMaxDocumentBytes(n int64) Option {
	return func(o *options) error {
		if n < 1024 {
			return fmt.Errorf("%w: max document bytes %d is below 1024", ErrInvalidOption, n)
		}
		o.maxDocumentBytes = n
		return nil
	}
}

// WithMaxPages bounds the Bundle pages followed through next links, 1 to
// 1000 (default 20). A Bundle with more fails with ErrTooManyPages.
func WithMaxPages(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 1000 {
			return fmt.Errorf("%w: max pages %d is outside 1..1000", ErrInvalidOption, n)
		}
		o.maxPages = n
		return nil
	}
}

// WithIssuer sets the iss claim of identity tokens: the consuming
// system's identifier (its Spine endpoint URL, say). The default is the
// requester's System.Name.
func WithIssuer(iss string) Option {
	return func(o *options) error {
		if strings.TrimSpace(iss) == "" {
			return fmt.Errorf("%w: empty issuer", ErrInvalidOption)
		}
		o.issuer = iss
		return nil
	}
}

// WithClock sets the clock that stamps identity tokens; nil is refused.
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return fmt.Errorf("%w: nil clock", ErrInvalidOption)
		}
		o.now = now
		return nil
	}
}

// WithContentTypes replaces the media types that may be retrieved.
// A pointer declaring another type is refused before any request.
func WithContentTypes(types ...string) Option {
	return func(o *options) error {
		if len(types) == 0 {
			return fmt.Errorf("%w: no content types", ErrInvalidOption)
		}
		m := make(map[string]bool, len(types))
		for _, t := range types {
			mt, _, err := mime.ParseMediaType(t)
			if err != nil {
				return fmt.Errorf("%w: content type %q", ErrInvalidOption, t)
			}
			m[mt] = true
		}
		o.contentTypes = m
		return nil
	}
}

// WithParallelism sets the default bound on requests in flight to each
// endpoint, 1 to 256 (default DefaultParallelism); an endpoint's own
// Parallelism takes precedence.
func WithParallelism(n int) Option {
	return func(o *options) error {
		if n < 1 || n > maxParallelism {
			return fmt.Errorf("%w: parallelism %d is outside 1..%d", ErrInvalidOption, n, maxParallelism)
		}
		o.parallelism = n
		return nil
	}
}

// WithTransportWrapper puts the caller's RoundTripper (OpenTelemetry's
// otelhttp, say) around the transport built for each endpoint, after its
// client certificate and roots are set: mutual TLS and the caller's
// instrumentation compose.
func WithTransportWrapper(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(o *options) error { return o.base.SetWrapTransport(wrap) }
}

// WithTracerProvider gives every request to a remote ShCR a client span
// from tp (the global provider by default), with W3C trace context sent
// to the provider.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) error { return o.base.SetTracerProvider(tp) }
}

// WithMeterProvider records request durations and retries to remote ShCRs
// with mp (the global provider by default).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) error { return o.base.SetMeterProvider(mp) }
}
