package shcrtest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/internal/jws"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIdentitiesKeptAreBounded: a region that takes unsigned identity
// tokens (the GP Connect style, as the sandbox's East region does) lets
// anyone make one; every request accepted is kept for Identities, so a
// fake serving for days must keep the most recent only, in number and in
// size, as its request log does.
func TestIdentitiesKeptAreBounded(t *testing.T) {
	if raceEnabled {
		t.Skip("sends requests one after another to pass a bound: nothing for the race detector")
	}
	srv := shcrtest.NewServer()
	defer srv.Close()
	h := srv.Handler()
	serve := func(tok string) {
		req := httptest.NewRequest(http.MethodGet, "/fhir/records/none", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusNotFound, rec.Code, rec.Body.String())
	}
	now := time.Now()
	tok, err := identitytoken.Sign(jws.None, nil, "", identitytoken.New(requester, shcrkit.PurposeDirectCare, srv.URL, "", false, now))
	require.NoError(t, err)
	for range 10_500 {
		serve(tok)
	}
	assert.LessOrEqual(t, len(srv.Identities()), 10_000, "every identity presented is kept")

	srv.ResetRequests()
	big := requester
	big.Name = strings.Repeat("N", 100<<10)
	for range 800 { // 800 distinct tokens of 100 KiB: 80 MiB
		tok, err := identitytoken.Sign(jws.None, nil, "", identitytoken.New(big, shcrkit.PurposeDirectCare, srv.URL, "", false, now))
		require.NoError(t, err)
		serve(tok)
	}
	total := 0
	for _, p := range srv.Identities() {
		total += len(p.Requester.Name)
	}
	assert.LessOrEqual(t, total, 64<<20, "the identities kept exceed 64 MiB")
}
