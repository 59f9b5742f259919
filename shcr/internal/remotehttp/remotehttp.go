// Package remotehttp is the HTTP plumbing of shcr's Remote: clients
// with their redirect policy, client certificate and idle pool, the bound
// on requests in flight to an endpoint, and the checks of service URLs.
package remotehttp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// GuardedClient copies base (or a default client) with the redirect
// policy given (fhirhttp.CheckRedirect or NoRedirect), and with the
// client certificate and roots in a cloned transport (a caller's own
// RoundTripper goes around it, shcr.RemoteConfig.WrapTransport). The
// default client's transport keeps idle as many connections per host as the endpoint may
// have requests in flight (idle), so that a journey finds every
// connection the previous one opened and dials none.
func GuardedClient(base *http.Client, cert *tls.Certificate, roots *x509.CertPool, idle int,
	redirects func(*http.Request, []*http.Request) error) (*http.Client, error) {
	var hc http.Client
	if base != nil {
		hc = *base
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = max(idle, 2)
		t.MaxIdleConns = max(t.MaxIdleConns, 2*idle)
		t.ResponseHeaderTimeout = 60 * time.Second
		hc.Transport = t
	}
	if cert != nil || roots != nil {
		t, err := fhirhttp.WithTLS(hc.Transport, &fhirhttp.TLS{Certificate: cert, RootCAs: roots})
		if err != nil {
			return nil, err
		}
		hc.Transport = t
	}
	hc.CheckRedirect = redirects
	return &hc, nil
}

// NoRedirect follows no redirect: one to another origin fails with a
// *shcrkit.RedirectError, one within the proxy's origin is handed back
// unfollowed (and refused by the caller).
func NoRedirect(req *http.Request, via []*http.Request) error {
	if err := fhirhttp.CheckRedirect(req, via); err != nil {
		return err
	}
	return http.ErrUseLastResponse
}

// CancelOnClose ends a stream's context when the caller closes it.
type CancelOnClose struct {
	io.ReadCloser
	Cancel context.CancelFunc
}

// Close closes the stream and ends its context.
func (c *CancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.Cancel()
	return err
}

// Slots bounds the requests in flight to one endpoint. A slot is held
// for the whole of a request, and for a streamed document until its body
// is closed, so that the connections open to an endpoint never outnumber
// its bound and the transport's idle pool (sized to the bound) can keep
// them all for the next journey.
type Slots chan struct{}

// Acquire waits for a slot or for ctx to end.
func (s Slots) Acquire(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release gives a slot back.
func (s Slots) Release() { <-s }

// SlotBody gives its slot back, once, when it is closed.
type SlotBody struct {
	io.ReadCloser
	once    sync.Once
	Release func()
}

// Close closes the body and gives the slot back.
func (b *SlotBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.Release)
	return err
}

// ParseServiceURL accepts an absolute http or https URL with no user
// information, query or fragment, and drops any trailing slash.
func ParseServiceURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || raw == "" {
		return nil, fmt.Errorf("is not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("must be an absolute http or https URL")
	}
	// An empty port would be the scheme's; one out of range can never
	// be dialled.
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("has a port out of range")
		}
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("must not carry user information, a query or a fragment")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// IsASID reports whether s is a 12-digit Spine ASID.
func IsASID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// EmbeddedTarget decodes "/https%3A%2F%2Fhost%2Fpath" into the URL it
// carries.
func EmbeddedTarget(escapedPath string) (*url.URL, bool) {
	p, err := url.PathUnescape(strings.TrimPrefix(escapedPath, "/"))
	if err != nil {
		return nil, false
	}
	low := strings.ToLower(p)
	if !strings.HasPrefix(low, "https://") && !strings.HasPrefix(low, "http://") {
		return nil, false
	}
	t, err := url.Parse(p)
	if err != nil || t.Host == "" || t.User != nil {
		return nil, false
	}
	return t, true
}

// SSPEscape percent-encodes a whole URL for the proxy's path, reserved
// characters included.
func SSPEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// HostOf names a URL's host for an error, without path or query.
func HostOf(u *url.URL) string {
	return fhirhttp.RedactURL(&url.URL{Scheme: u.Scheme, Host: u.Host})
}

// ReadCapped reads the whole of body, at most limit bytes (failing with
// shcrkit.ErrResponseTooLarge beyond), and closes it. size is the length
// the answer declared, or negative when it declared none.
func ReadCapped(body io.ReadCloser, size, limit int64) ([]byte, error) {
	b, err := fhirhttp.ReadCapped(body, limit, size)
	cerr := body.Close()
	if err != nil {
		return nil, err
	}
	return b, cerr
}

// Tokens holds tokens made once and reused while they are usable, one
// per key. Each key's token is made once while that key's callers wait
// for it; the keys' tokens are made side by side. The zero value is
// ready to use.
type Tokens[K comparable] struct {
	mu     sync.Mutex // guards tokens, not the entries
	tokens map[K]*heldToken
}

// heldToken is one key's token; mu is held while it is made.
type heldToken struct {
	mu     sync.Mutex
	token  string
	issued time.Time
}

// Get returns key's token and when it was issued: the one held, if
// usable(issued, now()), or else one made by mint at now(), held for the
// callers after. The clock is read under the key's lock, so that no
// caller reads it before the token it finds was issued.
func (t *Tokens[K]) Get(key K, now func() time.Time, usable func(issued, now time.Time) bool,
	mint func(now time.Time) (string, error)) (string, time.Time, error) {
	t.mu.Lock()
	h, ok := t.tokens[key]
	if !ok {
		if t.tokens == nil {
			t.tokens = make(map[K]*heldToken)
		}
		h = &heldToken{}
		t.tokens[key] = h
	}
	t.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	at := now()
	if h.token != "" && usable(h.issued, at) {
		return h.token, h.issued, nil
	}
	tok, err := mint(at)
	if err != nil {
		return "", time.Time{}, err
	}
	h.token, h.issued = tok, at
	return tok, at, nil
}
