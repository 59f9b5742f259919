package auth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/auth/authtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseAssertion verifies a client assertion with pub and returns its
// header and claims.
func parseAssertion(t *testing.T, assertion string, alg string, pub crypto.PublicKey) (map[string]any, jwt.MapClaims) {
	t.Helper()
	claims := jwt.MapClaims{}
	tok, err := jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithoutClaimsValidation(), jwt.WithJSONNumber()).
		ParseWithClaims(assertion, claims, func(*jwt.Token) (any, error) { return pub, nil })
	require.NoError(t, err, "assertion must verify with the public key")
	return tok.Header, claims
}

func claimInt(t *testing.T, c jwt.MapClaims, name string) int64 {
	t.Helper()
	n, ok := c[name].(interface{ Int64() (int64, error) })
	require.True(t, ok, "claim %s must be a number, got %T", name, c[name])
	v, err := n.Int64()
	require.NoError(t, err, "claim %s must be an integer", name)
	return v
}

func TestSignedJWTClientCredentials(t *testing.T) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now))
	defer srv.Close()
	key := registerClient(t, srv)

	src, err := auth.NewSignedJWTUncached(key)
	require.NoError(t, err)
	tok, err := src.Token()
	require.NoError(t, err)

	require.NoError(t, srv.Validate(tok.AccessToken), "the fake must know the token")
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.Equal(t, int64(599), tok.ExpiresIn)
	assert.Equal(t, clk.Now().Add(599*time.Second), tok.Expiry, "expiry counts from the request on the configured clock")
	issued, ok := auth.IssuedAt(tok)
	require.True(t, ok)
	assert.Equal(t, clk.Now().Truncate(time.Millisecond), issued)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "client_credentials", r.Form.Get("grant_type"))
	assert.Equal(t, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", r.Form.Get("client_assertion_type"))
	assert.False(t, r.Form.Has("scope"), "no scope unless configured")

	header, claims := parseAssertion(t, r.Form.Get("client_assertion"), "RS512", key.PrivateKey.Public())
	assert.Equal(t, "RS512", header["alg"])
	assert.Equal(t, "JWT", header["typ"])
	assert.Equal(t, key.KeyID, header["kid"])
	assert.Equal(t, key.APIKey, claims["iss"])
	assert.Equal(t, key.APIKey, claims["sub"])
	assert.Equal(t, srv.TokenURL(), claims["aud"])
	_, err = uuid.Parse(claims["jti"].(string))
	assert.NoError(t, err, "jti is a UUID")
	iat, exp := claimInt(t, claims, "iat"), claimInt(t, claims, "exp")
	assert.Equal(t, clk.Now().Unix(), iat)
	assert.Equal(t, int64(300), exp-iat, "exp is five minutes after iat")
}

func TestSignedJWTFreshJTIEachRequest(t *testing.T) {
	srv := authtest.NewServer()
	defer srv.Close()
	key := registerClient(t, srv)
	src, err := auth.NewSignedJWTUncached(key)
	require.NoError(t, err)

	seen := map[string]bool{}
	for range 5 {
		_, err := src.Token()
		require.NoError(t, err, "a fresh jti must be accepted every time")
	}
	for _, r := range srv.Requests() {
		require.NotEmpty(t, r.JTI)
		assert.False(t, seen[r.JTI], "jti %s reused", r.JTI)
		seen[r.JTI] = true
	}
	assert.Len(t, seen, 5)
}

func TestSignedJWTAssertionLifetime(t *testing.T) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now))
	defer srv.Close()
	key := registerClient(t, srv)
	cfg := key
	cfg.AssertionLifetime = 90 * time.Second
	src, err := auth.NewSignedJWTUncached(cfg)
	require.NoError(t, err)
	a, err := src.Assertion()
	require.NoError(t, err)
	_, claims := parseAssertion(t, a, "RS512", key.PrivateKey.Public())
	assert.Equal(t, int64(90), claimInt(t, claims, "exp")-claimInt(t, claims, "iat"))
}

func TestSignedJWTAlgorithms(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	rsaKey := sharedRSAKey()

	tests := []struct {
		alg auth.Algorithm
		key crypto.Signer
	}{
		{auth.RS256, rsaKey}, {auth.RS384, rsaKey}, {auth.RS512, rsaKey},
		{auth.ES256, p256}, {auth.ES384, p384}, {auth.ES512, p521},
	}
	for _, tt := range tests {
		t.Run(string(tt.alg), func(t *testing.T) {
			srv := authtest.NewServer(authtest.WithAlgorithms(tt.alg))
			defer srv.Close()
			require.NoError(t, srv.Register("shcr-client", "k1", tt.key.Public()))
			src, err := auth.NewSignedJWTUncached(auth.SignedJWTConfig{
				APIKey: "shcr-client", TokenURL: srv.TokenURL(), KeyID: "k1", PrivateKey: tt.key, Algorithm: tt.alg,
			})
			require.NoError(t, err)
			tok, err := src.Token()
			require.NoError(t, err)
			assert.NoError(t, srv.Validate(tok.AccessToken))
			header, _ := parseAssertion(t, srv.Requests()[0].Form.Get("client_assertion"), string(tt.alg), tt.key.Public())
			assert.Equal(t, string(tt.alg), header["alg"])
		})
	}
}

func TestSignedJWTPlatformRefusesOtherAlgorithms(t *testing.T) {
	srv := authtest.NewServer()
	defer srv.Close()
	key := registerClient(t, srv)
	cfg := key
	cfg.Algorithm = auth.RS256
	src, err := auth.NewSignedJWTUncached(cfg)
	require.NoError(t, err)
	_, err = src.Token()
	var te *auth.TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, http.StatusBadRequest, te.StatusCode)
	assert.Equal(t, "invalid_request", te.Code)
	assert.Contains(t, te.Description, "alg")
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
}

func TestSignedJWTScopesAudienceAndExtraParams(t *testing.T) {
	var got url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		got = r.PostForm
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"abc","token_type":"bearer","expires_in":3600}`))
	}))
	defer srv.Close()
	key := sharedRSAKey()
	src, err := auth.NewSignedJWTUncached(auth.SignedJWTConfig{
		APIKey: "client-1", TokenURL: srv.URL + "/token", KeyID: "k", PrivateKey: key, Algorithm: auth.RS256,
		Audience:    "https://issuer.shcr.example",
		Scopes:      []string{"patient/*.read", "conf/N"},
		ExtraParams: url.Values{"resource": {"https://fhir.shcr.example"}},
	})
	require.NoError(t, err)
	tok, err := src.Token()
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.TokenType, "token_type is normalised")
	assert.Equal(t, "patient/*.read conf/N", got.Get("scope"))
	assert.Equal(t, "https://fhir.shcr.example", got.Get("resource"))
	_, claims := parseAssertion(t, got.Get("client_assertion"), "RS256", &key.PublicKey)
	assert.Equal(t, "https://issuer.shcr.example", claims["aud"])
}

func TestSignedJWTConfigValidation(t *testing.T) {
	rsaKey := sharedRSAKey()
	smallKey, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	good := func() auth.SignedJWTConfig {
		return auth.SignedJWTConfig{APIKey: "key", TokenURL: "https://api.example.nhs.uk/oauth2/token", KeyID: "kid", PrivateKey: rsaKey}
	}
	tests := []struct {
		name   string
		change func(*auth.SignedJWTConfig)
		want   string // "" means valid
	}{
		{"valid", func(*auth.SignedJWTConfig) {}, ""},
		{"loopback http", func(c *auth.SignedJWTConfig) { c.TokenURL = "http://127.0.0.1:8080/oauth2/token" }, ""},
		{"localhost http", func(c *auth.SignedJWTConfig) { c.TokenURL = "http://localhost/token" }, ""},
		{"insecure http allowed", func(c *auth.SignedJWTConfig) {
			c.TokenURL, c.AllowInsecureHTTP = "http://fake-platform:9000/token", true
		}, ""},
		{"ES256 with EC key", func(c *auth.SignedJWTConfig) { c.Algorithm, c.PrivateKey = auth.ES256, ecKey }, ""},
		{"no API key", func(c *auth.SignedJWTConfig) { c.APIKey = "" }, "APIKey is empty"},
		{"API key with space", func(c *auth.SignedJWTConfig) { c.APIKey = "a b" }, "APIKey contains spaces"},
		{"no token URL", func(c *auth.SignedJWTConfig) { c.TokenURL = "" }, "TokenURL is empty"},
		{"relative token URL", func(c *auth.SignedJWTConfig) { c.TokenURL = "/oauth2/token" }, "not an absolute URL"},
		{"http token URL", func(c *auth.SignedJWTConfig) { c.TokenURL = "http://api.example.nhs.uk/token" }, "must be https"},
		{"ftp token URL", func(c *auth.SignedJWTConfig) { c.TokenURL = "ftp://api.example.nhs.uk/token" }, `scheme "ftp"`},
		{"user info in URL", func(c *auth.SignedJWTConfig) { c.TokenURL = "https://u:p@api.example.nhs.uk/token" }, "user information"},
		{"no kid", func(c *auth.SignedJWTConfig) { c.KeyID = "" }, "KeyID is empty"},
		{"no key", func(c *auth.SignedJWTConfig) { c.PrivateKey = nil }, "PrivateKey is nil"},
		{"nil RSA key", func(c *auth.SignedJWTConfig) { c.PrivateKey = (*rsa.PrivateKey)(nil) }, "PrivateKey is nil"},
		{"unknown algorithm", func(c *auth.SignedJWTConfig) { c.Algorithm = "HS256" }, `Algorithm "HS256" is not supported`},
		{"EC key for RS512", func(c *auth.SignedJWTConfig) { c.PrivateKey = ecKey }, "needs an RSA key"},
		{"RSA key for ES256", func(c *auth.SignedJWTConfig) { c.Algorithm = auth.ES256 }, "needs an EC key"},
		{"P-256 key for ES384", func(c *auth.SignedJWTConfig) { c.Algorithm, c.PrivateKey = auth.ES384, ecKey }, "curve P-384"},
		{"short RSA key", func(c *auth.SignedJWTConfig) { c.PrivateKey = smallKey }, "1024 bits"},
		{"assertion too long", func(c *auth.SignedJWTConfig) { c.AssertionLifetime = 6 * time.Minute }, "longer than 5m0s"},
		{"assertion too short", func(c *auth.SignedJWTConfig) { c.AssertionLifetime = time.Millisecond }, "shorter than a second"},
		{"negative margin", func(c *auth.SignedJWTConfig) { c.ExpiryMargin = -time.Second }, "ExpiryMargin -1s is negative"},
		{"empty scope", func(c *auth.SignedJWTConfig) { c.Scopes = []string{""} }, "Scopes"},
		{"reserved extra param", func(c *auth.SignedJWTConfig) { c.ExtraParams = url.Values{"grant_type": {"x"}} }, "may not set grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good()
			tt.change(&cfg)
			_, err := auth.NewSignedJWT(cfg)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	t.Run("every problem reported at once", func(t *testing.T) {
		_, err := auth.NewSignedJWT(auth.SignedJWTConfig{})
		require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
		for _, want := range []string{"APIKey is empty", "TokenURL is empty", "KeyID is empty", "PrivateKey is nil"} {
			assert.Contains(t, err.Error(), want)
		}
	})
}

// answer is a canned token endpoint response.
type answer struct {
	status      int
	contentType string
	body        string
}

func cannedServer(t *testing.T, a answer) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.contentType != "" {
			w.Header().Set("Content-Type", a.contentType)
		}
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func cannedSource(t *testing.T, tokenURL string) *auth.SignedJWT {
	t.Helper()
	src, err := auth.NewSignedJWTUncached(auth.SignedJWTConfig{APIKey: "key", TokenURL: tokenURL, KeyID: "kid", PrivateKey: sharedRSAKey()})
	require.NoError(t, err)
	return src
}

func TestSignedJWTResponseParsing(t *testing.T) {
	const jsonCT = "application/json"
	tests := []struct {
		name        string
		answer      answer
		wantExpires int64 // seconds; -1 means no expiry
		wantErr     error
		wantText    string
	}{
		{"platform string expires_in", answer{200, jsonCT, `{"access_token":"t","expires_in":"599","token_type":"Bearer","issued_at":"1772442000000"}`}, 599, nil, ""},
		{"numeric expires_in", answer{200, jsonCT, `{"access_token":"t","expires_in":599,"token_type":"Bearer"}`}, 599, nil, ""},
		{"float expires_in", answer{200, jsonCT, `{"access_token":"t","expires_in":599.9}`}, 599, nil, ""},
		{"padded string expires_in", answer{200, jsonCT, `{"access_token":"t","expires_in":" 600 "}`}, 600, nil, ""},
		{"null expires_in", answer{200, jsonCT, `{"access_token":"t","expires_in":null}`}, -1, nil, ""},
		{"no expires_in", answer{200, jsonCT, `{"access_token":"t"}`}, -1, nil, ""},
		{"no content type", answer{200, "", `{"access_token":"t","expires_in":"60"}`}, 60, nil, ""},
		{"word expires_in", answer{200, jsonCT, `{"access_token":"t","expires_in":"soon"}`}, 0, shcrkit.ErrMalformedResponse, "not a number of seconds"},
		{"negative expires_in", answer{200, jsonCT, `{"access_token":"t","expires_in":-5}`}, 0, shcrkit.ErrMalformedResponse, "negative"},
		{"huge expires_in", answer{200, jsonCT, `{"access_token":"t","expires_in":"99999999999"}`}, 0, shcrkit.ErrMalformedResponse, "implausible"},
		{"boolean expires_in", answer{200, jsonCT, `{"access_token":"t","expires_in":true}`}, 0, shcrkit.ErrMalformedResponse, "not a number"},
		{"truncated JSON", answer{200, jsonCT, `{"access_token":"t","expi`}, 0, shcrkit.ErrMalformedResponse, "JSON"},
		{"HTML", answer{200, "text/html", `<html>hello</html>`}, 0, shcrkit.ErrMalformedResponse, "text/html"},
		{"no access token", answer{200, jsonCT, `{"expires_in":"599"}`}, 0, shcrkit.ErrMalformedResponse, "no access_token"},
		{"MAC token", answer{200, jsonCT, `{"access_token":"t","token_type":"mac"}`}, 0, shcrkit.ErrMalformedResponse, "not Bearer"},
		{"error in a 200", answer{200, jsonCT, `{"error":"invalid_request","error_description":"odd"}`}, 0, shcrkit.ErrInvalidRequest, "odd"},
		{"error with odd fields", answer{400, jsonCT, `{"error":"invalid_grant","expires_in":"x"}`}, 0, shcrkit.ErrInvalidRequest, "invalid_grant"},
		{"HTML 502", answer{502, "text/html", `<html>Bad gateway</html>`}, 0, shcrkit.ErrUnavailable, "HTTP 502"},
		{"401", answer{401, jsonCT, `{"error":"invalid_request","error_description":"no matching public key","message_id":"m-1"}`}, 0, shcrkit.ErrUnauthorized, "[message m-1]"},
		{"429", answer{429, jsonCT, `{"error":"rate_limited"}`}, 0, shcrkit.ErrRateLimited, "HTTP 429"},
		{"oversize", answer{200, jsonCT, `{"access_token":"` + strings.Repeat("a", 1<<20) + `"}`}, 0, shcrkit.ErrResponseTooLarge, "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := cannedServer(t, tt.answer)
			src := cannedSource(t, srv.URL+"/token")
			before := time.Now()
			tok, err := src.Token()
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), tt.wantText)
				assert.Nil(t, tok)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "t", tok.AccessToken)
			if tt.wantExpires < 0 {
				assert.True(t, tok.Expiry.IsZero(), "no expires_in means no expiry")
				return
			}
			assert.Equal(t, tt.wantExpires, tok.ExpiresIn)
			assert.WithinRange(t, tok.Expiry, before.Add(time.Duration(tt.wantExpires)*time.Second), time.Now().Add(time.Duration(tt.wantExpires)*time.Second))
		})
	}
}

func TestSignedJWTErrorsNeverHoldSecrets(t *testing.T) {
	// A server that echoes the whole form in its description.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"bad assertion ` + r.PostForm.Get("client_assertion") +
			` for patient 9434765919"}`))
	}))
	defer srv.Close()
	src := cannedSource(t, srv.URL+"/token")
	_, err := src.Token()
	var te *auth.TokenError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), "[redacted]")
	assert.NotContains(t, err.Error(), "9434765919")
	assert.Contains(t, err.Error(), "943****919")
	assert.NotRegexp(t, `eyJ[A-Za-z0-9_-]+\.`, err.Error(), "no JWT in the error text")
}

func TestSignedJWTTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	tokenURL := srv.URL + "/token"
	srv.Close()
	src := cannedSource(t, tokenURL)

	_, err := src.Token()
	require.Error(t, err)
	assert.ErrorIs(t, err, shcrkit.ErrUnavailable)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = src.TokenContext(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, shcrkit.ErrUnavailable)
}

func TestSignedJWTDoesNotFollowRedirects(t *testing.T) {
	var hits int
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer srv.Close()

	_, err := cannedSource(t, srv.URL+"/token").Token()
	var re *shcrkit.RedirectError
	require.ErrorAs(t, err, &re, "a redirect to another origin is refused with a typed error")
	assert.Equal(t, http.StatusFound, re.StatusCode)
	assert.ErrorIs(t, err, shcrkit.ErrRedirectRefused)
	assert.Zero(t, hits, "the assertion must not be sent on to another URL")

	// Within the token URL's own origin, the default client hands the
	// redirect back: a POST turned into a GET would lose the grant.
	same := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	defer same.Close()
	_, err = cannedSource(t, same.URL+"/token").Token()
	var te *auth.TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, http.StatusFound, te.StatusCode)
}

func TestIssuedAt(t *testing.T) {
	tests := []struct {
		name string
		body string
		want time.Time
		ok   bool
	}{
		{"milliseconds string", `{"access_token":"t","issued_at":"1772442000123"}`, time.UnixMilli(1772442000123).UTC(), true},
		{"milliseconds number", `{"access_token":"t","issued_at":1772442000123}`, time.UnixMilli(1772442000123).UTC(), true},
		{"seconds", `{"access_token":"t","issued_at":1772442000}`, time.Unix(1772442000, 0).UTC(), true},
		{"absent", `{"access_token":"t"}`, time.Time{}, false},
		{"garbage", `{"access_token":"t","issued_at":"yesterday"}`, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := cannedServer(t, answer{200, "application/json", tt.body})
			tok, err := cannedSource(t, srv.URL+"/token").Token()
			require.NoError(t, err)
			got, ok := auth.IssuedAt(tok)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
	_, ok := auth.IssuedAt(nil)
	assert.False(t, ok)
}

// errSigner is a crypto.Signer whose Sign fails, like a hardware module
// that has been unplugged.
type errSigner struct{ crypto.Signer }

func (errSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("module not present")
}

func TestSignedJWTSignerFailure(t *testing.T) {
	src, err := auth.NewSignedJWTUncached(auth.SignedJWTConfig{
		APIKey: "key", TokenURL: "https://api.example.nhs.uk/oauth2/token", KeyID: "kid", PrivateKey: errSigner{sharedRSAKey()},
	})
	require.NoError(t, err, "any crypto.Signer with an RSA public key is accepted")
	_, err = src.Token()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "module not present")
}
