package audit

import (
	"cmp"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fhirServer is a FHIR server that accepts AuditEvents after failing a
// given number of times with a given status.
type fhirServer struct {
	mu sync.Mutex
	failWith
	requestIDs []string
	received   [][]byte
	headers    []http.Header
}

// failWith says how a fhirServer fails before it accepts.
type failWith struct {
	failures   int
	status     int
	retryAfter string
	body       string
}

func (f *fhirServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, _ := io.ReadAll(r.Body)
	f.requestIDs = append(f.requestIDs, r.Header.Get("X-Request-ID"))
	f.headers = append(f.headers, r.Header.Clone())
	if r.Method != http.MethodPost || r.URL.Path != "/fhir/AuditEvent" {
		http.Error(w, "wrong endpoint", http.StatusNotFound)
		return
	}
	if f.failures > 0 {
		f.failures--
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(f.status)
		io.WriteString(w, f.body)
		return
	}
	if _, err := ParseFHIR(data); err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	f.received = append(f.received, data)
	w.WriteHeader(http.StatusCreated)
}

func newHTTPSinkFor(t *testing.T, srv *httptest.Server, cfg HTTPConfig) Sink {
	t.Helper()
	cfg.Client = srv.Client()
	cfg.RetryWaitMin = time.Millisecond
	cfg.RetryWaitMax = cmp.Or(cfg.RetryWaitMax, 5*time.Millisecond)
	s, err := NewHTTPSink(srv.URL+"/fhir/", cfg)
	require.NoError(t, err)
	return s
}

const operationOutcome = `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing",
"details":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode","code":"INVALID_VALUE"}]},
"diagnostics":"bad patient 9434765919"}]}`

func TestHTTPSink(t *testing.T) {
	tests := []struct {
		name       string
		server     failWith
		attempts   int
		wantErr    error
		wantTries  int
		wantStored int
	}{
		{"accepted at once", failWith{}, 4, nil, 1, 1},
		{"retried through 503s", failWith{failures: 2, status: 503}, 4, nil, 3, 1},
		{"retried through 429 with Retry-After", failWith{failures: 1, status: 429, retryAfter: "0"}, 4, nil, 2, 1},
		{"gives up after the attempts", failWith{failures: 9, status: 502}, 3, shcrkit.ErrUnavailable, 3, 0},
		{"no retry on a rejection", failWith{failures: 1, status: 400, body: operationOutcome}, 4, shcrkit.ErrInvalidRequest, 1, 0},
		{"no retry when forbidden", failWith{failures: 1, status: 403}, 4, shcrkit.ErrForbidden, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &fhirServer{failWith: tt.server}
			srv := httptest.NewServer(fs)
			defer srv.Close()
			s := newHTTPSinkFor(t, srv, HTTPConfig{MaxAttempts: tt.attempts, UserAgent: "test-agent/1"})
			e := readEvent(t0, clinician(), patientA)
			err := s.Write(context.Background(), e)
			fs.mu.Lock()
			defer fs.mu.Unlock()
			if tt.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
				assert.NotContains(t, err.Error(), "9434765919")
			}
			assert.Len(t, fs.requestIDs, tt.wantTries)
			assert.Len(t, fs.received, tt.wantStored)
			for _, id := range fs.requestIDs {
				assert.Equal(t, fs.requestIDs[0], id, "one X-Request-ID across retries")
			}
			h := fs.headers[0]
			assert.Equal(t, "application/fhir+json", h.Get("Content-Type"))
			assert.True(t, strings.HasPrefix(h.Get("User-Agent"), "test-agent/1 "), h.Get("User-Agent"))
			assert.Equal(t, e.CorrelationID, h.Get("X-Correlation-ID"))
			assert.Len(t, fs.requestIDs[0], 36)
		})
	}
}

func TestHTTPSinkAPIErrorDetail(t *testing.T) {
	fs := &fhirServer{failWith: failWith{failures: 1, status: 422, body: operationOutcome}}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	err := newHTTPSinkFor(t, srv, HTTPConfig{}).Write(context.Background(), readEvent(t0, clinician(), patientA))
	var ae *shcrkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 422, ae.StatusCode)
	assert.Equal(t, "INVALID_VALUE", ae.Code)
	assert.Equal(t, "bad patient 943****919", ae.Diagnostics)
	assert.NotEmpty(t, ae.RequestID)
}

func TestHTTPSinkConnectionFailure(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	s, err := NewHTTPSink(url, HTTPConfig{MaxAttempts: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
	require.NoError(t, err)
	err = s.Write(context.Background(), readEvent(t0, clinician(), patientA))
	assert.ErrorIs(t, err, shcrkit.ErrUnavailable)
}

func TestHTTPSinkContext(t *testing.T) {
	first := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(first) })
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	s := newHTTPSinkFor(t, srv, HTTPConfig{RetryWaitMax: 5 * time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Write(ctx, readEvent(t0, clinician(), patientA)) }()
	// The first attempt fails and the sink waits the minute asked for;
	// cancelling ends the wait.
	<-first
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

func TestHTTPSinkRejectsBadEvents(t *testing.T) {
	fs := &fhirServer{}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	err := newHTTPSinkFor(t, srv, HTTPConfig{}).Write(context.Background(), Event{})
	assert.ErrorIs(t, err, ErrInvalidEvent)
	assert.Empty(t, fs.requestIDs)
}

func TestHTTPSinkOptions(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "/relative", "https://x.test/fhir?q=1", "https://"} {
		_, err := NewHTTPSink(u, HTTPConfig{})
		assert.ErrorIs(t, err, ErrInvalidOption, u)
	}
	bad := []HTTPConfig{{MaxAttempts: -1}, {MaxAttempts: 21}, {RetryWaitMin: 2, RetryWaitMax: 1}, {RetryWaitMin: -1},
		{RetryWaitMax: 6 * time.Minute}, {UserAgent: "bad\nagent"}, {MaxResponseBytes: 10}}
	for i, cfg := range bad {
		_, err := NewHTTPSink("https://fhir.example.test", cfg)
		assert.ErrorIs(t, err, ErrInvalidOption, i)
	}
	_, err := NewHTTPSink("https://fhir.example.test", HTTPConfig{})
	assert.NoError(t, err, "the zero configuration works")
}
