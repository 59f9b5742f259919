package auth

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// TokenCache is an oauth2.TokenSource that reuses the token of another
// source until shortly before it expires. It exists beside
// oauth2.ReuseTokenSource because it does three things that one does not:
//
//   - Single flight: however many goroutines find the token due at once,
//     one call of the underlying source is made and its result shared;
//     ReuseTokenSource holds its lock across the call but makes callers
//     queue behind it one by one, and a caller that finds the old token
//     still valid while a refresh is under way gets it without waiting.
//   - Invalidation: Invalidate drops a token a server refused (401) before
//     its expiry, naming it so that a late caller cannot drop a newer one;
//     the SDK's HTTP clients call it through the TokenInvalidator interface
//     of internal/fhirhttp. ReuseTokenSource has no way to forget a token.
//   - A margin that adapts to short-lived tokens (never more than half a
//     token's lifetime).
//
// # Concurrency
//
// A TokenCache is safe for concurrent use. However many goroutines call
// Token at once, at most one call of the underlying source is in flight:
// the first caller to find the cached token due for replacement makes the
// call; the others, meanwhile, get the cached token if it has not yet
// expired, or else wait for the call's outcome and share it, error
// included. A failed call is not cached: the next caller tries again.
//
// All callers share one *oauth2.Token, which they must not modify.
type TokenCache struct {
	src    oauth2.TokenSource
	margin time.Duration
	now    func() time.Time

	mu        sync.Mutex
	tok       *oauth2.Token
	refreshAt time.Time // when tok is due for replacement; zero: never
	call      *refreshCall
}

// refreshCall is one call of the underlying source, shared by the callers
// that wait for it.
type refreshCall struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

// Cache returns a TokenCache over src that replaces a token margin before
// its expiry. A negative margin counts as zero. The margin never exceeds
// half of a token's lifetime as seen when it arrived, so that a token
// shorter-lived than the margin is still reused for a while rather than
// fetched on every call. A token with no expiry is kept until Invalidate
// drops it. The cache reads the time from time.Now; the sources this
// package builds share their configured clock (SignedJWTConfig.Now) with
// their cache.
func Cache(src oauth2.TokenSource, margin time.Duration) *TokenCache {
	return newCache(src, margin, time.Now)
}

// newCache is Cache with the clock now.
func newCache(src oauth2.TokenSource, margin time.Duration, now func() time.Time) *TokenCache {
	if now == nil {
		now = time.Now
	}
	return &TokenCache{src: src, margin: max(margin, 0), now: now}
}

var _ oauth2.TokenSource = (*TokenCache)(nil)

// Token returns the cached token, or a new one from the underlying source
// when the cached one is due for replacement.
func (c *TokenCache) Token() (*oauth2.Token, error) {
	if c == nil || c.src == nil {
		return nil, errors.New("auth: TokenCache has no token source")
	}
	c.mu.Lock()
	now := c.now()
	if c.tok != nil && (c.refreshAt.IsZero() || now.Before(c.refreshAt)) {
		tok := c.tok
		c.mu.Unlock()
		return tok, nil
	}
	if call := c.call; call != nil {
		// Someone is already fetching. While the old token still works,
		// use it rather than wait.
		if c.tok != nil && !c.tok.Expiry.IsZero() && now.Before(c.tok.Expiry) {
			tok := c.tok
			c.mu.Unlock()
			return tok, nil
		}
		c.mu.Unlock()
		<-call.done
		return call.tok, call.err
	}
	call := &refreshCall{done: make(chan struct{})}
	c.call = call
	c.mu.Unlock()
	return c.fetch(call, now)
}

// fetch calls the source for call, stores the result and releases the
// waiters. If the source panics, the waiters get an error and the panic
// goes on up the caller's stack.
func (c *TokenCache) fetch(call *refreshCall, start time.Time) (tok *oauth2.Token, err error) {
	finished := false
	defer func() {
		if !finished {
			tok, err = nil, errors.New("auth: token source panicked")
		}
		c.mu.Lock()
		if err == nil {
			c.tok = tok
			c.refreshAt = c.replaceAt(tok, start)
		}
		c.call = nil
		c.mu.Unlock()
		call.tok, call.err = tok, err
		close(call.done)
	}()
	tok, err = c.src.Token()
	if err == nil && (tok == nil || tok.AccessToken == "") {
		tok, err = nil, fmt.Errorf("auth: token source returned no access token")
	}
	finished = true
	return tok, err
}

// replaceAt is when tok, fetched at start, is due for replacement.
func (c *TokenCache) replaceAt(tok *oauth2.Token, start time.Time) time.Time {
	if tok.Expiry.IsZero() {
		return time.Time{}
	}
	margin := c.margin
	if life := tok.Expiry.Sub(start); life < 2*margin {
		margin = max(life/2, 0)
	}
	at := tok.Expiry.Add(-margin)
	if at.IsZero() {
		// A zero time means "never" here; step off it.
		at = at.Add(time.Nanosecond)
	}
	return at
}

// The SDK's HTTP clients drop a refused token through this interface.
var _ fhirhttp.TokenInvalidator = (*TokenCache)(nil)

// Invalidate drops the cached token if its access token is accessToken, so
// that the next Token call fetches a new one. Call it when a server
// refuses a token the cache still holds valid (it was revoked, say);
// naming the token keeps a late caller from dropping a newer one.
func (c *TokenCache) Invalidate(accessToken string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && c.tok.AccessToken == accessToken {
		c.tok = nil
		c.refreshAt = time.Time{}
	}
}
