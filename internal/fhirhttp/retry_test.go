package fhirhttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRetryPolicy checks which answers are tried again: only transient
// statuses, and only for requests that are safe to repeat.
func TestRetryPolicy(t *testing.T) {
	tests := []struct {
		method     string
		idempotent bool
		status     int
		attempts   int32
	}{
		{http.MethodGet, false, http.StatusTooManyRequests, 3},
		{http.MethodGet, false, http.StatusBadGateway, 3},
		{http.MethodGet, false, http.StatusServiceUnavailable, 3},
		{http.MethodGet, false, http.StatusGatewayTimeout, 3},
		{http.MethodGet, false, http.StatusInternalServerError, 1},
		{http.MethodGet, false, http.StatusBadRequest, 1},
		{http.MethodGet, false, http.StatusUnauthorized, 1},
		{http.MethodGet, false, http.StatusForbidden, 1},
		{http.MethodGet, false, http.StatusNotFound, 1},
		{http.MethodGet, false, http.StatusConflict, 1},
		{http.MethodPost, false, http.StatusServiceUnavailable, 1},
		{http.MethodPost, true, http.StatusServiceUnavailable, 3},
		{http.MethodPatch, false, http.StatusTooManyRequests, 1},
		{http.MethodPatch, true, http.StatusTooManyRequests, 3},
		{http.MethodDelete, false, http.StatusBadGateway, 1},
		{http.MethodPut, true, http.StatusBadRequest, 1},
	}
	for _, tt := range tests {
		name := tt.method + " " + http.StatusText(tt.status)
		if tt.idempotent {
			name += " idempotent"
		}
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			var mu sync.Mutex
			var bodies []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, string(b))
				mu.Unlock()
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			c := newClient(t, srv.URL)
			var body []byte
			if tt.method != http.MethodGet {
				body = []byte(`{"resourceType":"Parameters"}`)
			}
			_, err := c.Do(context.Background(), &fhirhttp.Request{Method: tt.method, Path: "/x", Body: body, Idempotent: tt.idempotent})
			require.Error(t, err)
			assert.Equal(t, tt.attempts, calls.Load())
			mu.Lock()
			defer mu.Unlock()
			for _, b := range bodies {
				assert.Equal(t, string(body), b, "every attempt sends the whole body")
			}
		})
	}
}

// closeTracker is a response body that records being closed.
type closeTracker struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeTracker) Close() error { c.closed.Store(true); return nil }

// TestAnswerAfterCancellationIsClosed checks that an answer arriving as the
// context ends is closed, not left holding its connection.
func TestAnswerAfterCancellationIsClosed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	body := &closeTracker{Reader: strings.NewReader(patientJSON)}
	hc := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		cancel()
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/fhir+json"}},
			Body: body, Request: r}, nil
	})}
	c := newClient(t, "https://pds.example", func(cfg *fhirhttp.Config) { require.NoError(t, cfg.SetHTTPClient(hc)) })
	_, err := c.Do(ctx, &fhirhttp.Request{Path: "/Patient/x"})
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, body.closed.Load(), "the unused answer was not closed")
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
