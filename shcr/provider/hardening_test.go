package provider_test

// Attacks on the guard and faults of the publisher: replays written
// another way, overflowing lifetimes, writes under a read scope, tokens
// in refusals, hung-up callers and zero values.

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reencodeSignature writes the last base64url character of a token's
// signature with its unused low bits flipped: the same signature bytes,
// another token string, which golang-jwt's default decoding accepts.
func reencodeSignature(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, tok[len(tok)-1])
	return tok[:len(tok)-1] + string(alphabet[i^1])
}

// flipECDSA replaces an ES256 signature (r, s) by (r, n−s), which
// verifies as well.
func flipECDSA(t *testing.T, tok string) string {
	dot := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	require.NoError(t, err)
	require.Len(t, sig, 64)
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(elliptic.P256().Params().N, s)
	out := append([]byte(nil), sig[:32]...)
	out = append(out, s.FillBytes(make([]byte, 32))...)
	return tok[:dot+1] + base64.RawURLEncoding.EncodeToString(out)
}

func TestGuardRefusesAReplayOfATokenWithoutJTIWrittenAnotherWay(t *testing.T) {
	westhaven := eastmoorDoctor()
	westhaven.Organisation = "RW1" // ES256
	for name, alter := range map[string]func(*testing.T, string) string{
		"signature re-encoded": func(_ *testing.T, tok string) string { return reencodeSignature(tok) },
		"ECDSA s flipped":      flipECDSA,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			tok := f.identity(westhaven, func(c *identitytoken.Claims) { c.ID = "" })
			require.Equal(t, http.StatusOK, f.get("care-plan", tok).StatusCode)
			again := alter(t, tok)
			require.NotEqual(t, tok, again)
			resp := f.get("care-plan", again)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the same token, written another way, is a replay")
			assert.Equal(t, int64(1), f.served.Load())
		})
	}
	t.Run("RS256 signature re-encoded", func(t *testing.T) {
		f := newFixture(t)
		tok := f.identity(eastmoorDoctor(), func(c *identitytoken.Claims) { c.ID = "" })
		require.Equal(t, http.StatusOK, f.get("care-plan", tok).StatusCode)
		assert.Equal(t, http.StatusForbidden, f.get("care-plan", reencodeSignature(tok)).StatusCode)
	})
}

func TestGuardRefusesAnIdentityTokenWhoseLifetimeOverflows(t *testing.T) {
	// exp − iat overflows int64 into a negative number: the five-minute
	// bound passed, and the token never expired (nor left the replay
	// cache).
	f := newFixture(t)
	tok := f.identity(eastmoorDoctor(), func(c *identitytoken.Claims) {
		c.IssuedAt = -9_000_000_000_000_000_000
		c.ExpiresAt = 9_000_000_000_000_000_000
	})
	assert.Equal(t, http.StatusForbidden, f.get("care-plan", tok).StatusCode)
	assert.Zero(t, f.served.Load())
}

func TestGuardKeepsTheAccessTokenOutOfARefusal(t *testing.T) {
	// Any TokenVerifier will do; one that names the token in its refusal
	// must not get it into the answer or the audit trail.
	for name, secret := range map[string]string{
		"JWT":    "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LWFjY2Vzcy10b2tlbg.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
		"opaque": "2YotnFZFEjr1zCsicMWpAA",
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, func(c *provider.Config) {
				c.Consumers[0].ClientIDs = []string{"eastmoor"}
				c.Consumers[1].ClientIDs = []string{"westhaven"}
				c.AccessTokens = provider.TokenVerifierFunc(func(_ context.Context, tok string) (provider.AccessToken, error) {
					return provider.AccessToken{}, fmt.Errorf("%w: token %s has expired", provider.ErrAccessToken, tok)
				})
			})
			resp := f.get("care-plan", secret, "X-Identity-Token", f.identity(eastmoorDoctor()))
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.NotContains(t, string(body), secret)
			ev := f.sink.Events()
			require.Len(t, ev, 1)
			assert.NotContains(t, ev[0].Reason, secret)
			assert.Contains(t, ev[0].Reason, "has expired", "the rest of the reason is kept")
		})
	}
}

func TestAccessFromANilContext(t *testing.T) {
	var ctx context.Context
	require.NotPanics(t, func() {
		a, ok := provider.AccessFrom(ctx)
		assert.False(t, ok)
		assert.Nil(t, a)
	})
}

func TestGuardServesOnlyReads(t *testing.T) {
	for method, action := range map[string]audit.Action{
		http.MethodDelete: audit.ActionDelete,
		http.MethodPut:    audit.ActionUpdate,
		http.MethodPatch:  audit.ActionUpdate,
		http.MethodPost:   audit.ActionCreate,
	} {
		t.Run(method, func(t *testing.T) {
			f := newFixture(t)
			req := httptest.NewRequest(method, "https://shcr.north.example/fhir/DocumentReference/care-plan", strings.NewReader("{}"))
			req.Header.Set("Authorization", "Bearer "+f.identity(eastmoorDoctor()))
			req.Header.Set("X-Request-ID", "0b9b1f9e-5a7c-4d55-9a57-1b5b8e1f0001")
			rec := httptest.NewRecorder()
			f.handler.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusForbidden, rec.Code)
			assert.Zero(t, f.served.Load(), "a read-scoped token does not reach the handler with a write")
			ev := f.sink.Events()
			require.Len(t, ev, 1)
			assert.Equal(t, audit.OutcomeRefused, ev[0].Outcome)
			assert.Equal(t, action, ev[0].Action, "recorded as what it tried, not as a disclosure")
		})
	}
}

func TestPublisherNotMadeByNewPublisher(t *testing.T) {
	for name, p := range map[string]*provider.Publisher{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			require.NotPanics(t, func() {
				_, err := p.Sync(context.Background(), pdstest.Patients.Minimal, nil)
				assert.ErrorIs(t, err, provider.ErrInvalidConfig)
				_, err = p.Published(context.Background(), pdstest.Patients.Minimal)
				assert.ErrorIs(t, err, provider.ErrInvalidConfig)
			})
		})
	}
}

func TestPublisherRefusesTwoWantedPointersToOneURL(t *testing.T) {
	srv, pub := newPublisher(t)
	plan := pointer(t, "plan-1", nrls.TypeContingencyPlan, "Contingency plan")
	_, err := pub.Sync(context.Background(), pdstest.Patients.Minimal, []nrls.Pointer{plan, plan})
	require.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	assert.Empty(t, urls(srv.Pointers(pdstest.Patients.Minimal)), "nothing is published twice")
}

func TestPublisherDeletesADuplicatePointer(t *testing.T) {
	// An NRL holding two pointers to one record (left by an earlier
	// fault or a second producer process) ends with one.
	srv := nrlstest.NewServer()
	t.Cleanup(srv.Close)
	nrl, err := nrls.NewClient(srv.URL+nrls.ProducerPath, nrls.WithHTTPClient(srv.HTTPClient()), nrls.WithEndUserOrganisation(brackenfield), nrls.WithMaxAttempts(1))
	require.NoError(t, err)
	plan := pointer(t, "plan-1", nrls.TypeContingencyPlan, "Contingency plan")
	for range 2 {
		_, err := nrl.Create(context.Background(), plan)
		require.NoError(t, err)
	}
	require.Len(t, urls(srv.Pointers(pdstest.Patients.Minimal)), 2)
	pub, err := provider.NewPublisher(provider.PublisherConfig{NRL: nrl, Custodian: brackenfield})
	require.NoError(t, err)
	rep, err := pub.Sync(context.Background(), pdstest.Patients.Minimal, []nrls.Pointer{plan})
	require.NoError(t, err)
	assert.Len(t, rep.Deleted, 1)
	assert.Equal(t, []string{plan.URL}, urls(srv.Pointers(pdstest.Patients.Minimal)))
}

func TestJWKSVerifierRotationSurvivesAHungUpCaller(t *testing.T) {
	// The first token naming a rotated key comes from a caller that has
	// hung up: the fetch it prompts must not fail with it, or the new key
	// is refused (401) to every caller until MinInterval has passed.
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	oldKey, newKey := mustRSA(), mustRSA()
	is := newIssuer(t, map[string]crypto.PublicKey{"k1": &oldKey.PublicKey})
	v, err := provider.NewJWKSVerifier(provider.JWKSConfig{URL: is.srv.URL, Issuer: "https://auth.example", Audience: audience,
		Now: func() time.Time { return now }, MinInterval: time.Minute})
	require.NoError(t, err)
	_, err = v.VerifyAccessToken(context.Background(), accessJWT(t, jwt.SigningMethodRS256, oldKey, "k1", now))
	require.NoError(t, err)

	is.rotate(map[string]crypto.PublicKey{"k2": &newKey.PublicKey})
	now = now.Add(2 * time.Minute)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = v.VerifyAccessToken(gone, accessJWT(t, jwt.SigningMethodRS256, newKey, "k2", now))
	_, err = v.VerifyAccessToken(context.Background(), accessJWT(t, jwt.SigningMethodRS256, newKey, "k2", now))
	assert.NoError(t, err)
}
