package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shcrkit/shcrkit"
	"golang.org/x/oauth2"
)

// TokenExchangeConfig configures user-restricted access to the NHS API
// platform with CIS2 separate authentication: the application signs the
// healthcare worker in with CIS2 itself, then exchanges the CIS2 ID token
// for an access token (RFC 8693), authenticated by the same signed client
// assertion as SignedJWTConfig's.
type TokenExchangeConfig struct {
	// SignedJWTConfig holds the application's credentials and the token
	// endpoint; its rules and defaults apply unchanged.
	SignedJWTConfig
	// IDToken is the CIS2 ID token to exchange. Exactly one of IDToken and
	// IDTokenFunc is required.
	IDToken string
	// IDTokenFunc returns the ID token to exchange; it is called for every
	// exchange, so it can hand out the token of a renewed CIS2 session.
	IDTokenFunc func(ctx context.Context) (string, error)
	// ClientSecret, when set, authenticates refresh-token grants with
	// client_id (the API key) and client_secret, which is how the NHS API
	// platform documents the refresh. When empty, refreshes are
	// authenticated with a client assertion (RFC 7523 section 2.2), as
	// many other servers accept. Either way, a refused refresh falls back
	// to a new exchange of the ID token.
	ClientSecret string
}

func (c TokenExchangeConfig) validate() (TokenExchangeConfig, error) {
	base, err := c.SignedJWTConfig.validate()
	var problems []string
	if err != nil {
		problems = append(problems, strings.TrimPrefix(err.Error(), shcrkit.ErrInvalidOption.Error()+": "))
	}
	switch {
	case c.IDToken == "" && c.IDTokenFunc == nil:
		problems = append(problems, "one of IDToken and IDTokenFunc is required")
	case c.IDToken != "" && c.IDTokenFunc != nil:
		problems = append(problems, "IDToken and IDTokenFunc are both set")
	}
	c.SignedJWTConfig = base
	if len(problems) > 0 {
		return c, fmt.Errorf("%w: %s", shcrkit.ErrInvalidOption, strings.Join(problems, "; "))
	}
	return c, nil
}

// tokenExchange is an oauth2.TokenSource for user-restricted access. The
// first call of Token exchanges the ID token for an access token and a
// refresh token; later calls use the refresh token while it lasts, and
// make a new exchange when there is none, it has expired, or the server
// refuses it. Every call makes one or two token requests: it does not
// cache the access token: NewTokenExchange puts a TokenCache over it.
//
// It is safe for concurrent use; calls are serialised, since each refresh
// replaces the refresh token.
type tokenExchange struct {
	jwt     *signedJWT
	idToken func(context.Context) (string, error)
	secret  string

	mu            sync.Mutex
	refreshToken  string
	refreshExpiry time.Time // zero: not known
}

// NewTokenExchange returns a token source for the CIS2 token exchange
// whose access tokens are cached, with at most one token request in flight
// however many goroutines ask (see TokenCache). It is safe for concurrent
// use; its dynamic type is *TokenCache. One source serves one signed-in
// user: build one per CIS2 session.
func NewTokenExchange(cfg TokenExchangeConfig) (oauth2.TokenSource, error) {
	x, err := newTokenExchange(cfg)
	if err != nil {
		return nil, err
	}
	c := x.jwt.cfg
	return newCache(x, c.ExpiryMargin, c.Now), nil
}

// newTokenExchange checks cfg and returns a tokenExchange that makes a
// token request on every call.
func newTokenExchange(cfg TokenExchangeConfig) (*tokenExchange, error) {
	c, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	x := &tokenExchange{
		jwt:     &signedJWT{cfg: c.SignedJWTConfig, ep: endpoint{tokenURL: c.TokenURL, client: c.HTTPClient, now: c.Now, secrets: []string{c.APIKey, c.ClientSecret}}},
		idToken: c.IDTokenFunc,
		secret:  c.ClientSecret,
	}
	if x.idToken == nil {
		tok := c.IDToken
		x.idToken = func(context.Context) (string, error) { return tok, nil }
	}
	return x, nil
}

// Token returns a new access token. It implements oauth2.TokenSource; the
// requests are bounded by the HTTP client's timeout.
func (x *tokenExchange) Token() (*oauth2.Token, error) {
	return x.TokenContext(context.Background())
}

// TokenContext returns a new access token, refreshing when it can and
// exchanging the ID token otherwise.
func (x *tokenExchange) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	x.mu.Lock()
	defer x.mu.Unlock()

	if x.refreshToken != "" && (x.refreshExpiry.IsZero() || x.jwt.cfg.Now().Before(x.refreshExpiry)) {
		tok, err := x.refresh(ctx)
		if err == nil {
			return tok, nil
		}
		var te *TokenError
		if !errors.As(err, &te) || !te.refusedGrant() {
			return nil, err
		}
	}
	x.refreshToken, x.refreshExpiry = "", time.Time{}
	return x.exchange(ctx)
}

// exchange trades the ID token for an access token (RFC 8693).
func (x *tokenExchange) exchange(ctx context.Context) (*oauth2.Token, error) {
	idToken, err := x.idToken(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: getting the ID token to exchange: %w", err)
	}
	if idToken == "" {
		return nil, errors.New("auth: the ID token to exchange is empty")
	}
	assertion, err := x.jwt.assertion()
	if err != nil {
		return nil, err
	}
	form := x.jwt.form(grantTokenExchange)
	form.Set("subject_token_type", tokenTypeIDToken)
	form.Set("subject_token", idToken)
	form.Set("client_assertion_type", assertionTypeJWTBearer)
	form.Set("client_assertion", assertion)
	res, err := x.jwt.ep.post(ctx, form, assertion, idToken)
	if err != nil {
		return nil, err
	}
	x.keep(res)
	return res.token, nil
}

// refresh uses the refresh token (RFC 6749 section 6).
func (x *tokenExchange) refresh(ctx context.Context) (*oauth2.Token, error) {
	form := x.jwt.form(grantRefreshToken)
	form.Set("refresh_token", x.refreshToken)
	secrets := []string{x.refreshToken}
	if x.secret != "" {
		form.Set("client_id", x.jwt.cfg.APIKey)
		form.Set("client_secret", x.secret)
		secrets = append(secrets, x.secret)
	} else {
		assertion, err := x.jwt.assertion()
		if err != nil {
			return nil, err
		}
		form.Set("client_assertion_type", assertionTypeJWTBearer)
		form.Set("client_assertion", assertion)
		secrets = append(secrets, assertion)
	}
	res, err := x.jwt.ep.post(ctx, form, secrets...)
	if err != nil {
		return nil, err
	}
	x.keep(res)
	return res.token, nil
}

// keep remembers the refresh token of a successful answer. A server that
// does not rotate refresh tokens sends none back: the old one stays.
func (x *tokenExchange) keep(res grantResult) {
	if rt := res.token.RefreshToken; rt != "" {
		x.refreshToken, x.refreshExpiry = rt, res.refreshExpiry
	}
}
