package authtest_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// answer is a decoded token endpoint answer.
type answer struct {
	status int
	body   map[string]any
}

func post(t *testing.T, srv *authtest.Server, form url.Values) answer {
	t.Helper()
	resp, err := srv.HTTPClient().PostForm(srv.TokenURL(), form)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return answer{resp.StatusCode, body}
}

// signer makes client assertions for one application, with changes.
type signer struct {
	srv    *authtest.Server
	clk    *fakeClock
	apiKey string
	kid    string
	key    *rsa.PrivateKey
}

func newSigner(t *testing.T, srv *authtest.Server, clk *fakeClock) signer {
	k := registerClient(t, srv)
	return signer{srv: srv, clk: clk, apiKey: k.APIKey, kid: k.KeyID, key: k.PrivateKey.(*rsa.PrivateKey)}
}

// registerClient registers a new application with srv and returns its
// signed-JWT configuration.
func registerClient(t testing.TB, srv *authtest.Server) auth.SignedJWTConfig {
	t.Helper()
	cfg, err := srv.RegisterClient()
	require.NoError(t, err)
	return cfg
}

// fakeIDToken returns a fake CIS2 ID token for subject from srv.
func fakeIDToken(t testing.TB, srv *authtest.Server, subject string) string {
	t.Helper()
	tok, err := srv.IDToken(subject)
	require.NoError(t, err)
	return tok
}

// assertion signs claims and header as the platform wants them, after
// change has edited them; a nil value deletes an entry.
func (s signer) assertion(t *testing.T, method jwt.SigningMethod, key any, change func(h, c map[string]any)) string {
	t.Helper()
	now := s.clk.Now()
	c := map[string]any{
		"iss": s.apiKey, "sub": s.apiKey, "aud": s.srv.TokenURL(), "jti": uuid.NewString(),
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
	h := map[string]any{"kid": s.kid, "typ": "JWT"}
	if change != nil {
		change(h, c)
	}
	tok := jwt.NewWithClaims(method, jwt.MapClaims(c))
	for k, v := range h {
		tok.Header[k] = v
	}
	for k, v := range h {
		if v == nil {
			delete(tok.Header, k)
		}
	}
	for k, v := range c {
		if v == nil {
			delete(c, k)
		}
	}
	signed, err := tok.SignedString(key)
	require.NoError(t, err)
	return signed
}

func clientCredentials(assertion string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
}

func TestClientAssertionChecks(t *testing.T) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now))
	defer srv.Close()
	s := newSigner(t, srv, clk)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	unregistered := newSigner(t, srv, clk)
	unregistered.apiKey = "never-registered"

	rs512 := jwt.SigningMethodRS512
	tests := []struct {
		name       string
		form       func() url.Values
		wantStatus int
		wantDescr  string // part of error_description; "" on success
	}{
		{"valid", func() url.Values { return clientCredentials(s.assertion(t, rs512, s.key, nil)) }, 200, ""},
		{"aud as a list", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(_, c map[string]any) { c["aud"] = []string{"x", srv.TokenURL()} }))
		}, 200, ""},
		{"exp exactly five minutes ahead", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(_, c map[string]any) { c["exp"] = clk.Now().Add(5 * time.Minute).Unix() }))
		}, 200, ""},
		{"no client_assertion_type", func() url.Values {
			f := clientCredentials(s.assertion(t, rs512, s.key, nil))
			f.Del("client_assertion_type")
			return f
		}, 400, "client_assertion_type"},
		{"wrong client_assertion_type", func() url.Values {
			f := clientCredentials(s.assertion(t, rs512, s.key, nil))
			f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
			return f
		}, 400, "client_assertion_type"},
		{"no client_assertion", func() url.Values { return clientCredentials("") }, 400, "client_assertion is missing"},
		{"malformed client_assertion", func() url.Values { return clientCredentials("not.a.jwt") }, 400, "well-formed"},
		{"no kid", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(h, _ map[string]any) { h["kid"] = nil }))
		}, 400, "'kid'"},
		{"unknown kid", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(h, _ map[string]any) { h["kid"] = "other" }))
		}, 401, "'kid'"},
		{"RS256", func() url.Values { return clientCredentials(s.assertion(t, jwt.SigningMethodRS256, s.key, nil)) }, 400, "'alg'"},
		{"HS512", func() url.Values {
			return clientCredentials(s.assertion(t, jwt.SigningMethodHS512, []byte("secret"), nil))
		}, 400, "'alg'"},
		{"typ JWS", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(h, _ map[string]any) { h["typ"] = "JWS" }))
		}, 400, "'typ'"},
		{"no typ", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(h, _ map[string]any) { h["typ"] = nil }))
		}, 400, "'typ'"},
		{"iss differs from sub", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(_, c map[string]any) { c["sub"] = "someone-else" }))
		}, 400, "'iss' and 'sub'"},
		{"no iss", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(_, c map[string]any) { c["iss"] = nil }))
		}, 400, "'iss' and 'sub'"},
		{"unregistered API key", func() url.Values {
			return clientCredentials(unregistered.assertion(t, rs512, unregistered.key, nil))
		}, 401, "no registered application"},
		{"signed by another key", func() url.Values { return clientCredentials(s.assertion(t, rs512, other, nil)) }, 401, "signature"},
		{"no jti", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(_, c map[string]any) { c["jti"] = nil }))
		}, 400, "no 'jti'"},
		{"numeric jti", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(_, c map[string]any) { c["jti"] = 1234567890 }))
		}, 400, "'jti' claim must be"},
		{"wrong aud", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(_, c map[string]any) { c["aud"] = "https://elsewhere/token" }))
		}, 401, "'aud'"},
		{"no aud", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(_, c map[string]any) { c["aud"] = nil }))
		}, 401, "'aud'"},
		{"no exp", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(_, c map[string]any) { c["exp"] = nil }))
		}, 400, "no 'exp'"},
		{"string exp", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(_, c map[string]any) { c["exp"] = "1772442300" }))
		}, 400, "must be an integer"},
		{"expired", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(_, c map[string]any) { c["exp"] = clk.Now().Add(-20 * time.Second).Unix() }))
		}, 400, "expired"},
		{"exp six minutes ahead", func() url.Values {
			return clientCredentials(s.assertion(t, rs512, s.key, func(_, c map[string]any) { c["exp"] = clk.Now().Add(6 * time.Minute).Unix() }))
		}, 400, "more than 5 minutes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, srv, tt.form())
			assert.Equal(t, tt.wantStatus, a.status, "body: %v", a.body)
			if tt.wantDescr == "" {
				assert.NotEmpty(t, a.body["access_token"])
				assert.Equal(t, "599", a.body["expires_in"])
				assert.Equal(t, "Bearer", a.body["token_type"])
				assert.Equal(t, strconv.FormatInt(clk.Now().UnixMilli(), 10), a.body["issued_at"])
				assert.NoError(t, srv.Validate(a.body["access_token"].(string)))
				return
			}
			assert.Equal(t, "invalid_request", a.body["error"])
			assert.Contains(t, a.body["error_description"], tt.wantDescr)
			assert.NotEmpty(t, a.body["message_id"])
			assert.Nil(t, a.body["access_token"])
		})
	}
}

func TestJTIReuseIsRefused(t *testing.T) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now))
	defer srv.Close()
	s := newSigner(t, srv, clk)
	assertion := s.assertion(t, jwt.SigningMethodRS512, s.key, nil)

	first := post(t, srv, clientCredentials(assertion))
	require.Equal(t, http.StatusOK, first.status)
	again := post(t, srv, clientCredentials(assertion))
	assert.Equal(t, http.StatusBadRequest, again.status)
	assert.Equal(t, "invalid_request", again.body["error"])
	assert.Contains(t, again.body["error_description"], "'jti' claim has been used before")

	// Still refused a little later, while the assertion is unexpired.
	clk.Advance(4 * time.Minute)
	late := post(t, srv, clientCredentials(assertion))
	assert.Equal(t, http.StatusBadRequest, late.status)
	assert.Contains(t, late.body["error_description"], "used before")

	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, reqs[0].JTI, reqs[1].JTI)
	assert.Equal(t, []int{200, 400, 400}, []int{reqs[0].Status, reqs[1].Status, reqs[2].Status})
}

func TestGrantTypesAndRouting(t *testing.T) {
	srv := authtest.NewServer()
	defer srv.Close()

	a := post(t, srv, url.Values{})
	assert.Equal(t, 400, a.status)
	assert.Equal(t, "grant_type is missing", a.body["error_description"])

	a = post(t, srv, url.Values{"grant_type": {"password"}})
	assert.Equal(t, 400, a.status)
	assert.Equal(t, "unsupported_grant_type", a.body["error"])

	resp, err := srv.HTTPClient().Get(srv.TokenURL())
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	resp, err = srv.HTTPClient().Get(srv.URL + "/oauth2/authorize")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	assert.Equal(t, 3, len(srv.Requests()), "token endpoint calls are recorded, other paths are not")
}

func TestInjectFaultAnswersAsThePlatform(t *testing.T) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now))
	defer srv.Close()
	s := newSigner(t, srv, clk)
	srv.InjectFault("", "", 2, authtest.Fault{Status: http.StatusServiceUnavailable, Code: "server_error", Diagnostics: "maintenance"})
	srv.InjectFault("", "", 1, authtest.Fault{Status: http.StatusTooManyRequests, Code: "rate_limited", Diagnostics: "slow down"})
	srv.InjectFault("", "", 0, authtest.Fault{Status: 500, Code: "ignored", Diagnostics: "n == 0 adds nothing"})

	var statuses []int
	for i := range 4 {
		a := post(t, srv, clientCredentials(s.assertion(t, jwt.SigningMethodRS512, s.key, nil)))
		statuses = append(statuses, a.status)
		if i == 0 {
			assert.Equal(t, "server_error", a.body["error"])
			assert.Equal(t, "maintenance", a.body["error_description"])
			assert.NotEmpty(t, a.body["message_id"])
		}
	}
	assert.Equal(t, []int{503, 503, 429, 200}, statuses)
	reqs := srv.Requests()
	assert.Equal(t, "server_error", reqs[0].Error)
	assert.Equal(t, "maintenance", reqs[0].Description)
	assert.Equal(t, "rate_limited", reqs[2].Error)
	assert.Empty(t, reqs[3].Error)
}

func TestValidateIntrospectRevoke(t *testing.T) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now), authtest.WithTokenLifetime(time.Minute))
	defer srv.Close()
	s := newSigner(t, srv, clk)
	a := post(t, srv, clientCredentials(s.assertion(t, jwt.SigningMethodRS512, s.key, nil)))
	require.Equal(t, 200, a.status)
	assert.Equal(t, "60", a.body["expires_in"])
	token := a.body["access_token"].(string)

	info, err := srv.Introspect(token)
	require.NoError(t, err)
	assert.Equal(t, s.apiKey, info.APIKey)
	assert.Equal(t, "client_credentials", info.GrantType)
	assert.Empty(t, info.Subject)
	assert.Equal(t, clk.Now().Add(time.Minute), info.Expiry)

	validate := srv.Validate
	assert.NoError(t, validate(token))
	err = validate("made-up")
	assert.ErrorIs(t, err, authtest.ErrUnknownToken)

	clk.Advance(time.Minute)
	err = srv.Validate(token)
	assert.ErrorIs(t, err, authtest.ErrExpiredToken)
	assert.NotContains(t, err.Error(), token)

	assert.True(t, srv.Revoke(token))
	assert.False(t, srv.Revoke(token))
	assert.ErrorIs(t, srv.Validate(token), authtest.ErrUnknownToken)
}

func TestRequestsAreCopies(t *testing.T) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now))
	defer srv.Close()
	s := newSigner(t, srv, clk)
	post(t, srv, clientCredentials(s.assertion(t, jwt.SigningMethodRS512, s.key, nil)))

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	reqs[0].Form.Set("grant_type", "tampered")
	reqs[0].Status = 0
	again := srv.Requests()
	assert.Equal(t, "client_credentials", again[0].Form.Get("grant_type"))
	assert.Equal(t, 200, again[0].Status)
	assert.Equal(t, s.apiKey, again[0].APIKey)
	assert.Equal(t, s.kid, again[0].KeyID)
	assert.Equal(t, "RS512", again[0].Algorithm)
	assert.Equal(t, clk.Now(), again[0].Time)
}

func TestRegisterErrors(t *testing.T) {
	srv := authtest.NewServer()
	defer srv.Close()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	tests := []struct {
		name           string
		apiKey, kid    string
		pub            crypto.PublicKey
		wantErrContain string
	}{
		{"public key", "app", "k1", &key.PublicKey, ""},
		{"private key accepted", "app", "k2", key, ""},
		{"no API key", "", "k1", &key.PublicKey, "needs an API key"},
		{"no kid", "app", "", &key.PublicKey, "needs an API key and a kid"},
		{"Ed25519", "app", "k3", edPub, "unsupported key type"},
		{"nil", "app", "k4", nil, "unsupported key type"},
		{"nil RSA pointer", "app", "k5", (*rsa.PublicKey)(nil), "nil pointer"},
		{"nil private key pointer", "app", "k6", (*rsa.PrivateKey)(nil), "nil pointer"},
	}
	for _, tt := range tests {
		err := srv.Register(tt.apiKey, tt.kid, tt.pub)
		if tt.wantErrContain == "" {
			assert.NoError(t, err, tt.name)
		} else {
			assert.ErrorContains(t, err, tt.wantErrContain, tt.name)
		}
	}
	assert.Error(t, srv.RegisterSecret("", "s"))
	assert.Error(t, srv.RegisterSecret("app", ""))
	assert.NoError(t, srv.RegisterSecret("app", "s"))
}

func exchangeForm(assertion, idToken string) url.Values {
	return url.Values{
		"grant_type":            {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token_type":    {"urn:ietf:params:oauth:token-type:id_token"},
		"subject_token":         {idToken},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
}

func TestTokenExchangeAndRefresh(t *testing.T) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now))
	defer srv.Close()
	s := newSigner(t, srv, clk)
	require.NoError(t, srv.RegisterSecret(s.apiKey, "secret-1"))
	idToken := fakeIDToken(t, srv, "555254240100")

	a := post(t, srv, exchangeForm(s.assertion(t, jwt.SigningMethodRS512, s.key, nil), idToken))
	require.Equal(t, 200, a.status, "%v", a.body)
	assert.Equal(t, "599", a.body["expires_in"])
	assert.Equal(t, "0", a.body["refresh_count"])
	assert.Equal(t, "3599", a.body["refresh_token_expires_in"])
	assert.Equal(t, "urn:ietf:params:oauth:token-type:access_token", a.body["issued_token_type"])
	rt := a.body["refresh_token"].(string)
	info, err := srv.Introspect(a.body["access_token"].(string))
	require.NoError(t, err)
	assert.Equal(t, "555254240100", info.Subject)

	refresh := func(rt, secret string) answer {
		return post(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
			"client_id": {s.apiKey}, "client_secret": {secret}})
	}
	clk.Advance(10 * time.Minute)
	r := refresh(rt, "secret-1")
	require.Equal(t, 200, r.status, "%v", r.body)
	assert.Equal(t, "1", r.body["refresh_count"])
	assert.Equal(t, "2999", r.body["refresh_token_expires_in"], "the refresh token keeps its original expiry")
	assert.Nil(t, r.body["issued_token_type"])
	info, err = srv.Introspect(r.body["access_token"].(string))
	require.NoError(t, err)
	assert.Equal(t, "555254240100", info.Subject)
	assert.Equal(t, "refresh_token", info.GrantType)

	tests := []struct {
		name       string
		ans        answer
		wantStatus int
		wantCode   string
	}{
		{"used refresh token", refresh(rt, "secret-1"), 400, "invalid_grant"},
		{"wrong secret", refresh(r.body["refresh_token"].(string), "wrong"), 401, "invalid_client"},
		{"unknown refresh token", refresh("made-up", "secret-1"), 400, "invalid_grant"},
		{"no refresh token", refresh("", "secret-1"), 400, "invalid_request"},
		{"no client authentication", post(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}), 400, "invalid_request"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.wantStatus, tt.ans.status, tt.name)
		assert.Equal(t, tt.wantCode, tt.ans.body["error"], tt.name)
	}

	// The latest refresh token, presented with a client assertion instead.
	latest := r.body["refresh_token"].(string)
	clk.Advance(time.Hour)
	expired := post(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {latest},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {s.assertion(t, jwt.SigningMethodRS512, s.key, nil)}})
	assert.Equal(t, 400, expired.status)
	assert.Equal(t, "refresh_token has expired", expired.body["error_description"])
}

func TestRefreshTokenBelongsToItsClient(t *testing.T) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now))
	defer srv.Close()
	s := newSigner(t, srv, clk)
	thief := newSigner(t, srv, clk)
	a := post(t, srv, exchangeForm(s.assertion(t, jwt.SigningMethodRS512, s.key, nil), fakeIDToken(t, srv, "555254240100")))
	require.Equal(t, 200, a.status)

	stolen := post(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.body["refresh_token"].(string)},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {thief.assertion(t, jwt.SigningMethodRS512, thief.key, nil)}})
	assert.Equal(t, 400, stolen.status)
	assert.Equal(t, "invalid_grant", stolen.body["error"])

	mine := post(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.body["refresh_token"].(string)},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {s.assertion(t, jwt.SigningMethodRS512, s.key, nil)}})
	assert.Equal(t, 200, mine.status, "a refused theft does not use up the owner's token")
}

func TestSubjectTokenChecks(t *testing.T) {
	clk := newFakeClock()
	pub, err := authtest.IDTokenPublicKey()
	require.NoError(t, err)
	verify := func(tok string) error {
		_, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return pub, nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(clk.Now))
		return err
	}
	srv := authtest.NewServer(authtest.WithClock(clk.Now), authtest.WithIDTokenVerifier(verify))
	defer srv.Close()
	s := newSigner(t, srv, clk)
	forged, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	idToken := func(change func(c jwt.MapClaims), key any) string {
		c := jwt.MapClaims{"iss": "https://cis2.example", "sub": "555254240100", "aud": "client",
			"exp": clk.Now().Add(time.Hour).Unix()}
		if change != nil {
			change(c)
		}
		signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(key)
		require.NoError(t, err)
		return signed
	}
	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantDescr  string
	}{
		{"fake CIS2 token", exchangeForm(s.assertion(t, jwt.SigningMethodRS512, s.key, nil), fakeIDToken(t, srv, "1")), 200, ""},
		{"forged token", exchangeForm(s.assertion(t, jwt.SigningMethodRS512, s.key, nil), idToken(nil, forged)), 400, "refused"},
		{"no subject token", exchangeForm(s.assertion(t, jwt.SigningMethodRS512, s.key, nil), ""), 400, "subject_token is missing"},
		{"malformed subject token", exchangeForm(s.assertion(t, jwt.SigningMethodRS512, s.key, nil), "abc"), 400, "well-formed"},
		{"no iss", exchangeForm(s.assertion(t, jwt.SigningMethodRS512, s.key, nil),
			idToken(func(c jwt.MapClaims) { delete(c, "iss") }, forged)), 400, "'iss'"},
		{"no aud", exchangeForm(s.assertion(t, jwt.SigningMethodRS512, s.key, nil),
			idToken(func(c jwt.MapClaims) { delete(c, "aud") }, forged)), 400, "'aud'"},
		{"no exp", exchangeForm(s.assertion(t, jwt.SigningMethodRS512, s.key, nil),
			idToken(func(c jwt.MapClaims) { delete(c, "exp") }, forged)), 400, "'exp'"},
		{"expired", exchangeForm(s.assertion(t, jwt.SigningMethodRS512, s.key, nil),
			idToken(func(c jwt.MapClaims) { c["exp"] = clk.Now().Add(-time.Minute).Unix() }, forged)), 400, "expired"},
		{"wrong subject_token_type", func() url.Values {
			f := exchangeForm(s.assertion(t, jwt.SigningMethodRS512, s.key, nil), fakeIDToken(t, srv, "1"))
			f.Set("subject_token_type", "urn:ietf:params:oauth:token-type:access_token")
			return f
		}(), 400, "subject_token_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, srv, tt.form)
			assert.Equal(t, tt.wantStatus, a.status, "%v", a.body)
			if tt.wantDescr != "" {
				assert.Contains(t, a.body["error_description"], tt.wantDescr)
			}
		})
	}
}

func TestNumericExpiresIn(t *testing.T) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now), authtest.WithNumericExpiresIn(),
		authtest.WithTokenLifetime(90*time.Second), authtest.WithRefreshTokenLifetime(time.Hour))
	defer srv.Close()
	s := newSigner(t, srv, clk)
	a := post(t, srv, exchangeForm(s.assertion(t, jwt.SigningMethodRS512, s.key, nil), fakeIDToken(t, srv, "1")))
	require.Equal(t, 200, a.status)
	assert.Equal(t, float64(90), a.body["expires_in"])
	assert.Equal(t, float64(3600), a.body["refresh_token_expires_in"])
	assert.Equal(t, float64(0), a.body["refresh_count"])
}

func TestInvalidOptions(t *testing.T) {
	for name, opt := range map[string]authtest.Option{
		"nil clock":         authtest.WithClock(nil),
		"unknown algorithm": authtest.WithAlgorithms("HS256"),
		"nil option":        nil,
	} {
		t.Run(name, func(t *testing.T) {
			srv, err := authtest.NewUnstartedServer(opt)
			assert.Nil(t, srv)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			assert.Panics(t, func() { authtest.NewServer(opt) }, "like httptest.NewServer")
		})
	}
}

func TestUnstartedServer(t *testing.T) {
	srv, err := authtest.NewUnstartedServer()
	require.NoError(t, err)
	assert.Empty(t, srv.URL)
	srv.Start()
	defer srv.Close()
	assert.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"))
	assert.Equal(t, srv.URL+"/oauth2/token", srv.TokenURL())
}

func TestConcurrentRequests(t *testing.T) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now))
	defer srv.Close()
	s := newSigner(t, srv, clk)
	const n = 32
	forms := make([]url.Values, n)
	for i := range forms {
		forms[i] = clientCredentials(s.assertion(t, jwt.SigningMethodRS512, s.key, nil))
	}
	var wg sync.WaitGroup
	tokens := make([]string, n)
	for i := range n {
		wg.Go(func() {
			resp, err := srv.HTTPClient().PostForm(srv.TokenURL(), forms[i])
			if !assert.NoError(t, err) {
				return
			}
			defer resp.Body.Close()
			var body struct {
				AccessToken string `json:"access_token"`
			}
			assert.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			tokens[i] = body.AccessToken
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, tok := range tokens {
		require.NoError(t, srv.Validate(tok))
		seen[tok] = true
	}
	assert.Len(t, seen, n, "every token is distinct")
	assert.Equal(t, n, len(srv.Requests()))
}
