// Package auth supplies the oauth2.TokenSource implementations that
// authenticate shcrkit's clients: to the NHS API platform
// (application-restricted and CIS2 user-restricted access) and to remote
// shared care records that sit behind OAuth 2.0.
//
// Every client in the SDK takes one through its WithTokenSource option;
// with none, it sends no Authorization header.
//
// # Application-restricted access: signed JWT
//
// NewSignedJWT makes the client-credentials grant authenticated by a
// client assertion (RFC 7523) that it signs with the application's private
// key: header alg RS512, typ JWT and kid; claims iss and sub the API key,
// aud the token URL, a fresh jti and exp five minutes ahead. It parses
// the platform's answer, whose expires_in is a string ("599"), as well as
// the usual number.
//
//	key, err := auth.LoadPrivateKeyFile("private.pem")
//	...
//	ts, err := auth.NewSignedJWT(auth.SignedJWTConfig{
//		APIKey:     apiKey,
//		TokenURL:   "https://int.api.service.nhs.uk/oauth2/token",
//		KeyID:      "int-1",
//		PrivateKey: key,
//	})
//
// The algorithm, audience, scopes and extra form parameters can be
// changed, so the same source serves a remote shared care record that
// wants, say, an RS256 or ES256 assertion.
//
// # User-restricted access: CIS2 token exchange
//
// NewTokenExchange exchanges a healthcare worker's CIS2 ID token for an
// access token and a refresh token (RFC 8693), authenticated by the same
// client assertion. Later tokens come from the refresh token while it
// lasts (set ClientSecret to authenticate the refresh with client_id and
// client_secret, as the platform documents), and from a new exchange when
// it is gone or refused. One such source serves one signed-in user.
//
// An application serving many users at once builds one SessionTokens
// instead, with NewSessionTokenExchange (or NewSessionTokens over any
// per-session source), and gives it to its clients as their token source.
// Each call then gets the token of the shcrkit.Session in its context
// (shcrkit.WithSession): the session's ID token is exchanged on its first
// call and its tokens are kept and refreshed for it alone, with at most one
// token request in flight per session while sessions never wait for one
// another. The store is bounded (SessionConfig's MaxSessions, default
// 10,000, least recently used dropped first; Idle, default 30 minutes), a
// 401 drops the refused token of that session only
// (InvalidateSessionToken), and Forget drops a session at sign-out. No
// token is ever handed to another session than the one it was obtained
// for: sessions are keyed by their ID, user, organisation and role.
//
// # Caching and concurrency
//
// The sources that NewSignedJWT and NewTokenExchange return are
// TokenCaches: every caller gets the same access token until
// ExpiryMargin (30 seconds by default) before it expires, and however many
// goroutines ask at once, at most one token request is in flight. While
// a replacement is being fetched, callers keep getting the old token as
// long as it has not expired, and a token a server refused is dropped
// (TokenCache.Invalidate, which the SDK's clients call on a 401).
// oauth2.ReuseTokenSource does neither the single flight nor the
// invalidation. Cache wraps any other token source the same way. All
// sources in this package are safe for concurrent use.
//
// # Errors
//
// A token endpoint's error answer ({"error": ..., "error_description":
// ...}) comes back as a *TokenError carrying the status, the OAuth error
// code and the description, and matching the shcrkit sentinels:
// errors.Is(err, shcrkit.ErrUnauthorized) on 401, ErrRateLimited on 429,
// ErrUnavailable on 5xx, ErrInvalidRequest on other 4xx. A server that
// cannot be reached gives an error matching ErrUnavailable; a garbled
// answer one matching ErrMalformedResponse. Configuration problems match
// shcrkit.ErrInvalidOption, key problems ErrInvalidPrivateKey. No error text holds
// an access token, refresh token, ID token, client assertion or secret.
//
// # Keys
//
// ParsePrivateKey and LoadPrivateKeyFile read a PEM private key: RSA in
// PKCS#1 or PKCS#8 form, EC in SEC 1 or PKCS#8 form. Encrypted keys, RSA
// keys under 2048 bits and other key types are refused with an error that
// says why.
//
// # Testing
//
// Package authtest is a fake NHS API platform token endpoint that checks
// assertions as the platform does and issues tokens that other fakes can
// validate.
//
// # Redirects and redaction
//
// A token endpoint that redirects to another origin (scheme, host or
// port) than the token URL's gets a *shcrkit.RedirectError back (matching
// shcrkit.ErrRedirectRefused): the client assertion, the CIS2 ID token and
// the refresh token are never sent there. The default HTTP client follows
// no redirect at all. Every text a token endpoint sends back has the request's own
// secrets removed and goes through shcrkit.Redact before it reaches a
// TokenError or any other error.
package auth
