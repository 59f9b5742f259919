package fhirhttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// Credentials of the client below, none of a shape Redact knows.
const (
	echoedAccessToken = "opaque-access-Zq81nX47"
	echoedAPIKey      = "Q7mZ2xL9pV4c"
	echoedIdentity    = "id-Hk29Qw83Lm"
)

// TestAnswersAreClearedOfTheRequestsCredentials checks that a service
// echoing the credentials it was sent, bare and in no words Redact
// recognises, gets them removed from the error: in Code and Diagnostics,
// written as sent or URL-encoded, for Do, Open and an OperationOutcome
// that came with a success status.
func TestAnswersAreClearedOfTheRequestsCredentials(t *testing.T) {
	echo := func(r *http.Request) string {
		return "refused " + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + " with " + r.Header.Get("Apikey") +
			" for " + r.Header.Get("X-Identity-Token") + " (sent as id=" + "id-Hk29Qw83Lm%2F" + ")"
	}
	outcome := func(r *http.Request) string {
		return `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","details":{"coding":[{"code":"` +
			r.Header.Get("Apikey") + `"}]},"diagnostics":"` + echo(r) + `"}]}`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/plain":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, echo(r))
		case "/ok-outcome":
			w.Header().Set("Content-Type", "application/fhir+json")
			_, _ = io.WriteString(w, outcome(r))
		default:
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, outcome(r))
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(cfg *fhirhttp.Config) {
		require.NoError(t, cfg.SetMaxAttempts(1))
		cfg.Header = http.Header{
			"Authorization":    {"Bearer " + echoedAccessToken},
			"Apikey":           {echoedAPIKey},
			"X-Identity-Token": {echoedIdentity + "/"},
		}
	})
	clean := func(t *testing.T, what string) {
		t.Helper()
		for _, sec := range []string{echoedAccessToken, echoedAPIKey, echoedIdentity} {
			assert.NotContains(t, what, sec)
		}
		assert.Contains(t, what, "[redacted]")
	}
	for _, path := range []string{"/outcome", "/plain"} {
		t.Run("Do"+path, func(t *testing.T) {
			_, err := c.Do(context.Background(), &fhirhttp.Request{Path: path})
			var api *shcrkit.APIError
			require.ErrorAs(t, err, &api)
			clean(t, err.Error())
			clean(t, api.Diagnostics)
			assert.NotContains(t, api.Code, echoedAPIKey)
		})
		t.Run("Open"+path, func(t *testing.T) {
			_, err := c.Open(context.Background(), &fhirhttp.Request{Path: path}, 1<<20)
			var api *shcrkit.APIError
			require.ErrorAs(t, err, &api)
			clean(t, err.Error())
		})
	}
	t.Run("outcome with a success status", func(t *testing.T) {
		resp, err := c.Do(context.Background(), &fhirhttp.Request{Path: "/ok-outcome"})
		require.NoError(t, err)
		api := resp.APIError()
		clean(t, api.Error())
		assert.NotContains(t, api.Code, echoedAPIKey)
	})
}

func TestSentSecrets(t *testing.T) {
	got := fhirhttp.SentSecrets(http.Header{
		"Authorization": {"Bearer abc.def"}, "Apikey": {"k1"}, "X-Identity-Token": {"t1"},
		"Nhsd-Session-Urid": {"555021935107"}, "Accept": {"application/fhir+json"}, "X-Request-Id": {"r1"},
	})
	assert.ElementsMatch(t, []string{"abc.def", "Bearer abc.def", "k1", "t1"}, got,
		"the credential headers, not an identifier or a content type")
}
