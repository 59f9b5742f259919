package nrls_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func TestNewClientOptions(t *testing.T) {
	org := nrls.WithEndUserOrganisation("Y90001")
	tests := []struct {
		name string
		base string
		opts []nrls.Option
		ok   bool
	}{
		{"minimal", productionConsumerURL, []nrls.Option{org}, true},
		{"every option", "https://sandbox.api.service.nhs.uk" + nrls.ProducerPath, []nrls.Option{org,
			nrls.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})),
			nrls.WithHTTPClient(&http.Client{}), nrls.WithLogger(slog.New(slog.DiscardHandler)),
			nrls.WithMaxAttempts(1), nrls.WithMaxResponseBytes(4096), nrls.WithUserAgent("EPR/1.0"),
			nrls.WithRetryWait(time.Millisecond, time.Second, time.Second),
			nrls.WithSearchGET()}, true},
		{"lower-case organisation", productionConsumerURL, []nrls.Option{nrls.WithEndUserOrganisation("y90001")}, false},
		{"empty organisation", productionConsumerURL, []nrls.Option{nrls.WithEndUserOrganisation("")}, false},
		{"relative base URL", "/record-locator", []nrls.Option{org}, false},
		{"base URL with query", productionConsumerURL + "?a=b", []nrls.Option{org}, false},
		{"nil option", productionConsumerURL, []nrls.Option{org, nil}, false},
		{"nil token source", productionConsumerURL, []nrls.Option{org, nrls.WithTokenSource(nil)}, false},
		{"nil HTTP client", productionConsumerURL, []nrls.Option{org, nrls.WithHTTPClient(nil)}, false},
		{"nil logger", productionConsumerURL, []nrls.Option{org, nrls.WithLogger(nil)}, false},
		{"zero attempts", productionConsumerURL, []nrls.Option{org, nrls.WithMaxAttempts(0)}, false},
		{"eleven attempts", productionConsumerURL, []nrls.Option{org, nrls.WithMaxAttempts(11)}, false},
		{"tiny response cap", productionConsumerURL, []nrls.Option{org, nrls.WithMaxResponseBytes(10)}, false},
		{"blank user agent", productionConsumerURL, []nrls.Option{org, nrls.WithUserAgent(" ")}, false},
		{"user agent with newline", productionConsumerURL, []nrls.Option{org, nrls.WithUserAgent("a\nb")}, false},
		{"inverted retry waits", productionConsumerURL, []nrls.Option{org, nrls.WithRetryWait(time.Second, time.Millisecond, 0)}, false},
		{"telemetry without providers", productionConsumerURL, []nrls.Option{org, nrls.WithTelemetry(nil, nil)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := nrls.NewClient(tt.base, tt.opts...)
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, shcrkit.ODSCode("Y90001"), c.EndUserOrganisation())
				assert.Equal(t, tt.base, c.BaseURL())
				return
			}
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			assert.Nil(t, c)
		})
	}
}

func TestRequestHeaders(t *testing.T) {
	srv := newFake(t, nrlstest.WithTokenValidator(func(tok string) error {
		if tok != "token-1" {
			return errors.New("unknown token")
		}
		return nil
	}))
	c := consumer(t, srv, nrls.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "token-1"})),
		nrls.WithUserAgent("EPR/2.1"))

	reqID := uuid.NewString()
	_, err := c.Search(shcrkit.WithRequestID(shcrkit.WithCorrelationID(ctx, "corr-7"), reqID), pdstest.Patients.Normal)
	require.NoError(t, err)
	_, err = c.Count(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	h := reqs[0].Header
	assert.Equal(t, string(nrlstest.ConsumerODS), h.Get("NHSD-End-User-Organisation-ODS"))
	assert.Equal(t, reqID, h.Get("X-Request-ID"))
	assert.Equal(t, "corr-7", h.Get("X-Correlation-ID"))
	assert.Equal(t, "Bearer token-1", h.Get("Authorization"))
	assert.True(t, strings.HasPrefix(h.Get("User-Agent"), "EPR/2.1 shcrkit/"), h.Get("User-Agent"))
	assert.Equal(t, "application/fhir+json", h.Get("Accept"))

	h2 := reqs[1].Header
	assert.Empty(t, h2.Get("X-Correlation-ID"), "no correlation ID unless the context carries one")
	_, err = uuid.Parse(h2.Get("X-Request-ID"))
	assert.NoError(t, err)
	assert.NotEqual(t, reqID, h2.Get("X-Request-ID"), "a fresh request ID per call")
}

func TestNoTokenSourceSendsNoAuthorization(t *testing.T) {
	srv := newFake(t)
	_, err := consumer(t, srv).Search(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	assert.Empty(t, srv.Requests()[0].Header.Get("Authorization"))
}

func TestRefusedTokenIsUnauthorized(t *testing.T) {
	srv := newFake(t, nrlstest.WithTokenValidator(func(string) error { return errors.New("expired") }))
	c := consumer(t, srv, nrls.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "old"})))
	_, err := c.Search(ctx, pdstest.Patients.Normal)
	assert.ErrorIs(t, err, shcrkit.ErrUnauthorized)
	var ae *shcrkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "ACCESS_DENIED", ae.Code)
	assert.Equal(t, http.StatusUnauthorized, ae.StatusCode)
}

func TestGet(t *testing.T) {
	srv := newFake(t)
	c := consumer(t, srv)
	want := srv.Pointers(pdstest.Patients.Normal)[0]

	p, err := c.Get(ctx, want.ID)
	require.NoError(t, err)
	assert.Equal(t, want.ID, p.ID)
	assert.Equal(t, want.URL, p.URL)
	assert.Equal(t, pdstest.Patients.Normal, p.NHSNumber)
	assert.Equal(t, nrls.ConsumerPath+"/DocumentReference/"+want.ID, srv.Requests()[0].Path)
	assert.Equal(t, http.MethodGet, srv.Requests()[0].Method)

	_, err = c.Get(ctx, "RNR-does-not-exist")
	assert.ErrorIs(t, err, shcrkit.ErrNotFound)
	var ae *shcrkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "NO_RECORD_FOUND", ae.Code)

	for _, bad := range []string{"", "a/b", "RNR-1?x=y", strings.Repeat("a", 65)} {
		_, err = c.Get(ctx, bad)
		assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest, bad)
	}
	assert.Len(t, srv.Requests(), 2, "bad IDs never reach the service")
}

func TestGetForbiddenType(t *testing.T) {
	srv := newFake(t, nrlstest.WithConsumerTypes(nrlstest.ConsumerODS, nrls.TypeMentalHealthCrisisPlan))
	c := consumer(t, srv)
	var eolcp string
	for _, p := range srv.Pointers(pdstest.Patients.Normal) {
		if p.Type.Code == nrls.TypeEndOfLifeCarePlan {
			eolcp = p.ID
		}
	}
	require.NotEmpty(t, eolcp)
	_, err := c.Get(ctx, eolcp)
	assert.ErrorIs(t, err, shcrkit.ErrForbidden)
	var ae *shcrkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "ACCESS DENIED", ae.Code)
}

// rawServer answers every request with status, content type and body.
func rawServer(t *testing.T, status int, contentType, body string, opts ...nrls.Option) *nrls.Client {
	t.Helper()
	return rawServerFunc(t, func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}, "Y90001", opts...)
}

// rawServerFunc is a client, for organisation org, of a server answering
// with h.
func rawServerFunc(t *testing.T, h http.HandlerFunc, org shcrkit.ODSCode, opts ...nrls.Option) *nrls.Client {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	opts = append([]nrls.Option{nrls.WithEndUserOrganisation(org), nrls.WithMaxAttempts(1)}, opts...)
	c, err := nrls.NewClient(ts.URL+nrls.ConsumerPath, opts...)
	require.NoError(t, err)
	return c
}

func TestGetRejectsOddAnswers(t *testing.T) {
	tests := []struct {
		name, ct, body string
		want           error
	}{
		{"another pointer", "application/fhir+json", pointerJSON, shcrkit.ErrMalformedResponse},
		{"an outcome", "application/fhir+json", `{"resourceType":"OperationOutcome","issue":[]}`, shcrkit.ErrMalformedResponse},
		{"HTML", "text/html", "<html></html>", shcrkit.ErrMalformedResponse},
		{"truncated", "application/fhir+json", pointerJSON[:200], shcrkit.ErrMalformedResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rawServer(t, http.StatusOK, tt.ct, tt.body).Get(ctx, "RNR-other")
			assert.ErrorIs(t, err, tt.want)
		})
	}
	p, err := rawServer(t, http.StatusOK, "application/fhir+json;version=1", pointerJSON).Get(ctx, "RNR-7d1f")
	require.NoError(t, err)
	assert.Equal(t, "RNR-7d1f", p.ID)

	stray := strings.Replace(pointerJSON, `"docStatus": "final"`, `"docStatus": "final "`, 1)
	p, err = rawServer(t, http.StatusOK, "application/fhir+json", stray).Get(ctx, "RNR-7d1f")
	require.NoError(t, err, "a stored pointer with a stray code is still read")
	assert.Equal(t, "RNR-7d1f", p.ID)

	broken := strings.Replace(pointerJSON, `"status": "current"`, `"status": "gone"`, 1)
	_, err = rawServer(t, http.StatusOK, "application/fhir+json", broken).Get(ctx, "RNR-7d1f")
	assert.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
}

func TestErrorsHideNHSNumbers(t *testing.T) {
	body := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid",
		"details":{"coding":[{"code":"INVALID_NHS_NUMBER"}]},"diagnostics":"NHS number 9490000019 is not valid"}]}`
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := rawServer(t, http.StatusBadRequest, "application/fhir+json", body, nrls.WithLogger(logger), nrls.WithSearchGET())
	_, err := c.Search(ctx, testNHS)
	require.Error(t, err)
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	assert.NotContains(t, err.Error(), string(testNHS))
	assert.NotEmpty(t, logs.String())
	assert.NotContains(t, logs.String(), string(testNHS), "the GET query string is not logged")
}

// productionConsumerURL is the live consumer service root; no test sends
// anything there.
const productionConsumerURL = "https://api.service.nhs.uk" + nrls.ConsumerPath

// TestClientNotMadeByNewClient: a nil Client, or its zero value, fails
// every call with an error matching shcrkit.ErrInvalidOption instead of
// panicking.
func TestClientNotMadeByNewClient(t *testing.T) {
	ctx := t.Context()
	nhs := shcrkit.NHSNumber("9434765919")
	for name, c := range map[string]*nrls.Client{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Get(ctx, "abc")
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			_, err = c.Search(ctx, nhs)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			_, err = c.SearchAll(ctx, nhs)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			_, err = c.SearchRequestText(nhs)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			_, err = c.Count(ctx, nhs)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			_, err = c.Create(ctx, nrls.Pointer{})
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			_, err = c.Supersede(ctx, nrls.Pointer{}, "old")
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			assert.ErrorIs(t, c.Update(ctx, nrls.Pointer{}), shcrkit.ErrInvalidOption)
			assert.ErrorIs(t, c.Delete(ctx, "abc"), shcrkit.ErrInvalidOption)
		})
	}
}

// TestNilContextIsRefused: calls with a nil context fail with
// shcrkit.ErrInvalidRequest before any request, instead of panicking.
func TestNilContextIsRefused(t *testing.T) {
	srv := nrlstest.NewServer()
	defer srv.Close()
	c := srv.Client()
	var ctx context.Context
	_, err := c.Search(ctx, shcrkit.NHSNumber("9434765919"))
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	_, err = c.Get(ctx, "abc")
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	_, err = c.Count(ctx, shcrkit.NHSNumber("9434765919"))
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	assert.Empty(t, srv.Requests())
}
