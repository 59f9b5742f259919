package shcrkit

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrRedirectRefused is matched by every *RedirectError: a service
// answered with a redirect to another origin, and the SDK did not follow
// it.
var ErrRedirectRefused = errors.New("shcrkit: redirect to another origin refused")

// RedirectError reports a redirect that every HTTP client of the SDK
// refuses: one to another origin (scheme, host or port) than the request
// was sent to. Nothing was sent to the other origin: not the request body,
// not the Authorization header, not any other header. Redirects within
// the same origin are followed (at most a few times) unless the client
// documents that it follows none.
type RedirectError struct {
	// StatusCode is the redirect's status (301, 302, 303, 307 or 308).
	StatusCode int
	// From is the origin the request was sent to ("https://host:443").
	From string
	// To is the origin the redirect named, redacted as error text is.
	To string
	// RequestID is the X-Request-ID of the request, when it had one.
	RequestID string
}

// Error names the two origins and the status, never the redirect's path
// or query.
func (e *RedirectError) Error() string {
	s := fmt.Sprintf("shcrkit: HTTP %d %s redirect from %s to %s refused: another origin",
		e.StatusCode, http.StatusText(e.StatusCode), e.From, e.To)
	if e.RequestID != "" {
		s += " [request " + e.RequestID + "]"
	}
	return s
}

// Is matches ErrRedirectRefused.
func (e *RedirectError) Is(target error) bool { return target == ErrRedirectRefused }
