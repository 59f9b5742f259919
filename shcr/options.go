package shcr

import (
	"fmt"
	"golang.org/x/oauth2"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/shcr/internal/remotehttp"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Defaults of a Remote and of the journey, as the fields of RemoteConfig
// and Config document them.
const (
	defaultMaxDocumentBytes    = 64 << 20
	defaultMaxPages            = 20
	defaultParallelism         = 8
	maxParallelism             = 256
	defaultTimeout             = 10 * time.Second
	defaultRelationshipTimeout = 3 * time.Second
)

// RemoteConfig is how a Remote reaches the endpoints of its Directory.
// The zero value takes every default. A journey Client builds its Remote
// from Config.Remote, filling Logger, Now, Parallelism, TracerProvider and
// MeterProvider from the Config's own when they are not set here.
type RemoteConfig struct {
	// HTTPClient is the HTTP client that remote requests go through; nil
	// means one of the SDK's own. Its redirect policy is replaced by one
	// that never follows a redirect to another host, and endpoints with a
	// client certificate get a clone of its transport (which must then be
	// an *http.Transport).
	HTTPClient *http.Client
	// Logger receives debug lines about requests; nil discards. No line
	// carries an NHS number or a token.
	Logger *slog.Logger
	// MaxAttempts bounds the attempts of one request, 1 to 10; 0 means 3.
	MaxAttempts int
	// MaxResponseBytes caps a FHIR JSON answer, all of its Bundle pages
	// together, at least 1024; 0 means 16 MiB.
	MaxResponseBytes int64
	// UserAgent is the caller's product token, put before shcrkit's own in
	// the User-Agent header.
	UserAgent string
	// MaxDocumentBytes caps a streamed attachment, at least 1024; 0 means
	// 64 MiB. The stream fails with shcrkit.ErrResponseTooLarge past it.
	MaxDocumentBytes int64
	// MaxPages bounds the Bundle pages followed through next links, 1 to
	// 1000; 0 means 20. A Bundle with more fails with ErrTooManyPages.
	MaxPages int
	// Issuer is the iss claim of identity tokens: the consuming system's
	// identifier (its Spine endpoint URL, say). "" means the requester's
	// System.Name.
	Issuer string
	// Now is the clock that stamps identity tokens; nil means time.Now.
	Now func() time.Time
	// ContentTypes are the media types that may be retrieved; a pointer
	// declaring another type is refused before any request. Nil means FHIR
	// JSON, JSON, PDF, HTML, plain text, XML, JPEG, PNG and TIFF.
	ContentTypes []string
	// Parallelism is the default bound on requests in flight to each
	// endpoint, 1 to 256; 0 means 8. An endpoint's own Parallelism takes
	// precedence.
	Parallelism int
	// WrapTransport puts the caller's RoundTripper (OpenTelemetry's
	// otelhttp, say) around the transport built for each endpoint, after
	// its client certificate and roots are set: mutual TLS and the
	// caller's instrumentation compose.
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// TracerProvider gives every request to a remote ShCR a client span
	// (nil means the global provider), with W3C trace context sent to the
	// provider; MeterProvider records request durations and retries (nil
	// means the global provider).
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// TokenSource supplies the OAuth2 access token for every endpoint (and
	// the SSP) that has no TokenSource of its own in the Directory. The
	// same credential then goes to each of them: give each endpoint its
	// own when their providers' issuers differ.
	TokenSource oauth2.TokenSource
	// EndUserOrganisation, when set, is the one organisation this Remote
	// retrieves for: a retrieval or search for a requester of another
	// organisation is refused with a *shcrkit.IdentityMismatchError
	// before anything is sent. NHSD-End-User-Organisation-ODS carries the
	// requester's organisation, which must then be this one.
	EndUserOrganisation shcrkit.ODSCode
}

// Option sets part of a Remote's configuration for NewRemote: either a
// whole RemoteConfig, or one of the With functions, which carry the
// option names the pds and nrls clients share. Later options override
// earlier ones.
type Option interface {
	apply(*RemoteConfig)
}

// apply makes a RemoteConfig an Option that sets every field.
func (cfg RemoteConfig) apply(c *RemoteConfig) { *c = cfg }

// optionFunc is an Option that sets one field.
type optionFunc func(*RemoteConfig)

func (f optionFunc) apply(c *RemoteConfig) { f(c) }

// WithHTTPClient sets RemoteConfig.HTTPClient.
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(c *RemoteConfig) { c.HTTPClient = hc })
}

// WithLogger sets RemoteConfig.Logger.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *RemoteConfig) { c.Logger = l })
}

// WithMaxAttempts sets RemoteConfig.MaxAttempts.
func WithMaxAttempts(n int) Option {
	return optionFunc(func(c *RemoteConfig) { c.MaxAttempts = n })
}

// WithMaxResponseBytes sets RemoteConfig.MaxResponseBytes.
func WithMaxResponseBytes(n int64) Option {
	return optionFunc(func(c *RemoteConfig) { c.MaxResponseBytes = n })
}

// WithUserAgent sets RemoteConfig.UserAgent.
func WithUserAgent(ua string) Option {
	return optionFunc(func(c *RemoteConfig) { c.UserAgent = ua })
}

// WithTokenSource sets RemoteConfig.TokenSource: the access tokens of the
// endpoints that have no TokenSource of their own.
func WithTokenSource(ts oauth2.TokenSource) Option {
	return optionFunc(func(c *RemoteConfig) { c.TokenSource = ts })
}

// WithEndUserOrganisation sets RemoteConfig.EndUserOrganisation: the one
// organisation the Remote retrieves for.
func WithEndUserOrganisation(ods shcrkit.ODSCode) Option {
	return optionFunc(func(c *RemoteConfig) { c.EndUserOrganisation = ods })
}

// options is a checked RemoteConfig.
type options struct {
	base             fhirhttp.Config
	maxDocumentBytes int64
	maxPages         int
	issuer           string
	now              func() time.Time
	contentTypes     map[string]bool
	parallelism      int
	organisation     shcrkit.ODSCode    // RemoteConfig.EndUserOrganisation, checked
	tokens           oauth2.TokenSource // RemoteConfig.TokenSource
}

// options checks cfg and fills in its defaults. A problem is an error
// matching shcrkit.ErrInvalidOption.
func (cfg RemoteConfig) options() (options, error) {
	o := options{
		maxDocumentBytes: defaultMaxDocumentBytes, maxPages: defaultMaxPages, now: time.Now,
		parallelism: defaultParallelism, issuer: cfg.Issuer,
	}
	o.base.MaxResponseBytes = fhirhttp.DefaultMaxResponseBytes
	o.base.TracerProvider, o.base.MeterProvider = cfg.TracerProvider, cfg.MeterProvider
	o.base.HTTPClient, o.base.Logger, o.base.Wrap = cfg.HTTPClient, cfg.Logger, cfg.WrapTransport
	if cfg.Now != nil {
		o.now = cfg.Now
	}
	if cfg.MaxAttempts != 0 {
		if err := o.base.SetMaxAttempts(cfg.MaxAttempts); err != nil {
			return o, err
		}
	}
	if cfg.MaxResponseBytes != 0 {
		if err := o.base.SetMaxResponseBytes(cfg.MaxResponseBytes); err != nil {
			return o, err
		}
	}
	if cfg.UserAgent != "" {
		if err := o.base.SetUserAgent(cfg.UserAgent); err != nil {
			return o, err
		}
	}
	if cfg.MaxDocumentBytes != 0 {
		if cfg.MaxDocumentBytes < 1024 {
			return o, fmt.Errorf("%w: max document bytes %d is below 1024", shcrkit.ErrInvalidOption, cfg.MaxDocumentBytes)
		}
		o.maxDocumentBytes = cfg.MaxDocumentBytes
	}
	if cfg.MaxPages != 0 {
		if err := remotehttp.Within("max pages", cfg.MaxPages, 1, 1000); err != nil {
			return o, err
		}
		o.maxPages = cfg.MaxPages
	}
	if cfg.Parallelism != 0 {
		if err := remotehttp.Within("parallelism", cfg.Parallelism, 1, maxParallelism); err != nil {
			return o, err
		}
		o.parallelism = cfg.Parallelism
	}
	if cfg.EndUserOrganisation != "" {
		ods, err := shcrkit.ParseODSCode(string(cfg.EndUserOrganisation))
		if err != nil {
			return o, fmt.Errorf("%w: end-user organisation: %w", shcrkit.ErrInvalidOption, err)
		}
		o.organisation = ods
	}
	o.tokens = cfg.TokenSource
	if cfg.Issuer != "" && (strings.TrimSpace(cfg.Issuer) == "" || strings.ContainsAny(cfg.Issuer, "\r\n")) {
		return o, fmt.Errorf("%w: issuer must be one non-empty line", shcrkit.ErrInvalidOption)
	}
	var err error
	o.contentTypes, err = remotehttp.ContentTypes(cfg.ContentTypes)
	return o, err
}
