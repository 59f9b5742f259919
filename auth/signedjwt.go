package auth

import (
	"cmp"
	"context"
	"crypto"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/jws"
	"golang.org/x/oauth2"
)

// Defaults and limits of SignedJWTConfig.
const (
	// maxAssertionLifetime is the longest a client assertion may live:
	// the NHS API platform refuses an exp more than five minutes ahead.
	maxAssertionLifetime = 5 * time.Minute
	// defaultExpiryMargin is how long before its expiry a cached access
	// token is replaced when no margin is configured.
	defaultExpiryMargin = 30 * time.Second
)

// SignedJWTConfig configures the client-credentials grant authenticated by
// a signed JWT client assertion (RFC 7523 section 2.2), the NHS API
// platform's application-restricted access, which remote shared care
// records that sit behind OAuth 2.0 also use.
//
// The zero values of the optional fields give what the NHS API platform
// expects.
type SignedJWTConfig struct {
	// APIKey is the client ID: for the NHS API platform, the application's
	// API key. It is the assertion's iss and sub. Required.
	APIKey string
	// TokenURL is the token endpoint, e.g.
	// https://int.api.service.nhs.uk/oauth2/token. It must be https,
	// unless its host is a loopback address or AllowInsecureHTTP is set.
	// Required.
	TokenURL string
	// KeyID is the kid header naming the public key registered with the
	// server (for the NHS API platform, the kid in the application's
	// JWKS). Required.
	KeyID string
	// PrivateKey signs the assertion: an *rsa.PrivateKey of 2048 bits or
	// more for the RS algorithms, an *ecdsa.PrivateKey on the matching
	// curve for the ES ones, or any crypto.Signer with such a public key
	// (a key held in a hardware module, say). Required.
	PrivateKey crypto.Signer
	// Algorithm signs the assertion; RS512 when empty, the only one the
	// NHS API platform accepts.
	Algorithm Algorithm
	// Audience is the assertion's aud; TokenURL when empty, as the NHS API
	// platform requires. Some servers want their issuer URL instead.
	Audience string
	// Scopes, when any, are sent as the space-separated scope parameter.
	Scopes []string
	// ExtraParams are added to every grant's form (a resource or audience
	// parameter, say). They may not replace the grant's own parameters.
	ExtraParams url.Values
	// AssertionLifetime is how long an assertion is valid: exp - iat. Five
	// minutes when zero, and never more.
	AssertionLifetime time.Duration
	// ExpiryMargin is how long before its expiry a cached access token is
	// replaced by the constructors that cache (NewSignedJWT,
	// NewTokenExchange, NewSessionTokenExchange); 30 seconds when zero. See TokenCache for
	// how the margin shrinks for short-lived tokens.
	ExpiryMargin time.Duration
	// HTTPClient sends the token requests. When nil, a client with a
	// 30-second timeout that does not follow redirects is used. Whichever
	// client is used, a redirect to another origin than TokenURL's fails
	// with a *shcrkit.RedirectError and nothing (no client assertion, no
	// ID token, no refresh token) is sent there; the caller's client is
	// copied for this, never changed.
	HTTPClient *http.Client
	// Now is the clock for iat, exp and token expiry; time.Now when nil.
	// Tests set it to move time forward without waiting.
	Now func() time.Time
	// AllowInsecureHTTP permits an http TokenURL on a host that is not a
	// loopback address. The assertion, and later the refresh token, would
	// cross the network in clear: use it only inside a test network.
	AllowInsecureHTTP bool
}

// reservedParams are the parameters the grants set themselves.
var reservedParams = []string{
	"grant_type", "client_assertion", "client_assertion_type", "client_id", "client_secret",
	"subject_token", "subject_token_type", "refresh_token", "scope",
}

// validate checks c and returns a copy with defaults filled in.
func (c SignedJWTConfig) validate() (SignedJWTConfig, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if c.APIKey == "" {
		bad("APIKey is empty")
	} else if strings.IndexFunc(c.APIKey, isSpaceOrControl) >= 0 {
		bad("APIKey contains spaces or control characters")
	}
	if c.TokenURL == "" {
		bad("TokenURL is empty")
	} else if err := checkTokenURL(c.TokenURL, c.AllowInsecureHTTP); err != nil {
		bad("TokenURL %v", err)
	}
	if c.KeyID == "" {
		bad("KeyID is empty")
	}
	if c.Algorithm == "" {
		c.Algorithm = RS512
	}
	if !c.Algorithm.Valid() {
		bad("Algorithm %q is not supported (use RS256, RS384, RS512, ES256, ES384 or ES512)", c.Algorithm)
	}
	if isNil(c.PrivateKey) {
		bad("PrivateKey is nil")
	} else if c.Algorithm.Valid() {
		if err := c.Algorithm.CheckSigner(c.PrivateKey); err != nil {
			bad("PrivateKey: %v", err)
		}
	}
	if c.Audience == "" {
		c.Audience = c.TokenURL
	}
	for _, s := range c.Scopes {
		if s == "" || strings.IndexFunc(s, isSpaceOrControl) >= 0 {
			bad("Scopes holds an empty scope or one with spaces")
			break
		}
	}
	for _, p := range reservedParams {
		if _, ok := c.ExtraParams[p]; ok {
			bad("ExtraParams may not set %s", p)
		}
	}
	switch {
	case c.AssertionLifetime == 0:
		c.AssertionLifetime = maxAssertionLifetime
	case c.AssertionLifetime < time.Second:
		bad("AssertionLifetime %v is shorter than a second", c.AssertionLifetime)
	case c.AssertionLifetime > maxAssertionLifetime:
		bad("AssertionLifetime %v is longer than %v", c.AssertionLifetime, maxAssertionLifetime)
	}
	switch {
	case c.ExpiryMargin == 0:
		c.ExpiryMargin = defaultExpiryMargin
	case c.ExpiryMargin < 0:
		bad("ExpiryMargin %v is negative", c.ExpiryMargin)
	}
	// A copy of the caller's client gets the SDK's redirect policy; the
	// caller's own is never changed.
	c.HTTPClient = fhirhttp.GuardHTTPClient(cmp.Or(c.HTTPClient, defaultClient()))
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Scopes = append([]string(nil), c.Scopes...)
	c.ExtraParams = cloneValues(c.ExtraParams)

	if len(problems) > 0 {
		return c, fmt.Errorf("%w: %s", shcrkit.ErrInvalidOption, strings.Join(problems, "; "))
	}
	return c, nil
}

func checkTokenURL(raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("does not parse as a URL")
	}
	if !u.IsAbs() || u.Host == "" {
		return errors.New("is not an absolute URL")
	}
	if u.User != nil {
		return errors.New("may not carry user information")
	}
	if u.Fragment != "" {
		return errors.New("may not carry a fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP && !isLoopback(u.Hostname()) {
			return errors.New("must be https unless its host is a loopback address (or AllowInsecureHTTP is set)")
		}
	default:
		return fmt.Errorf("has scheme %q, want https", u.Scheme)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isNil reports whether k is nil or a nil pointer in an interface, whose
// Public method would panic.
func isNil(k crypto.Signer) bool {
	if k == nil {
		return true
	}
	v := reflect.ValueOf(k)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// cloneValues deep-copies v (nil stays nil); http.Header has the same
// shape and a Clone that does exactly this.
func cloneValues(v url.Values) url.Values { return url.Values(http.Header(v).Clone()) }

// signedJWT is an oauth2.TokenSource that makes one client-credentials
// grant, authenticated by a freshly signed client assertion, on every call
// of Token. It does not cache: NewSignedJWT puts a TokenCache over it. It
// is safe for concurrent use.
type signedJWT struct {
	cfg SignedJWTConfig
	ep  endpoint
}

// NewSignedJWT returns a token source for the client-credentials grant
// with a signed client assertion, as the NHS API platform's
// application-restricted access wants it, whose tokens are cached: every
// caller gets the same access token until ExpiryMargin before it expires,
// and however many goroutines ask at once, at most one token request is in
// flight. The source is safe for concurrent use; its dynamic type is
// *TokenCache, whose Invalidate drops a token a server refused.
//
// The config is checked first; every problem is reported in one error
// that matches shcrkit.ErrInvalidOption.
func NewSignedJWT(cfg SignedJWTConfig) (oauth2.TokenSource, error) {
	s, err := newSignedJWT(cfg)
	if err != nil {
		return nil, err
	}
	return newCache(s, s.cfg.ExpiryMargin, s.cfg.Now), nil
}

// newSignedJWT checks cfg and returns a signedJWT that requests a new
// token on every call.
func newSignedJWT(cfg SignedJWTConfig) (*signedJWT, error) {
	c, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	return &signedJWT{cfg: c, ep: endpoint{tokenURL: c.TokenURL, client: c.HTTPClient, now: c.Now, secrets: []string{c.APIKey}}}, nil
}

// Token requests a new access token. It implements oauth2.TokenSource;
// the request is bounded by the HTTP client's timeout.
func (s *signedJWT) Token() (*oauth2.Token, error) {
	return s.TokenContext(context.Background())
}

// TokenContext requests a new access token under ctx.
func (s *signedJWT) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	assertion, err := s.assertion()
	if err != nil {
		return nil, err
	}
	form := s.form(grantClientCredentials)
	form.Set("client_assertion_type", assertionTypeJWTBearer)
	form.Set("client_assertion", assertion)
	res, err := s.ep.post(ctx, form, assertion)
	if err != nil {
		return nil, err
	}
	return res.token, nil
}

// form starts a grant's form with the configured scope and extra
// parameters.
func (s *signedJWT) form(grant string) url.Values {
	form := cloneValues(s.cfg.ExtraParams)
	if form == nil {
		form = url.Values{}
	}
	form.Set("grant_type", grant)
	if len(s.cfg.Scopes) > 0 {
		form.Set("scope", strings.Join(s.cfg.Scopes, " "))
	}
	return form
}

// assertion signs and returns a new client assertion: header alg, typ JWT
// and kid; claims iss and sub the API key, aud the audience, a random jti,
// iat now and exp AssertionLifetime later. Each call gives a new jti,
// since servers refuse one they have seen.
func (s *signedJWT) assertion() (string, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("auth: generating jti: %w", err)
	}
	now := s.cfg.Now()
	tok, err := jws.Sign(s.cfg.Algorithm, s.cfg.PrivateKey, map[string]any{"typ": "JWT", "kid": s.cfg.KeyID}, jwt.MapClaims{
		"iss": s.cfg.APIKey,
		"sub": s.cfg.APIKey,
		"aud": s.cfg.Audience,
		"jti": id.String(),
		"iat": now.Unix(),
		// Truncating now keeps exp - iat exactly the lifetime, so exp is
		// never past the five-minute limit.
		"exp": now.Unix() + int64(s.cfg.AssertionLifetime/time.Second),
	})
	if err != nil {
		return "", fmt.Errorf("auth: signing the client assertion: %w", err)
	}
	return tok, nil
}
