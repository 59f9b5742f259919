package fhirhttp

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"golang.org/x/oauth2"
)

// TokenInvalidator is a token source that can drop a token the service
// refused (answered 401 to), so that it is not offered again.
// auth.TokenCache is one.
type TokenInvalidator interface {
	Invalidate(accessToken string)
}

// Defaults of a Config.
const (
	DefaultMaxAttempts      = 3
	DefaultMaxResponseBytes = 16 << 20
	DefaultRetryWaitMin     = 200 * time.Millisecond
	DefaultRetryWaitMax     = 5 * time.Second
	DefaultMaxRetryAfter    = 30 * time.Second
)

// ErrInvalidOption is matched by every error an option setter returns.
var ErrInvalidOption = shcrkit.ErrInvalidOption

// Config holds what every client shares. Its setters validate their input,
// so that each client's With… options can be thin wrappers around them.
// The zero Config is usable once BaseURL is set.
type Config struct {
	// BaseURL is the service root that request paths are joined to.
	BaseURL *url.URL
	// HTTPClient sends the requests; nil means a pooled client with sane
	// timeouts. New uses a copy of it with the redirect policy of
	// GuardHTTPClient: the caller's client is never changed.
	HTTPClient *http.Client
	// TokenSource supplies bearer tokens; nil sends no Authorization header.
	TokenSource oauth2.TokenSource
	// Logger receives one debug line per attempt; nil discards.
	Logger *slog.Logger
	// MaxAttempts bounds the attempts of one logical request (1 = no retry).
	MaxAttempts int
	// MaxResponseBytes caps the size of a response body read into memory.
	MaxResponseBytes int64
	// UserAgent is put before the SDK's own product token.
	UserAgent string
	// Header is sent with every request (e.g. NHSD-End-User-Organisation-ODS).
	Header http.Header
	// RetryWaitMin and RetryWaitMax bound the exponential backoff.
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxRetryAfter caps how long a Retry-After answer makes us wait.
	MaxRetryAfter time.Duration
	// CorrelationID is sent as X-Correlation-ID when the context carries none.
	CorrelationID string
	// TracerProvider and MeterProvider receive a span and measurements for
	// every HTTP attempt; nil means the global providers (which do nothing
	// until the application installs an OpenTelemetry SDK).
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Wrap, when set, wraps the transport of HTTPClient.
	Wrap WrapTransport
	// Identity names the headers of each call's end-user identity and the
	// client's defaults for it.
	Identity Identity
}

// SetBaseURL parses and checks the service root: absolute http or https,
// no query or fragment, no user information.
func (c *Config) SetBaseURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return fmt.Errorf("%w: base URL: %v", ErrInvalidOption, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return fmt.Errorf("%w: base URL must be an absolute http or https URL", ErrInvalidOption)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%w: base URL must not carry a query, fragment or user information", ErrInvalidOption)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	c.BaseURL = u
	return nil
}

// SetTokenSource sets the bearer token source; nil is refused, since
// leaving the option out is how a client goes without.
func (c *Config) SetTokenSource(ts oauth2.TokenSource) error {
	if ts == nil {
		return fmt.Errorf("%w: nil token source", ErrInvalidOption)
	}
	c.TokenSource = ts
	return nil
}

// SetHTTPClient sets the HTTP client.
func (c *Config) SetHTTPClient(hc *http.Client) error {
	if hc == nil {
		return fmt.Errorf("%w: nil HTTP client", ErrInvalidOption)
	}
	c.HTTPClient = hc
	return nil
}

// SetLogger sets the logger.
func (c *Config) SetLogger(l *slog.Logger) error {
	if l == nil {
		return fmt.Errorf("%w: nil logger", ErrInvalidOption)
	}
	c.Logger = l
	return nil
}

// SetMaxAttempts sets the attempts per logical request, 1 to 10.
func (c *Config) SetMaxAttempts(n int) error {
	if n < 1 || n > 10 {
		return fmt.Errorf("%w: max attempts %d is outside 1..10", ErrInvalidOption, n)
	}
	c.MaxAttempts = n
	return nil
}

// SetMaxResponseBytes sets the cap on a response body, at least 1 KiB.
func (c *Config) SetMaxResponseBytes(n int64) error {
	if n < 1024 {
		return fmt.Errorf("%w: max response bytes %d is below 1024", ErrInvalidOption, n)
	}
	c.MaxResponseBytes = n
	return nil
}

// SetUserAgent sets the caller's product token, put before shcrkit's own.
func (c *Config) SetUserAgent(ua string) error {
	ua = strings.TrimSpace(ua)
	if ua == "" || strings.ContainsAny(ua, "\r\n") {
		return fmt.Errorf("%w: user agent must be one non-empty line", ErrInvalidOption)
	}
	c.UserAgent = ua
	return nil
}

// SetHeader sets a header sent with every request.
func (c *Config) SetHeader(name, value string) error {
	if name == "" || strings.ContainsAny(name+value, "\r\n") {
		return fmt.Errorf("%w: header %q", ErrInvalidOption, name)
	}
	if c.Header == nil {
		c.Header = make(http.Header)
	}
	c.Header.Set(name, value)
	return nil
}

// SetRetryWait sets the bounds of the exponential backoff and the cap on
// Retry-After.
func (c *Config) SetRetryWait(min, max, maxRetryAfter time.Duration) error {
	if min <= 0 || max < min || maxRetryAfter < 0 {
		return fmt.Errorf("%w: retry waits must satisfy 0 < min <= max and cap >= 0", ErrInvalidOption)
	}
	c.RetryWaitMin, c.RetryWaitMax, c.MaxRetryAfter = min, max, maxRetryAfter
	return nil
}

// SetCorrelationID sets the default X-Correlation-ID.
func (c *Config) SetCorrelationID(id string) error {
	if strings.ContainsAny(id, "\r\n") || len(id) > 200 {
		return fmt.Errorf("%w: correlation ID", ErrInvalidOption)
	}
	c.CorrelationID = id
	return nil
}

// Build is a client constructor's common part: it sets cfg's identity and
// base URL, applies opts to o (a client's options, whose shared part is
// cfg), refusing a nil option, and builds the client from cfg.
func Build[O any, Opt ~func(*O) error](baseURL string, id Identity, o *O, cfg *Config, opts []Opt) (*Client, error) {
	cfg.Identity = id
	if err := cfg.SetBaseURL(baseURL); err != nil {
		return nil, err
	}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidOption)
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return New(*cfg)
}
