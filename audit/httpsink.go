package audit

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/nilctx"
	"github.com/shcrkit/shcrkit/internal/version"
)

// httpSink is the Sink NewHTTPSink returns.
type httpSink struct {
	client *fhirhttp.Client
	now    func() time.Time
}

// HTTPConfig sets how the sink of NewHTTPSink delivers events. The zero
// value is a working configuration: every zero field keeps the default
// given on it.
type HTTPConfig struct {
	// Client is the HTTP client (default: one with a 30s timeout).
	// Authentication to the FHIR server belongs in its Transport (an
	// oauth2.Transport, say). The client is used through a copy with the
	// SDK's redirect policy: a redirect to another origin (scheme, host or
	// port) than the request's fails with a *shcrkit.RedirectError, and
	// neither the body nor the Authorization header is sent there. The
	// client itself is not changed.
	Client *http.Client
	// MaxAttempts is how many times the sink tries to deliver one event
	// (default 4, at most 20).
	MaxAttempts int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff between
	// attempts (default 200ms to 5s, at most 5m). A Retry-After header is
	// honoured up to RetryWaitMax.
	RetryWaitMin, RetryWaitMax time.Duration
	// UserAgent is the User-Agent header (default "shcrkit-audit/" and
	// the SDK's version).
	UserAgent string
	// MaxResponseBytes caps how much of a FHIR server's answer the sink
	// reads (default 1 MiB, at least 1024).
	MaxResponseBytes int64
	// Logger receives warnings (a retry, say); the default discards. Log
	// lines carry no NHS number.
	Logger *slog.Logger
}

// fhirConfig checks cfg and returns the fhirhttp configuration it
// describes, defaults filled in.
func (cfg HTTPConfig) fhirConfig(baseURL string) (fhirhttp.Config, error) {
	var fc fhirhttp.Config
	switch {
	case cfg.MaxAttempts < 0 || cfg.MaxAttempts > 20:
		return fc, fmt.Errorf("%w: max attempts %d outside 1..20", ErrInvalidOption, cfg.MaxAttempts)
	case cfg.RetryWaitMin < 0 || cfg.RetryWaitMax < 0 || (cfg.RetryWaitMax != 0 && cfg.RetryWaitMax < cfg.RetryWaitMin) || cfg.RetryWaitMax > 5*time.Minute:
		return fc, fmt.Errorf("%w: retry wait %v..%v", ErrInvalidOption, cfg.RetryWaitMin, cfg.RetryWaitMax)
	case cfg.UserAgent != "" && !cleanText(cfg.UserAgent):
		return fc, fmt.Errorf("%w: user agent must be printable text", ErrInvalidOption)
	case cfg.MaxResponseBytes != 0 && cfg.MaxResponseBytes < 1024:
		return fc, fmt.Errorf("%w: response cap %d below 1024", ErrInvalidOption, cfg.MaxResponseBytes)
	}
	if err := fc.SetBaseURL(baseURL); err != nil {
		return fc, fmt.Errorf("%w: %w", ErrInvalidOption, err)
	}
	fc.HTTPClient = cmp.Or(cfg.Client, &http.Client{Timeout: 30 * time.Second})
	fc.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	fc.MaxAttempts = cmp.Or(cfg.MaxAttempts, 4)
	fc.MaxResponseBytes = cmp.Or(cfg.MaxResponseBytes, 1<<20)
	fc.RetryWaitMin = max(cmp.Or(cfg.RetryWaitMin, 200*time.Millisecond), time.Nanosecond)
	if cfg.RetryWaitMax == 0 {
		cfg.RetryWaitMax = max(5*time.Second, fc.RetryWaitMin)
	}
	fc.RetryWaitMax = max(cfg.RetryWaitMax, fc.RetryWaitMin)
	fc.MaxRetryAfter = fc.RetryWaitMax
	fc.UserAgent = cmp.Or(cfg.UserAgent, "shcrkit-audit/"+version.SDK)
	return fc, nil
}

// NewHTTPSink returns a sink that sends each event to a FHIR R4 server as
// an AuditEvent resource (see ToFHIR, MarshalFHIR), by POST to baseURL +
// "/AuditEvent", configured by cfg. baseURL must be an absolute http or
// https URL without query or fragment.
//
// It sends through the same HTTP stack as the SDK's other clients.
// Delivery is retried, with the same X-Request-ID, after a connection
// error, 429, 502, 503 or 504, waiting with exponential backoff and jitter
// or as long as a Retry-After header asks (up to the maximum wait), and
// never past the context's deadline: a Retry-After that would outlast it
// ends the delivery at once with the answer's error (429 matching
// shcrkit.ErrRateLimited, its wait in APIError.RetryAfter). A redirect to
// another origin than the base URL's is refused with a
// *shcrkit.RedirectError: the event is never sent there.
//
// Durability caveat: Write returns nil once the server has answered 2xx,
// so the event is exactly as durable as that server makes what it
// accepts. A POST is not idempotent: when an answer is lost after the
// server stored the event, the retry stores it again (delivery is at
// least once; the X-Request-ID and the sequence extension let duplicates
// be recognised). When every attempt fails, the event is not recorded
// anywhere by this sink and Write returns the last error: the caller must
// fail closed, or pair this sink with a Log through Multi.
func NewHTTPSink(baseURL string, cfg HTTPConfig) (Sink, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: base URL must be an absolute http(s) URL without query", ErrInvalidOption)
	}
	fc, err := cfg.fhirConfig(u.String())
	if err != nil {
		return nil, err
	}
	client, err := fhirhttp.New(fc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOption, err)
	}
	return &httpSink{client: client, now: time.Now}, nil
}

// Write normalises the event, maps it to FHIR and posts it until the
// server accepts it, the attempts run out or ctx is done.
func (s *httpSink) Write(ctx context.Context, e Event) error {
	if err := nilctx.Check(ctx); err != nil {
		return err
	}
	n, err := e.Normalize(s.now())
	if err != nil {
		return err
	}
	body, err := MarshalFHIR(n)
	if err != nil {
		return fmt.Errorf("audit: encoding AuditEvent: %w", err)
	}
	if n.CorrelationID != "" {
		ctx = shcrkit.WithCorrelationID(ctx, n.CorrelationID)
	}
	_, err = s.client.Do(ctx, &fhirhttp.Request{
		Method:      http.MethodPost,
		Path:        "/AuditEvent",
		Body:        body,
		ContentType: fhirhttp.MediaFHIRJSON,
		// Retried POSTs are what at-least-once delivery means here; the
		// X-Request-ID is the same on every attempt.
		Idempotent: true,
	})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("audit: AuditEvent not delivered: %w", err)
	}
	return nil
}
