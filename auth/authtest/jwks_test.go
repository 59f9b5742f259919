package authtest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/auth/authtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS512", "n": b64(k.N.Bytes()),
		"e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]any {
	raw, _ := k.Bytes()
	return map[string]any{"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}
}

func keySet(keys ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// TestRegisterJWKS registers a published key set and gets tokens with
// assertions signed by each key in it.
func TestRegisterJWKS(t *testing.T) {
	srv := authtest.NewServer(authtest.WithAlgorithms(auth.RS512, auth.ES256))
	defer srv.Close()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	kids, err := srv.RegisterJWKS("tester-app", keySet(rsaJWK("rsa-1", &rk.PublicKey), ecJWK("ec-1", &ek.PublicKey)))
	require.NoError(t, err)
	assert.Equal(t, []string{"rsa-1", "ec-1"}, kids)

	for _, tt := range []struct {
		kid string
		key any
		alg auth.Algorithm
	}{{"rsa-1", rk, auth.RS512}, {"ec-1", ek, auth.ES256}} {
		cfg := auth.SignedJWTConfig{APIKey: "tester-app", KeyID: tt.kid, TokenURL: srv.TokenURL(), HTTPClient: srv.HTTPClient(), Algorithm: tt.alg}
		switch k := tt.key.(type) {
		case *rsa.PrivateKey:
			cfg.PrivateKey = k
		case *ecdsa.PrivateKey:
			cfg.PrivateKey = k
		}
		ts, err := auth.NewSignedJWT(cfg)
		require.NoError(t, err)
		tok, err := ts.Token()
		require.NoError(t, err, tt.kid)
		assert.NoError(t, srv.Validate(tok.AccessToken))
	}
}

func TestRegisterJWKSRefusals(t *testing.T) {
	srv := authtest.NewServer()
	defer srv.Close()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	good := rsaJWK("k", &rk.PublicKey)
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range good {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	offCurve := ecJWK("e", &ek.PublicKey)
	offCurve["y"] = offCurve["x"]
	for name, body := range map[string][]byte{
		"not JSON":      []byte("keys"),
		"no keys":       []byte(`{"keys":[]}`),
		"no kid":        keySet(with("kid", nil)),
		"private":       keySet(with("d", "AQAB")),
		"encryption":    keySet(with("use", "enc")),
		"octet":         keySet(with("kty", "oct")),
		"short modulus": keySet(rsaJWK("s", &small.PublicKey)),
		"even exponent": keySet(with("e", b64([]byte{2}))),
		"bad base64":    keySet(with("n", "!!")),
		"off curve":     keySet(offCurve),
		"duplicate kid": keySet(good, good),
	} {
		_, err := srv.RegisterJWKS("app", body)
		assert.ErrorIs(t, err, authtest.ErrInvalidJWKS, name)
	}
	_, err = srv.RegisterJWKS("", keySet(good))
	assert.ErrorIs(t, err, authtest.ErrInvalidJWKS)
}

// TestAudienceAsCalledThroughProxy: behind a reverse proxy that says where
// the client called, an assertion whose aud is that URL is accepted, and
// one naming another URL is not.
func TestAudienceAsCalledThroughProxy(t *testing.T) {
	srv := authtest.NewServer()
	defer srv.Close()
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)
	front := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.SetXForwarded()
	}})
	defer front.Close()
	k := registerClient(t, srv)
	for _, tt := range []struct {
		aud  string
		want bool
	}{{front.URL + "/oauth2/token", true}, {srv.TokenURL(), true}, {"http://elsewhere.example" + "/oauth2/token", false}} {
		cfg := k
		cfg.TokenURL, cfg.HTTPClient = front.URL+"/oauth2/token", front.Client()
		cfg.Audience = tt.aud
		ts, err := auth.NewSignedJWT(cfg)
		require.NoError(t, err)
		_, err = ts.Token()
		if tt.want {
			assert.NoError(t, err, tt.aud)
		} else {
			assert.Error(t, err, tt.aud)
		}
	}
}
