package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shcrkit/shcrkit"
	"golang.org/x/oauth2"
)

// Defaults of SessionConfig.
const (
	defaultMaxSessions = 10_000
	defaultSessionIdle = 30 * time.Minute
)

// errNoSession is returned by SessionTokens.Token, which has no session
// to get a token for. It matches shcrkit.ErrNoSession.
var errNoSession = fmt.Errorf("auth: %w: user-restricted tokens are per session: give each call its session with shcrkit.WithSession", shcrkit.ErrNoSession)

// SessionConfig bounds the sessions a SessionTokens keeps. Its zero value
// gives the defaults.
type SessionConfig struct {
	// MaxSessions bounds the sessions whose tokens are kept, the least
	// recently used being dropped first; 10,000 when zero.
	MaxSessions int
	// Idle is how long a session's tokens are kept after its last call,
	// at least a second; 30 minutes when zero.
	Idle time.Duration
	// ExpiryMargin is how long before its expiry a session's token is
	// replaced (see Cache); 30 seconds when zero.
	ExpiryMargin time.Duration
	// Now is the clock of idle times and token expiry; time.Now when nil.
	// Give it the token sources' clock.
	Now func() time.Time
}

// SessionTokens holds the user-restricted access tokens of many users'
// sessions for one application: a shcrkit.SessionTokenSource. Give it to
// a client as its token source (pds.WithTokenSource, nrls.WithTokenSource)
// and each call gets the token of the session in its context
// (shcrkit.WithSession); a call without a session is refused.
//
// Each session (keyed by shcrkit.Session.Key: session ID, user,
// organisation and role) has a source of its own, built on first use, and
// a TokenCache over it: a token is obtained once per lifetime per session,
// with at most one token request in flight per session however many
// calls ask at once, while sessions never wait for one another. No token
// is ever handed to a session other than the one it was obtained for.
//
// It is bounded (SessionConfig): at most MaxSessions sessions are kept (the least recently
// used is dropped first), and a session unused for the idle time is
// dropped. A dropped session's next call starts again from its ID token.
// A 401 answer to a session's token drops that token only
// (InvalidateSessionToken); Forget drops a session at sign-out.
//
// A SessionTokens is safe for concurrent use.
type SessionTokens struct {
	newSource func(shcrkit.Session, *sessionIDToken) (oauth2.TokenSource, error)
	margin    time.Duration
	now       func() time.Time
	max       int
	idle      time.Duration

	mu      sync.Mutex
	entries map[shcrkit.Session]*sessionEntry
	head    sessionEntry // sentinel of the recency list: head.next is the most recent
}

var (
	_ shcrkit.SessionTokenSource = (*SessionTokens)(nil)
	_ oauth2.TokenSource         = (*SessionTokens)(nil)
)

// sessionEntry is one session's cached tokens.
type sessionEntry struct {
	key        shcrkit.Session
	cache      *TokenCache
	idToken    *sessionIDToken
	lastUsed   time.Time
	prev, next *sessionEntry
}

// sessionIDToken is the latest ID token a session presented, read by its
// source when it next exchanges one.
type sessionIDToken struct{ p atomic.Pointer[string] }

func (t *sessionIDToken) set(s string) {
	if s != "" {
		if old := t.p.Load(); old == nil || *old != s {
			t.p.Store(&s)
		}
	}
}

func (t *sessionIDToken) get() string {
	if p := t.p.Load(); p != nil {
		return *p
	}
	return ""
}

// NewSessionTokens returns SessionTokens whose sessions get their tokens
// from sources that newSource builds, once per session, on the session's
// first call. newSource must not block; the sources it returns are called
// by one goroutine at a time and cached.
func NewSessionTokens(newSource func(shcrkit.Session) (oauth2.TokenSource, error), cfg SessionConfig) (*SessionTokens, error) {
	if newSource == nil {
		return nil, fmt.Errorf("%w: nil source constructor", shcrkit.ErrInvalidOption)
	}
	return newSessionTokens(func(s shcrkit.Session, _ *sessionIDToken) (oauth2.TokenSource, error) {
		return newSource(s)
	}, cfg)
}

func newSessionTokens(newSource func(shcrkit.Session, *sessionIDToken) (oauth2.TokenSource, error), cfg SessionConfig) (*SessionTokens, error) {
	switch {
	case cfg.MaxSessions < 0:
		return nil, fmt.Errorf("%w: max sessions %d is negative", shcrkit.ErrInvalidOption, cfg.MaxSessions)
	case cfg.Idle != 0 && cfg.Idle < time.Second:
		return nil, fmt.Errorf("%w: session idle time %v is below a second", shcrkit.ErrInvalidOption, cfg.Idle)
	case cfg.ExpiryMargin < 0:
		return nil, fmt.Errorf("%w: negative expiry margin", shcrkit.ErrInvalidOption)
	}
	st := &SessionTokens{newSource: newSource, margin: cfg.ExpiryMargin, now: cfg.Now,
		max: cfg.MaxSessions, idle: cfg.Idle, entries: make(map[shcrkit.Session]*sessionEntry)}
	if st.margin == 0 {
		st.margin = defaultExpiryMargin
	}
	if st.now == nil {
		st.now = time.Now
	}
	if st.max == 0 {
		st.max = defaultMaxSessions
	}
	if st.idle == 0 {
		st.idle = defaultSessionIdle
	}
	st.head.next, st.head.prev = &st.head, &st.head
	return st, nil
}

// SessionExchangeConfig configures CIS2 token exchange for many sessions
// (see TokenExchangeConfig).
type SessionExchangeConfig struct {
	// SignedJWTConfig holds the application's credentials and the token
	// endpoint, shared by every session.
	SignedJWTConfig
	// ClientSecret authenticates refresh-token grants, as in
	// TokenExchangeConfig.
	ClientSecret string
	// IDTokenFunc returns the CIS2 ID token of a session to exchange. Nil
	// means the ID token the session carries (shcrkit.Session.IDToken),
	// the latest one it presented.
	IDTokenFunc func(ctx context.Context, s shcrkit.Session) (string, error)
	// MaxSessions and SessionIdle bound the sessions kept, as
	// SessionConfig's MaxSessions and Idle do; the clock and expiry margin
	// are SignedJWTConfig's Now and ExpiryMargin.
	MaxSessions int
	SessionIdle time.Duration
}

// NewSessionTokenExchange returns SessionTokens for user-restricted access
// with CIS2 separate authentication: each session's ID token is exchanged
// for the user's access and refresh tokens on its first call, refreshed as
// NewTokenExchange's sources do, and exchanged again when the refresh is refused.
// The application's credentials are checked once, here.
func NewSessionTokenExchange(cfg SessionExchangeConfig) (*SessionTokens, error) {
	base, err := cfg.SignedJWTConfig.validate()
	if err != nil {
		return nil, err
	}
	jwt := &signedJWT{cfg: base, ep: endpoint{tokenURL: base.TokenURL, client: base.HTTPClient, now: base.Now,
		secrets: []string{base.APIKey, cfg.ClientSecret}}}
	limits := SessionConfig{MaxSessions: cfg.MaxSessions, Idle: cfg.SessionIdle, ExpiryMargin: base.ExpiryMargin, Now: base.Now}
	idFunc := cfg.IDTokenFunc
	return newSessionTokens(func(s shcrkit.Session, latest *sessionIDToken) (oauth2.TokenSource, error) {
		s.IDToken = ""
		x := &tokenExchange{jwt: jwt, secret: cfg.ClientSecret}
		if idFunc != nil {
			x.idToken = func(ctx context.Context) (string, error) { return idFunc(ctx, s) }
		} else {
			x.idToken = func(context.Context) (string, error) {
				if t := latest.get(); t != "" {
					return t, nil
				}
				return "", errors.New("the session carries no CIS2 ID token (shcrkit.Session.IDToken)")
			}
		}
		return x, nil
	}, limits)
}

// Token implements oauth2.TokenSource so that SessionTokens can be given to
// WithTokenSource; it always fails with an error matching
// shcrkit.ErrNoSession, since a token belongs to a session. Clients call
// SessionToken.
func (st *SessionTokens) Token() (*oauth2.Token, error) { return nil, errNoSession }

// SessionToken returns the access token of session s, obtaining one when
// the session has none or it is due for replacement. It implements
// shcrkit.SessionTokenSource.
func (st *SessionTokens) SessionToken(ctx context.Context, s shcrkit.Session) (string, error) {
	if ctx != nil && ctx.Err() != nil {
		return "", ctx.Err()
	}
	e, err := st.entry(s)
	if err != nil {
		return "", err
	}
	tok, err := e.cache.Token()
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// entry finds or makes the session's entry, marks it used and enforces the
// bounds.
func (st *SessionTokens) entry(s shcrkit.Session) (*sessionEntry, error) {
	if st == nil || st.newSource == nil {
		return nil, fmt.Errorf("%w: the auth.SessionTokens was not made by NewSessionTokens or NewSessionTokenExchange", shcrkit.ErrInvalidOption)
	}
	key := sessionKey(s)
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.now()
	e := st.entries[key]
	if e != nil && now.Sub(e.lastUsed) >= st.idle {
		st.removeLocked(e)
		e = nil
	}
	if e == nil {
		e = &sessionEntry{key: key, idToken: new(sessionIDToken)}
		e.idToken.set(s.IDToken)
		src, err := st.newSource(s, e.idToken)
		if err != nil {
			return nil, err
		}
		if src == nil {
			return nil, fmt.Errorf("%w: the session's source constructor returned nil", shcrkit.ErrInvalidOption)
		}
		e.cache = newCache(src, st.margin, st.now)
		st.entries[key] = e
	} else {
		e.idToken.set(s.IDToken)
		e.unlink()
	}
	e.lastUsed = now
	e.insertAfter(&st.head)
	// The least recently used are at the back: drop the idle ones and
	// those over the bound.
	for back := st.head.prev; back != &st.head && back != e; back = st.head.prev {
		if len(st.entries) <= st.max && now.Sub(back.lastUsed) < st.idle {
			break
		}
		st.removeLocked(back)
	}
	return e, nil
}

func (st *SessionTokens) removeLocked(e *sessionEntry) {
	e.unlink()
	delete(st.entries, e.key)
}

func (e *sessionEntry) unlink() {
	if e.prev != nil {
		e.prev.next, e.next.prev = e.next, e.prev
		e.prev, e.next = nil, nil
	}
}

func (e *sessionEntry) insertAfter(at *sessionEntry) {
	e.prev, e.next = at, at.next
	at.next.prev = e
	at.next = e
}

// InvalidateSessionToken drops session s's cached access token if it is
// accessToken, so that its next call obtains a new one (by refresh, or a
// new exchange). Other sessions are untouched. It implements
// shcrkit.SessionTokenSource.
func (st *SessionTokens) InvalidateSessionToken(s shcrkit.Session, accessToken string) {
	if st == nil {
		return
	}
	st.mu.Lock()
	e := st.entries[sessionKey(s)]
	st.mu.Unlock()
	if e != nil {
		e.cache.Invalidate(accessToken)
	}
}

// Forget drops everything held for session s (at sign-out, say).
func (st *SessionTokens) Forget(s shcrkit.Session) {
	if st == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if e := st.entries[sessionKey(s)]; e != nil {
		st.removeLocked(e)
	}
}

// sessionKey keys a session's entry: the session without its ID token, so
// that a renewed ID token keeps the session's tokens while a new sign-in
// (another session ID) gets an entry of its own.
func sessionKey(s shcrkit.Session) shcrkit.Session {
	s.IDToken = ""
	return s
}
