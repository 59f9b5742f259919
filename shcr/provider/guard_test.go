package provider_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	audience      = "https://shcr.north.example/fhir"
	typeCarePlan  = "887701000000100"
	typeCrisis    = "736253002"
	patientNormal = shcrkit.NHSNumber("9434765919")
)

var (
	testRSA = mustRSA()
	testEC  = mustEC()
)

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// eastmoorDoctor is a doctor at Eastmoor University Hospitals (RE1, of
// the Eastmoor ShCR QEM, which has an agreement with North Riverside).
func eastmoorDoctor() shcrkit.Requester {
	return shcrkit.Requester{
		UserID: "555000000201", Name: "Dr Ola Brennan", RoleProfileID: "555000000202",
		RoleCode: "S8000:G8000:R8000", RoleName: "Medical Practitioner", Activities: []string{"B0360"},
		Organisation: "RE1", OrganisationName: "Eastmoor University Hospitals NHS Trust",
		System: shcrkit.System{Name: "Eastmoor Portal", Version: "2.0", ASID: "200000000301"},
	}
}

// fixture is a Guard in front of a handler that serves a few records,
// with a clock the test moves.
type fixture struct {
	t       *testing.T
	now     time.Time
	sink    *audittest.Recorder
	guard   *provider.Guard
	handler http.Handler
	served  atomic.Int64
	records map[string]provider.Target
}

func newFixture(t *testing.T, edit ...func(*provider.Config)) *fixture {
	f := &fixture{t: t, now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), sink: audittest.NewRecorder()}
	f.records = map[string]provider.Target{
		"care-plan":  {Resource: "DocumentReference/care-plan", Patient: patientNormal, PatientFamily: "Mills", RecordType: typeCarePlan},
		"crisis":     {Resource: "DocumentReference/crisis", Patient: patientNormal, RecordType: typeCrisis},
		"restricted": {Resource: "DocumentReference/restricted", Patient: patientNormal, RecordType: typeCarePlan, PatientConfidentiality: shcrkit.ConfidentialityRestricted},
		"dissent":    {Resource: "DocumentReference/dissent", Patient: patientNormal, RecordType: typeCarePlan, Dissent: true},
	}
	cfg := provider.Config{
		Policy:   samplepolicy.Load(),
		Audit:    f.sink,
		Audience: audience,
		Resolver: provider.ResolverFunc(func(r *http.Request) (provider.Target, error) {
			id := strings.TrimPrefix(r.URL.Path, "/fhir/DocumentReference/")
			t, ok := f.records[id]
			if !ok {
				return provider.Target{Resource: "DocumentReference/" + id}, provider.ErrNotServed
			}
			return t, nil
		}),
		Consumers: []provider.Consumer{
			{Name: "Eastmoor ShCR", ShCR: "QEM", Signing: auth.RS256, Key: &testRSA.PublicKey},
			{Name: "Westhaven Care Record", ShCR: "QWH", Signing: auth.ES256, Key: &testEC.PublicKey},
		},
		Now: func() time.Time { return f.now },
	}
	for _, e := range edit {
		e(&cfg)
	}
	g, err := provider.New(cfg)
	require.NoError(t, err)
	f.guard = g
	f.handler = g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := provider.AccessFrom(r.Context())
		if !ok {
			http.Error(w, "no access", http.StatusInternalServerError)
			return
		}
		f.served.Add(1)
		body, err := a.Redact([]byte(`{"resourceType":"Patient","id":"x","address":[{"city":"Leeds"}],"name":[{"family":"Mills"}]}`))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		w.Header().Set("X-Decided-By", a.Decision.Rule)
		w.Header().Set("X-Consumer", string(a.ShCR))
		_, _ = w.Write(body)
	}))
	return f
}

// identity signs an identity token for r at the fixture's time.
func (f *fixture) identity(r shcrkit.Requester, edit ...func(*identitytoken.Claims)) string {
	c := identitytoken.New(r, shcrkit.PurposeDirectCare, audience, "https://eastmoor.example", false, f.now)
	for _, e := range edit {
		e(&c)
	}
	id := shcr.Identity{Signing: auth.RS256, Key: testRSA}
	if r.Organisation == "RW1" {
		id = shcr.Identity{Signing: auth.ES256, Key: testEC}
	}
	tok, err := identitytoken.Sign(id.Signing, id.Key, id.KeyID, c)
	require.NoError(f.t, err)
	return tok
}

func (f *fixture) get(record, token string, header ...string) *http.Response {
	req := httptest.NewRequest(http.MethodGet, "https://shcr.north.example/fhir/DocumentReference/"+record, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("X-Request-ID", "0b9b1f9e-5a7c-4d55-9a57-1b5b8e1f0001")
	req.Header.Set("X-Correlation-ID", "journey-42")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec.Result()
}

// outcomeCode reads the Spine code of an OperationOutcome answer.
func outcomeCode(t *testing.T, resp *http.Response) string {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var o struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Details struct {
				Coding []struct{ System, Code string }
			}
		}
	}
	require.NoError(t, json.Unmarshal(body, &o), "%s", body)
	require.Equal(t, "OperationOutcome", o.ResourceType)
	require.NotEmpty(t, o.Issue)
	require.NotEmpty(t, o.Issue[0].Details.Coding)
	assert.Equal(t, "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode", o.Issue[0].Details.Coding[0].System)
	return o.Issue[0].Details.Coding[0].Code
}

func TestGuardServesAnAllowedRequestAndRecordsItFirst(t *testing.T) {
	f := newFixture(t)
	resp := f.get("care-plan", f.identity(eastmoorDoctor()))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "agreements/ISA-QRX-QEM-2025", resp.Header.Get("X-Decided-By"))
	assert.Equal(t, "QEM", resp.Header.Get("X-Consumer"))
	assert.Equal(t, "0b9b1f9e-5a7c-4d55-9a57-1b5b8e1f0001", resp.Header.Get("X-Request-ID"))
	assert.Equal(t, "journey-42", resp.Header.Get("X-Correlation-ID"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

	ev := f.sink.Events()
	require.Len(t, ev, 1)
	e := ev[0]
	assert.Equal(t, audit.OutcomeSuccess, e.Outcome)
	assert.Equal(t, audit.ActionDisclose, e.Action)
	assert.Equal(t, "0b9b1f9e-5a7c-4d55-9a57-1b5b8e1f0001", e.RequestID)
	assert.Equal(t, "journey-42", e.CorrelationID)
	assert.Equal(t, "555000000201", e.Requester.UserID)
	assert.Equal(t, shcrkit.ODSCode("RE1"), e.Requester.Organisation)
	assert.Equal(t, "S8000:G8000:R8000", e.Requester.RoleCode)
	assert.Equal(t, patientNormal, e.Patient)
	assert.Equal(t, "DocumentReference/care-plan", e.Resource)
	assert.Equal(t, shcrkit.ODSCode("QRX"), e.Custodian)
	assert.Equal(t, "agreements/ISA-QRX-QEM-2025", e.Rule)
	assert.Equal(t, shcrkit.PurposeDirectCare, e.Purpose)
}

func TestGuardRefusals(t *testing.T) {
	westhaven := eastmoorDoctor()
	westhaven.Organisation = "RW1"
	tests := []struct {
		name    string
		record  string
		token   func(f *fixture) string
		header  []string
		status  int
		code    string
		outcome audit.Outcome
	}{
		{name: "no identity token", record: "care-plan", token: func(*fixture) string { return "" },
			status: 401, code: "ACCESS_DENIED"},
		{name: "malformed token", record: "care-plan", token: func(*fixture) string { return "not.a.jwt" },
			status: 403, code: "ACCESS_DENIED"},
		{name: "signed with another key", record: "care-plan", token: func(f *fixture) string {
			c := identitytoken.New(eastmoorDoctor(), shcrkit.PurposeDirectCare, audience, "x", false, f.now)
			tok, err := identitytoken.Sign(auth.RS256, mustRSA(), "", c)
			require.NoError(t, err)
			return tok
		}, status: 403, code: "ACCESS_DENIED"},
		{name: "unsigned from a consumer that signs", record: "care-plan", token: func(f *fixture) string {
			c := identitytoken.New(eastmoorDoctor(), shcrkit.PurposeDirectCare, audience, "x", false, f.now)
			tok, err := identitytoken.Sign("", nil, "", c)
			require.NoError(t, err)
			return tok
		}, status: 403, code: "ACCESS_DENIED"},
		{name: "another audience", record: "care-plan", token: func(f *fixture) string {
			return f.identity(eastmoorDoctor(), func(c *identitytoken.Claims) { c.Audience = "https://elsewhere.example/fhir" })
		}, status: 403, code: "ACCESS_DENIED"},
		{name: "expired", record: "care-plan", token: func(f *fixture) string {
			return f.identity(eastmoorDoctor(), func(c *identitytoken.Claims) { c.IssuedAt -= 600; c.ExpiresAt -= 600 })
		}, status: 403, code: "ACCESS_DENIED"},
		{name: "organisation of no consumer", record: "care-plan", token: func(f *fixture) string {
			r := eastmoorDoctor()
			r.Organisation = "RS1"
			return f.identity(r)
		}, status: 403, code: "ACCESS_DENIED"},
		{name: "organisation header differs", record: "care-plan", token: func(f *fixture) string { return f.identity(eastmoorDoctor()) },
			header: []string{"NHSD-End-User-Organisation-ODS", "RE9"}, status: 403, code: "ACCESS_DENIED"},
		{name: "record not served", record: "nothing", token: func(f *fixture) string { return f.identity(eastmoorDoctor()) },
			status: 404, code: "NO_RECORD_FOUND"},
		{name: "agreement does not cover the category", record: "crisis", token: func(f *fixture) string { return f.identity(westhaven) },
			status: 403, code: "ACCESS_DENIED"},
		{name: "role without the category", record: "care-plan", token: func(f *fixture) string {
			r := eastmoorDoctor()
			r.RoleCode, r.Activities = "S8000:G8000:R8008", nil
			return f.identity(r)
		}, status: 403, code: "ACCESS_DENIED"},
		{name: "dissent", record: "dissent", token: func(f *fixture) string { return f.identity(eastmoorDoctor()) },
			status: 403, code: "ACCESS_DENIED"},
		{name: "restricted patient under conf/N", record: "restricted", token: func(f *fixture) string { return f.identity(eastmoorDoctor()) },
			status: 403, code: "ACCESS_DENIED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			resp := f.get(tt.record, tt.token(f), tt.header...)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.code, outcomeCode(t, resp))
			assert.Zero(t, f.served.Load(), "nothing is served")
			ev := f.sink.Events()
			require.Len(t, ev, 1, "the refusal is recorded")
			assert.Equal(t, audit.OutcomeRefused, ev[0].Outcome)
			assert.Equal(t, tt.code, ev[0].ErrorCode)
			assert.Equal(t, "0b9b1f9e-5a7c-4d55-9a57-1b5b8e1f0001", ev[0].RequestID)
			assert.Equal(t, "journey-42", ev[0].CorrelationID)
			assert.NotContains(t, ev[0].Reason, string(patientNormal))
		})
	}
}

func TestGuardRefusesAReplayedIdentityToken(t *testing.T) {
	f := newFixture(t)
	tok := f.identity(eastmoorDoctor())
	require.Equal(t, http.StatusOK, f.get("care-plan", tok).StatusCode)
	resp := f.get("care-plan", tok)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Contains(t, f.sink.Events()[1].Reason, "replay")
	// Once the token has expired it is refused as expired, and forgotten.
	f.now = f.now.Add(10 * time.Minute)
	assert.Equal(t, http.StatusForbidden, f.get("care-plan", tok).StatusCode)
	assert.Contains(t, f.sink.Events()[2].Reason, "expired")
}

func TestGuardAllowsReuseWithinTheConsumersBound(t *testing.T) {
	f := newFixture(t, func(c *provider.Config) { c.Consumers[0].IdentityReuse = 3 })
	tok := f.identity(eastmoorDoctor())
	for range 3 {
		require.Equal(t, http.StatusOK, f.get("care-plan", tok).StatusCode)
	}
	assert.Equal(t, http.StatusForbidden, f.get("care-plan", tok).StatusCode)
}

func TestGuardRefusesAReusedTokenOnceExpired(t *testing.T) {
	// A reused token is verified once and its claims kept; their times
	// are still checked at every presentation.
	f := newFixture(t, func(c *provider.Config) { c.Consumers[0].IdentityReuse = 100 })
	tok := f.identity(eastmoorDoctor())
	for range 2 {
		require.Equal(t, http.StatusOK, f.get("care-plan", tok).StatusCode)
	}
	f.now = f.now.Add(10 * time.Minute)
	assert.Equal(t, http.StatusForbidden, f.get("care-plan", tok).StatusCode)
	events := f.sink.Events()
	assert.Contains(t, events[len(events)-1].Reason, "expired")
	// A token made now is served again.
	assert.Equal(t, http.StatusOK, f.get("care-plan", f.identity(eastmoorDoctor())).StatusCode)
}

func TestGuardRateLimitsEachOrganisation(t *testing.T) {
	f := newFixture(t, func(c *provider.Config) { c.RateLimit = provider.RateLimit{Rate: 1, Burst: 2} })
	for range 2 {
		require.Equal(t, http.StatusOK, f.get("care-plan", f.identity(eastmoorDoctor())).StatusCode)
	}
	resp := f.get("care-plan", f.identity(eastmoorDoctor()))
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "TOO_MANY_REQUESTS", outcomeCode(t, resp))
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	// Another organisation has its own bucket.
	other := eastmoorDoctor()
	other.Organisation = "Y23456"
	assert.Equal(t, http.StatusOK, f.get("care-plan", f.identity(other)).StatusCode)
	// A second later the first has a token again.
	f.now = f.now.Add(time.Second)
	assert.Equal(t, http.StatusOK, f.get("care-plan", f.identity(eastmoorDoctor())).StatusCode)
}

func TestGuardServesNothingWhenTheAuditSinkFails(t *testing.T) {
	f := newFixture(t)
	f.sink.FailWith(errors.New("disk full"))
	resp := f.get("care-plan", f.identity(eastmoorDoctor()))
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "SERVICE_UNAVAILABLE", outcomeCode(t, resp))
	assert.Zero(t, f.served.Load())
}

func TestGuardPassesObligationsToTheHandler(t *testing.T) {
	f := newFixture(t)
	tok := f.identity(eastmoorDoctor(), func(c *identitytoken.Claims) { c.RequestedScope = identitytoken.ScopeRestricted })
	resp := f.get("restricted", tok)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.NotContains(t, string(body), "Leeds", "the address is redacted")
	assert.Contains(t, string(body), "Mills")
	assert.Contains(t, f.sink.Events()[0].Reason, "redact")
}

func TestGuardAlertObligation(t *testing.T) {
	// Break-glass overriding the missing agreement with Southdale, in a
	// policy that allows it and alerts.
	yaml := strings.Replace(string(samplepolicy.YAML()), "overrides_missing_agreement: false", "overrides_missing_agreement: true\n  obligations:\n    alert_privacy_officer: B0015", 1)
	policy, err := rbac.LoadPolicy(strings.NewReader(yaml))
	require.NoError(t, err)
	southdale := eastmoorDoctor()
	southdale.Organisation = "RS1"
	var alerts atomic.Int64
	for _, hook := range []bool{false, true} {
		f := newFixture(t, func(c *provider.Config) {
			c.Policy = policy
			c.Consumers = append(c.Consumers, provider.Consumer{Name: "Southdale", ShCR: "QSD", Signing: auth.RS256, Key: &testRSA.PublicKey})
			if hook {
				c.Alert = func(_ context.Context, a *provider.Access, o rbac.Obligation) error {
					assert.Equal(t, "B0015", o.Activity)
					alerts.Add(1)
					return nil
				}
			}
		})
		tok := f.identity(southdale, func(c *identitytoken.Claims) { c.PurposeOfUse = "BTG" })
		resp := f.get("care-plan", tok)
		if hook {
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, int64(1), alerts.Load())
		} else {
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "no alert hook: withheld")
		}
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := provider.New(provider.Config{
		Consumers: []provider.Consumer{{ShCR: "QEM", Signing: auth.RS256}, {ShCR: "nope!"}},
	})
	require.ErrorIs(t, err, provider.ErrInvalidConfig)
	for _, want := range []string{"Policy", "Audit", "Resolver", "Audience", "need a key", "not a valid ODS code"} {
		assert.Contains(t, err.Error(), want)
	}
}

// TestGuardNotMadeByNewServesNothing: a nil or zero Guard, or a Guard
// wrapping no handler, answers every request 503 with an
// OperationOutcome and calls nothing behind it.
func TestGuardNotMadeByNewServesNothing(t *testing.T) {
	served := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("the handler was called") })
	f := newFixture(t)
	for name, h := range map[string]http.Handler{
		"nil":        (*provider.Guard)(nil).Wrap(served),
		"zero":       (&provider.Guard{}).Wrap(served),
		"no handler": f.guard.Wrap(nil),
	} {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/DocumentReference/care-plan", nil))
			assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.Contains(t, rec.Body.String(), `"resourceType":"OperationOutcome"`)
			assert.Contains(t, rec.Body.String(), provider.CodeUnavailable)
		})
	}
}

// A token is used up only by an access served: a consumer retrying after
// a 429 or a 503 presents the same identity token, as an HTTP client's
// retry sends the same request.
func TestGuardTokenIsUsedUpOnlyByAnAccessServed(t *testing.T) {
	t.Run("rate limited, then retried", func(t *testing.T) {
		f := newFixture(t, func(c *provider.Config) { c.RateLimit = provider.RateLimit{Rate: 1, Burst: 1} })
		require.Equal(t, http.StatusOK, f.get("care-plan", f.identity(eastmoorDoctor())).StatusCode)
		tok := f.identity(eastmoorDoctor())
		require.Equal(t, http.StatusTooManyRequests, f.get("care-plan", tok).StatusCode)
		f.now = f.now.Add(time.Second)
		assert.Equal(t, http.StatusOK, f.get("care-plan", tok).StatusCode, "the retry is served")
		f.now = f.now.Add(time.Second)
		assert.Equal(t, http.StatusForbidden, f.get("care-plan", tok).StatusCode, "once served, it is a replay")
		assert.Equal(t, int64(2), f.served.Load())
	})
	t.Run("audit sink failing, then retried", func(t *testing.T) {
		f := newFixture(t)
		tok := f.identity(eastmoorDoctor())
		f.sink.FailWith(errors.New("disk full"))
		require.Equal(t, http.StatusServiceUnavailable, f.get("care-plan", tok).StatusCode)
		f.sink.FailWith(nil)
		assert.Equal(t, http.StatusOK, f.get("care-plan", tok).StatusCode, "the retry is served")
		resp := f.get("care-plan", tok)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.Equal(t, int64(1), f.served.Load())
	})
	t.Run("record not served, then another", func(t *testing.T) {
		f := newFixture(t)
		tok := f.identity(eastmoorDoctor())
		require.Equal(t, http.StatusNotFound, f.get("no-such-record", tok).StatusCode)
		assert.Equal(t, http.StatusOK, f.get("care-plan", tok).StatusCode)
	})
}

// A replayed token is refused before any obligation is met: no Privacy
// Officer alert goes out for it.
func TestGuardReplayRaisesNoAlert(t *testing.T) {
	yaml := strings.Replace(string(samplepolicy.YAML()), "overrides_missing_agreement: false", "overrides_missing_agreement: true\n  obligations:\n    alert_privacy_officer: B0015", 1)
	policy, err := rbac.LoadPolicy(strings.NewReader(yaml))
	require.NoError(t, err)
	southdale := eastmoorDoctor()
	southdale.Organisation = "RS1"
	var alerts atomic.Int64
	f := newFixture(t, func(c *provider.Config) {
		c.Policy = policy
		c.Consumers = append(c.Consumers, provider.Consumer{Name: "Southdale", ShCR: "QSD", Signing: auth.RS256, Key: &testRSA.PublicKey})
		c.Alert = func(context.Context, *provider.Access, rbac.Obligation) error {
			alerts.Add(1)
			return nil
		}
	})
	tok := f.identity(southdale, func(c *identitytoken.Claims) { c.PurposeOfUse = "BTG" })
	require.Equal(t, http.StatusOK, f.get("care-plan", tok).StatusCode)
	require.Equal(t, http.StatusForbidden, f.get("care-plan", tok).StatusCode)
	assert.Equal(t, int64(1), alerts.Load(), "the replay alerted nobody")
}

// A plug-in that panics (the Resolver, a TokenVerifier, the Alert hook)
// fails the request closed: answered 503, recorded, nothing served.
func TestGuardSurvivesAPanickingPlugIn(t *testing.T) {
	for name, edit := range map[string]func(*provider.Config){
		"resolver": func(c *provider.Config) {
			c.Resolver = provider.ResolverFunc(func(*http.Request) (provider.Target, error) { panic("resolver bug 9434765919") })
		},
		"token verifier": func(c *provider.Config) {
			c.AccessTokens = provider.TokenVerifierFunc(func(context.Context, string) (provider.AccessToken, error) { panic("verifier bug") })
			c.Consumers[0].ClientIDs = []string{"eastmoor-portal"}
			c.Consumers[1].ClientIDs = []string{"westhaven-app"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, edit)
			var resp *http.Response
			if name == "resolver" {
				resp = f.get("care-plan", f.identity(eastmoorDoctor()))
			} else {
				resp = f.get("care-plan", "access-1", identitytoken.DefaultHeader, f.identity(eastmoorDoctor()))
			}
			assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
			assert.Equal(t, "SERVICE_UNAVAILABLE", outcomeCode(t, resp))
			assert.Zero(t, f.served.Load())
			events := f.sink.Events()
			require.Len(t, events, 1, "the request is recorded")
			assert.Equal(t, audit.OutcomeFailed, events[0].Outcome)
			assert.NotContains(t, events[0].Reason, "9434765919")
		})
	}
}
