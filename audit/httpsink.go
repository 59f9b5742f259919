package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
)

// HTTPSink sends each event to a FHIR R4 server as an AuditEvent resource
// (see ToFHIR), by POST to [base]/AuditEvent.
//
// Delivery is retried, with the same X-Request-ID, after a connection
// error, 408, 429, 500, 502, 503 or 504, waiting with exponential backoff
// and jitter or as long as a Retry-After header asks (up to the maximum
// wait), and never past the context's deadline.
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
	endpoint string
	cfg      httpConfig
	now      func() time.Time
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
	return &HTTPSink{
		endpoint: strings.TrimRight(u.String(), "/") + "/AuditEvent",
		cfg:      cfg,
		now:      time.Now,
	}, nil
}

// Write normalises the event, maps it to FHIR and posts it until the
// server accepts it, the attempts run out or ctx is done.
func (s *HTTPSink) Write(ctx context.Context, e Event) error {
	n, err := e.Normalize(s.now())
	if err != nil {
		return err
	}
	body, err := json.Marshal(ToFHIR(n))
	if err != nil {
		return fmt.Errorf("audit: encoding AuditEvent: %w", err)
	}
	requestID := newRequestID()
	correlationID := n.CorrelationID
	if correlationID == "" {
		correlationID = shcrkit.CorrelationID(ctx)
	}
	var last error
	for attempt := 1; ; attempt++ {
		retryAfter, err := s.post(ctx, body, requestID, correlationID)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		last = err
		if !retryable(err) || attempt >= s.cfg.maxAttempts {
			break
		}
		wait := s.backoff(attempt)
		if retryAfter > 0 {
			wait = min(retryAfter, s.cfg.maxWait)
		}
		s.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "audit: retrying AuditEvent delivery",
			slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("requestId", requestID),
			slog.String("error", err.Error()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return fmt.Errorf("audit: AuditEvent not delivered: %w", last)
}

// post makes one attempt. It returns the wait that a Retry-After header
// asked for, if any.
func (s *HTTPSink) post(ctx context.Context, body []byte, requestID, correlationID string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("audit: building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set("User-Agent", s.cfg.userAgent)
	req.Header.Set("X-Request-ID", requestID)
	if correlationID != "" {
		req.Header.Set("X-Correlation-ID", correlationID)
	}
	resp, err := s.cfg.client.Do(req)
	if err != nil {
		return 0, &transportError{requestID: requestID, err: err}
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, s.cfg.maxResponse))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	apiErr := &shcrkit.APIError{StatusCode: resp.StatusCode, RequestID: requestID}
	if readErr == nil {
		if oo, err := fhir.UnmarshalOperationOutcome(data); err == nil && len(oo.Issue) > 0 {
			apiErr.Outcome = &oo
			iss := oo.Issue[0]
			if iss.Details != nil {
				for _, c := range iss.Details.Coding {
					if c.Code != nil && *c.Code != "" {
						apiErr.Code = *c.Code
						break
					}
				}
			}
			if iss.Diagnostics != nil {
				apiErr.Diagnostics = shcrkit.MaskNHSNumbers(*iss.Diagnostics)
			}
		}
	}
	return retryAfter(resp.Header.Get("Retry-After"), s.now()), apiErr
}

// backoff is exponential from the minimum wait, capped, with full jitter
// in its upper half so that many sinks do not retry in step.
func (s *HTTPSink) backoff(attempt int) time.Duration {
	d := s.cfg.minWait << (attempt - 1)
	if d <= 0 || d > s.cfg.maxWait {
		d = s.cfg.maxWait
	}
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(half+1)
}

type transportError struct {
	requestID string
	err       error
}

// Error names the request ID, with NHS numbers masked.
func (e *transportError) Error() string {
	return shcrkit.MaskNHSNumbers(fmt.Sprintf("audit: sending AuditEvent [request %s]: %v", e.requestID, e.err))
}

// Unwrap returns the transport's error.
func (e *transportError) Unwrap() error { return e.err }

// Is makes a connection failure match shcrkit.ErrUnavailable.
func (e *transportError) Is(target error) bool { return target == shcrkit.ErrUnavailable }

func retryable(err error) bool {
	var te *transportError
	if errors.As(err, &te) {
		return true
	}
	var ae *shcrkit.APIError
	if errors.As(err, &ae) {
		switch ae.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
	}
	return false
}

// retryAfter reads a Retry-After header: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
