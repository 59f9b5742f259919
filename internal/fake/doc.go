// Package fake holds what the bundled fake servers (pdstest, nrlstest,
// shcrtest) share: a request recorder, fault injection, bearer-token
// checking and OperationOutcome answers. Each fake wraps its own handler
// with Middleware and keeps only its service's behaviour.
package fake
