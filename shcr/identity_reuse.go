package shcr

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
)

// tokenCache holds a journey's identity tokens for the endpoints that
// accept one token per journey (Endpoint.ReuseIdentity), one per endpoint
// and scope. A token is used for at most half its lifetime, so that it
// never reaches the provider about to expire. Each endpoint's token is
// signed once while that endpoint's requests wait for it; the endpoints'
// tokens are signed side by side.
type tokenCache struct {
	mu     sync.Mutex // guards tokens, not the entries
	tokens map[tokenKey]*cachedToken
}

type tokenKey struct {
	ep         *endpoint
	restricted bool
}

// cachedToken is one endpoint's token; mu is held while it is signed.
type cachedToken struct {
	mu     sync.Mutex
	token  string
	issued time.Time
}

// entry returns the token entry of key, made empty the first time.
func (c *tokenCache) entry(key tokenKey) *cachedToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tokens[key]
	if !ok {
		if c.tokens == nil {
			c.tokens = make(map[tokenKey]*cachedToken)
		}
		t = &cachedToken{}
		c.tokens[key] = t
	}
	return t
}

// identityToken returns the identity token for a request to ep, with
// the time it was issued: a fresh one, or the journey's own for an
// endpoint that accepts reuse.
func (r *Remote) identityToken(ep *endpoint, p fetchParams) (string, time.Time, error) {
	sign := func(now time.Time) (string, error) {
		claims := identitytoken.New(p.requester, p.purpose, ep.Audience, r.opts.issuer, p.restricted, now)
		return ep.Identity.Sign(claims)
	}
	if !ep.ReuseIdentity || p.tokens == nil {
		now := r.opts.now()
		tok, err := sign(now)
		return tok, now, err
	}
	c := p.tokens.entry(tokenKey{ep: ep, restricted: p.restricted})
	c.mu.Lock()
	defer c.mu.Unlock()
	// The clock is read under the lock, so that no request reads it
	// before the token it finds was issued.
	now := r.opts.now()
	if c.token != "" && usable(c.issued, now) {
		return c.token, c.issued, nil
	}
	tok, err := sign(now)
	if err != nil {
		return "", time.Time{}, err
	}
	c.token, c.issued = tok, now
	return tok, now, nil
}

// usable reports whether a token issued at issued may still be sent at
// now: within the first half of its lifetime.
func usable(issued, now time.Time) bool {
	return now.Sub(issued) < identitytoken.Lifetime/2 && !now.Before(issued)
}

// aheadToken is an identity token made for a request before the request
// waits for its endpoint's place, so that a place given back is used at
// once: signing is the costliest step of a request on this side, and it
// is then done while the requests ahead are out. The first request of a
// retrieval takes it; later pages of a Bundle get their own.
type aheadToken struct {
	token  string
	issued time.Time
}

// requestToken returns the identity token for a request to ep: the one
// made ahead, if there is one not yet taken and still usable, or one
// made now.
func (r *Remote) requestToken(ep *endpoint, p fetchParams) (string, error) {
	if a := p.ahead; a != nil && a.token != "" {
		tok := a.token
		a.token = ""
		if usable(a.issued, r.opts.now()) {
			return tok, nil
		}
	}
	tok, _, err := r.identityToken(ep, p)
	return tok, err
}

// buffer reads the whole of an attachment's body into memory, at most
// limit bytes, and closes the stream.
func (c *Content) buffer(limit int64) error {
	b, err := readAll(io.LimitReader(c.Body, limit+1), min(c.Size, limit))
	cerr := c.Body.Close()
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("%w: the document is larger than %d bytes", shcrkit.ErrResponseTooLarge, limit)
	}
	if err != nil {
		return err
	}
	if cerr != nil {
		return cerr
	}
	c.Body = io.NopCloser(bytes.NewReader(b))
	c.Size = int64(len(b))
	return nil
}

// readAll is io.ReadAll starting with room for size bytes, when size is
// known (not negative), and one more to meet the end.
func readAll(r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, 0, 512)
	if size >= 0 {
		b = make([]byte, 0, size+1)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
