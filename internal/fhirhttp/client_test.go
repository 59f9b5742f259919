package fhirhttp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/version"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

const patientJSON = `{"resourceType":"Patient","id":"9000000009"}`

// newClient returns a client for srv with fast retries.
func newClient(t *testing.T, base string, modify ...func(*fhirhttp.Config)) *fhirhttp.Client {
	t.Helper()
	var cfg fhirhttp.Config
	require.NoError(t, cfg.SetBaseURL(base))
	require.NoError(t, cfg.SetRetryWait(time.Millisecond, 5*time.Millisecond, 50*time.Millisecond))
	for _, m := range modify {
		m(&cfg)
	}
	c, err := fhirhttp.New(cfg)
	require.NoError(t, err)
	return c
}

// seen records the requests a test server received.
type seen struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (s *seen) add(r *http.Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r.Clone(context.Background()))
	return len(s.reqs)
}

func (s *seen) all() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.reqs...)
}

func fhirOK(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/fhir+json")
	_, _ = io.WriteString(w, body)
}

func TestHeaders(t *testing.T) {
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.add(r)
		fhirOK(w, patientJSON)
	}))
	defer srv.Close()

	c := newClient(t, srv.URL+"/personal-demographics/FHIR/R4/", func(cfg *fhirhttp.Config) {
		require.NoError(t, cfg.SetTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok-123"})))
		require.NoError(t, cfg.SetUserAgent("Riverside-EPR/4.2"))
		require.NoError(t, cfg.SetHeader("NHSD-End-User-Organisation-ODS", "RX1"))
		require.NoError(t, cfg.SetCorrelationID("default-corr"))
	})
	ctx := context.Background()
	var p struct{ ID string }
	resp, err := c.DoJSON(ctx, &fhirhttp.Request{Path: "/Patient/9000000009"}, &p)
	require.NoError(t, err)
	assert.Equal(t, "9000000009", p.ID)

	_, err = c.Do(shcrkit.WithCorrelationID(ctx, "ctx-corr"), &fhirhttp.Request{Path: "Patient", NoAuth: true})
	require.NoError(t, err)

	reqs := got.all()
	require.Len(t, reqs, 2)
	first := reqs[0]
	assert.Equal(t, "/personal-demographics/FHIR/R4/Patient/9000000009", first.URL.Path)
	assert.Equal(t, "application/fhir+json", first.Header.Get("Accept"))
	assert.Equal(t, "Riverside-EPR/4.2 shcrkit/"+version.SDK, first.Header.Get("User-Agent"))
	assert.Equal(t, "Bearer tok-123", first.Header.Get("Authorization"))
	assert.Equal(t, "RX1", first.Header.Get("NHSD-End-User-Organisation-ODS"))
	assert.Equal(t, "default-corr", first.Header.Get("X-Correlation-ID"))
	assert.Len(t, first.Header.Get("X-Request-ID"), 36)
	assert.Equal(t, resp.RequestID, first.Header.Get("X-Request-ID"))

	second := reqs[1]
	assert.Equal(t, "ctx-corr", second.Header.Get("X-Correlation-ID"))
	assert.Empty(t, second.Header.Get("Authorization"))
	assert.NotEqual(t, first.Header.Get("X-Request-ID"), second.Header.Get("X-Request-ID"), "a fresh ID per logical request")

	const fixed = "6F1C9A52-2B7E-4A43-9D55-0D2C3F1E8A01"
	_, err = c.Do(shcrkit.WithRequestID(ctx, fixed), &fhirhttp.Request{Path: "Patient"})
	require.NoError(t, err)
	assert.Equal(t, fixed, got.all()[2].Header.Get("X-Request-ID"))

	// A caller's request ID that is not a UUID is refused before sending,
	// as the services would refuse it.
	for _, bad := range []string{"fixed-id", "6f1c9a522b7e4a439d550d2c3f1e8a01", "{6f1c9a52-2b7e-4a43-9d55-0d2c3f1e8a01}",
		"urn:uuid:6f1c9a52-2b7e-4a43-9d55-0d2c3f1e8a01", "6f1c9a52-2b7e-4a43-9d55-0d2c3f1e8a0g"} {
		_, err = c.Do(shcrkit.WithRequestID(ctx, bad), &fhirhttp.Request{Path: "Patient"})
		assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest, bad)
	}
	assert.Len(t, got.all(), 3, "nothing was sent")
}

func TestRetrySameRequestID(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		method     string
		idempotent bool
		wantCalls  int
	}{
		{"429 GET", http.StatusTooManyRequests, http.MethodGet, false, 3},
		{"502 GET", http.StatusBadGateway, http.MethodGet, false, 3},
		{"503 GET", http.StatusServiceUnavailable, http.MethodGet, false, 3},
		{"504 GET", http.StatusGatewayTimeout, http.MethodGet, false, 3},
		{"503 PATCH with request ID", http.StatusServiceUnavailable, http.MethodPatch, true, 3},
		{"503 POST not idempotent", http.StatusServiceUnavailable, http.MethodPost, false, 1},
		{"400", http.StatusBadRequest, http.MethodGet, false, 1},
		{"401", http.StatusUnauthorized, http.MethodGet, false, 1},
		{"403", http.StatusForbidden, http.MethodGet, false, 1},
		{"404", http.StatusNotFound, http.MethodGet, false, 1},
		{"500", http.StatusInternalServerError, http.MethodGet, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got seen
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if got.add(r) < 3 {
					w.WriteHeader(tt.status)
					return
				}
				fhirOK(w, patientJSON)
			}))
			defer srv.Close()
			c := newClient(t, srv.URL)
			var body []byte
			if tt.method != http.MethodGet {
				body = []byte(`{}`)
			}
			_, err := c.Do(context.Background(), &fhirhttp.Request{Method: tt.method, Path: "/x", Body: body, Idempotent: tt.idempotent})
			reqs := got.all()
			require.Len(t, reqs, tt.wantCalls)
			if tt.wantCalls == 3 {
				require.NoError(t, err)
			} else {
				var api *shcrkit.APIError
				require.ErrorAs(t, err, &api)
				assert.Equal(t, tt.status, api.StatusCode)
				assert.Equal(t, reqs[0].Header.Get("X-Request-ID"), api.RequestID)
			}
			for _, r := range reqs {
				assert.Equal(t, reqs[0].Header.Get("X-Request-ID"), r.Header.Get("X-Request-ID"))
			}
		})
	}
}

func TestRetryGivesUpAfterMaxAttempts(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"throttled","details":{"coding":[{"system":"https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode","code":"TOO_MANY_REQUESTS"}]}}]}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(cfg *fhirhttp.Config) { require.NoError(t, cfg.SetMaxAttempts(4)) })
	_, err := c.Do(context.Background(), &fhirhttp.Request{Path: "/x"})
	require.ErrorIs(t, err, shcrkit.ErrRateLimited)
	assert.EqualValues(t, 4, calls.Load())
	var api *shcrkit.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, "TOO_MANY_REQUESTS", api.Code)
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2", 2 * time.Second, true},
		{" 120 ", 120 * time.Second, true},
		{"0", 0, true},
		{now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second, true},
		{now.Add(-5 * time.Second).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := fhirhttp.RetryAfter(tt.in, now)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

// TestRetryAfterHonoured checks that a Retry-After of two seconds is the
// wait chosen (the backoff hook is pure) and, end to end with a short cap,
// that the wait is capped rather than skipped.
func TestRetryAfterHonoured(t *testing.T) {
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"2"}}}
	assert.Equal(t, 2*time.Second, fhirhttp.BackoffFor(30*time.Second)(time.Millisecond, time.Second, 0, resp))
	assert.Equal(t, time.Second, fhirhttp.BackoffFor(time.Second)(time.Millisecond, time.Second, 0, resp), "capped")
	// Without Retry-After: exponential with jitter, within bounds.
	for attempt := 0; attempt < 8; attempt++ {
		d := fhirhttp.BackoffFor(time.Second)(10*time.Millisecond, 100*time.Millisecond, attempt, &http.Response{StatusCode: 503, Header: http.Header{}})
		ceiling := min(10*time.Millisecond<<attempt, 100*time.Millisecond)
		assert.GreaterOrEqual(t, d, ceiling/2)
		assert.LessOrEqual(t, d, ceiling)
	}

	var times []time.Time
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		n := len(times)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fhirOK(w, patientJSON)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(cfg *fhirhttp.Config) {
		require.NoError(t, cfg.SetRetryWait(time.Millisecond, time.Millisecond, 20*time.Millisecond))
	})
	_, err := c.Do(context.Background(), &fhirhttp.Request{Path: "/x"})
	require.NoError(t, err)
	require.Len(t, times, 2)
	assert.GreaterOrEqual(t, times[1].Sub(times[0]), 20*time.Millisecond, "the capped Retry-After wait was observed")
}

func TestContextCancelStopsRetryWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
		cancel() // the client is now about to wait 30 s
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(cfg *fhirhttp.Config) {
		require.NoError(t, cfg.SetRetryWait(time.Millisecond, time.Millisecond, time.Minute))
	})
	done := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, &fhirhttp.Request{Path: "/x"})
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, shcrkit.ErrUnavailable)
	case <-time.After(time.Minute):
		t.Fatal("the retry wait did not end when the context was cancelled")
	}
}

func TestConnectionErrorRetriedForGET(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			require.NoError(t, err)
			conn.Close()
			return
		}
		fhirOK(w, patientJSON)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	_, err := c.Do(context.Background(), &fhirhttp.Request{Path: "/x"})
	require.NoError(t, err)
	assert.EqualValues(t, 2, calls.Load())
}

func TestResponseSizeCap(t *testing.T) {
	big := `{"resourceType":"Patient","id":"` + strings.Repeat("x", 4096) + `"}`
	for _, chunked := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			if chunked {
				w.(http.Flusher).Flush() // no Content-Length: the cap must bite while reading
			} else {
				w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			}
			_, _ = io.WriteString(w, big)
		}))
		c := newClient(t, srv.URL, func(cfg *fhirhttp.Config) { require.NoError(t, cfg.SetMaxResponseBytes(2048)) })
		_, err := c.Do(context.Background(), &fhirhttp.Request{Path: "/x"})
		require.ErrorIs(t, err, shcrkit.ErrResponseTooLarge, "chunked=%v", chunked)
		assert.Contains(t, err.Error(), "exceeds the limit of 2048 bytes")

		s, err := c.Open(context.Background(), &fhirhttp.Request{Path: "/x"}, 1500)
		if chunked {
			require.NoError(t, err)
			n, err := io.Copy(io.Discard, s.Body)
			require.ErrorIs(t, err, shcrkit.ErrResponseTooLarge)
			assert.EqualValues(t, 1500, n, "never more than the cap is handed over")
			s.Body.Close()
		} else {
			require.ErrorIs(t, err, shcrkit.ErrResponseTooLarge, "declared length over the cap fails before reading")
		}
		srv.Close()
	}
}

func TestMalformedBodies(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"truncated JSON", func(w http.ResponseWriter, r *http.Request) {
			fhirOK(w, `{"resourceType":"Patient","id":"90000`)
		}, "truncated"},
		{"connection dropped mid-body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.Header().Set("Content-Length", "500")
			_, _ = io.WriteString(w, `{"resourceType":"Pat`)
		}, "body ended early"},
		{"HTML on success", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html>hello</html>")
		}, `content type "text/html"`},
		{"invalid JSON", func(w http.ResponseWriter, r *http.Request) {
			fhirOK(w, `{"resourceType":}`)
		}, "invalid JSON"},
		{"empty", func(w http.ResponseWriter, r *http.Request) {
			fhirOK(w, ``)
		}, "empty body"},
		{"no content type, not JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil
			_, _ = io.WriteString(w, "hello")
		}, "no content type and the body is not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := newClient(t, srv.URL)
			var out map[string]any
			_, err := c.DoJSON(context.Background(), &fhirhttp.Request{Path: "/x"}, &out)
			require.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestErrorBodies(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		ctype, body string
		code, diag  string
		outcome     bool
		is          error
	}{
		{"PDS outcome", 404, "application/fhir+json",
			`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","details":{"coding":[{"system":"https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode","version":"1","code":"RESOURCE_NOT_FOUND","display":"Resource not found"}]}}]}`,
			"RESOURCE_NOT_FOUND", "Resource not found", true, shcrkit.ErrNotFound},
		{"NRL outcome other system and space", 403, "application/fhir+json",
			`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","details":{"coding":[{"system":"https://fhir.nhs.uk/ValueSet/NRL-ResponseCode","code":"ACCESS DENIED","display":"Access has been denied"}]},"diagnostics":"Organisation not allowed for 9434765919"}]}`,
			"ACCESS DENIED", "Organisation not allowed for 943****919", true, shcrkit.ErrForbidden},
		{"unknown issue code still yields Spine code", 400, "application/fhir+json",
			`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"made-up","details":{"coding":[{"code":"INVALID_VALUE"}]},"diagnostics":"bad"}]}`,
			"INVALID_VALUE", "bad", false, shcrkit.ErrInvalidRequest},
		{"OAuth error", 401, "application/json", `{"error":"invalid_token","error_description":"token expired"}`,
			"invalid_token", "token expired", false, shcrkit.ErrUnauthorized},
		{"HTML gateway page", 502, "text/html", `<html><body>Bad gateway 9434765919</body></html>`,
			"", "", false, shcrkit.ErrUnavailable},
		{"plain text", 500, "text/plain", "upstream   failed\nbadly", "", "upstream failed badly", false, shcrkit.ErrUnavailable},
		// Masked before it is cut: cut first, the number's first five
		// digits would be too short to be recognised and go out as they
		// are.
		{"NHS number across the 300-byte limit", 500, "text/plain", strings.Repeat("x", 294) + " 9434765919 and more", "",
			strings.Repeat("x", 294) + " 943**…", false, shcrkit.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ctype)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := newClient(t, srv.URL, func(cfg *fhirhttp.Config) { require.NoError(t, cfg.SetMaxAttempts(1)) })
			_, err := c.Do(context.Background(), &fhirhttp.Request{Path: "/x"})
			var api *shcrkit.APIError
			require.ErrorAs(t, err, &api)
			assert.Equal(t, tt.status, api.StatusCode)
			assert.Equal(t, tt.code, api.Code)
			assert.Equal(t, tt.diag, api.Diagnostics)
			assert.Equal(t, tt.outcome, api.Outcome != nil)
			assert.ErrorIs(t, err, tt.is)
			assert.NotContains(t, err.Error(), "9434765919")
		})
	}
}

// TestRedaction checks that no token, NHS number or query string reaches an
// error text or a log line, whatever goes wrong.
func TestRedaction(t *testing.T) {
	const secret = "s3cr3t-token-value"
	const nhs = "9434765919"
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// A listener that is closed at once: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := "http://" + l.Addr().String()
	l.Close()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"value","diagnostics":"Invalid NHS number 943 476 5919 (`+nhs+`)"}]}`)
	}))
	defer srv.Close()

	for _, base := range []string{refused, srv.URL} {
		c := newClient(t, base, func(cfg *fhirhttp.Config) {
			require.NoError(t, cfg.SetTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: secret})))
			require.NoError(t, cfg.SetLogger(logger))
			require.NoError(t, cfg.SetMaxAttempts(2))
		})
		_, err := c.Do(context.Background(), &fhirhttp.Request{
			Path:  "/Patient/" + nhs,
			Query: map[string][]string{"subject:identifier": {"https://fhir.nhs.uk/Id/nhs-number|" + nhs}, "family": {"Smith"}},
		})
		require.Error(t, err)
		for _, leak := range []string{secret, nhs, "943 476 5919", "Smith", "subject"} {
			assert.NotContains(t, err.Error(), leak)
		}
		assert.Contains(t, err.Error(), "943****919")
	}
	require.NotEmpty(t, logs.String())
	for _, leak := range []string{secret, nhs, "Smith", "subject"} {
		assert.NotContains(t, logs.String(), leak)
	}

	// A failing token source: the error names the host, not the query.
	c := newClient(t, srv.URL, func(cfg *fhirhttp.Config) {
		require.NoError(t, cfg.SetTokenSource(failingTokenSource{}))
	})
	_, err = c.Do(context.Background(), &fhirhttp.Request{Path: "/Patient/" + nhs})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), nhs)
	assert.Contains(t, err.Error(), "obtaining an access token")
}

type failingTokenSource struct{}

func (failingTokenSource) Token() (*oauth2.Token, error) {
	return nil, errors.New("token endpoint down")
}

func TestTransportErrorIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + l.Addr().String()
	l.Close()
	c := newClient(t, base)
	_, err = c.Do(context.Background(), &fhirhttp.Request{Path: "/x"})
	require.ErrorIs(t, err, shcrkit.ErrUnavailable)
	var te *fhirhttp.TransportError
	require.ErrorAs(t, err, &te)
	assert.NotEmpty(t, te.RequestID)
}

func TestConfigValidation(t *testing.T) {
	var cfg fhirhttp.Config
	for _, bad := range []string{"", "not a url", "ftp://x", "/relative", "https://u:p@host", "https://host?x=1"} {
		assert.ErrorIs(t, cfg.SetBaseURL(bad), fhirhttp.ErrInvalidOption, bad)
	}
	assert.ErrorIs(t, cfg.SetTokenSource(nil), fhirhttp.ErrInvalidOption)
	assert.ErrorIs(t, cfg.SetHTTPClient(nil), fhirhttp.ErrInvalidOption)
	assert.ErrorIs(t, cfg.SetLogger(nil), fhirhttp.ErrInvalidOption)
	assert.ErrorIs(t, cfg.SetMaxAttempts(0), fhirhttp.ErrInvalidOption)
	assert.ErrorIs(t, cfg.SetMaxResponseBytes(10), fhirhttp.ErrInvalidOption)
	assert.ErrorIs(t, cfg.SetUserAgent("a\nb"), fhirhttp.ErrInvalidOption)
	assert.ErrorIs(t, cfg.SetHeader("X", "a\r\nb"), fhirhttp.ErrInvalidOption)
	assert.ErrorIs(t, cfg.SetRetryWait(0, 1, 1), fhirhttp.ErrInvalidOption)
	_, err := fhirhttp.New(fhirhttp.Config{})
	assert.ErrorIs(t, err, fhirhttp.ErrInvalidOption)
}

// invalidatingSource is a token source with a cache that can be told a
// token was refused.
type invalidatingSource struct {
	mu          sync.Mutex
	invalidated []string
}

func (s *invalidatingSource) Token() (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: "cached-token"}, nil
}

func (s *invalidatingSource) Invalidate(tok string) {
	s.mu.Lock()
	s.invalidated = append(s.invalidated, tok)
	s.mu.Unlock()
}

func TestUnauthorizedInvalidatesCachedToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	ts := &invalidatingSource{}
	c := newClient(t, srv.URL, func(cfg *fhirhttp.Config) { require.NoError(t, cfg.SetTokenSource(ts)) })
	_, err := c.Do(context.Background(), &fhirhttp.Request{Path: "/x"})
	require.ErrorIs(t, err, shcrkit.ErrUnauthorized)
	assert.Equal(t, []string{"cached-token"}, ts.invalidated)
}

// TestNilContextIsRefused: a call with a nil context fails with
// shcrkit.ErrInvalidRequest before any request, instead of panicking.
func TestNilContextIsRefused(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	c := newClient(t, srv.URL)
	var ctx context.Context
	_, err := c.Do(ctx, &fhirhttp.Request{Path: "/Patient/9000000009"})
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	_, err = c.Open(ctx, &fhirhttp.Request{Path: "/Binary/1"}, 1<<20)
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	assert.Zero(t, calls.Load())
}
