// Package authtest is a fake NHS API platform token endpoint
// (/oauth2/token) for tests of code that authenticates with package auth.
//
// # Starting a fake
//
// NewServer starts a Server on a loopback address; NewUnstartedServer
// returns one to start later. Register an application's public key under
// its API key and kid, or let RegisterClient generate and register a key
// pair and return a ready-made auth.SignedJWTConfig:
//
//	srv := authtest.NewServer()
//	defer srv.Close()
//	cfg, err := srv.RegisterClient()
//	...
//	ts, err := auth.NewSignedJWT(cfg)
//
// # What it checks
//
// Client assertions are checked as the platform checks them: the
// signature with the registered public key, alg (RS512 unless
// WithAlgorithms says otherwise), typ JWT, kid, iss = sub = a registered
// API key, aud = TokenURL, exp in the future and at most five minutes
// ahead, and a jti never seen before. A failed check is answered as the
// platform answers: 400 or 401 with {"error", "error_description",
// "message_id"}.
//
// It supports the client-credentials grant, the token exchange of a CIS2
// ID token (IDToken makes one) and the refresh-token grant,
// authenticated by a client assertion or, as on the platform, by
// client_id and a client_secret set with RegisterSecret.
//
// # Checking tokens elsewhere
//
// Access tokens are random and opaque. Validate tells another fake
// whether a bearer token was issued here and is still valid (pass
// srv.Validate to its WithTokenValidator); Introspect says to whom.
//
// # Observing and breaking it
//
// Requests returns a copy of every token request received, with its form
// and outcome. InjectFault, as on every fake, makes the next requests fail
// with a chosen status and OAuth error (a Fault), or go slow, hang or
// break off. WithClock shares a clock with the code under test so that
// token lifetimes pass without waiting; WithTokenLifetime shortens them.
//
// # Where it differs from the platform
//
// No products, scopes or rate limits; the subject token of an exchange is
// checked for shape, iss, aud and expiry only, unless WithIDTokenVerifier
// adds a check; a refresh keeps the refresh token's original expiry; the
// error descriptions are its own wording.
package authtest
