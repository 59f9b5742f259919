package attack

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/shcr"
)

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func signingKey(t *testing.T) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		rsaKey = k
	})
	return rsaKey
}

// target is one client of the SDK pointed at a server of the attacker's.
type target struct {
	name string
	// call makes the client's request to base; logs receives its log
	// lines, if it logs.
	call func(ctx context.Context, t *testing.T, base string, logs *slog.Logger) error
}

func staticToken() oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: accessToken})
}

// targets are every HTTP client of the SDK.
func targets() []target {
	return []target{
		{"pds", func(ctx context.Context, t *testing.T, base string, l *slog.Logger) error {
			c, err := pds.NewClient(base, pds.WithTokenSource(staticToken()), pds.WithLogger(l), pds.WithMaxAttempts(1))
			require.NoError(t, err)
			_, err = c.Get(ctx, patientNHS)
			return err
		}},
		{"nrls", func(ctx context.Context, t *testing.T, base string, l *slog.Logger) error {
			c, err := nrls.NewClient(base, nrls.WithTokenSource(staticToken()), nrls.WithLogger(l),
				nrls.WithEndUserOrganisation("RX1"), nrls.WithMaxAttempts(1))
			require.NoError(t, err)
			_, err = c.Search(ctx, patientNHS)
			return err
		}},
		{"auth token endpoint", func(ctx context.Context, t *testing.T, base string, _ *slog.Logger) error {
			s, err := auth.NewSignedJWT(auth.SignedJWTConfig{
				APIKey: apiKey, TokenURL: base + "/oauth2/token", KeyID: "k1", PrivateKey: signingKey(t),
			})
			require.NoError(t, err)
			_, err = s.Token()
			return err
		}},
		{"CIS2 token exchange", func(ctx context.Context, t *testing.T, base string, _ *slog.Logger) error {
			x, err := auth.NewTokenExchange(auth.TokenExchangeConfig{
				SignedJWTConfig: auth.SignedJWTConfig{APIKey: apiKey, TokenURL: base + "/oauth2/token", KeyID: "k1", PrivateKey: signingKey(t)},
				IDToken:         idToken,
			})
			require.NoError(t, err)
			_, err = x.Token()
			return err
		}},
		{"audit HTTP sink", func(ctx context.Context, t *testing.T, base string, l *slog.Logger) error {
			s, err := audit.NewHTTPSink(base+"/fhir", audit.HTTPConfig{MaxAttempts: 1, Logger: l})
			require.NoError(t, err)
			return s.Write(ctx, auditEvent())
		}},
		{"shcr remote", func(ctx context.Context, t *testing.T, base string, l *slog.Logger) error {
			dir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: []shcr.Endpoint{{
				Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: base + "/fhir", TokenSource: staticToken(),
			}}})
			require.NoError(t, err)
			r, err := shcr.NewRemote(dir, shcr.RemoteConfig{Logger: l, MaxAttempts: 1})
			require.NoError(t, err)
			_, err = r.Fetch(ctx, shcr.FetchRequest{Requester: requester(), Purpose: shcrkit.PurposeDirectCare,
				Pointer: pointer(t, "RN1", base+"/fhir/CarePlan/cp1")})
			return err
		}},
	}
}

func requester() shcrkit.Requester {
	return shcrkit.Requester{
		UserID: "555021935107", Name: "Dr Amara Okafor", RoleProfileID: "555021936108", RoleCode: "S8000:G8000:R8000",
		Activities: []string{"B0360", "B0380"}, Organisation: "RX1", OrganisationName: "Riverside Hospitals NHS Trust",
		System: shcrkit.System{Name: "Riverside EPR", Version: "4.2", ASID: "200000000101"},
	}
}

func auditEvent() audit.Event {
	return audit.Event{
		Time: time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC), Requester: requester(), Action: audit.ActionRead,
		Service: audit.ServicePDS, Resource: "Patient/" + patientNHS, Patient: patientNHS,
		Purpose: shcrkit.PurposeDirectCare, Outcome: audit.OutcomeSuccess,
	}
}

// pointer builds an NRL pointer to url for custodian.
func pointer(t *testing.T, custodian shcrkit.ODSCode, u string) nrls.Pointer {
	t.Helper()
	doc := map[string]any{
		"resourceType": "DocumentReference", "id": string(custodian) + "-1", "status": "current",
		"type":      map[string]any{"coding": []any{map[string]any{"system": codesystem.SNOMED, "code": nrls.TypeMentalHealthCrisisPlan, "display": "Mental health crisis plan"}}},
		"category":  []any{map[string]any{"coding": []any{map[string]any{"system": codesystem.SNOMED, "code": "734163000", "display": "Care plan"}}}},
		"subject":   map[string]any{"identifier": map[string]any{"system": codesystem.NHSNumber, "value": patientNHS}},
		"custodian": map[string]any{"identifier": map[string]any{"system": codesystem.ODS, "value": string(custodian)}},
		"author":    []any{map[string]any{"identifier": map[string]any{"system": codesystem.ODS, "value": string(custodian)}}},
		"content": []any{map[string]any{
			"attachment": map[string]any{"contentType": "application/fhir+json", "url": u, "title": "Crisis plan"},
			"format":     map[string]any{"system": codesystem.NRLFormat, "code": "urn:nhs-ic:unstructured", "display": "Unstructured Document"},
		}},
	}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	p, err := nrls.ParsePointer(b)
	require.NoError(t, err)
	return p
}

// logBuffer is a debug-level JSON logger into a buffer.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// received is what a server was sent: the credentials to look for in
// what comes back.
type received struct {
	mu      sync.Mutex
	secrets []string
	count   int
}

func (r *received) add(req *http.Request) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count++
	var got []string
	if a := req.Header.Get("Authorization"); a != "" {
		got = append(got, a)
		// The credential bare too, as a service might write it back.
		if _, cred, ok := strings.Cut(a, " "); ok {
			got = append(got, cred)
		}
	}
	for _, h := range []string{"X-Identity-Token", "Apikey", "X-Api-Key"} {
		if v := req.Header.Get(h); v != "" {
			got = append(got, v)
		}
	}
	if req.Method == http.MethodPost && req.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		if err := req.ParseForm(); err == nil {
			for _, k := range []string{"client_assertion", "subject_token"} {
				if v := req.PostForm.Get(k); v != "" {
					got = append(got, v)
				}
			}
		}
	}
	r.secrets = append(r.secrets, got...)
	echo := ""
	for _, g := range got {
		echo += " " + g + " " + url.QueryEscape(g)
	}
	return echo
}

func (r *received) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.secrets...)
}

func (r *received) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

func newServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
