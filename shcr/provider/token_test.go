package provider_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/shcr/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// issuer serves a key set that the test can rotate, and counts fetches.
type issuer struct {
	mu      sync.Mutex
	keys    map[string]crypto.PublicKey
	fetches atomic.Int64
	srv     *httptest.Server
}

func newIssuer(t *testing.T, keys map[string]crypto.PublicKey) *issuer {
	is := &issuer{keys: keys}
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		is.fetches.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		var set []map[string]string
		b64 := base64.RawURLEncoding
		for kid, k := range is.keys {
			switch k := k.(type) {
			case *rsa.PublicKey:
				set = append(set, map[string]string{"kty": "RSA", "kid": kid, "use": "sig",
					"n": b64.EncodeToString(k.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
			case *ecdsa.PublicKey:
				raw, err := k.Bytes()
				require.NoError(t, err)
				set = append(set, map[string]string{"kty": "EC", "kid": kid, "crv": "P-256",
					"x": b64.EncodeToString(raw[1:33]), "y": b64.EncodeToString(raw[33:])})
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": set})
	}))
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) rotate(keys map[string]crypto.PublicKey) {
	is.mu.Lock()
	is.keys = keys
	is.mu.Unlock()
}

func accessJWT(t *testing.T, method jwt.SigningMethod, key any, kid string, now time.Time, edit ...func(jwt.MapClaims)) string {
	c := jwt.MapClaims{"iss": "https://auth.example", "sub": "eastmoor-portal", "client_id": "eastmoor-portal",
		"aud": audience, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "scope": "patient/*.read"}
	for _, e := range edit {
		e(c)
	}
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func TestJWKSVerifierFollowsKeyRotation(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	oldKey, newKey := mustRSA(), testEC
	is := newIssuer(t, map[string]crypto.PublicKey{"k1": &oldKey.PublicKey})
	v, err := provider.NewJWKSVerifier(provider.JWKSConfig{URL: is.srv.URL, Issuer: "https://auth.example", Audience: audience,
		Now: func() time.Time { return now }, MinInterval: time.Minute})
	require.NoError(t, err)
	ctx := context.Background()

	at, err := v.VerifyAccessToken(ctx, accessJWT(t, jwt.SigningMethodRS256, oldKey, "k1", now))
	require.NoError(t, err)
	assert.Equal(t, "eastmoor-portal", at.ClientID)
	assert.Equal(t, []string{"patient/*.read"}, at.Scopes)
	_, err = v.VerifyAccessToken(ctx, accessJWT(t, jwt.SigningMethodRS256, oldKey, "k1", now))
	require.NoError(t, err)
	assert.Equal(t, int64(1), is.fetches.Load(), "the key set is cached")

	// The issuer rotates to an EC key: a token naming it makes the
	// verifier fetch again, once.
	is.rotate(map[string]crypto.PublicKey{"k2": &newKey.PublicKey})
	now = now.Add(2 * time.Minute)
	_, err = v.VerifyAccessToken(ctx, accessJWT(t, jwt.SigningMethodES256, newKey, "k2", now))
	require.NoError(t, err)
	assert.Equal(t, int64(2), is.fetches.Load())

	// The old key has left the set.
	_, err = v.VerifyAccessToken(ctx, accessJWT(t, jwt.SigningMethodRS256, oldKey, "k1", now))
	require.ErrorIs(t, err, provider.ErrAccessToken)

	// Made-up key IDs do not make it fetch more than once a minute.
	for range 5 {
		_, err = v.VerifyAccessToken(ctx, accessJWT(t, jwt.SigningMethodRS256, oldKey, "made-up", now))
		require.ErrorIs(t, err, provider.ErrAccessToken)
	}
	assert.LessOrEqual(t, is.fetches.Load(), int64(3))
}

func TestJWKSVerifierRefusals(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	key := mustRSA()
	is := newIssuer(t, map[string]crypto.PublicKey{"k1": &key.PublicKey})
	v, err := provider.NewJWKSVerifier(provider.JWKSConfig{URL: is.srv.URL, Issuer: "https://auth.example", Audience: audience,
		Now: func() time.Time { return now }})
	require.NoError(t, err)
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": "https://auth.example", "exp": now.Add(time.Minute).Unix()}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	tests := map[string]string{
		"expired":      accessJWT(t, jwt.SigningMethodRS256, key, "k1", now.Add(-time.Hour)),
		"other issuer": accessJWT(t, jwt.SigningMethodRS256, key, "k1", now, func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }),
		"other aud":    accessJWT(t, jwt.SigningMethodRS256, key, "k1", now, func(c jwt.MapClaims) { c["aud"] = "https://other.example" }),
		"no exp":       accessJWT(t, jwt.SigningMethodRS256, key, "k1", now, func(c jwt.MapClaims) { delete(c, "exp") }),
		"no kid":       accessJWT(t, jwt.SigningMethodRS256, key, "", now),
		"wrong key":    accessJWT(t, jwt.SigningMethodRS256, mustRSA(), "k1", now),
		"alg none":     none,
		"garbage":      "abc",
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := v.VerifyAccessToken(context.Background(), tok)
			require.ErrorIs(t, err, provider.ErrAccessToken)
			assert.NotContains(t, err.Error(), tok)
		})
	}
}

func TestJWKSVerifierUnreachableIssuerIsNotARefusal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer srv.Close()
	now := time.Now()
	v, err := provider.NewJWKSVerifier(provider.JWKSConfig{URL: srv.URL, Issuer: "https://auth.example"})
	require.NoError(t, err)
	_, err = v.VerifyAccessToken(context.Background(), accessJWT(t, jwt.SigningMethodRS256, testRSA, "k1", now))
	require.Error(t, err)
	assert.NotErrorIs(t, err, provider.ErrAccessToken)
}

func TestIntrospector(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "north" || pass != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		require.NoError(t, r.ParseForm())
		switch r.PostForm.Get("token") {
		case "good":
			_ = json.NewEncoder(w).Encode(map[string]any{"active": true, "client_id": "eastmoor-portal", "iss": "https://auth.example",
				"scope": "a b", "exp": now.Add(time.Minute).Unix()})
		case "stale":
			_ = json.NewEncoder(w).Encode(map[string]any{"active": true, "client_id": "eastmoor-portal", "iss": "https://auth.example",
				"exp": now.Add(-time.Minute).Unix()})
		case "foreign":
			_ = json.NewEncoder(w).Encode(map[string]any{"active": true, "client_id": "x", "iss": "https://evil.example"})
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{"active": false})
		}
	}))
	defer srv.Close()
	in, err := provider.NewIntrospector(provider.IntrospectionConfig{URL: srv.URL, ClientID: "north", ClientSecret: "s3cret",
		Issuer: "https://auth.example", Now: func() time.Time { return now }})
	require.NoError(t, err)
	at, err := in.VerifyAccessToken(context.Background(), "good")
	require.NoError(t, err)
	assert.Equal(t, "eastmoor-portal", at.ClientID)
	assert.Equal(t, []string{"a", "b"}, at.Scopes)
	for _, tok := range []string{"stale", "foreign", "revoked", ""} {
		_, err := in.VerifyAccessToken(context.Background(), tok)
		assert.ErrorIs(t, err, provider.ErrAccessToken, tok)
	}
	// A token the issuer gave for another API.
	aud := map[string]any{}
	audSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		ans := map[string]any{"active": true, "client_id": "eastmoor-portal", "exp": now.Add(time.Minute).Unix()}
		if a, ok := aud[r.PostForm.Get("token")]; ok {
			ans["aud"] = a
		}
		_ = json.NewEncoder(w).Encode(ans)
	}))
	defer audSrv.Close()
	aud["ours"], aud["ours-among"] = "https://shcr.north.example/fhir", []string{"https://other.example", "https://shcr.north.example/fhir"}
	aud["theirs"], aud["theirs-among"], aud["odd"] = "https://other.example", []string{"https://other.example"}, 42
	withAud, err := provider.NewIntrospector(provider.IntrospectionConfig{URL: audSrv.URL, Audience: "https://shcr.north.example/fhir",
		Now: func() time.Time { return now }})
	require.NoError(t, err)
	for _, tok := range []string{"ours", "ours-among"} {
		_, err := withAud.VerifyAccessToken(context.Background(), tok)
		assert.NoError(t, err, tok)
	}
	for _, tok := range []string{"theirs", "theirs-among", "odd", "no-aud"} {
		_, err := withAud.VerifyAccessToken(context.Background(), tok)
		assert.ErrorIs(t, err, provider.ErrAccessToken, tok)
	}

	bad, err := provider.NewIntrospector(provider.IntrospectionConfig{URL: srv.URL, ClientID: "north", ClientSecret: "wrong"})
	require.NoError(t, err)
	_, err = bad.VerifyAccessToken(context.Background(), "good")
	require.Error(t, err)
	assert.NotErrorIs(t, err, provider.ErrAccessToken, "a failing endpoint is not a refusal of the token")
}

func TestGuardWithAccessTokens(t *testing.T) {
	tokens := map[string]provider.AccessToken{"eastmoor": {ClientID: "eastmoor-portal"}, "stranger": {ClientID: "someone-else"}}
	f := newFixture(t, func(c *provider.Config) {
		c.AccessTokens = provider.TokenVerifierFunc(func(_ context.Context, tok string) (provider.AccessToken, error) {
			if at, ok := tokens[tok]; ok {
				return at, nil
			}
			return provider.AccessToken{}, provider.ErrAccessToken
		})
		c.Consumers[0].ClientIDs = []string{"eastmoor-portal"}
		c.Consumers[1].ClientIDs = []string{"westhaven-app"}
	})
	id := f.identity(eastmoorDoctor())
	assert.Equal(t, http.StatusOK, f.get("care-plan", "eastmoor", identitytoken.DefaultHeader, id).StatusCode)
	assert.Equal(t, http.StatusUnauthorized, f.get("care-plan", "", identitytoken.DefaultHeader, f.identity(eastmoorDoctor())).StatusCode)
	assert.Equal(t, http.StatusUnauthorized, f.get("care-plan", "forged", identitytoken.DefaultHeader, f.identity(eastmoorDoctor())).StatusCode)
	assert.Equal(t, http.StatusForbidden, f.get("care-plan", "stranger", identitytoken.DefaultHeader, f.identity(eastmoorDoctor())).StatusCode)
	assert.Equal(t, http.StatusUnauthorized, f.get("care-plan", "eastmoor").StatusCode, "no identity token")
	// An Eastmoor client presenting a Westhaven professional is refused.
	w := eastmoorDoctor()
	w.Organisation = "RW1"
	resp := f.get("care-plan", "eastmoor", identitytoken.DefaultHeader, f.identity(w))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, 6, len(f.sink.Events()), "every request is recorded")
}

// TestVerifiersNotMadeByTheirConstructors: a nil or zero JWKSVerifier or
// Introspector refuses every token with ErrInvalidConfig instead of
// panicking.
func TestVerifiersNotMadeByTheirConstructors(t *testing.T) {
	ctx := context.Background()
	for name, v := range map[string]provider.TokenVerifier{
		"nil JWKS": (*provider.JWKSVerifier)(nil), "zero JWKS": &provider.JWKSVerifier{},
		"nil introspector": (*provider.Introspector)(nil), "zero introspector": &provider.Introspector{},
	} {
		_, err := v.VerifyAccessToken(ctx, "a.b.c")
		assert.ErrorIs(t, err, provider.ErrInvalidConfig, name)
	}
}
