package fake_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newServer(t *testing.T, m *fake.Middleware) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fake.WriteJSON(w, http.StatusOK, map[string]any{"resourceType": "Patient", "id": "9000000009"})
	})))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url, token string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestRecorderReturnsCopies(t *testing.T) {
	rec := &fake.Recorder{}
	srv := newServer(t, &fake.Middleware{Recorder: rec})
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := get(t, srv.URL+"/Patient/9000000009?x=1", "")
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	reqs := rec.Requests()
	require.Len(t, reqs, 10)
	assert.Equal(t, "/Patient/9000000009", reqs[0].Path)
	assert.Equal(t, http.StatusOK, reqs[0].Status)
	reqs[0].Query.Set("x", "changed")
	assert.Equal(t, "1", rec.Requests()[0].Query.Get("x"), "callers get copies")
	rec.Reset()
	assert.Equal(t, 0, rec.Len())
}

func TestFaults(t *testing.T) {
	faults := &fake.Faults{}
	srv := newServer(t, &fake.Middleware{Faults: faults})

	faults.Add(http.MethodGet, "/Patient", 2, fake.Fault{Status: 429, Code: "TOO_MANY_REQUESTS", RetryAfter: "2"})
	for range 2 {
		resp, body, err := get(t, srv.URL+"/Patient/1", "")
		require.NoError(t, err)
		assert.Equal(t, 429, resp.StatusCode)
		assert.Equal(t, "2", resp.Header.Get("Retry-After"))
		assert.Contains(t, body, "TOO_MANY_REQUESTS")
	}
	resp, _, err := get(t, srv.URL+"/Patient/1", "")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode, "the fault was used up")

	faults.Add("", "/Other", -1, fake.Fault{Status: 503})
	resp, _, err = get(t, srv.URL+"/Patient/1", "")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode, "prefix does not match")

	faults.Add("", "", 1, fake.Fault{Truncate: 5})
	_, _, err = get(t, srv.URL+"/Patient/1", "")
	require.Error(t, err, "a short body is an unexpected EOF")

	faults.Add("", "", 1, fake.Fault{Oversize: 1000})
	_, body, err := get(t, srv.URL+"/Patient/1", "")
	require.NoError(t, err)
	assert.Greater(t, len(body), 1000)

	faults.Add("", "", 1, fake.Fault{Drip: time.Microsecond})
	_, body, err = get(t, srv.URL+"/Patient/1", "")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(body, `{"id":"9000000009"`) || strings.Contains(body, "Patient"))

	faults.Add("", "", 1, fake.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/Patient/1", nil)
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	faults.Add("", "", 1, fake.Fault{Reset: true})
	_, _, err = get(t, srv.URL+"/Patient/1", "")
	require.Error(t, err, "the connection is dropped without an answer")
	resp, _, err = get(t, srv.URL+"/Patient/1", "")
	require.NoError(t, err, "the next connection is served")
	assert.Equal(t, 200, resp.StatusCode)

	faults.Clear()
	resp, _, err = get(t, srv.URL+"/Other", "")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
}

func TestTokenValidation(t *testing.T) {
	srv := newServer(t, &fake.Middleware{Validate: func(tok string) error {
		if tok != "good" {
			return errors.New("unknown token")
		}
		return nil
	}})
	for _, tt := range []struct {
		token string
		want  int
	}{{"", 401}, {"bad", 401}, {"good", 200}} {
		resp, body, err := get(t, srv.URL+"/x", tt.token)
		require.NoError(t, err)
		assert.Equal(t, tt.want, resp.StatusCode, tt.token)
		if tt.want == 401 {
			assert.Contains(t, body, "ACCESS_DENIED")
		}
	}
}

// TestRecordedBeforeAnswered checks that a request is in the recorder, with
// its status, as soon as the client has the answer, even for a body too
// big to be buffered before the handler returns.
func TestRecordedBeforeAnswered(t *testing.T) {
	rec := &fake.Recorder{}
	release := make(chan struct{})
	srv := httptest.NewServer((&fake.Middleware{Recorder: rec}).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(make([]byte, 256<<10))
		w.(http.Flusher).Flush()
		<-release // the handler is still running when the client reads
	})))
	defer srv.Close()
	defer close(release)
	for range 1 {
		resp, err := http.Get(srv.URL)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1))
		reqs := rec.Requests()
		require.NotEmpty(t, reqs)
		assert.Equal(t, http.StatusAccepted, reqs[len(reqs)-1].Status)
		resp.Body.Close()
	}
}

func TestSetLatencyLeavesFaultsAlone(t *testing.T) {
	faults := &fake.Faults{}
	mw := &fake.Middleware{Faults: faults}
	srv := newServer(t, mw)
	mw.SetLatency(time.Millisecond)
	faults.Add("", "", 1, fake.Fault{Status: http.StatusServiceUnavailable})
	resp, _, err := get(t, srv.URL+"/x", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "a fault injected after the latency still applies")
	mw.SetLatency(0)
	resp, _, err = get(t, srv.URL+"/x", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestIsUUID(t *testing.T) {
	for _, ok := range []string{"60E0B220-8136-4CA5-AE46-1D97EF59D068", "6f1c9a52-2b7e-4a43-9d55-0d2c3f1e8a01"} {
		assert.True(t, fake.IsUUID(ok), ok)
	}
	for _, bad := range []string{"", "not-a-uuid", "60E0B22081364CA5AE461D97EF59D068", "{60E0B220-8136-4CA5-AE46-1D97EF59D068}",
		"60E0B220-8136-4CA5-AE46-1D97EF59D06G", "60E0B220-8136-4CA5-AE461-D97EF59D068"} {
		assert.False(t, fake.IsUUID(bad), bad)
	}
}

func TestEchoIDs(t *testing.T) {
	srv := httptest.NewServer(fake.EchoIDs(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("X-Request-ID", "req")
	req.Header.Set("X-Correlation-ID", "corr")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "req", resp.Header.Get("X-Request-ID"))
	assert.Equal(t, "corr", resp.Header.Get("X-Correlation-ID"))
}

func TestCalledOrigin(t *testing.T) {
	for _, tt := range []struct {
		name    string
		headers map[string]string
		tls     bool
		want    string
		prefix  string
	}{
		{name: "own host", want: "http://fake.test:81"},
		{name: "tls", tls: true, want: "https://fake.test:81"},
		{name: "forwarded", headers: map[string]string{"X-Forwarded-Proto": "HTTPS", "X-Forwarded-Host": "Sandbox.Test:8700, inner:1",
			"X-Forwarded-Prefix": "/shcr/RNR/"}, want: "https://sandbox.test:8700", prefix: "/shcr/RNR"},
		{name: "bad forwarded values ignored", headers: map[string]string{"X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "evil/path",
			"X-Forwarded-Prefix": "/../x"}, want: "http://fake.test:81"},
		{name: "relative prefix ignored", headers: map[string]string{"X-Forwarded-Prefix": "shcr"}, want: "http://fake.test:81"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://fake.test:81/x", nil)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			assert.Equal(t, tt.want, fake.CalledOrigin(r))
			assert.Equal(t, tt.prefix, fake.ForwardedPrefix(r))
		})
	}
}

func TestPublicRequestsNeedNoToken(t *testing.T) {
	srv := newServer(t, &fake.Middleware{Validate: func(string) error { return errors.New("no") },
		Public: func(r *http.Request) bool { return r.URL.Path == "/metadata" }})
	resp, _, err := get(t, srv.URL+"/metadata", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _, err = get(t, srv.URL+"/Patient", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestFaultAfterServingAppliesTheChange(t *testing.T) {
	faults := &fake.Faults{}
	var served int
	srv := httptest.NewServer((&fake.Middleware{Faults: faults}).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served++
		fake.WriteJSON(w, http.StatusOK, map[string]any{"served": served})
	})))
	defer srv.Close()

	faults.Add("", "", 1, fake.Fault{Status: 503, Code: "SERVICE_UNAVAILABLE", RetryAfter: "0", AfterServing: true})
	resp, body, err := get(t, srv.URL+"/x", "")
	require.NoError(t, err)
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, "0", resp.Header.Get("Retry-After"))
	assert.Contains(t, body, "SERVICE_UNAVAILABLE")
	assert.NotContains(t, body, "served", "the real answer is lost")
	assert.Equal(t, 1, served, "the request was served")

	_, body, err = get(t, srv.URL+"/x", "")
	require.NoError(t, err)
	assert.Contains(t, body, `"served":2`)
}

func TestSetLatencyServesReadsWithinIt(t *testing.T) {
	// The latency is an hour: a handler that runs at all ran within it.
	for _, tc := range []struct {
		name, method, path string
		servedAtOnce       bool
	}{
		{"a read is served at once", http.MethodGet, "/Patient/9000000009", true},
		{"a FHIR search by POST is a read", http.MethodPost, "/DocumentReference/_search", true},
		{"a write waits for the latency", http.MethodPost, "/DocumentReference", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &fake.Recorder{}
			mw := &fake.Middleware{Recorder: rec}
			mw.SetLatency(time.Hour)
			served := make(chan struct{}, 1)
			finished := make(chan struct{})
			h := mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				served <- struct{}{}
				fake.WriteJSON(w, http.StatusOK, map[string]any{"resourceType": "Bundle"})
			}))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(finished)
				h.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, tc.method, srv.URL+tc.path, strings.NewReader("{}"))
			require.NoError(t, err)
			errc := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				errc <- err
			}()
			if tc.servedAtOnce {
				select {
				case <-served:
				case <-time.After(30 * time.Second):
					t.Fatal("the read was not served within its latency")
				}
			} else {
				// Wait until the request has arrived, then give up on it.
				require.Eventually(t, func() bool { return len(rec.Requests()) == 1 }, 30*time.Second, time.Millisecond)
			}
			cancel()
			require.ErrorIs(t, <-errc, context.Canceled, "no answer before the latency is over")
			<-finished
			reqs := rec.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, 499, reqs[0].Status, "the client went away before its answer's time")
			if !tc.servedAtOnce {
				assert.Empty(t, served, "a write is not served before its latency is over")
			}
		})
	}
}

func TestSetLatencyAnswersReadsAndRefusals(t *testing.T) {
	mw := &fake.Middleware{Validate: func(token string) error {
		if token != "good" {
			return errors.New("unknown token")
		}
		return nil
	}}
	srv := newServer(t, mw)
	mw.SetLatency(time.Millisecond)
	resp, body, err := get(t, srv.URL+"/Patient/9000000009", "good")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `"9000000009"`, "the answer held back arrives whole")
	resp, _, err = get(t, srv.URL+"/Patient/9000000009", "bad")
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a refusal is held back and sent as well")
}
