package provider

import "errors"

// Errors of the package.
var (
	// ErrInvalidConfig is matched by every error of New and the verifier
	// constructors about their configuration.
	ErrInvalidConfig = errors.New("provider: invalid configuration")
	// ErrNotServed is what a Resolver returns when the request names
	// nothing this provider serves: no such record or resource type. The
	// Guard answers 404 and records the refusal.
	ErrNotServed = errors.New("provider: not served here")
	// ErrBadRequest is what a Resolver returns when the request is
	// malformed (a search without a patient, say). The Guard answers 400.
	ErrBadRequest = errors.New("provider: malformed request")
)
