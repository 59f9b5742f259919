package shcrkit

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// Sentinel errors. An *APIError matches them with errors.Is from its HTTP
// status and its Spine error code, so callers can branch on the kind of
// failure without knowing which service produced it.
var (
	// ErrNotFound: the resource does not exist (404, RESOURCE_NOT_FOUND,
	// NO_RECORD_FOUND, INVALIDATED_RESOURCE).
	ErrNotFound = errors.New("shcrkit: not found")
	// ErrInvalidated: the NHS number was invalidated and not superseded
	// (INVALIDATED_RESOURCE). Such an error matches ErrNotFound too.
	ErrInvalidated = errors.New("shcrkit: resource invalidated")
	// ErrUnauthorized: no valid credentials (401, ACCESS_DENIED on 401).
	ErrUnauthorized = errors.New("shcrkit: unauthorized")
	// ErrForbidden: valid credentials without the right to do this (403).
	ErrForbidden = errors.New("shcrkit: forbidden")
	// ErrRateLimited: too many requests (429, TOO_MANY_REQUESTS).
	ErrRateLimited = errors.New("shcrkit: rate limited")
	// ErrInvalidRequest: the service rejected the request as malformed
	// (400, 412, 415, 422, INVALID_*, MISSING_*).
	ErrInvalidRequest = errors.New("shcrkit: invalid request")
	// ErrUnavailable: the service could not be reached or did not answer
	// in time (408, 500, 502, 503, 504, UNABLE_TO_CALL_SERVICE, connection
	// errors).
	ErrUnavailable = errors.New("shcrkit: service unavailable")
	// ErrVersionMismatch: an update named a version that is no longer
	// current (409 RESOURCE_VERSION_MISMATCH).
	ErrVersionMismatch = errors.New("shcrkit: version mismatch")
	// ErrConflict: the request conflicts with the server's state (409).
	ErrConflict = errors.New("shcrkit: conflict")
	// ErrResponseTooLarge: a response body exceeded the configured cap.
	ErrResponseTooLarge = errors.New("shcrkit: response too large")
	// ErrMalformedResponse: a response could not be decoded (truncated or
	// invalid JSON, unexpected content type, wrong resource type).
	ErrMalformedResponse = errors.New("shcrkit: malformed response")
)

// ErrInvalidCode is matched by every error about a code of the vocabulary
// that is not one: an ODS code (ParseODSCode), a purpose of use
// (ParsePurpose), a relationship kind (ParseRelationshipKind) or a v3
// Confidentiality code, read or written as text.
var ErrInvalidCode = errors.New("shcrkit: invalid code")

// ErrInvalidOption is matched by every error a constructor of the SDK
// (pds.NewClient, nrls.NewClient, ...) returns for a bad option or
// configuration. Nothing has been sent when it is returned.
var ErrInvalidOption = errors.New("shcrkit: invalid option")

// APIError is an error answer from a national service or a remote shared
// care record, decoded from its FHIR OperationOutcome when it sent one.
// Its text never includes an NHS number, a token or a query string: Code
// and Diagnostics have been through Redact. Outcome has not: it is the
// resource as the service sent it, for callers who need every detail,
// and must be treated as holding patient data and secrets.
type APIError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code is the Spine error code (e.g. INVALID_RESOURCE_ID), taken from
	// the first issue's details coding whatever its system, or "".
	Code string
	// Diagnostics is the service's explanation, redacted (see Redact).
	Diagnostics string
	// RequestID is the X-Request-ID that was sent.
	RequestID string
	// RetryAfter is the wait the service asked for in a Retry-After
	// header, or 0. A rate-limited request whose wait would outlast the
	// context's deadline comes back at once with it, unretried.
	RetryAfter time.Duration
	// Outcome is the OperationOutcome as received, UNREDACTED, or nil
	// when the body was not one (an HTML page from a proxy, say). Its
	// diagnostics and codes may hold NHS numbers or tokens a service
	// echoed: never log it or put it in an error text.
	Outcome *fhir.OperationOutcome
}

// Error describes the failure without identifiers of patients.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("shcrkit: ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
		if t := http.StatusText(e.StatusCode); t != "" {
			b.WriteString(" " + t)
		}
	} else {
		b.WriteString("error")
	}
	if e.Code != "" {
		b.WriteString(" (" + Redact(e.Code) + ")")
	}
	if e.Diagnostics != "" {
		b.WriteString(": " + Redact(e.Diagnostics))
	}
	if e.RequestID != "" {
		b.WriteString(" [request " + e.RequestID + "]")
	}
	return b.String()
}

// Is matches the sentinel errors from the status and the Spine code.
func (e *APIError) Is(target error) bool {
	for _, s := range e.sentinels() {
		if s == target {
			return true
		}
	}
	return false
}

func (e *APIError) sentinels() []error {
	// Codes are compared without regard to the separator, since services
	// spell the same code "ACCESS DENIED" and "ACCESS_DENIED".
	code := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(e.Code), " ", "_"))
	if s := e.codeSentinels(code); s != nil {
		return s
	}
	if s := statusSentinels(e.StatusCode); s != nil {
		return s
	}
	if code != "" && (strings.HasPrefix(code, "INVALID") || strings.HasPrefix(code, "MISSING") ||
		code == "ADDITIONAL_PROPERTIES" || code == "UNSUPPORTED_SERVICE" || code == "PRECONDITION_FAILED") {
		return []error{ErrInvalidRequest}
	}
	return nil
}

// codeSentinels are the sentinels a Spine error code names, whatever the
// status; nil when the code alone does not tell.
func (e *APIError) codeSentinels(code string) []error {
	switch code {
	case "RESOURCE_NOT_FOUND", "NO_RECORD_FOUND", "NOT_FOUND":
		return []error{ErrNotFound}
	case "INVALIDATED_RESOURCE":
		return []error{ErrNotFound, ErrInvalidated}
	case "TOO_MANY_REQUESTS":
		return []error{ErrRateLimited}
	case "RESOURCE_VERSION_MISMATCH", "VERSION_MISMATCH":
		return []error{ErrVersionMismatch, ErrConflict}
	case "UNABLE_TO_CALL_SERVICE", "SERVICE_UNAVAILABLE", "SERVICE_TIMEOUT":
		return []error{ErrUnavailable}
	case "ACCESS_DENIED", "FORBIDDEN", "UNAUTHORISED", "UNAUTHORIZED":
		if e.StatusCode == http.StatusForbidden {
			return []error{ErrForbidden}
		}
		if e.StatusCode == http.StatusUnauthorized || e.StatusCode == 0 {
			return []error{ErrUnauthorized}
		}
	}
	return nil
}

// statusSentinels are the sentinels an HTTP error status stands for.
func statusSentinels(status int) []error {
	switch s := status; {
	case s == http.StatusNotFound || s == http.StatusGone:
		return []error{ErrNotFound}
	case s == http.StatusUnauthorized:
		return []error{ErrUnauthorized}
	case s == http.StatusForbidden:
		return []error{ErrForbidden}
	case s == http.StatusTooManyRequests:
		return []error{ErrRateLimited}
	case s == http.StatusConflict:
		return []error{ErrConflict}
	case s == http.StatusRequestTimeout || s >= 500:
		return []error{ErrUnavailable}
	case s >= 400:
		return []error{ErrInvalidRequest}
	}
	return nil
}
