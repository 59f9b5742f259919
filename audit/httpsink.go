package audit

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// HTTPSink sends each event to a FHIR R4 server as an AuditEvent resource
// (see ToFHIR), by POST to [base]/AuditEvent.
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
type HTTPSink struct {
	client *fhirhttp.Client
	now    func() time.Time
}

// NewHTTPSink returns a sink that posts to baseURL + "/AuditEvent".
// baseURL must be an absolute http or https URL without query or
// fragment.
func NewHTTPSink(baseURL string, opts ...HTTPOption) (*HTTPSink, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: base URL must be an absolute http(s) URL without query", ErrInvalidOption)
	}
	cfg := defaultHTTPConfig()
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidOption)
		}
		if err := o.applyHTTP(&cfg); err != nil {
			return nil, err
		}
	}
	var fc fhirhttp.Config
	if err := fc.SetBaseURL(u.String()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOption, err)
	}
	fc.HTTPClient = cfg.client
	fc.Logger = cfg.logger
	fc.MaxAttempts = cfg.maxAttempts
	fc.MaxResponseBytes = cfg.maxResponse
	fc.RetryWaitMin = max(cfg.minWait, time.Nanosecond)
	fc.RetryWaitMax = max(cfg.maxWait, fc.RetryWaitMin)
	fc.MaxRetryAfter = fc.RetryWaitMax
	fc.UserAgent = cfg.userAgent
	client, err := fhirhttp.New(fc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOption, err)
	}
	return &HTTPSink{client: client, now: time.Now}, nil
}

// Write normalises the event, maps it to FHIR and posts it until the
// server accepts it, the attempts run out or ctx is done.
func (s *HTTPSink) Write(ctx context.Context, e Event) error {
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
