package authtest_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit/auth/authtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTokenRequestLogIsBounded: a token endpoint serving for days (the
// sandbox's) must not keep every refused request it was sent. Anyone who
// can reach it can POST forms of up to 64 KiB, no credentials needed; the
// token requests' log keeps the most recent ones only, as the base
// request log of every fake does.
func TestTokenRequestLogIsBounded(t *testing.T) {
	if raceEnabled {
		t.Skip("sends requests one after another to pass a bound: nothing for the race detector")
	}
	srv := authtest.NewServer()
	defer srv.Close()
	h := srv.Handler()
	form := url.Values{"grant_type": {"client_credentials"}, "junk": {strings.Repeat("x", 100)}}.Encode()
	const sent = 10_500
	for range sent {
		req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusBadRequest, rec.Code)
	}
	got := srv.Requests()
	assert.LessOrEqual(t, len(got), 10_000, "the token request log grows with every hostile request")
	require.NotEmpty(t, got)
	assert.Equal(t, "client_credentials", got[len(got)-1].GrantType, "the most recent requests are kept")
}

// TestTokenRequestLogBoundsItsForms: the forms kept are bounded in bytes
// too, as the base request log bounds its bodies.
func TestTokenRequestLogBoundsItsForms(t *testing.T) {
	if raceEnabled {
		t.Skip("sends requests one after another to pass a bound: nothing for the race detector")
	}
	srv := authtest.NewServer()
	defer srv.Close()
	h := srv.Handler()
	form := url.Values{"grant_type": {"client_credentials"}, "junk": {strings.Repeat("x", 60<<10)}}.Encode()
	for range 1200 { // 1200 × 60 KiB ≈ 70 MiB
		req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	total := 0
	for _, r := range srv.Requests() {
		for k, vs := range r.Form {
			for _, v := range vs {
				total += len(k) + len(v)
			}
		}
	}
	assert.LessOrEqual(t, total, 64<<20, "the forms kept exceed 64 MiB")
}
