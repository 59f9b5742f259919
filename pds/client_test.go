package pds_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// fixture is a hand-written PDS: each request is answered by answer and
// recorded.
type fixture struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
}

func newFixture(t *testing.T, answer http.HandlerFunc) *fixture {
	t.Helper()
	f := &fixture{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, r.Clone(context.Background()))
		f.body = append(f.body, b)
		f.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fixture) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.reqs...)
}

func (f *fixture) bodies() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.body...)
}

// client returns a healthcare worker client of the fixture with quick
// retries, and opts.
func (f *fixture) client(t *testing.T, opts ...pds.Option) *pds.Client {
	t.Helper()
	base := []pds.Option{pds.WithAccessMode(pds.AccessHealthcareWorker), pds.WithRetryWait(1e6, 2e6, 1e9)}
	c, err := pds.NewClient(f.URL+"/personal-demographics/FHIR/R4", append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// reply answers with a status and a FHIR JSON body.
func reply(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/fhir+json")
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// mustNotCall fails the test if a request arrives.
func mustNotCall(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
	}
}

func TestNewClientOptions(t *testing.T) {
	const base = "https://pds.example.test/personal-demographics/FHIR/R4"
	tests := []struct {
		name    string
		baseURL string
		opts    []pds.Option
		wantErr bool
	}{
		{name: "defaults", baseURL: base},
		{name: "all options", baseURL: base, opts: []pds.Option{
			pds.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})),
			pds.WithHTTPClient(http.DefaultClient),
			pds.WithEndUserOrganisation("Y12345"),
			pds.WithSessionURID("555254240100"),
			pds.WithAccessMode(pds.AccessHealthcareWorker),
			pds.WithLogger(slog.New(slog.DiscardHandler)),
			pds.WithMaxAttempts(5),
			pds.WithMaxResponseBytes(1 << 20),
			pds.WithUserAgent("ward-app/2.1"),
		}},
		{name: "relative base URL", baseURL: "/personal-demographics", wantErr: true},
		{name: "base URL with query", baseURL: base + "?x=1", wantErr: true},
		{name: "nil option", baseURL: base, opts: []pds.Option{nil}, wantErr: true},
		{name: "nil token source", baseURL: base, opts: []pds.Option{pds.WithTokenSource(nil)}, wantErr: true},
		{name: "nil HTTP client", baseURL: base, opts: []pds.Option{pds.WithHTTPClient(nil)}, wantErr: true},
		{name: "bad ODS code", baseURL: base, opts: []pds.Option{pds.WithEndUserOrganisation("y1")}, wantErr: true},
		{name: "lower-case ODS code", baseURL: base, opts: []pds.Option{pds.WithEndUserOrganisation("y12345")}, wantErr: true},
		{name: "URID not digits", baseURL: base, opts: []pds.Option{pds.WithSessionURID("55A")}, wantErr: true},
		{name: "empty URID", baseURL: base, opts: []pds.Option{pds.WithSessionURID("")}, wantErr: true},
		{name: "unknown access mode", baseURL: base, opts: []pds.Option{pds.WithAccessMode(7)}, wantErr: true},
		{name: "zero attempts", baseURL: base, opts: []pds.Option{pds.WithMaxAttempts(0)}, wantErr: true},
		{name: "tiny response cap", baseURL: base, opts: []pds.Option{pds.WithMaxResponseBytes(10)}, wantErr: true},
		{name: "two-line user agent", baseURL: base, opts: []pds.Option{pds.WithUserAgent("a\nb")}, wantErr: true},
		{name: "nil logger", baseURL: base, opts: []pds.Option{pds.WithLogger(nil)}, wantErr: true},
		{name: "inverted retry waits", baseURL: base, opts: []pds.Option{pds.WithRetryWait(2e9, 1e9, 0)}, wantErr: true},
		{name: "telemetry without providers", baseURL: base, opts: []pds.Option{pds.WithTelemetry(nil, nil)}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := pds.NewClient(tt.baseURL, tt.opts...)
			if tt.wantErr {
				require.Error(t, err)
				assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
				assert.Nil(t, c)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, base, c.BaseURL().String())
		})
	}
}

func TestAccessModeDefaultAndString(t *testing.T) {
	c, err := pds.NewClient("https://pds.example.test")
	require.NoError(t, err)
	_, err = c.Update(context.Background(), "9000000009", "1")
	assert.ErrorIs(t, err, pds.ErrAccessMode, "application-restricted by default: no updates")
	assert.Equal(t, "application-restricted", pds.AccessApplicationRestricted.String())
	assert.Equal(t, "healthcare worker", pds.AccessHealthcareWorker.String())
	assert.Equal(t, "AccessMode(9)", pds.AccessMode(9).String())
}

func TestRequestHeaders(t *testing.T) {
	f := newFixture(t, reply(http.StatusOK, patientJSON("9490000019", "U", "3"), "ETag", `W/"3"`))
	c := f.client(t,
		pds.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "secret-token"})),
		pds.WithEndUserOrganisation("Y12345"),
		pds.WithSessionURID("555254240100"),
		pds.WithUserAgent("ward-app/2.1"),
	)
	ctx := shcrkit.WithCorrelationID(context.Background(), "corr-1")
	_, err := c.Get(ctx, "9490000019")
	require.NoError(t, err)
	_, err = c.Get(shcrkit.WithRequestID(ctx, "0f0e0d0c-0b0a-4908-8706-050403020100"), "9490000019")
	require.NoError(t, err)

	reqs := f.requests()
	require.Len(t, reqs, 2)
	h := reqs[0].Header
	assert.Equal(t, "/personal-demographics/FHIR/R4/Patient/9490000019", reqs[0].URL.Path)
	assert.Regexp(t, uuidPattern, h.Get("X-Request-ID"))
	assert.Equal(t, "corr-1", h.Get("X-Correlation-ID"))
	assert.Equal(t, "Bearer secret-token", h.Get("Authorization"))
	assert.Equal(t, "Y12345", h.Get("NHSD-End-User-Organisation-ODS"))
	assert.Equal(t, "555254240100", h.Get("NHSD-Session-URID"))
	assert.Equal(t, "application/fhir+json", h.Get("Accept"))
	assert.Contains(t, h.Get("User-Agent"), "ward-app/2.1")
	assert.Equal(t, "0f0e0d0c-0b0a-4908-8706-050403020100", reqs[1].Header.Get("X-Request-ID"))
}

func TestNoAuthorizationWithoutTokenSource(t *testing.T) {
	f := newFixture(t, reply(http.StatusOK, patientJSON("9490000019", "U", "1")))
	_, err := f.client(t).Get(context.Background(), "9490000019")
	require.NoError(t, err)
	assert.Empty(t, f.requests()[0].Header.Get("Authorization"))
}

func TestRefusedBeforeSending(t *testing.T) {
	f := newFixture(t, mustNotCall(t))
	hcw := f.client(t)
	app := f.client(t, pds.WithAccessMode(pds.AccessApplicationRestricted))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	ctx := context.Background()
	okQuery := pds.SearchQuery{Family: "Hartley", BirthDate: pds.DateRange{From: "1984-03-14", To: "1984-03-14"}}
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"get: invalid NHS number", func() error { _, err := hcw.Get(ctx, "9490000010"); return err }, shcrkit.ErrInvalidNHSNumber},
		{"get: zero NHS number", func() error { _, err := hcw.Get(ctx, ""); return err }, shcrkit.ErrInvalidNHSNumber},
		{"get: cancelled context", func() error { _, err := hcw.Get(cancelled, "9490000019"); return err }, context.Canceled},
		{"related: invalid NHS number", func() error { _, err := hcw.RelatedPersons(ctx, "123"); return err }, shcrkit.ErrInvalidNHSNumber},
		{"related: cancelled context", func() error { _, err := hcw.RelatedPersons(cancelled, "9490000019"); return err }, context.Canceled},
		{"search: cancelled context", func() error { _, err := hcw.Search(cancelled, okQuery); return err }, context.Canceled},
		{"search: invalid query", func() error { _, err := hcw.Search(ctx, pds.SearchQuery{}); return err }, pds.ErrInvalidSearch},
		{"search: application-restricted many results", func() error {
			q := okQuery
			q.MaxResults = 2
			_, err := app.Search(ctx, q)
			return err
		}, pds.ErrAccessMode},
		{"update: application-restricted", func() error {
			_, err := app.Update(ctx, "9490000019", "1", pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"})
			return err
		}, pds.ErrAccessMode},
		{"update: invalid NHS number", func() error {
			_, err := hcw.Update(ctx, "9490000010", "1", pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"})
			return err
		}, shcrkit.ErrInvalidNHSNumber},
		{"update: no version", func() error {
			_, err := hcw.Update(ctx, "9490000019", "", pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"})
			return err
		}, pds.ErrInvalidPatch},
		{"update: strong ETag", func() error {
			_, err := hcw.Update(ctx, "9490000019", `"x"`, pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"})
			return err
		}, pds.ErrInvalidPatch},
		{"update: no operations", func() error { _, err := hcw.Update(ctx, "9490000019", "1"); return err }, pds.ErrInvalidPatch},
		{"update: value that is not JSON", func() error {
			_, err := hcw.Update(ctx, "9490000019", "1", pds.PatchOp{Op: "replace", Path: "/gender", Value: func() {}})
			return err
		}, pds.ErrInvalidPatch},
		{"update: cancelled context", func() error {
			_, err := hcw.Update(cancelled, "9490000019", "1", pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"})
			return err
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			if !errors.Is(tt.want, context.Canceled) && tt.want != pds.ErrAccessMode {
				assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
			}
			var ie *pds.InputError
			if errors.As(err, &ie) {
				assert.NotContains(t, err.Error(), "949000001")
			}
		})
	}
	assert.Empty(t, f.requests())
}

// TestClientNotMadeByNewClient: a nil Client, or its zero value, fails
// every call with an error matching shcrkit.ErrInvalidOption instead of
// panicking.
func TestClientNotMadeByNewClient(t *testing.T) {
	ctx := context.Background()
	nhs := shcrkit.NHSNumber("9434765919")
	for name, c := range map[string]*pds.Client{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Get(ctx, nhs)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			_, err = c.Search(ctx, pds.SearchQuery{Family: "Smith"})
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			_, err = c.RelatedPersons(ctx, nhs)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			_, err = c.Update(ctx, nhs, "1")
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
		})
	}
}
