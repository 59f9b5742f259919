package pds

import (
	"errors"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// Errors of the service, shared with the rest of shcrkit: an error returned
// by a Client matches them with errors.Is.
var (
	// ErrNotFound: no patient has this NHS number (404
	// RESOURCE_NOT_FOUND), or it was invalidated (see ErrInvalidated).
	ErrNotFound = shcrkit.ErrNotFound
	// ErrInvalidated: the NHS number was invalidated and not superseded
	// (404 INVALIDATED_RESOURCE). Such an error matches ErrNotFound too.
	ErrInvalidated = shcrkit.ErrInvalidated
	// ErrVersionMismatch: an update named a version of the patient that is
	// no longer current (409 RESOURCE_VERSION_MISMATCH): get the patient
	// again and re-apply the change.
	ErrVersionMismatch = shcrkit.ErrVersionMismatch
	// ErrInvalidOption is matched by every error NewClient returns for a
	// bad option.
	ErrInvalidOption = fhirhttp.ErrInvalidOption
)

// Errors of this package.
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
