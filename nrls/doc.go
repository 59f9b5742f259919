// Package nrls is a client of the National Record Locator (NRL), the
// national index of where patients' records are held in England: a
// consumer finds the pointers (FHIR R4 DocumentReferences) to a patient's
// records held by other organisations, and a producer publishes, updates,
// supersedes and deletes pointers to the records it holds.
//
// # Clients
//
// NewClient takes the service root (an NHS API platform host followed by
// ConsumerPath or ProducerPath, as in
// "https://int.api.service.nhs.uk" + ConsumerPath) and options. Every request names the organisation it is made for in
// NHSD-End-User-Organisation-ODS: the organisation of the session in the
// call's context (shcrkit.WithSession), or WithEndUserOrganisation, the
// application's default; a call with neither is refused before any
// request. A producer may only write pointers whose custodian is the
// call's organisation.
// WithTokenSource supplies the NHS API platform's bearer tokens (package
// auth). Every request carries a fresh X-Request-ID, or the one set with
// shcrkit.WithRequestID, and the X-Correlation-ID of
// shcrkit.WithCorrelationID.
//
// # Searching
//
// Search returns a patient's pointers, narrowed by WithCustodian,
// WithTypes and WithCategories. It sends POST /DocumentReference/_search
// with a JSON body, as the service prefers (a client made WithSearchGET
// sends GET with a query string instead). Count asks for _summary=count. Get
// reads one pointer by ID. The service sends all matches at once; a search
// that finds nothing, whether answered with an empty Bundle or with
// NO_RECORD_FOUND, returns no pointers and no error.
//
// A search Bundle can hold entries that are not the patient's pointers: an
// OperationOutcome standing for a stored pointer the service could not
// read, or (in a damaged index) a pointer to another patient's record.
// These never fail the search and are never returned as the patient's
// pointers: they are left out, reported as Problems by SearchAll, and
// logged. A clinician must not see one
// patient's record offered as another's.
//
// # Pointers
//
// A Pointer holds the DocumentReference and a flat view: custodian and
// author ODS codes, record type and category, URL, content type, format,
// content stability, retrieval mechanism, practice setting, provider ASID,
// date, status, the pointer's own confidentiality (securityLabel: a very
// restricted pointer must not be shown to everyone who may see the
// patient's other records) and the IDs it replaces. Types is the registry
// of record types, each with its display and category.
//
// Records retrieved through the Spine Secure Proxy have ssp:// URLs:
// Pointer.SSPURL gives the proxied https address and Pointer.SSPHeaders
// the Ssp-TraceID, Ssp-From, Ssp-To and Ssp-InteractionID headers.
//
// # Publishing
//
// NewPointer builds a valid pointer from a PointerSpec. Create, Update,
// Supersede and Delete check a pointer against the service's rules before
// sending it (see Validate) and fail with a *ValidationError that names
// every field at fault, so a producer learns what is wrong without a round
// trip. Update refuses a change to a field the service keeps immutable.
//
// # Errors
//
// Service errors are *shcrkit.APIError values carrying the HTTP status,
// the Spine code (INVALID_NHS_NUMBER, INVALID_PARAMETER,
// INVALID_CODE_SYSTEM, MISSING_OR_INVALID_HEADER, ACCESS DENIED or
// ACCESS_DENIED, NO_RECORD_FOUND, ...) and the request ID, and match the
// shcrkit sentinel errors with errors.Is. No error text or log line holds
// an NHS number or a token.
//
// # Concurrency
//
// A Client is safe for concurrent use. A Pointer is a value; the
// DocumentReference inside it holds pointers, so copy it deeply (through
// ParsePointer of its JSON) before changing one shared between goroutines.
//
// Package nrlstest is a fake NRL to test against.
//
// # Redirects and redaction
//
// A redirect to another origin (scheme, host or port) than the request's
// is refused with a *shcrkit.RedirectError (matching
// shcrkit.ErrRedirectRefused): neither a search's subject identifier, a
// pointer's body nor the Authorization header is sent there. Error texts
// and log lines pass through shcrkit.Redact; APIError.Outcome alone is
// kept as the service sent it.
package nrls
