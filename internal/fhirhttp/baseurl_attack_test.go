package fhirhttp_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func gzipOf(t *testing.T, n int) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zeros := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(zeros))
		_, _ = zw.Write(zeros[:k])
		n -= k
	}
	require.NoError(t, zw.Close())
	return b.Bytes()
}

func TestGzipBombIsCapped(t *testing.T) {
	bomb := gzipOf(t, 64<<20)
	for _, withLen := range []bool{true, false} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.Header().Set("Content-Encoding", "gzip")
			if withLen {
				w.Header().Set("Content-Length", strconv.Itoa(len(bomb)))
			}
			_, _ = w.Write(bomb)
		}))
		c := newClient(t, srv.URL, func(cfg *fhirhttp.Config) { cfg.MaxResponseBytes = 1 << 20 })
		_, err := c.Do(context.Background(), &fhirhttp.Request{Path: "/x"})
		assert.ErrorIs(t, err, shcrkit.ErrResponseTooLarge, "withLen=%v", withLen)
		s, err := c.Open(context.Background(), &fhirhttp.Request{Path: "/x"}, 1<<20)
		require.NoError(t, err)
		n, err := io.Copy(io.Discard, s.Body)
		s.Body.Close()
		assert.ErrorIs(t, err, shcrkit.ErrResponseTooLarge)
		assert.LessOrEqual(t, n, int64(1<<20))
		srv.Close()
	}
}

func TestChunkedBodyOverCap(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		for i := 0; i < 100; i++ {
			_, _ = w.Write(bytes.Repeat([]byte(" "), 64<<10))
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(cfg *fhirhttp.Config) { cfg.MaxResponseBytes = 1 << 20 })
	_, err := c.Do(context.Background(), &fhirhttp.Request{Path: "/x"})
	assert.ErrorIs(t, err, shcrkit.ErrResponseTooLarge)
	// error status, oversize
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		for i := 0; i < 100; i++ {
			_, _ = w.Write(bytes.Repeat([]byte(" "), 64<<10))
		}
	}))
	defer srv2.Close()
	c2 := newClient(t, srv2.URL, func(cfg *fhirhttp.Config) { cfg.MaxResponseBytes = 1 << 20; cfg.MaxAttempts = 1 })
	_, err = c2.Do(context.Background(), &fhirhttp.Request{Path: "/x"})
	assert.ErrorIs(t, err, shcrkit.ErrResponseTooLarge)
}

func TestSlowDripBodyEndsWithTheContext(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(200)
		for {
			_, _ = w.Write([]byte(" "))
			w.(http.Flusher).Flush()
			select {
			case <-stop:
				return
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}))
	defer srv.Close()
	defer close(stop)
	c := newClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, &fhirhttp.Request{Path: "/x"})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "err=%v", err)
	assert.NotErrorIs(t, err, shcrkit.ErrUnavailable, "err=%v", err)
	t.Logf("err: %v", err)
}

func TestRetryAfterForms(t *testing.T) {
	for _, ra := range []string{"-5", "99999999999999999999", "abc", time.Now().Add(1000 * time.Hour).UTC().Format(http.TimeFormat), "Thu, 01 Jan 1970 00:00:00 GMT", "1e9", "  3  "} {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.Header().Set("Retry-After", ra)
			w.WriteHeader(503)
		}))
		c := newClient(t, srv.URL)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		start := time.Now()
		_, err := c.Do(ctx, &fhirhttp.Request{Path: "/x"})
		took := time.Since(start)
		cancel()
		srv.Close()
		var api *shcrkit.APIError
		ok := errors.As(err, &api)
		t.Logf("%q: attempts=%d took=%v err=%v api=%v", ra, n.Load(), took, err, ok)
		assert.True(t, ok, "%q: err=%v", ra, err)
		assert.Less(t, took, 2500*time.Millisecond)
	}
}

func TestRedirectsRefused(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer other.Close()
	for _, loc := range []string{other.URL + "/x", strings.Replace(other.URL, "http://", "https://", 1), "ftp://127.0.0.1/x", "//evil.example/x"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, loc, http.StatusFound)
		}))
		c := newClient(t, srv.URL)
		_, err := c.Do(context.Background(), &fhirhttp.Request{Path: "/x", Method: "POST", Body: []byte("{}"), Idempotent: true})
		var re *shcrkit.RedirectError
		assert.True(t, errors.As(err, &re), "%s: %v", loc, err)
		srv.Close()
	}
	assert.Zero(t, hits.Load())
}

func TestDeepJSON(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	var v any
	err := fhirhttp.DecodeJSON([]byte(`{"a":`+deep+`}`), &v)
	assert.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
	_, ok := fhirhttp.ParseOutcome([]byte(`{"resourceType":"OperationOutcome","x":` + deep + `}`))
	assert.False(t, ok)
	e := fhirhttp.NewAPIError(500, http.Header{}, []byte(deep), "r")
	t.Logf("%v", e)
}

func TestBaseURLWithoutHostOrWithEmptyQueryRefused(t *testing.T) {
	for _, raw := range []string{"https://:443/fhir", "https://host.example/fhir?"} {
		var cfg fhirhttp.Config
		assert.ErrorIs(t, cfg.SetBaseURL(raw), shcrkit.ErrInvalidOption, raw)
	}
}
