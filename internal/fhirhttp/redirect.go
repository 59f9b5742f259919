package fhirhttp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
)

// MaxRedirects is how many redirects within one origin a request follows.
const MaxRedirects = 5

// CheckRedirect is the redirect policy of every HTTP client in the SDK,
// for http.Client.CheckRedirect. A redirect to another origin (scheme,
// host or port) than the first request's is refused with a
// *shcrkit.RedirectError before anything is sent there, so neither a body
// nor a credential follows it; a redirect within the origin is followed,
// up to MaxRedirects.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	from, to := Origin(via[0].URL), Origin(req.URL)
	if from != to {
		status := 0
		if req.Response != nil {
			status = req.Response.StatusCode
		}
		return &shcrkit.RedirectError{StatusCode: status, From: shcrkit.Redact(from), To: shcrkit.Redact(to)}
	}
	if len(via) >= MaxRedirects {
		// go-retryablehttp recognises this wording as not worth a retry.
		return fmt.Errorf("shcrkit: stopped after %d redirects", len(via))
	}
	return nil
}

// GuardHTTPClient returns a copy of hc (a pooled default client when hc
// is nil) whose redirects pass CheckRedirect first and then hc's own
// CheckRedirect, if it has one. hc itself is not changed, so a client the
// caller shares elsewhere keeps its own behaviour there.
func GuardHTTPClient(hc *http.Client) *http.Client {
	if hc == nil {
		return &http.Client{Transport: defaultTransport(), Timeout: 60 * time.Second, CheckRedirect: CheckRedirect}
	}
	c := *hc
	prev := hc.CheckRedirect
	if prev == nil {
		c.CheckRedirect = CheckRedirect
		return &c
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := CheckRedirect(req, via); err != nil {
			return err
		}
		return prev(req, via)
	}
	return &c
}

// Origin is the scheme, host and port a URL connects to, normalised so
// that "HTTPS://Host" and "https://host:443" compare equal.
func Origin(u *url.URL) string {
	if u == nil {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// redirectError finds a refused redirect in err.
func redirectError(err error) (*shcrkit.RedirectError, bool) {
	var re *shcrkit.RedirectError
	ok := errors.As(err, &re)
	return re, ok
}
