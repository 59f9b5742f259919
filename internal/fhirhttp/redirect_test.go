package fhirhttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

var redirectStatuses = []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
	http.StatusTemporaryRedirect, http.StatusPermanentRedirect}

func TestRedirectToAnotherOriginRefused(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		fhirOK(w, patientJSON)
	}))
	defer other.Close()
	for _, status := range redirectStatuses {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(fmt.Sprintf("%d %s", status, method), func(t *testing.T) {
				var asked atomic.Int32
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					asked.Add(1)
					http.Redirect(w, r, other.URL+"/steal?x=1", status)
				}))
				defer srv.Close()
				caller := srv.Client()
				c := newClient(t, srv.URL, func(cfg *fhirhttp.Config) {
					cfg.HTTPClient = caller
					cfg.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "secret-token"})
				})
				var body []byte
				if method == http.MethodPost {
					body = []byte(`{"subject:identifier":"https://fhir.nhs.uk/Id/nhs-number|9434765919"}`)
				}
				_, err := c.Do(context.Background(), &fhirhttp.Request{Method: method, Path: "/search", Body: body, Idempotent: true})
				var re *shcrkit.RedirectError
				require.ErrorAs(t, err, &re)
				assert.ErrorIs(t, err, shcrkit.ErrRedirectRefused)
				assert.NotErrorIs(t, err, shcrkit.ErrUnavailable)
				assert.Equal(t, status, re.StatusCode)
				assert.NotEmpty(t, re.RequestID)
				assert.NotContains(t, err.Error(), "steal")
				assert.Equal(t, int32(1), asked.Load(), "a refused redirect is not retried")
				assert.Zero(t, elsewhere.Load(), "nothing reached the other origin")
				assert.Nil(t, caller.CheckRedirect, "the caller's client is not changed")
			})
		}
	}
}

func TestRedirectWithinOriginFollowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusTemporaryRedirect)
			return
		}
		b, _ := io.ReadAll(r.Body)
		assert.Equal(t, "payload", string(b), "a 307 within the origin keeps the body")
		fhirOK(w, patientJSON)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	_, err := c.Do(context.Background(), &fhirhttp.Request{Method: http.MethodPost, Path: "/old", Body: []byte("payload")})
	require.NoError(t, err)

	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/again", http.StatusFound)
	}))
	defer loop.Close()
	_, err = newClient(t, loop.URL).Do(context.Background(), &fhirhttp.Request{Path: "/x"})
	require.Error(t, err, "a redirect loop ends")
}

func TestGuardHTTPClientKeepsCallersPolicy(t *testing.T) {
	var calls int
	own := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { calls++; return http.ErrUseLastResponse }}
	g := fhirhttp.GuardHTTPClient(own)
	require.NotSame(t, own, g)
	srv := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	defer srv.Close()
	resp, err := g.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode, "the caller's own policy still applies within the origin")
	assert.Equal(t, 1, calls)
}

func TestRetryAfterBeyondDeadline(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(cfg *fhirhttp.Config) { cfg.MaxRetryAfter = time.Hour })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := c.Do(ctx, &fhirhttp.Request{Path: "/x"})
	require.ErrorIs(t, err, shcrkit.ErrRateLimited)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.NoError(t, ctx.Err(), "the answer came back without waiting for the deadline")
	var ae *shcrkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 120*time.Second, ae.RetryAfter, "the wait the service asked for")
	assert.Equal(t, int32(1), asked.Load())
}
