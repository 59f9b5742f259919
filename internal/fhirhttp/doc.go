// Package fhirhttp is the FHIR-over-HTTP plumbing shared by every client in
// shcrkit (pds, nrls and the remote-ShCR client in shcr), so that each of
// them stays a thin layer of service knowledge.
//
// # Requests
//
// A Client sends Requests relative to a base URL with the headers the
// national services expect: a fresh UUID X-Request-ID per logical request
// (kept the same on every retry, so the service can de-duplicate), the
// X-Correlation-ID from the context or the configuration, Accept
// application/fhir+json, a User-Agent naming shcrkit and its version, and a
// bearer token from the configured oauth2.TokenSource, if any.
//
// # Retries
//
// Retries go through go-retryablehttp with this package's policy: 429,
// 502, 503 and 504 answers and connection errors are retried, for GET and
// HEAD and for writes marked Idempotent (ones the service de-duplicates by
// X-Request-ID). Retry-After is honoured in both its forms up to a cap;
// otherwise the wait is exponential with full jitter. Waits end at once when
// the context is done.
//
// # Responses
//
// Bodies are read up to a cap (16 MiB by default) and fail with
// shcrkit.ErrResponseTooLarge beyond it. Error statuses become
// *shcrkit.APIError, decoded from a FHIR OperationOutcome when there is one
// (the Spine error code is taken from details.coding whatever its system)
// and from any other body otherwise. Truncated or malformed JSON and
// unexpected content types fail with shcrkit.ErrMalformedResponse.
//
// # Redaction
//
// No error text or log line from this package contains a bearer token, an
// NHS number or a query string: URLs are logged with NHS numbers masked and
// their query replaced by "?…".
package fhirhttp
