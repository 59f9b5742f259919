package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/nilctx"
)

// IntrospectionConfig is what an Introspector is built from.
type IntrospectionConfig struct {
	// URL is the issuer's token introspection endpoint (RFC 7662).
	// Required.
	URL string
	// ClientID and ClientSecret authenticate this provider to the
	// endpoint with HTTP Basic authentication, when set.
	ClientID, ClientSecret string
	// Issuer, when set, must be the iss the endpoint reports.
	Issuer string
	// Audience, when set, must be among the aud the endpoint reports (a
	// string or a list): a token the issuer gave for another API is
	// refused. An answer without aud is refused too.
	Audience string
	// HTTPClient calls the endpoint; nil means a client with a 10 s
	// timeout.
	HTTPClient *http.Client
	// Now is the clock against which exp is checked; nil means time.Now.
	Now func() time.Time
}

// Introspector verifies opaque access tokens by asking the issuer's
// introspection endpoint (RFC 7662) about each one. A token is accepted
// only when the endpoint answers active, and refused when it has expired
// by the provider's clock or names another issuer or (with
// IntrospectionConfig.Audience) another audience. It is safe for
// concurrent use.
type Introspector struct {
	cfg IntrospectionConfig
}

// NewIntrospector checks cfg and returns an Introspector.
func NewIntrospector(cfg IntrospectionConfig) (*Introspector, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: introspection URL must be an absolute http or https URL", ErrInvalidConfig)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	// A copy with the SDK's redirect policy: nothing follows a redirect
	// to another origin.
	cfg.HTTPClient = fhirhttp.GuardHTTPClient(cfg.HTTPClient)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Introspector{cfg: cfg}, nil
}

// introspection is the endpoint's answer.
type introspection struct {
	Active   bool            `json:"active"`
	ClientID string          `json:"client_id"`
	Subject  string          `json:"sub"`
	Issuer   string          `json:"iss"`
	Scope    string          `json:"scope"`
	Expiry   int64           `json:"exp"`
	Audience json.RawMessage `json:"aud"`
}

// hasAudience reports whether the answer's aud, a string or a list of
// them, holds want.
func (ans *introspection) hasAudience(want string) bool {
	var one string
	if err := json.Unmarshal(ans.Audience, &one); err == nil {
		return one == want
	}
	var many []string
	if err := json.Unmarshal(ans.Audience, &many); err != nil {
		return false
	}
	return slices.Contains(many, want)
}

// VerifyAccessToken implements TokenVerifier.
func (in *Introspector) VerifyAccessToken(ctx context.Context, token string) (AccessToken, error) {
	if in == nil || in.cfg.URL == "" {
		return AccessToken{}, fmt.Errorf("%w: the Introspector was not made by NewIntrospector", ErrInvalidConfig)
	}
	if err := nilctx.Check(ctx); err != nil {
		return AccessToken{}, err
	}
	if token == "" {
		return AccessToken{}, fmt.Errorf("%w: no token", ErrAccessToken)
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.cfg.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return AccessToken{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if in.cfg.ClientID != "" {
		req.SetBasicAuth(url.QueryEscape(in.cfg.ClientID), url.QueryEscape(in.cfg.ClientSecret))
	}
	resp, err := in.cfg.HTTPClient.Do(req)
	if err != nil {
		return AccessToken{}, fmt.Errorf("introspecting the token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return AccessToken{}, fmt.Errorf("introspecting the token: the endpoint answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return AccessToken{}, fmt.Errorf("introspecting the token: %w", err)
	}
	var ans introspection
	if err := json.Unmarshal(body, &ans); err != nil {
		return AccessToken{}, errors.New("introspecting the token: the answer is not an introspection response")
	}
	switch {
	case !ans.Active:
		return AccessToken{}, fmt.Errorf("%w: token is not active", ErrAccessToken)
	case ans.Expiry != 0 && !in.cfg.Now().Before(time.Unix(ans.Expiry, 0)):
		return AccessToken{}, fmt.Errorf("%w: token has expired", ErrAccessToken)
	case in.cfg.Issuer != "" && ans.Issuer != in.cfg.Issuer:
		return AccessToken{}, fmt.Errorf("%w: iss is not the trusted issuer", ErrAccessToken)
	case in.cfg.Audience != "" && !ans.hasAudience(in.cfg.Audience):
		return AccessToken{}, fmt.Errorf("%w: aud is not this provider's", ErrAccessToken)
	}
	out := AccessToken{ClientID: ans.ClientID, Subject: ans.Subject, Issuer: ans.Issuer, Scopes: splitScopes(ans.Scope)}
	if out.ClientID == "" {
		out.ClientID = ans.Subject
	}
	if out.ClientID == "" {
		return AccessToken{}, fmt.Errorf("%w: the token names no client", ErrAccessToken)
	}
	if ans.Expiry != 0 {
		out.Expiry = time.Unix(ans.Expiry, 0)
	}
	return out, nil
}
