package auth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/auth/authtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	grantExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	grantRefresh  = "refresh_token"
)

// The lifetimes of the fake's tokens by default, as the platform's.
const (
	tokenLifetime        = 599 * time.Second
	refreshTokenLifetime = 3599 * time.Second
)

// registerClient registers a new application with srv and returns its
// signed-JWT configuration.
func registerClient(t testing.TB, srv *authtest.Server) auth.SignedJWTConfig {
	t.Helper()
	cfg, err := srv.RegisterClient()
	require.NoError(t, err)
	return cfg
}

// idToken returns a fake CIS2 ID token for subject from srv.
func idToken(t testing.TB, srv *authtest.Server, subject string) string {
	t.Helper()
	tok, err := srv.IDToken(subject)
	require.NoError(t, err)
	return tok
}

// failNext makes srv's next n token requests fail with status and the
// OAuth error code and description.
func failNext(srv *authtest.Server, n, status int, code, descr string) {
	srv.InjectFault(http.MethodPost, "", n, authtest.Fault{Status: status, Code: code, Diagnostics: descr})
}

func grants(srv *authtest.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		out = append(out, r.GrantType)
	}
	return out
}

func exchangeSetup(t *testing.T, secret string) (*fakeClock, *authtest.Server, auth.TokenExchangeConfig, string) {
	t.Helper()
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now))
	t.Cleanup(srv.Close)
	key := registerClient(t, srv)
	if secret != "" {
		require.NoError(t, srv.RegisterSecret(key.APIKey, secret))
	}
	idToken := idToken(t, srv, "555254240100")
	return clk, srv, auth.TokenExchangeConfig{SignedJWTConfig: key, IDToken: idToken, ClientSecret: secret}, idToken
}

func TestTokenExchangeExchangesTheIDToken(t *testing.T) {
	_, srv, cfg, idToken := exchangeSetup(t, "")
	x, err := auth.NewTokenExchangeUncached(cfg)
	require.NoError(t, err)

	tok, err := x.Token()
	require.NoError(t, err)
	assert.NotEmpty(t, tok.RefreshToken)
	assert.Equal(t, int64(599), tok.ExpiresIn)
	assert.Equal(t, "urn:ietf:params:oauth:token-type:access_token", tok.Extra("issued_token_type"))

	info, err := srv.Introspect(tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "555254240100", info.Subject)
	assert.Equal(t, grantExchange, info.GrantType)

	r := srv.Requests()[0]
	assert.Equal(t, grantExchange, r.Form.Get("grant_type"))
	assert.Equal(t, "urn:ietf:params:oauth:token-type:id_token", r.Form.Get("subject_token_type"))
	assert.Equal(t, idToken, r.Form.Get("subject_token"))
	assert.Equal(t, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", r.Form.Get("client_assertion_type"))
	assert.NotEmpty(t, r.JTI, "the exchange carries a verified client assertion")
}

func TestTokenExchangeRefreshes(t *testing.T) {
	tests := []struct {
		name   string
		secret string
	}{
		{"client assertion", ""},
		{"client secret as the platform documents", "s3cret-value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv, cfg, _ := exchangeSetup(t, tt.secret)
			x, err := auth.NewTokenExchangeUncached(cfg)
			require.NoError(t, err)

			first, err := x.Token()
			require.NoError(t, err)
			second, err := x.Token()
			require.NoError(t, err)
			third, err := x.Token()
			require.NoError(t, err)

			assert.Equal(t, []string{grantExchange, grantRefresh, grantRefresh}, grants(srv))
			assert.NotEqual(t, first.RefreshToken, second.RefreshToken, "the fake rotates refresh tokens")
			assert.Equal(t, "2", third.Extra("refresh_count"), "each refresh used the latest refresh token")
			for _, tok := range []string{first.AccessToken, second.AccessToken, third.AccessToken} {
				assert.NoError(t, srv.Validate(tok))
			}

			refresh := srv.Requests()[1].Form
			assert.Equal(t, first.RefreshToken, refresh.Get("refresh_token"))
			if tt.secret != "" {
				assert.Equal(t, cfg.APIKey, refresh.Get("client_id"))
				assert.Equal(t, tt.secret, refresh.Get("client_secret"))
				assert.False(t, refresh.Has("client_assertion"))
			} else {
				assert.NotEmpty(t, refresh.Get("client_assertion"))
				assert.False(t, refresh.Has("client_secret"))
			}
		})
	}
}

func TestTokenExchangeFallsBackToExchange(t *testing.T) {
	tests := []struct {
		name       string
		breakIt    func(clk *fakeClock, srv *authtest.Server)
		wantGrants []string
		wantErr    error
	}{
		{
			name: "refresh refused",
			breakIt: func(_ *fakeClock, srv *authtest.Server) {
				failNext(srv, 1, 400, "invalid_grant", "refresh token revoked")
			},
			wantGrants: []string{grantExchange, grantRefresh, grantExchange},
		},
		{
			name:       "refresh unauthorised",
			breakIt:    func(_ *fakeClock, srv *authtest.Server) { failNext(srv, 1, 401, "invalid_client", "who are you") },
			wantGrants: []string{grantExchange, grantRefresh, grantExchange},
		},
		{
			name: "refresh token expired",
			breakIt: func(clk *fakeClock, _ *authtest.Server) {
				clk.Advance(refreshTokenLifetime + time.Second)
			},
			wantGrants: []string{grantExchange, grantExchange},
		},
		{
			name:       "server unavailable: no fallback",
			breakIt:    func(_ *fakeClock, srv *authtest.Server) { failNext(srv, 1, 503, "server_error", "down") },
			wantGrants: []string{grantExchange, grantRefresh},
			wantErr:    shcrkit.ErrUnavailable,
		},
		{
			name:       "rate limited: no fallback",
			breakIt:    func(_ *fakeClock, srv *authtest.Server) { failNext(srv, 1, 429, "rate_limited", "slow down") },
			wantGrants: []string{grantExchange, grantRefresh},
			wantErr:    shcrkit.ErrRateLimited,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk, srv, cfg, _ := exchangeSetup(t, "")
			// The ID token must outlive the refresh token for the
			// expired-refresh case; the fake's ID tokens last an hour.
			cfg.IDToken = ""
			cfg.IDTokenFunc = func(context.Context) (string, error) { return idToken(t, srv, "555254240100"), nil }
			x, err := auth.NewTokenExchangeUncached(cfg)
			require.NoError(t, err)
			_, err = x.Token()
			require.NoError(t, err)

			tt.breakIt(clk, srv)
			tok, err := x.Token()
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
				assert.NoError(t, srv.Validate(tok.AccessToken))
			}
			assert.Equal(t, tt.wantGrants, grants(srv))
		})
	}
}

func TestTokenExchangeErrors(t *testing.T) {
	t.Run("ID token source fails", func(t *testing.T) {
		_, _, cfg, _ := exchangeSetup(t, "")
		cfg.IDToken = ""
		cfg.IDTokenFunc = func(context.Context) (string, error) { return "", errors.New("CIS2 session ended") }
		x, err := auth.NewTokenExchangeUncached(cfg)
		require.NoError(t, err)
		_, err = x.Token()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "CIS2 session ended")
	})
	t.Run("empty ID token", func(t *testing.T) {
		_, _, cfg, _ := exchangeSetup(t, "")
		cfg.IDToken = ""
		cfg.IDTokenFunc = func(context.Context) (string, error) { return "", nil }
		x, err := auth.NewTokenExchangeUncached(cfg)
		require.NoError(t, err)
		_, err = x.Token()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "empty")
	})
	t.Run("expired ID token", func(t *testing.T) {
		clk, _, cfg, idToken := exchangeSetup(t, "")
		clk.Advance(2 * time.Hour)
		x, err := auth.NewTokenExchangeUncached(cfg)
		require.NoError(t, err)
		_, err = x.Token()
		var te *auth.TokenError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "invalid_grant", te.Code)
		assert.NotContains(t, err.Error(), idToken)
	})
	t.Run("config", func(t *testing.T) {
		_, _, cfg, _ := exchangeSetup(t, "")
		cfg.IDToken = ""
		_, err := auth.NewTokenExchange(cfg)
		require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
		assert.Contains(t, err.Error(), "one of IDToken and IDTokenFunc is required")

		cfg.IDToken = "x"
		cfg.IDTokenFunc = func(context.Context) (string, error) { return "y", nil }
		_, err = auth.NewTokenExchange(cfg)
		require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
		assert.Contains(t, err.Error(), "both set")

		cfg.IDTokenFunc = nil
		cfg.APIKey = ""
		_, err = auth.NewTokenExchange(cfg)
		require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
		assert.Contains(t, err.Error(), "APIKey is empty")
	})
}

func TestTokenExchangeCached(t *testing.T) {
	clk, srv, cfg, _ := exchangeSetup(t, "")
	ts, err := auth.NewTokenExchange(cfg)
	require.NoError(t, err)

	first, err := ts.Token()
	require.NoError(t, err)
	again, err := ts.Token()
	require.NoError(t, err)
	assert.Same(t, first, again)

	clk.Advance(tokenLifetime - auth.DefaultExpiryMargin)
	next, err := ts.Token()
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, next.AccessToken)
	assert.Equal(t, []string{grantExchange, grantRefresh}, grants(srv))
	for _, r := range srv.Requests() {
		assert.Equal(t, http.StatusOK, r.Status)
	}
}
