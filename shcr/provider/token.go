package provider

import (
	"context"
	"errors"
	"strings"
	"time"
)

// ErrAccessToken is matched by every refusal of an access token: missing,
// malformed, expired, signed by an unknown key, inactive. Its text never
// repeats the token.
var ErrAccessToken = errors.New("provider: access token refused")

// AccessToken is what a verified OAuth2 access token says of the client
// that presents it.
type AccessToken struct {
	// ClientID names the consumer's application (client_id, or the
	// subject of a client-credentials token when there is no client_id).
	// The Guard finds the Consumer by it.
	ClientID string
	// Subject is the token's sub.
	Subject string
	// Issuer is the token's iss.
	Issuer string
	// Scopes are the scopes granted.
	Scopes []string
	// Expiry is when the token stops being valid; zero when unknown.
	Expiry time.Time
}

// TokenVerifier verifies an OAuth2 access token presented as a bearer
// token. A refusal matches ErrAccessToken; any other error means the
// token could not be checked (the issuer's key set or introspection
// endpoint unreachable) and the request is answered 503, not 401.
// Implementations are safe for concurrent use.
type TokenVerifier interface {
	VerifyAccessToken(ctx context.Context, token string) (AccessToken, error)
}

// TokenVerifierFunc adapts a function to TokenVerifier.
type TokenVerifierFunc func(ctx context.Context, token string) (AccessToken, error)

// VerifyAccessToken calls f.
func (f TokenVerifierFunc) VerifyAccessToken(ctx context.Context, token string) (AccessToken, error) {
	return f(ctx, token)
}

var (
	_ TokenVerifier = (*JWKSVerifier)(nil)
	_ TokenVerifier = (*Introspector)(nil)
	_ TokenVerifier = TokenVerifierFunc(nil)
)

func splitScopes(s string) []string { return strings.Fields(s) }
