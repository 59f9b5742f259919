package auth

import (
	"time"

	"golang.org/x/oauth2"
)

// CacheWithClock is Cache reading the time from now.
func CacheWithClock(src oauth2.TokenSource, margin time.Duration, now func() time.Time) *TokenCache {
	return newCache(src, margin, now)
}

// SignedJWT and TokenExchange are the uncached sources under the caches
// that NewSignedJWT and NewTokenExchange return.
type (
	SignedJWT     = signedJWT
	TokenExchange = tokenExchange
)

// NewSignedJWTUncached checks cfg and returns a source that requests a
// new token on every call.
func NewSignedJWTUncached(cfg SignedJWTConfig) (*SignedJWT, error) { return newSignedJWT(cfg) }

// NewTokenExchangeUncached checks cfg and returns a source that makes a
// token request on every call.
func NewTokenExchangeUncached(cfg TokenExchangeConfig) (*TokenExchange, error) {
	return newTokenExchange(cfg)
}

// Assertion signs and returns a new client assertion.
func (s *signedJWT) Assertion() (string, error) { return s.assertion() }

// Limits of SignedJWTConfig.
const (
	MaxAssertionLifetime = maxAssertionLifetime
	DefaultExpiryMargin  = defaultExpiryMargin
)

// Len returns the number of sessions held.
func (st *SessionTokens) Len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.entries)
}
