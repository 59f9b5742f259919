package pds

import (
	"errors"

	"github.com/shcrkit/shcrkit"
)

// Errors of this package. The service's own answers match the shcrkit
// sentinels: shcrkit.ErrNotFound for an unknown NHS number,
// shcrkit.ErrInvalidated (and ErrNotFound) for an invalidated one,
// shcrkit.ErrVersionMismatch for an update based on a stale version.
var (
	// ErrTooManyMatches: a search matched more patients than it may return
	// (the service's HTTP 200 answer carrying an OperationOutcome coded
	// TOO_MANY_MATCHES). Narrow the search and try again. The error also
	// unwraps to the *shcrkit.APIError holding the outcome and request ID.
	ErrTooManyMatches = errors.New("pds: too many matches")
	// ErrInvalidSearch is matched by a SearchQuery the client refuses to
	// send because the service would reject it. It matches
	// shcrkit.ErrInvalidRequest too.
	ErrInvalidSearch = errors.New("pds: invalid search")
	// ErrInvalidPatch is matched by an update the client refuses to send:
	// a malformed operation or version, or a removal without the test
	// that must precede it. It matches shcrkit.ErrInvalidRequest too.
	ErrInvalidPatch = errors.New("pds: invalid patch")
	// ErrAccessMode is matched when the client's access mode cannot do
	// what was asked (an update, or more than one search result, in
	// application-restricted mode). Nothing was sent.
	ErrAccessMode = errors.New("pds: not allowed in this access mode")
)

// InputError is a request the client refused before sending it. Its text
// names the field and the rule broken, never the value, since values are
// patient identifiers and demographics.
type InputError struct {
	// Kind is the sentinel the error matches: ErrInvalidSearch,
	// ErrInvalidPatch, ErrAccessMode or shcrkit.ErrInvalidNHSNumber.
	Kind error
	// Field names the input at fault ("family", "birthdate",
	// "patches[1]"), or "".
	Field string
	// Reason says which rule was broken.
	Reason string
}

// Error describes the refusal without the offending value.
func (e *InputError) Error() string {
	s := e.Kind.Error()
	if e.Field != "" {
		s += ": " + e.Field
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap gives Kind and, except for an access mode refusal,
// shcrkit.ErrInvalidRequest.
func (e *InputError) Unwrap() []error {
	if e.Kind == ErrAccessMode {
		return []error{e.Kind}
	}
	return []error{e.Kind, shcrkit.ErrInvalidRequest}
}

func searchError(field, reason string) error {
	return &InputError{Kind: ErrInvalidSearch, Field: field, Reason: reason}
}

func patchError(field, reason string) error {
	return &InputError{Kind: ErrInvalidPatch, Field: field, Reason: reason}
}

func modeError(reason string) error {
	return &InputError{Kind: ErrAccessMode, Reason: reason}
}

func nhsNumberError(field string) error {
	return &InputError{Kind: shcrkit.ErrInvalidNHSNumber, Field: field,
		Reason: "not ten digits with a valid check digit"}
}
