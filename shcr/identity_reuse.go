package shcr

import (
	"bytes"
	"io"
	"time"

	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/shcr/internal/remotehttp"
)

// tokenCache holds a journey's identity tokens for the endpoints that
// accept one token per journey (Endpoint.ReuseIdentity), one per endpoint
// and scope. A token is used for at most half its lifetime, so that it
// never reaches the provider about to expire.
type tokenCache = remotehttp.Tokens[tokenKey]

type tokenKey struct {
	ep         *endpoint
	restricted bool
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
	return p.tokens.Get(tokenKey{ep: ep, restricted: p.restricted}, r.opts.now, usable, sign)
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
	b, err := remotehttp.ReadCapped(c.Body, c.Size, limit)
	if err != nil {
		return err
	}
	c.Body = io.NopCloser(bytes.NewReader(b))
	c.Size = int64(len(b))
	return nil
}
