package auth

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/textclip"
)

// TokenError is an error answer from a token endpoint: an HTTP status and,
// when the body was the OAuth 2.0 error JSON, its error code and
// description. It matches one shcrkit sentinel error with errors.Is:
// 401 and invalid_client match ErrUnauthorized, 403 ErrForbidden, 429
// ErrRateLimited, 408 and 5xx ErrUnavailable, any other 4xx
// ErrInvalidRequest; an error in a success status goes by its code.
//
// Its text never contains the client assertion, the subject token, a
// refresh token or an access token, even when the server echoed one.
type TokenError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code is the OAuth 2.0 error code (invalid_request, invalid_client,
	// invalid_grant, unsupported_grant_type, ...), or "" when the body was
	// not the error JSON.
	Code string
	// Description is the error_description, with tokens and NHS numbers
	// removed and cut to a few hundred characters.
	Description string
	// MessageID is the platform's message_id for the failed request, to
	// quote to its support desk, or "".
	MessageID string
}

// Error describes the failure without secrets.
func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("auth: token endpoint answered ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
		if t := http.StatusText(e.StatusCode); t != "" {
			b.WriteString(" " + t)
		}
	} else {
		b.WriteString("an error")
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.MessageID != "" {
		b.WriteString(" [message " + e.MessageID + "]")
	}
	return b.String()
}

// Is matches the shcrkit sentinel errors from the status and the code.
func (e *TokenError) Is(target error) bool {
	return target != nil && target == e.sentinel()
}

func (e *TokenError) sentinel() error {
	switch s := e.StatusCode; {
	case s == http.StatusUnauthorized || e.Code == "invalid_client":
		return shcrkit.ErrUnauthorized
	case s == http.StatusForbidden:
		return shcrkit.ErrForbidden
	case s == http.StatusTooManyRequests:
		return shcrkit.ErrRateLimited
	case s == http.StatusRequestTimeout || s >= 500:
		return shcrkit.ErrUnavailable
	case s >= 400:
		return shcrkit.ErrInvalidRequest
	}
	// An error code in a success status: go by the code (RFC 6749
	// section 5.2).
	switch e.Code {
	case "unauthorized_client", "access_denied":
		return shcrkit.ErrForbidden
	case "server_error", "temporarily_unavailable":
		return shcrkit.ErrUnavailable
	case "":
		return nil
	}
	return shcrkit.ErrInvalidRequest
}

// refusedGrant reports whether a failed refresh should give way
// to a fresh token exchange: the server refused the refresh token or the
// way it was presented, rather than being unable to answer.
func (e *TokenError) refusedGrant() bool {
	s := e.StatusCode
	return s >= 400 && s < 500 && s != http.StatusTooManyRequests && s != http.StatusRequestTimeout
}

// maxDescription bounds the description kept from a server.
const maxDescription = 300

// sanitise removes the request's own secrets from s (as written or
// URL-encoded; those shorter than four bytes would shred the text and hide
// nothing), passes it through shcrkit.Redact (bearer tokens, JWT-shaped
// strings, query strings, NHS numbers, control characters) and cuts it to
// maxDescription bytes.
func sanitise(s string, secrets []string) string {
	s = strings.TrimSpace(shcrkit.Redact(fhirhttp.WithoutSecrets(s, secrets)))
	if len(s) > maxDescription {
		s = textclip.Cut(s, maxDescription) + "..."
	}
	return s
}
