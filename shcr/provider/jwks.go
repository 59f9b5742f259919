package provider

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/jwk"
	"github.com/shcrkit/shcrkit/internal/nilctx"

	"github.com/golang-jwt/jwt/v5"
)

// Defaults of a JWKSVerifier.
const (
	// defaultJWKSRefresh is how long a fetched key set is used before it
	// is fetched again.
	defaultJWKSRefresh = time.Hour
	// defaultJWKSMinInterval is the shortest time between two fetches
	// prompted by an unknown key ID, so that tokens naming made-up keys
	// cannot turn the verifier against the issuer.
	defaultJWKSMinInterval = 30 * time.Second
)

// maxJWKSBytes caps a key set document.
const maxJWKSBytes = 1 << 20

// jwksFetchTimeout bounds one fetch of the key set, which runs detached
// from the cancellation of the request that prompted it.
const jwksFetchTimeout = 10 * time.Second

// JWKSConfig is what a JWKSVerifier is built from.
type JWKSConfig struct {
	// URL is the issuer's JSON Web Key Set. Required.
	URL string
	// Issuer is the iss the tokens must carry. Required.
	Issuer string
	// Audience is the aud the tokens must carry, when set.
	Audience string
	// Algorithms are the accepted signing algorithms; nil means RS256,
	// RS512 and ES256. "none" is never accepted.
	Algorithms []string
	// HTTPClient fetches the key set; nil means a client with a 10 s
	// timeout.
	HTTPClient *http.Client
	// Refresh is how long a key set is used before it is fetched again;
	// 0 means an hour.
	Refresh time.Duration
	// MinInterval is the shortest time between fetches prompted by an
	// unknown key ID; 0 means 30 seconds.
	MinInterval time.Duration
	// Leeway allows for clock skew on exp, nbf and iat.
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// JWKSVerifier verifies JWT access tokens against the issuer's key set,
// fetched on first use and cached. The set is fetched again when it is
// older than Refresh, and when a token names a key ID the cached set does
// not hold (the issuer has rotated its keys), at most once per
// MinInterval; a key that leaves the set stops verifying at the next
// fetch. Tokens must be signed (never alg none), name their key (kid),
// carry exp, and carry the configured iss and aud. It is safe for
// concurrent use; one fetch runs at a time.
type JWKSVerifier struct {
	cfg    JWKSConfig
	parser *jwt.Parser

	fetchMu sync.Mutex // one fetch at a time

	mu      sync.Mutex
	keys    map[string]crypto.PublicKey
	fetched time.Time // when keys were fetched; zero before the first
	tried   time.Time // when a fetch was last attempted
}

// NewJWKSVerifier checks cfg and returns a verifier. Nothing is fetched
// until the first token arrives.
func NewJWKSVerifier(cfg JWKSConfig) (*JWKSVerifier, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: JWKS URL must be an absolute http or https URL", ErrInvalidConfig)
	}
	if cfg.Issuer == "" {
		return nil, fmt.Errorf("%w: JWKS verifier needs the issuer", ErrInvalidConfig)
	}
	if cfg.Refresh < 0 || cfg.MinInterval < 0 || cfg.Leeway < 0 {
		return nil, fmt.Errorf("%w: negative JWKS interval or leeway", ErrInvalidConfig)
	}
	if cfg.Algorithms == nil {
		cfg.Algorithms = []string{"RS256", "RS512", "ES256"}
	}
	for _, a := range cfg.Algorithms {
		if jwt.GetSigningMethod(a) == nil || a == "none" {
			return nil, fmt.Errorf("%w: unknown or unsigned algorithm %q", ErrInvalidConfig, a)
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	// A copy with the SDK's redirect policy: nothing follows a redirect
	// to another origin.
	cfg.HTTPClient = fhirhttp.GuardHTTPClient(cfg.HTTPClient)
	if cfg.Refresh == 0 {
		cfg.Refresh = defaultJWKSRefresh
	}
	if cfg.MinInterval == 0 {
		cfg.MinInterval = defaultJWKSMinInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(cfg.Algorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithIssuedAt(),
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return &JWKSVerifier{cfg: cfg, parser: jwt.NewParser(opts...)}, nil
}

// accessClaims are the claims of a JWT access token.
type accessClaims struct {
	jwt.RegisteredClaims
	ClientID string `json:"client_id,omitempty"`
	Scope    string `json:"scope,omitempty"`
}

// errUnknownKey: the token names no key, or one not in the set.
var errUnknownKey = errors.New("unknown key")

// errKeySet marks a failure to obtain the key set, as opposed to a bad
// token.
type errKeySet struct{ err error }

func (e *errKeySet) Error() string { return "fetching the issuer's key set: " + e.err.Error() }
func (e *errKeySet) Unwrap() error { return e.err }

// VerifyAccessToken implements TokenVerifier.
func (v *JWKSVerifier) VerifyAccessToken(ctx context.Context, token string) (AccessToken, error) {
	if v == nil || v.parser == nil {
		return AccessToken{}, fmt.Errorf("%w: the JWKSVerifier was not made by NewJWKSVerifier", ErrInvalidConfig)
	}
	if err := nilctx.Check(ctx); err != nil {
		return AccessToken{}, err
	}
	var claims accessClaims
	_, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, fmt.Errorf("%w: the token names no key (kid)", errUnknownKey)
		}
		return v.key(ctx, kid)
	})
	if err != nil {
		var ks *errKeySet
		if errors.As(err, &ks) {
			return AccessToken{}, ks
		}
		return AccessToken{}, fmt.Errorf("%w: %s", ErrAccessToken, describeJWT(err))
	}
	out := AccessToken{ClientID: claims.ClientID, Subject: claims.Subject, Issuer: claims.Issuer, Scopes: splitScopes(claims.Scope)}
	if out.ClientID == "" {
		out.ClientID = claims.Subject
	}
	if claims.ExpiresAt != nil {
		out.Expiry = claims.ExpiresAt.Time
	}
	return out, nil
}

// key returns the key with kid, fetching the set when it is stale or
// lacks the key and the last attempt is old enough.
func (v *JWKSVerifier) key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	now := v.cfg.Now()
	v.mu.Lock()
	k, ok := v.keys[kid]
	never := v.fetched.IsZero()
	stale := never || now.Sub(v.fetched) >= v.cfg.Refresh
	mayTry := v.tried.IsZero() || now.Sub(v.tried) >= v.cfg.MinInterval
	v.mu.Unlock()
	if ok && !stale {
		return k, nil
	}
	if !mayTry && !never {
		if ok {
			return k, nil
		}
		return nil, errUnknownKey
	}
	if err := v.refresh(ctx, now); err != nil {
		if ok {
			// A stale set still verifies while the issuer is unreachable.
			return k, nil
		}
		return nil, &errKeySet{err: err}
	}
	v.mu.Lock()
	k, ok = v.keys[kid]
	v.mu.Unlock()
	if !ok {
		return nil, errUnknownKey
	}
	return k, nil
}

// refresh fetches the key set, unless another fetch did since now.
func (v *JWKSVerifier) refresh(ctx context.Context, now time.Time) error {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	v.mu.Lock()
	if !v.tried.IsZero() && !v.tried.Before(now) {
		v.mu.Unlock()
		return nil
	}
	v.tried = now
	v.mu.Unlock()
	// The fetch serves every caller, and a failed one holds off the next
	// for MinInterval: a caller that hangs up must not cancel it.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jwksFetchTimeout)
	defer cancel()
	keys, err := v.fetch(fctx)
	if err != nil {
		return err
	}
	v.mu.Lock()
	v.keys, v.fetched = keys, now
	v.mu.Unlock()
	return nil
}

func (v *JWKSVerifier) fetch(ctx context.Context) (map[string]crypto.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the key set answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxJWKSBytes {
		return nil, errors.New("the key set is too large")
	}
	return ParseJWKS(body)
}

// ParseJWKS reads a JSON Web Key Set and returns its signing keys by key
// ID. Keys for encryption (use "enc"), keys without an ID and key types
// other than RSA (2048 bits or more) and EC (P-256, P-384, P-521) are
// skipped; a set with no usable key is an error.
func ParseJWKS(body []byte) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []jwk.Key `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, errors.New("the key set is not a JSON Web Key Set")
	}
	out := make(map[string]crypto.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.KeyID == "" || !k.ForSignatures() {
			continue
		}
		pub, err := k.PublicKey()
		if err != nil {
			continue
		}
		out[k.KeyID] = pub
	}
	if len(out) == 0 {
		return nil, errors.New("the key set holds no usable signing key")
	}
	return out, nil
}

// describeJWT says what golang-jwt found wrong with an access token,
// without the token.
func describeJWT(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "token is malformed"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		if errors.Is(err, errUnknownKey) {
			return "the key it names is not in the issuer's key set"
		}
		return "token cannot be verified"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "signature is invalid or the algorithm is not accepted"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token has expired"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "exp is missing"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "iss is not the trusted issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "aud is not this provider"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token is not valid yet"
	}
	return "token is invalid"
}
