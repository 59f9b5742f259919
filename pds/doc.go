// Package pds is a client of the Personal Demographics Service (PDS) FHIR
// R4 API, the national register of NHS patients: it traces a patient by NHS
// number or by demographics, reports superseded numbers and restricted
// records, updates demographics and lists a patient's related people.
//
// # Getting a patient
//
//	c, err := pds.NewClient("https://int.api.service.nhs.uk/personal-demographics/FHIR/R4",
//		pds.WithTokenSource(ts), pds.WithAccessMode(pds.AccessHealthcareWorker),
//		pds.WithEndUserOrganisation(ods))
//	p, err := c.Get(ctx, nhs)
//
// An application that serves many users and organisations fixes none of
// them on the client: each call carries its user's session in its context
// (shcrkit.WithSession), whose organisation and role profile ID are sent as
// NHSD-End-User-Organisation-ODS and NHSD-Session-URID, and whose own access
// token comes from an auth.SessionTokens given to WithTokenSource.
// WithEndUserOrganisation and WithSessionURID are then defaults for calls
// whose session leaves them out; a session that contradicts them is
// refused before anything is sent (see the shcrkit package).
//
// Get returns a *Patient: the FHIR Patient as received (Resource) and
// accessors for what callers need most: NHSNumber, Version, the usual name,
// birth date, gender, home address, registered GP practice, date of death
// and the confidentiality label.
//
// A superseded NHS number silently returns the surviving record: then
// p.NHSNumber() differs from the number asked for, which p.Superseded()
// returns, and the caller must replace the old number in its records. An
// invalidated number fails with an error matching shcrkit.ErrInvalidated
// (and shcrkit.ErrNotFound); an unknown one with an error matching
// shcrkit.ErrNotFound only.
//
// # Restricted patients
//
// PDS removes the address, telecom, contacts and registered GP of a patient
// whose record is labelled restricted (R) or very restricted (V). The
// accessors never fill the gaps: a restricted patient simply has no home
// address. p.Confidentiality().Restricted() reports such a record (and,
// failing safe, a record whose label cannot be read), so that callers and
// access decisions can treat it as sensitive.
//
// # Searching
//
// Search takes a SearchQuery with every parameter of the service and
// checks it first, as the service would (a non-fuzzy search needs the
// family name and date of birth, wildcards may not start a value, at most
// 50 results), failing with ErrInvalidSearch. Matches come best first with
// their score; an empty result is an empty slice. A search matching more
// patients than it may return fails with ErrTooManyMatches, which PDS
// reports with HTTP 200.
//
// # Updating
//
// Update sends a JSON Patch, wrapped as the service wants it
// ({"patches": [...]}, content type application/json-patch+json), with the
// version the change was based on in If-Match (W/"2"). A PatchOp is one
// operation on any path of the record (PatchOp{Op: "add", Path:
// "/telecom/-", Value: c} appends a contact point; RemoveItem("/name", 1,
// id) tests and removes a name), and Update applies the service's rules before
// anything is sent: the "-" index to add to a list, a test immediately
// before every removal of a list item, a test of an item's id before a
// change to part of it. A stale version fails with shcrkit.ErrVersionMismatch. When PDS is
// slow it answers 503 with Retry-After; the client waits and re-sends with
// the same X-Request-ID, by which the service applies the change once.
//
// # Access modes
//
// WithAccessMode says how the application is authorised. The default,
// AccessApplicationRestricted, may get patients and related people and
// search for one unique match; AccessHealthcareWorker (a user signed in
// with NHS CIS2) may also ask for up to 50 matches and update. The client
// refuses before any network call what its mode cannot do, with an error
// matching ErrAccessMode.
//
// # Errors
//
// Error answers are *shcrkit.APIError values carrying the status, the
// Spine error code (INVALID_RESOURCE_ID, RESOURCE_NOT_FOUND, ...), the
// diagnostics and the X-Request-ID, and matching the shcrkit sentinel
// errors. Requests refused by the client are *InputError values. No error
// text contains an NHS number, a token or a search value.
//
// # Testing
//
// Package pdstest is an in-memory PDS with a synthetic population, for
// tests and for the stand-alone sandbox; its CheckClient runs a client
// through the service's behaviour.
//
// # Redirects and redaction
//
// A redirect to another origin (scheme, host or port) than the request's
// is refused with a *shcrkit.RedirectError (matching
// shcrkit.ErrRedirectRefused): neither the search parameters, the body of
// a PATCH nor the Authorization header is sent there. Error texts and log
// lines pass through shcrkit.Redact; APIError.Outcome alone is kept as the
// service sent it.
package pds
