package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/fake"
)

// tokenPath is the path of the token endpoint on the fake, as on the NHS
// API platform.
const tokenPath = "/oauth2/token"

// The fake's lifetimes by default, as the NHS API platform answers.
const (
	defaultTokenLifetime        = 599 * time.Second
	defaultRefreshTokenLifetime = 3599 * time.Second
)

// Fault is a failure to inject with InjectFault: for the token endpoint,
// Status with Code the OAuth error code (server_error, invalid_grant, ...)
// and Diagnostics its error_description, answered as the platform shapes
// an error and recorded in Requests like any other answer.
type Fault = fake.Fault

// Errors of Validate and Introspect. They never contain the token.
var (
	// ErrUnknownToken: the fake never issued the token, or it was revoked.
	ErrUnknownToken = errors.New("authtest: unknown access token")
	// ErrExpiredToken: the fake issued the token but it has expired.
	ErrExpiredToken = errors.New("authtest: access token has expired")
)

// Server is a fake NHS API platform token endpoint (/oauth2/token) for
// tests. It verifies client assertions as the platform does (signature
// with the registered public key, alg, typ, kid, iss = sub = API key, aud
// = its token URL (TokenURL, or the URL the client called as
// X-Forwarded-Proto and X-Forwarded-Host report it behind a proxy), exp in the future and at most five minutes ahead, jti
// present and never reused) and supports the client-credentials,
// token-exchange and refresh-token grants. It issues random opaque access
// tokens that Validate checks, so that other fakes can accept them.
//
// Where it differs from the platform: there are no products, scopes or
// rate limits; a subject token (the CIS2 ID token) is checked for shape,
// iss, aud and expiry only, unless WithIDTokenVerifier adds a check; a
// refresh keeps the refresh token's original expiry; error descriptions
// are its own wording.
//
// A Server is safe for concurrent use, and what it returns is a copy.
//
// Like httptest.Server it listens on a loopback address once started; URL
// is its root, http://127.0.0.1:port. It is built on the same base as the
// other fakes, which gives it Start, Close, Handler, HTTPClient (the
// client to call it with), ResetRequests (which forgets what Requests
// returns), SetLatency, Connections, and InjectFault and
// ClearFaults, with paths from the root (the token endpoint is
// /oauth2/token).
type Server struct {
	*fake.Server

	cfg config

	mu      sync.Mutex
	clients map[string]*client
	jtis    map[string]time.Time // API key + "\x00" + jti -> exp
	tokens  map[string]TokenInfo
	refresh map[string]refreshGrant
	// requests are the token requests received, bounded as every fake's
	// request log is: anyone who can reach the endpoint can send them,
	// each with a form of up to 64 KiB.
	requests fake.Kept[Request]
}

type client struct {
	keys   map[string]crypto.PublicKey
	secret string
}

type refreshGrant struct {
	apiKey  string
	subject string
	count   int
	expiry  time.Time
}

// TokenInfo describes an access token the fake issued.
type TokenInfo struct {
	// APIKey is the application the token was issued to.
	APIKey string
	// GrantType is the grant that produced it.
	GrantType string
	// Subject is the sub claim of the exchanged ID token (the healthcare
	// worker's UUID), "" for application-restricted tokens.
	Subject string
	// IssuedAt and Expiry bound the token's life on the fake's clock.
	IssuedAt, Expiry time.Time
}

// Request records one call of the token endpoint.
type Request struct {
	// Time is when it arrived, on the fake's clock.
	Time time.Time
	// GrantType is the grant_type parameter.
	GrantType string
	// APIKey is the client that authenticated, or tried to: the
	// assertion's iss, or client_id for a secret-authenticated refresh.
	APIKey string
	// KeyID, Algorithm and JTI come from the client assertion, if any.
	KeyID, Algorithm, JTI string
	// Form is the whole form as received.
	Form url.Values
	// Status is the HTTP status answered.
	Status int
	// Error and Description are the OAuth error answered, "" on success.
	Error, Description string

	// calledURL is the token URL as the client called it (through any
	// reverse proxy that says so), also accepted as an assertion's aud.
	calledURL string
}

// maxAssertionLifetime is how far ahead an assertion's exp may be.
const maxAssertionLifetime = 5 * time.Minute

// Option configures a Server. Every fake (pdstest, nrlstest, shcrtest,
// authtest) takes options of this shape, and the same WithClock where it
// applies.
type Option func(*config) error

type config struct {
	fake.Settings
	lifetime        time.Duration
	refreshLifetime time.Duration
	algs            map[string]bool
	numeric         bool
	idTokenCheck    func(string) error
}

// Base returns the settings every fake shares.
func (c *config) Base() *fake.Settings { return &c.Settings }

// WithClock makes the fake read the time from now: for token lifetimes,
// assertion expiry and the records. Share the clock with the client under
// test to move time without waiting.
func WithClock(now func() time.Time) Option { return Option(fake.WithClock[config](now)) }

// WithTokenLifetime sets the life of access tokens (599 s by default, as
// on the platform). Values below one second count as one second.
func WithTokenLifetime(d time.Duration) Option {
	return func(c *config) error { c.lifetime = max(d, time.Second); return nil }
}

// WithRefreshTokenLifetime sets the life of refresh tokens (3599 s by
// default). Values below one second count as one second.
func WithRefreshTokenLifetime(d time.Duration) Option {
	return func(c *config) error { c.refreshLifetime = max(d, time.Second); return nil }
}

// WithAlgorithms sets the assertion algorithms accepted: RS512 only by
// default, as on the platform. Use it to stand in for a remote shared
// care record that takes RS256 or ES256. Unknown names are an error.
func WithAlgorithms(algs ...auth.Algorithm) Option {
	return func(c *config) error {
		c.algs = map[string]bool{}
		for _, a := range algs {
			if !a.Valid() {
				return fmt.Errorf("%w: unknown algorithm %q", shcrkit.ErrInvalidOption, string(a))
			}
			c.algs[string(a)] = true
		}
		return nil
	}
}

// WithNumericExpiresIn makes the fake send expires_in and the other
// counts as JSON numbers, as most OAuth 2.0 servers do, instead of the
// platform's strings.
func WithNumericExpiresIn() Option {
	return func(c *config) error { c.numeric = true; return nil }
}

// WithIDTokenVerifier adds a check of the subject token of a token
// exchange (verifying its signature against a fake CIS2 key, say). An
// error refuses the exchange with invalid_grant.
func WithIDTokenVerifier(verify func(idToken string) error) Option {
	return func(c *config) error { c.idTokenCheck = verify; return nil }
}

// NewServer starts a fake on a loopback address. Close it when done. Like
// httptest.NewServer, which panics when it cannot listen, it panics on an
// invalid option; NewUnstartedServer returns the error instead.
func NewServer(opts ...Option) *Server { return fake.Started(NewUnstartedServer(opts...)) }

// NewUnstartedServer returns a fake that is not yet listening (call
// Start), or the error of an invalid option.
func NewUnstartedServer(opts ...Option) (*Server, error) {
	s := &Server{
		cfg: config{
			lifetime:        defaultTokenLifetime,
			refreshLifetime: defaultRefreshTokenLifetime,
			algs:            map[string]bool{string(auth.RS512): true},
		},
		clients: map[string]*client{},
		jtis:    map[string]time.Time{},
		tokens:  map[string]TokenInfo{},
		refresh: map[string]refreshGrant{},
	}
	if err := fake.Apply(&s.cfg, opts); err != nil {
		return nil, err
	}
	s.cfg.Now = s.cfg.Clock()
	s.Server = fake.New(s.cfg.Settings, fake.Spec{Handler: http.HandlerFunc(s.serveHTTP),
		Middleware: &fake.Middleware{WriteFault: s.writeFault}, OnReset: s.forgetRequests})
	return s, nil
}

// forgetRequests forgets the token requests received so far.
func (s *Server) forgetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests.Reset()
}

// TokenURL is the token endpoint, URL + "/oauth2/token": the aud that
// client assertions must carry.
func (s *Server) TokenURL() string { return s.URL + tokenPath }

// Register adds, or replaces, the public key kid of the application
// apiKey. pub is an *rsa.PublicKey or *ecdsa.PublicKey; a private key of
// either kind is accepted and its public half used.
func (s *Server) Register(apiKey, kid string, pub crypto.PublicKey) error {
	if apiKey == "" || kid == "" {
		return errors.New("authtest: Register needs an API key and a kid")
	}
	if v := reflect.ValueOf(pub); v.Kind() == reflect.Pointer && v.IsNil() {
		return errors.New("authtest: Register: the key is a nil pointer")
	}
	if signer, ok := pub.(crypto.Signer); ok {
		pub = signer.Public()
	}
	switch pub.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
	default:
		return fmt.Errorf("authtest: Register: unsupported key type %T", pub)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clientLocked(apiKey)
	c.keys[kid] = pub
	return nil
}

// RegisterSecret sets the client secret of the application apiKey, with
// which it may authenticate refresh-token grants as on the platform.
func (s *Server) RegisterSecret(apiKey, secret string) error {
	if apiKey == "" || secret == "" {
		return errors.New("authtest: RegisterSecret needs an API key and a secret")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clientLocked(apiKey).secret = secret
	return nil
}

func (s *Server) clientLocked(apiKey string) *client {
	c := s.clients[apiKey]
	if c == nil {
		c = &client{keys: map[string]crypto.PublicKey{}}
		s.clients[apiKey] = c
	}
	return c
}

// Requests returns a copy of the token requests received so far, oldest
// first: the most recent 10,000 at most, and fewer when their forms
// exceed 64 MiB.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.requests.Items()
	out := make([]Request, len(kept))
	for i, r := range kept {
		r.Form = cloneValues(r.Form)
		out[i] = r
	}
	return out
}

// Validate reports whether token is an access token the fake issued and
// that has not expired: nil, or an error matching ErrUnknownToken or
// ErrExpiredToken.
func (s *Server) Validate(token string) error {
	_, err := s.Introspect(token)
	return err
}

// Introspect describes an access token the fake issued, with the errors
// of Validate.
func (s *Server) Introspect(token string) (TokenInfo, error) {
	s.mu.Lock()
	info, ok := s.tokens[token]
	s.mu.Unlock()
	if !ok {
		return TokenInfo{}, ErrUnknownToken
	}
	if !s.cfg.Now().Before(info.Expiry) {
		return info, ErrExpiredToken
	}
	return info, nil
}

// Revoke forgets an access token, so that Validate refuses it from now on.
// It reports whether the token was known.
func (s *Server) Revoke(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.tokens[token]
	delete(s.tokens, token)
	return ok
}

// oauthError is an error answer, as the platform shapes it.
type oauthError struct {
	status int
	code   string
	descr  string
}

func (e *oauthError) Error() string { return e.code + ": " + e.descr }

func badRequest(descr string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_request", descr: descr}
}

func unauthorized(descr string) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_request", descr: descr}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != tokenPath {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "no such endpoint"})
		return
	}
	now := s.cfg.Now()
	rec := Request{Time: now, calledURL: fake.CalledOrigin(r) + tokenPath}
	if r.Method != http.MethodPost {
		s.answerError(w, &rec, &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", descr: "the token endpoint takes POST only"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.answerError(w, &rec, badRequest("the body is not a readable form"))
		return
	}
	rec.Form = cloneValues(r.PostForm)
	rec.GrantType = r.PostForm.Get("grant_type")

	var (
		body map[string]any
		oerr *oauthError
	)
	switch rec.GrantType {
	case "":
		oerr = badRequest("grant_type is missing")
	case "client_credentials":
		body, oerr = s.clientCredentials(r.PostForm, &rec, now)
	case "urn:ietf:params:oauth:grant-type:token-exchange":
		body, oerr = s.tokenExchange(r.PostForm, &rec, now)
	case "refresh_token":
		body, oerr = s.refreshTokenGrant(r.PostForm, &rec, now)
	default:
		oerr = &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type", descr: "grant_type is not supported"}
	}
	if oerr != nil {
		s.answerError(w, &rec, oerr)
		return
	}
	rec.Status = http.StatusOK
	s.record(rec)
	writeJSON(w, http.StatusOK, body)
}

// writeFault answers an injected fault with a Status as the platform
// answers an error, and records it as a token request.
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, f fake.Fault) {
	rec := Request{Time: s.cfg.Now()}
	if r.Method == http.MethodPost && r.ParseForm() == nil {
		rec.Form = cloneValues(r.PostForm)
		rec.GrantType = r.PostForm.Get("grant_type")
	}
	code, descr := f.Code, f.Diagnostics
	if code == "" {
		code = "invalid_request"
		if f.Status >= 500 {
			code = "server_error"
		}
	}
	if descr == "" {
		descr = "injected fault"
	}
	s.answerError(w, &rec, &oauthError{status: f.Status, code: code, descr: descr})
}

func (s *Server) answerError(w http.ResponseWriter, rec *Request, e *oauthError) {
	rec.Status, rec.Error, rec.Description = e.status, e.code, e.descr
	s.record(*rec)
	writeJSON(w, e.status, map[string]string{
		"error":             e.code,
		"error_description": e.descr,
		"message_id":        uuid.NewString(),
	})
}

func (s *Server) record(rec Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests.Add(rec, formSize(rec.Form))
}

// formSize is the size of a form's names and values.
func formSize(form url.Values) int {
	n := 0
	for k, vs := range form {
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) clientCredentials(form url.Values, rec *Request, now time.Time) (map[string]any, *oauthError) {
	apiKey, oerr := s.authenticateAssertion(form, rec, now)
	if oerr != nil {
		return nil, oerr
	}
	token := s.issue(TokenInfo{APIKey: apiKey, GrantType: rec.GrantType, IssuedAt: now, Expiry: now.Add(s.cfg.lifetime)})
	return map[string]any{
		"access_token": token,
		"expires_in":   s.count(int64(s.cfg.lifetime / time.Second)),
		"token_type":   "Bearer",
		"issued_at":    strconv.FormatInt(now.UnixMilli(), 10),
	}, nil
}

func (s *Server) tokenExchange(form url.Values, rec *Request, now time.Time) (map[string]any, *oauthError) {
	if form.Get("subject_token_type") != "urn:ietf:params:oauth:token-type:id_token" {
		return nil, badRequest("missing or invalid subject_token_type: must be urn:ietf:params:oauth:token-type:id_token")
	}
	apiKey, oerr := s.authenticateAssertion(form, rec, now)
	if oerr != nil {
		return nil, oerr
	}
	subject, oerr := s.checkSubjectToken(form.Get("subject_token"), now)
	if oerr != nil {
		return nil, oerr
	}
	return s.issueUserTokens(apiKey, subject, rec.GrantType, 0, now.Add(s.cfg.refreshLifetime), now), nil
}

func (s *Server) refreshTokenGrant(form url.Values, rec *Request, now time.Time) (map[string]any, *oauthError) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, badRequest("refresh_token is missing")
	}
	var apiKey string
	if form.Has("client_secret") || form.Has("client_id") {
		apiKey = form.Get("client_id")
		rec.APIKey = apiKey
		s.mu.Lock()
		c := s.clients[apiKey]
		ok := c != nil && c.secret != "" && c.secret == form.Get("client_secret")
		s.mu.Unlock()
		if !ok {
			return nil, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", descr: "client_id or client_secret is invalid"}
		}
	} else {
		var oerr *oauthError
		if apiKey, oerr = s.authenticateAssertion(form, rec, now); oerr != nil {
			return nil, oerr
		}
	}
	s.mu.Lock()
	g, ok := s.refresh[rt]
	if ok && g.apiKey == apiKey {
		// Refresh tokens are single use: the answer carries the next one.
		delete(s.refresh, rt)
	}
	s.mu.Unlock()
	switch {
	case !ok || g.apiKey != apiKey:
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_grant", descr: "refresh_token is invalid"}
	case !now.Before(g.expiry):
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_grant", descr: "refresh_token has expired"}
	}
	body := s.issueUserTokens(apiKey, g.subject, rec.GrantType, g.count+1, g.expiry, now)
	delete(body, "issued_token_type")
	return body, nil
}

func (s *Server) issueUserTokens(apiKey, subject, grant string, count int, refreshExpiry, now time.Time) map[string]any {
	token := s.issue(TokenInfo{APIKey: apiKey, GrantType: grant, Subject: subject, IssuedAt: now, Expiry: now.Add(s.cfg.lifetime)})
	rt := randomToken()
	s.mu.Lock()
	s.refresh[rt] = refreshGrant{apiKey: apiKey, subject: subject, count: count, expiry: refreshExpiry}
	s.mu.Unlock()
	return map[string]any{
		"access_token":             token,
		"expires_in":               s.count(int64(s.cfg.lifetime / time.Second)),
		"refresh_count":            s.count(int64(count)),
		"refresh_token":            rt,
		"refresh_token_expires_in": s.count(int64(refreshExpiry.Sub(now) / time.Second)),
		"token_type":               "Bearer",
		"issued_token_type":        "urn:ietf:params:oauth:token-type:access_token",
	}
}

// count renders a number as the platform does (a string), or as a JSON
// number under WithNumericExpiresIn.
func (s *Server) count(n int64) any {
	if s.cfg.numeric {
		return n
	}
	return strconv.FormatInt(n, 10)
}

func (s *Server) issue(info TokenInfo) string {
	token := randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tokens) >= 4096 {
		for t, i := range s.tokens {
			if !info.IssuedAt.Before(i.Expiry) {
				delete(s.tokens, t)
			}
		}
	}
	s.tokens[token] = info
	return token
}

func randomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// cloneValues deep-copies v (nil stays nil); http.Header has the same
// shape and a Clone that does exactly this.
func cloneValues(v url.Values) url.Values { return url.Values(http.Header(v).Clone()) }
